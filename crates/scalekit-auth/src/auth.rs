//! [`Auth`], the handle an app keeps: who is making this request ([`Auth::resolve`], run by the
//! session middleware before any page renders or server function runs: it reads and checks the
//! session cookies, refreshes tokens that are about to expire once per session, and writes the
//! new cookies while the response has not started, checklist C6–C10, R1, R5), and the handle's
//! read-only facts. Signing in and out are in `sign_in` and `sign_out`.

use std::sync::Arc;

use tower_cookies::{Cookies, Key};

use super::opened_sessions::OpenedSessions;
use super::relying_party::{RefreshError, RelyingParty};
use super::session::{Session, SessionCheck, SessionPolicy};
use super::session_cookies::{CookieSettings, SessionCookie};
use super::store::{record_with_retries, Store};
use crate::access_token::AccessClaims;
use crate::provider::{Endpoints, Provider, ProviderError};
use crate::relying_party::SignInError;
use crate::sign_in::SignInPages;

/// Scalekit sign-in for one app: the relying party, the session store, the cookie key and the
/// cookies' names. Cheap to clone; made once with [`Auth::new`] from
/// [`AuthSettings`](crate::AuthSettings).
#[derive(Clone)]
pub struct Auth {
    pub(crate) rp: Arc<RelyingParty>,
    pub(crate) key: Key,
    pub(crate) cookies: CookieSettings,
    pub(crate) pages: Arc<SignInPages>,
    /// Session cookies opened recently, so the same cookie is not opened on every request.
    pub(crate) opened: Arc<OpenedSessions>,
}

/// The request's session, as the middleware found it.
#[derive(Clone, Debug)]
pub enum RequestSession {
    /// No session: no cookie, one that could not be opened, or a session the store records as ended
    /// (sign-out, "sign out everywhere", back-channel logout); the last two are cleared.
    SignedOut,
    /// The session ended on this request (timeout, or the provider refused the refresh): signed
    /// out, and the sign-in page can say why.
    Ended,
    /// A usable session, touched or refreshed as needed. Also kept when a refresh failed for an
    /// outage and the current access token has not expired yet.
    SignedIn(Arc<Session>),
    /// The access token has expired and the provider could not be reached to refresh it. The
    /// session is kept; whatever needs a valid token answers 503 until the provider is back.
    Stale(Arc<Session>),
    /// The session store could not say whether this session was ended (Redis down). Never
    /// treated as signed in: whatever needs the session answers 503 until the store is back.
    Unverified(Arc<Session>),
}

impl RequestSession {
    /// The session whatever the state of its tokens.
    pub fn session(&self) -> Option<&Arc<Session>> {
        match self {
            RequestSession::SignedOut | RequestSession::Ended => None,
            RequestSession::SignedIn(s)
            | RequestSession::Stale(s)
            | RequestSession::Unverified(s) => Some(s),
        }
    }
}

impl Auth {
    /// The idle and absolute session timeouts.
    pub fn policy(&self) -> &SessionPolicy {
        self.rp.policy()
    }

    /// The app's paths and names the sign-in pages use.
    pub fn pages(&self) -> &SignInPages {
        &self.pages
    }

    /// Whether `path` must not be where a sign-in lands: the login page, `/logout`, the sign-in
    /// edges under `/auth`, the server functions under `/_app`
    /// ([`ReturnPath::is_sign_in_machinery`](crate::ReturnPath::is_sign_in_machinery)), and the
    /// callback wherever the redirect URI puts it, which without its transaction shows "sign-in
    /// expired".
    pub fn is_sign_in_machinery(&self, path: &crate::ReturnPath) -> bool {
        path.is_sign_in_machinery(&self.pages.login_path)
            || url::Url::parse(self.redirect_uri()).is_ok_and(|callback| {
                // A callback at the root would make every path "under" it.
                callback.path() != "/" && path.is_under(callback.path())
            })
    }

    /// The app's client id at Scalekit.
    pub fn client_id(&self) -> &str {
        self.rp.client_id()
    }

    /// The Scalekit environment URL.
    pub fn environment_url(&self) -> &str {
        self.rp.environment_url()
    }

    /// The redirect URI registered at Scalekit (the callback is served at its path).
    pub fn redirect_uri(&self) -> &str {
        self.rp.redirect_uri()
    }

    /// The provider client (discovery, keys, token endpoint), shared with the management API.
    pub fn provider(&self) -> &Arc<Provider> {
        self.rp.provider()
    }

    /// The provider's current endpoints and keys, fetched on first use.
    pub async fn endpoints(&self) -> Result<Arc<Endpoints>, ProviderError> {
        self.rp.endpoints().await
    }

    /// The session store: ended sessions, single-use values and refresh locks.
    pub fn store(&self) -> &Store {
        &self.rp.store
    }

    /// The cookies' names and attributes.
    pub fn cookie_settings(&self) -> CookieSettings {
        self.cookies
    }

    /// Checks the session's access token against the provider's current keys, now.
    pub async fn validate_access_token(
        &self,
        session: &Session,
        now: u64,
    ) -> Result<AccessClaims, SignInError> {
        self.rp.validate_access_token(session, now).await
    }

    /// Keeps `value` sealed in a cookie for the next page (a secret shown once after a post),
    /// for at most `max_age_secs`; `purpose` (lowercase letters and `_`) names the cookie and
    /// binds the seal.
    pub fn keep_for_next_page(
        &self,
        cookies: &Cookies,
        purpose: &str,
        value: &str,
        max_age_secs: u64,
    ) {
        self.cookies
            .write_kept(cookies, &self.key, purpose, value, max_age_secs);
    }

    /// Puts `entry` first in the short shared list `list` (every instance sees it), keeping the
    /// newest `keep` for `ttl_secs` after the last write. Sealed with the cookie key, bound to the
    /// list's name, so the store holds only ciphertext under a digest of the name.
    pub async fn keep_recent(
        &self,
        list: &str,
        entry: &str,
        keep: usize,
        ttl_secs: u64,
        now: u64,
    ) -> Result<(), crate::store::StoreUnavailable> {
        let sealed = crate::sealed::seal(&self.key, &recent_purpose(list), entry);
        self.store()
            .push_recent(list, &sealed, keep, now + ttl_secs, now)
            .await
    }

    /// The newest `keep` entries [`Auth::keep_recent`] put in `list`, newest first; an entry that
    /// does not open with this key (another key, tampered) is left out.
    pub async fn recent(
        &self,
        list: &str,
        keep: usize,
        now: u64,
    ) -> Result<Vec<String>, crate::store::StoreUnavailable> {
        let purpose = recent_purpose(list);
        Ok(self
            .store()
            .recent(list, keep, now)
            .await?
            .iter()
            .filter_map(|sealed| crate::sealed::open(&self.key, &purpose, sealed))
            .collect())
    }

    /// The value [`Auth::keep_for_next_page`] kept for `purpose`, read from the request's
    /// `Cookie` headers as sent (`sent`), and removed for the next request.
    pub fn take_kept<'a>(
        &self,
        cookies: &Cookies,
        purpose: &str,
        sent: impl IntoIterator<Item = &'a str>,
    ) -> Option<String> {
        self.cookies.take_kept(cookies, &self.key, purpose, sent)
    }

    /// Checks the request's session, refreshing or ending it as needed; cookie changes go into
    /// `cookies` (written when the response is sent).
    pub async fn resolve(&self, cookies: &Cookies, now: u64) -> RequestSession {
        let found = self.cookies.read_session(cookies, &self.key);
        self.resolve_found(cookies, found, now).await
    }

    /// [`resolve`](Self::resolve), reading the session from the request's `Cookie` headers
    /// rather than the jar (which then is parsed only if a cookie changes): what the session
    /// middleware does. `cookies` must be the same request's jar.
    pub async fn resolve_with_headers(
        &self,
        cookies: &Cookies,
        headers: &http::HeaderMap,
        now: u64,
    ) -> RequestSession {
        let found = self.session_in_headers(headers);
        self.resolve_found(cookies, found, now).await
    }

    /// The request's session cookie, opened, or as it opened on an earlier request that sent the
    /// same bytes (see `opened_sessions`).
    fn session_in_headers(&self, headers: &http::HeaderMap) -> SessionCookie {
        let Some(sealed) = self.cookies.sealed_session_in_headers(headers) else {
            return SessionCookie::Absent;
        };
        if let Some(session) = self.opened.get(&sealed) {
            return SessionCookie::Present(session);
        }
        match self.cookies.open_sealed(&self.key, &sealed) {
            Some(session) => {
                let session = Arc::new(session);
                self.opened.insert(&sealed, Arc::clone(&session));
                SessionCookie::Present(session)
            }
            None => SessionCookie::Invalid,
        }
    }

    async fn resolve_found(
        &self,
        cookies: &Cookies,
        found: SessionCookie,
        now: u64,
    ) -> RequestSession {
        let session = match found {
            SessionCookie::Absent => return RequestSession::SignedOut,
            SessionCookie::Invalid => {
                tracing::info!("session cookie could not be opened; signing out");
                self.cookies.clear_session(cookies);
                return RequestSession::SignedOut;
            }
            SessionCookie::Present(session) => session,
        };
        // The session's own timeouts first: they need no store, and a session they ended is
        // ended whether or not the store answers (never kept as "unverified" for later).
        let check = session.check(now, self.rp.policy());
        if let SessionCheck::Ended(reason) = check {
            tracing::info!(?reason, sub = %session.user.sub, "session ended");
            self.end(cookies, &session).await;
            return RequestSession::Ended;
        }
        match self
            .rp
            .store
            .is_ended_by(&session.ended_keys(), session.keys(), now)
            .await
        {
            Ok(false) => {}
            Ok(true) => {
                self.cookies.clear_session(cookies);
                return RequestSession::SignedOut;
            }
            // Not knowing is not "no": the cookie is kept for when the store is back.
            Err(_) => return RequestSession::Unverified(session),
        }
        match check {
            SessionCheck::Ended(_) => RequestSession::Ended, // answered above
            SessionCheck::Valid => {
                if session.wants_touch(now) {
                    let touched = Session {
                        last_seen: now,
                        ..Session::clone(&session)
                    };
                    self.write(cookies, &touched, now);
                    RequestSession::SignedIn(Arc::new(touched))
                } else {
                    RequestSession::SignedIn(session)
                }
            }
            SessionCheck::NeedsRefresh => match self.refresh(cookies, &session, now).await {
                Ok(refreshed) => RequestSession::SignedIn(Arc::new(refreshed)),
                Err(RefreshError::Ended(_)) => RequestSession::Ended,
                Err(RefreshError::Unavailable(_)) => {
                    if session.access_token_valid(now) {
                        RequestSession::SignedIn(session)
                    } else {
                        RequestSession::Stale(session)
                    }
                }
            },
        }
    }

    /// Refreshes `session` (single flight) and settles the cookies: the new tokens are stored, a
    /// dead session is ended, an outage changes nothing. Used by the middleware and by the session
    /// panel's "refresh now".
    pub async fn refresh(
        &self,
        cookies: &Cookies,
        session: &Session,
        now: u64,
    ) -> Result<Session, RefreshError> {
        match self.rp.refresh(session, now).await {
            Ok(refreshed) => {
                let refreshed = Session {
                    last_seen: now,
                    ..(*refreshed).clone()
                };
                self.write(cookies, &refreshed, now);
                Ok(refreshed)
            }
            Err(RefreshError::Ended(reason)) => {
                tracing::info!(%reason, sub = %session.user.sub, "refresh ended the session");
                self.end(cookies, session).await;
                Err(RefreshError::Ended(reason))
            }
            Err(RefreshError::Unavailable(reason)) => {
                tracing::warn!(%reason, "refresh failed; keeping the session");
                Err(RefreshError::Unavailable(reason))
            }
        }
    }

    /// Stores `session` in the cookies, living until its absolute timeout.
    pub(crate) fn write(&self, cookies: &Cookies, session: &Session, now: u64) {
        let max_age = session
            .absolute_expires_at(self.rp.policy())
            .saturating_sub(now);
        self.cookies
            .write_session(cookies, &self.key, session, max_age);
    }

    /// Ends `session` for good: remembered as ended on every instance (so a copied cookie is
    /// refused) and cleared. If the store cannot be reached, the record is retried in the
    /// background for a while: the cookie is cleared either way.
    pub(crate) async fn end(&self, cookies: &Cookies, session: &Session) {
        self.cookies.clear_session(cookies);
        let until = session.absolute_expires_at(self.rp.policy());
        let store = self.rp.store.clone();
        let id = session.id.clone();
        record_with_retries("an ended session", move |now| {
            let (store, id) = (store.clone(), id.clone());
            async move { store.end_session(&id, until, now).await }
        })
        .await;
    }
}

/// What binds a sealed recent entry to its list: it opens under this name only.
fn recent_purpose(list: &str) -> String {
    format!("recent:{list}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{RedisSettings, RedisStore};
    use crate::{AuthSettings, Secret};

    /// An `Auth` for `https://app.example`, with `adjust` applied to its settings.
    fn auth_with(adjust: impl FnOnce(AuthSettings) -> AuthSettings) -> Auth {
        let settings = crate::settings::test_settings();
        Auth::new(adjust(settings)).unwrap()
    }

    /// An `Auth` whose store is a Redis nobody listens on.
    fn with_the_store_down() -> Auth {
        let down = RedisStore::connect(&RedisSettings {
            url: Secret::new("redis://127.0.0.1:9/0".to_string()),
            key_prefix: "test:".into(),
        })
        .unwrap();
        auth_with(|settings| settings.with_store(Store::Redis(Arc::new(down))))
    }

    /// An `Auth` whose callback is at `redirect_uri`.
    fn with_callback_at(redirect_uri: &str) -> Auth {
        auth_with(|settings| settings.with_redirect_uri(redirect_uri))
    }

    /// L11: the callback, wherever the redirect URI puts it, is never where a sign-in lands; one
    /// at the root (which the app's configuration refuses) does not make every path one.
    #[test]
    fn l11_the_callback_is_sign_in_machinery_wherever_it_is() {
        let path = |p: &str| crate::ReturnPath::parse(p).unwrap();
        let custom = with_callback_at("https://app.example/oauth/callback");
        assert!(custom.is_sign_in_machinery(&path("/oauth/callback")));
        assert!(custom.is_sign_in_machinery(&path("/oauth/callback?code=x")));
        assert!(custom.is_sign_in_machinery(&path("/login")));
        assert!(!custom.is_sign_in_machinery(&path("/oauth")));
        assert!(!custom.is_sign_in_machinery(&path("/dashboard")));
        let root = with_callback_at("https://app.example/");
        assert!(!root.is_sign_in_machinery(&path("/dashboard")));
        assert!(root.is_sign_in_machinery(&path("/auth/callback")));
    }

    /// R9, E5: with the store unreachable, a cookie whose own timeouts ended it is ended, not
    /// "unverified" (which keeps it for later and shows who it was); one within them is
    /// unverified, since not knowing is not "no".
    #[tokio::test]
    async fn r9_e5_with_the_store_down_a_timed_out_cookie_is_ended_not_unverified() {
        let auth = with_the_store_down();
        let now = 1_700_000_000;
        let session = crate::session::test_session("s1", "usr_1", now);
        let past_its_time = now + auth.policy().absolute_timeout_secs + 1;
        let cookies = Cookies::default();
        auth.write(&cookies, &session, now);
        assert!(matches!(
            auth.resolve(&cookies, past_its_time).await,
            RequestSession::Ended
        ));
        let cookies = Cookies::default();
        auth.write(&cookies, &session, now);
        assert!(matches!(
            auth.resolve(&cookies, now + 1).await,
            RequestSession::Unverified(_)
        ));
    }
}
