//! Who is making this request: the session middleware reads and checks the session cookies before
//! any page renders or server function runs, refreshes tokens that are about to expire (once per
//! session, see `refresh`), writes the new cookies while the response has not started, and leaves
//! the outcome in the request's extensions for pages, server functions and handlers
//! (checklist C6–C10, R1, R5).

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use tower_cookies::{Cookies, Key};

use super::relying_party::{RefreshError, RelyingParty};
use super::session::{now_secs, Session, SessionCheck};
use super::session_cookies::{CookieSettings, SessionCookie};
use super::store::record_with_retries;

/// Everything the auth edges need, cheap to clone.
#[derive(Clone)]
pub struct Auth {
    /// The relying party: the provider, the session store and the session policy.
    pub rp: Arc<RelyingParty>,
    /// The cookie key: it seals the session and transaction cookies and the logout `state`.
    pub key: Key,
    /// The cookies' names and attributes.
    pub cookies: CookieSettings,
    /// The app's paths and names the callback's pages use.
    pub pages: Arc<crate::callback::SignInPages>,
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
    /// Checks the request's session, refreshing or ending it as needed; cookie changes go into
    /// `cookies` (written when the response is sent).
    pub async fn resolve(&self, cookies: &Cookies, now: u64) -> RequestSession {
        let session = match self.cookies.read_session(cookies, &self.key) {
            SessionCookie::Absent => return RequestSession::SignedOut,
            SessionCookie::Invalid => {
                tracing::info!("session cookie could not be opened; signing out");
                self.cookies.clear_session(cookies);
                return RequestSession::SignedOut;
            }
            SessionCookie::Present(session) => *session,
        };
        match self.rp.store.is_ended(session.keys(), now).await {
            Ok(false) => {}
            Ok(true) => {
                self.cookies.clear_session(cookies);
                return RequestSession::SignedOut;
            }
            // Not knowing is not "no": the cookie is kept for when the store is back.
            Err(_) => return RequestSession::Unverified(Arc::new(session)),
        }
        match session.check(now, self.rp.policy()) {
            SessionCheck::Ended(reason) => {
                tracing::info!(?reason, sub = %session.user.sub, "session ended");
                self.end(cookies, &session).await;
                RequestSession::Ended
            }
            SessionCheck::Valid => {
                let session = if session.wants_touch(now) {
                    let touched = Session {
                        last_seen: now,
                        ..session
                    };
                    self.write(cookies, &touched, now);
                    touched
                } else {
                    session
                };
                RequestSession::SignedIn(Arc::new(session))
            }
            SessionCheck::NeedsRefresh => match self.refresh(cookies, &session, now).await {
                Ok(refreshed) => RequestSession::SignedIn(Arc::new(refreshed)),
                Err(RefreshError::Ended(_)) => RequestSession::Ended,
                Err(RefreshError::Unavailable(_)) => {
                    if session.access_token_valid(now) {
                        RequestSession::SignedIn(Arc::new(session))
                    } else {
                        RequestSession::Stale(Arc::new(session))
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
    pub fn write(&self, cookies: &Cookies, session: &Session, now: u64) {
        let max_age = session
            .absolute_expires_at(self.rp.policy())
            .saturating_sub(now);
        self.cookies
            .write_session(cookies, &self.key, session, max_age);
    }

    /// Ends `session` for good: remembered as ended on every instance (so a copied cookie is
    /// refused) and cleared. If the store cannot be reached, the record is retried in the
    /// background for a while: the cookie is cleared either way.
    pub async fn end(&self, cookies: &Cookies, session: &Session) {
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

/// The session middleware (axum's `from_fn_with_state` with an [`Auth`]): resolves the request's
/// session with [`Auth::resolve`] and puts the [`RequestSession`] into the request's extensions
/// before the inner service runs. Needs tower-cookies' `CookieManagerLayer` outside it.
pub async fn session_middleware(
    State(auth): State<Auth>,
    cookies: Cookies,
    mut request: Request,
    next: Next,
) -> Response {
    let session = auth.resolve(&cookies, now_secs()).await;
    request.extensions_mut().insert(session);
    next.run(request).await
}
