//! The session's server functions: the Leptos edge of the auth core. Each one checks the request's
//! session itself (server functions are public endpoints, checklist X5) and answers errors with
//! their HTTP status. None returns a token (C4): the UI gets claims and fingerprints.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::session_view::{SessionClaims, SessionView};

/// Where a sign-in lands when it did not ask for a page.
pub const DEFAULT_RETURN_PATH: &str = "/dashboard";

/// The request's session in the four states pages and server functions tell apart. `S` is what
/// a session carries: its `SessionView` in pages, the whole session on the server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AuthState<S = SessionView> {
    SignedOut,
    /// Signed out just now: the session timed out or the provider ended it.
    SessionEnded,
    SignedIn(S),
    /// Signed in, but it cannot be used now: the access token expired while the provider is
    /// unreachable, or the session store cannot say whether the session was ended.
    ProviderUnavailable(S),
}

/// What a request may do. Decided in one place ([`AuthState::access`]) for page guards, page
/// data and server functions, so they always agree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Access<S> {
    Allowed(S),
    /// Signed in without this permission: 403.
    Forbidden(&'static str),
    /// Signed in, but not usable now: 503.
    Unavailable,
    /// Not signed in: sign in first (`ended`: the session has just timed out or been ended).
    SignIn {
        ended: bool,
    },
}

impl<S> AuthState<S> {
    pub fn view(&self) -> Option<&S> {
        match self {
            AuthState::SignedOut | AuthState::SessionEnded => None,
            AuthState::SignedIn(v) | AuthState::ProviderUnavailable(v) => Some(v),
        }
    }

    pub fn map<T>(self, f: impl FnOnce(S) -> T) -> AuthState<T> {
        match self {
            AuthState::SignedOut => AuthState::SignedOut,
            AuthState::SessionEnded => AuthState::SessionEnded,
            AuthState::SignedIn(s) => AuthState::SignedIn(f(s)),
            AuthState::ProviderUnavailable(s) => AuthState::ProviderUnavailable(f(s)),
        }
    }

    /// The decision: a usable session holding `permission` (when one is named) is allowed.
    /// `holds` says whether a session holds a permission.
    pub fn access(
        self,
        permission: Option<&'static str>,
        holds: impl FnOnce(&S, &str) -> bool,
    ) -> Access<S> {
        match self {
            AuthState::SignedIn(session) => match permission {
                Some(needed) if !holds(&session, needed) => Access::Forbidden(needed),
                _ => Access::Allowed(session),
            },
            AuthState::ProviderUnavailable(_) => Access::Unavailable,
            AuthState::SessionEnded => Access::SignIn { ended: true },
            AuthState::SignedOut => Access::SignIn { ended: false },
        }
    }
}

impl<S> Access<S> {
    /// As a server function answers it.
    pub fn into_result(self) -> Result<S, AppError> {
        match self {
            Access::Allowed(session) => Ok(session),
            Access::Forbidden(needed) => Err(AppError::Forbidden(needed.to_string())),
            Access::Unavailable => Err(AppError::ProviderUnavailable),
            Access::SignIn { .. } => Err(AppError::Unauthorized),
        }
    }
}

/// The result of checking the current access token against the provider's keys right now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenCheck {
    pub valid: bool,
    /// Why the token was refused, in words.
    pub problem: Option<String>,
    pub subject: Option<String>,
    pub issuer: Option<String>,
    pub audience: Vec<String>,
    pub issued_at: Option<u64>,
    pub expires_at: Option<u64>,
    pub permissions: Vec<String>,
}

#[server(prefix = "/_app", endpoint = "session")]
pub async fn get_session() -> Result<AuthState, AppError> {
    let auth = ssr::auth()?;
    let policy = auth.rp.policy();
    Ok(ssr::request_state().map(|session| crate::views::session_view(&session, policy)))
}

/// Starts a sign-in: a new transaction in its cookie, then a redirect to the provider
/// (checklist L1). Posted by a plain form, with or without JavaScript.
#[server(prefix = "/_app", endpoint = "login")]
pub async fn login(
    next: Option<String>,
    organization_id: Option<String>,
    login_hint: Option<String>,
    prompt: Option<String>,
) -> Result<(), AppError> {
    use scalekit_auth::return_to::safe_return_path;
    use scalekit_auth::session::now_secs;
    use scalekit_auth::transaction::AuthorizationHints;

    let auth = ssr::auth()?;
    let cookies = ssr::cookies().await?;
    let return_to = next
        .as_deref()
        .and_then(safe_return_path)
        .filter(|path| !ssr::is_auth_path(path))
        .unwrap_or_else(|| DEFAULT_RETURN_PATH.to_string());
    let hints = AuthorizationHints {
        organization_id: organization_id.filter(|v| ssr::is_identifier(v)),
        login_hint: login_hint.filter(|v| ssr::is_login_hint(v)),
        prompt: prompt.filter(|v| {
            matches!(
                v.as_str(),
                "login" | "none" | "consent" | "select_account" | "create"
            )
        }),
    };
    match auth
        .rp
        .begin_login(return_to.clone(), &hints, now_secs())
        .await
    {
        Ok((transaction, url)) => {
            auth.cookies
                .write_transaction(&cookies, &auth.key, &transaction);
            ssr::see_other(&url)
        }
        Err(e) => {
            tracing::warn!(error = %e, "could not start sign-in");
            let back = format!(
                "/login?error=unavailable&next={}",
                url::form_urlencoded::byte_serialize(return_to.as_bytes()).collect::<String>()
            );
            ssr::see_other(&back)
        }
    }
}

/// Signs out: revokes the refresh token, forgets the session, clears every cookie and sends the
/// browser to the provider's end-session endpoint (checklist O1–O5).
#[server(prefix = "/_app", endpoint = "logout")]
pub async fn logout() -> Result<(), AppError> {
    use scalekit_auth::logout::issue_logout_state;
    use scalekit_auth::session::now_secs;

    let auth = ssr::auth()?;
    let cookies = ssr::cookies().await?;
    let now = now_secs();
    let session = ssr::request_session().session().cloned();
    if let Some(session) = &session {
        auth.rp.revoke(session).await;
        auth.end(&cookies, session).await;
        tracing::info!(sub = %session.user.sub, "signed out");
    } else {
        auth.cookies.clear_session(&cookies);
    }
    auth.cookies.clear_transaction(&cookies);
    ssr::clear_site_data();
    // O4: the ID token hint is read from the session before its cookies are gone.
    let state = issue_logout_state(&auth.key, now);
    let target = match auth.rp.end_session_url(session.as_deref(), &state).await {
        Some(url) => url,
        None => "/".to_string(),
    };
    ssr::see_other(&target)
}

/// The claims of the session's tokens, for the dashboard's tables.
#[server(prefix = "/_app", endpoint = "claims")]
pub async fn get_claims() -> Result<SessionClaims, AppError> {
    use crate::views::claims_table::claims_table_cached;
    use scalekit_auth::session::now_secs;

    let session = ssr::require_session()?;
    let now = now_secs();
    let rows = |token: &str| claims_table_cached(token, now).as_ref().clone();
    Ok(SessionClaims {
        id_token: session.id_token.as_deref().map(rows).unwrap_or_default(),
        access_token: rows(&session.access_token),
    })
}

/// Whether `state` is the one this app sent with a sign-out (the home page then says so).
#[server(prefix = "/_app", endpoint = "signed_out")]
pub async fn check_signed_out(state: String) -> Result<bool, AppError> {
    use scalekit_auth::logout::check_logout_state;
    use scalekit_auth::session::now_secs;

    let auth = ssr::auth()?;
    Ok(check_logout_state(&auth.key, &state, now_secs()))
}

/// Checks the current access token against the provider's keys now.
#[server(prefix = "/_app", endpoint = "validate_token")]
pub async fn validate_token() -> Result<TokenCheck, AppError> {
    use scalekit_auth::session::now_secs;

    let auth = ssr::auth()?;
    let session = ssr::require_session()?;
    match auth.rp.validate_access_token(&session, now_secs()).await {
        Ok(claims) => {
            let list = |name: &str| -> Vec<String> {
                match claims.all.get(name) {
                    Some(serde_json::Value::Array(items)) => items
                        .iter()
                        .filter_map(|v| v.as_str().map(str::to_string))
                        .collect(),
                    Some(serde_json::Value::String(s)) => vec![s.clone()],
                    _ => Vec::new(),
                }
            };
            Ok(TokenCheck {
                valid: true,
                problem: None,
                subject: Some(claims.sub.clone()),
                issuer: claims
                    .all
                    .get("iss")
                    .and_then(|v| v.as_str())
                    .map(str::to_string),
                audience: list("aud"),
                issued_at: claims.all.get("iat").and_then(|v| v.as_u64()),
                expires_at: Some(claims.exp),
                permissions: list("permissions"),
            })
        }
        Err(scalekit_auth::relying_party::SignInError::BadAccessToken(problem)) => Ok(TokenCheck {
            valid: false,
            problem: Some(problem.to_string()),
            subject: None,
            issuer: None,
            audience: Vec::new(),
            issued_at: None,
            expires_at: None,
            permissions: Vec::new(),
        }),
        Err(e) => {
            tracing::warn!(error = %e, "token validation could not run");
            Err(ssr::fail(AppError::ProviderUnavailable))
        }
    }
}

/// Refreshes the tokens now (the session panel's button). Shares the single flight with the
/// automatic refresh, so it cannot race it.
#[server(prefix = "/_app", endpoint = "refresh_session")]
pub async fn refresh_session() -> Result<SessionView, AppError> {
    use scalekit_auth::relying_party::RefreshError;
    use scalekit_auth::session::now_secs;

    let auth = ssr::auth()?;
    let cookies = ssr::cookies().await?;
    let session = ssr::require_session()?;
    if session.refresh_token.is_none() {
        return Err(ssr::fail(AppError::BadRequest(
            "this session has no refresh token: request the `offline_access` scope to get one"
                .into(),
        )));
    }
    match auth.refresh(&cookies, &session, now_secs()).await {
        Ok(refreshed) => Ok(crate::views::session_view(&refreshed, auth.rp.policy())),
        Err(RefreshError::Ended(_)) => Err(ssr::fail(AppError::Unauthorized)),
        Err(RefreshError::Unavailable(_)) => Err(ssr::fail(AppError::ProviderUnavailable)),
    }
}

/// One of the user's sessions at the provider, for the session panel's "Your sessions" list.
/// The id is the provider's session id (the `sid` claim), which opens nothing by itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserSessionView {
    pub session_id: String,
    /// Browser, system and kind of device, in words (`Firefox 128 on Linux (desktop)`).
    pub device: String,
    pub created_at: Option<u64>,
    pub last_active_at: Option<u64>,
    /// The session this request is part of.
    pub current: bool,
}

/// The caller's own sessions at the provider (the user is the session's subject, never taken
/// from the request), this one first, then the most recently active.
#[server(prefix = "/_app", endpoint = "user_sessions")]
pub async fn user_sessions() -> Result<Vec<UserSessionView>, AppError> {
    let session = ssr::require_session()?;
    let state = ssr::app_state()?;
    let listed = match state
        .management
        .list_user_sessions(&session.user.sub, &session.id)
        .await
    {
        Ok(listed) => listed,
        // Rendering the session panel, a list that cannot be had is said in the list's place: the
        // rest of the page is fine, so its status stays 200. Called by the browser, the status
        // is the error's.
        Err(error) if !ssr::is_server_fn_call() => {
            tracing::warn!(%error, "could not list the user's sessions");
            return Err(match error {
                scalekit_auth::management::ManagementError::Unavailable(_) => {
                    AppError::ProviderUnavailable
                }
                _ => AppError::ProviderError,
            });
        }
        Err(error) => return Err(crate::api_clients_api::ssr::management_error(error)),
    };
    let mut views: Vec<UserSessionView> = listed
        .into_iter()
        .map(|s| UserSessionView {
            current: session.provider_sid.as_deref() == Some(s.session_id.as_str()),
            device: ssr::device_summary(&s.device),
            session_id: s.session_id,
            created_at: s.created_at,
            last_active_at: s.last_active_at,
        })
        .collect();
    views.sort_by(|a, b| {
        b.current
            .cmp(&a.current)
            .then_with(|| b.last_active_at.cmp(&a.last_active_at))
            .then_with(|| b.created_at.cmp(&a.created_at))
    });
    Ok(views)
}

/// Signs out one of the caller's other sessions: revoked at the provider (which tells every app
/// of that session by back-channel logout) and recorded as ended here at once. The id comes from
/// the form, so it must be in the caller's own list: anything else is 404.
#[server(prefix = "/_app", endpoint = "sign_out_session")]
pub async fn sign_out_session(session_id: String) -> Result<(), AppError> {
    use scalekit_auth::user_sessions::is_session_id;

    let auth = ssr::auth()?;
    let session = ssr::require_session()?;
    let state = ssr::app_state()?;
    if !is_session_id(&session_id) {
        return Err(ssr::fail(AppError::BadRequest(
            "that is not a session id".into(),
        )));
    }
    if session.provider_sid.as_deref() == Some(session_id.as_str()) {
        return Err(ssr::fail(AppError::BadRequest(
            "this is the session you are using: sign out with the Sign out button".into(),
        )));
    }
    let management_error = crate::api_clients_api::ssr::management_error;
    let own = state
        .management
        .list_user_sessions(&session.user.sub, &session.id)
        .await
        .map_err(management_error)?;
    if !own.iter().any(|s| s.session_id == session_id) {
        tracing::warn!(sub = %session.user.sub, "refused to sign out a session not in the caller's list");
        return Err(ssr::fail(AppError::NotFound));
    }
    state
        .management
        .revoke_session(&session_id)
        .await
        .map_err(management_error)?;
    let absolute = auth.rp.policy().absolute_timeout_secs;
    let store = auth.rp.store.clone();
    let sid = session_id.clone();
    scalekit_auth::store::record_with_retries("an ended provider session", move |now| {
        let store = store.clone();
        let sid = sid.clone();
        async move {
            store
                .end_provider_session(&sid, now.saturating_add(absolute), now)
                .await
        }
    })
    .await;
    tracing::info!(sub = %session.user.sub, "signed out another session");
    if ssr::accepts_html() {
        ssr::see_other("/sessions#your-sessions")?;
    }
    Ok(())
}

/// Signs the user out everywhere: every session revoked at the provider, every session of the
/// user that began until now recorded as ended (so every instance refuses the old cookies at
/// once, before the provider's back-channel logout arrives), then this session ended like a
/// sign-out and the browser sent to `/login`.
#[server(prefix = "/_app", endpoint = "sign_out_everywhere")]
pub async fn sign_out_everywhere() -> Result<(), AppError> {
    use scalekit_auth::session::now_secs;

    let auth = ssr::auth()?;
    let cookies = ssr::cookies().await?;
    let session = ssr::require_session()?;
    let state = ssr::app_state()?;
    let revoked = state
        .management
        .revoke_all_user_sessions(&session.user.sub)
        .await
        .map_err(crate::api_clients_api::ssr::management_error)?;
    let cutoff = now_secs();
    let absolute = auth.rp.policy().absolute_timeout_secs;
    let store = auth.rp.store.clone();
    let sub = session.user.sub.clone();
    scalekit_auth::store::record_with_retries("a user's ended sessions", move |now| {
        let store = store.clone();
        let sub = sub.clone();
        async move {
            store
                .end_user_sessions(&sub, cutoff, now.saturating_add(absolute), now)
                .await
        }
    })
    .await;
    auth.rp.revoke(&session).await;
    auth.end(&cookies, &session).await;
    auth.cookies.clear_transaction(&cookies);
    ssr::clear_site_data();
    tracing::info!(sub = %session.user.sub, revoked, "signed out everywhere");
    ssr::see_other("/login")
}

#[cfg(feature = "ssr")]
pub mod ssr {
    use std::sync::Arc;

    use http::header::{ACCEPT, CACHE_CONTROL};
    use http::{HeaderName, HeaderValue, StatusCode};
    use leptos::prelude::*;
    use leptos_axum::ResponseOptions;
    use tower_cookies::Cookies;

    use super::AuthState;
    use crate::error::AppError;
    use crate::server::AppState;
    use scalekit_auth::middleware::{Auth, RequestSession};
    use scalekit_auth::session::Session;

    pub fn auth() -> Result<Auth, AppError> {
        use_context::<AppState>()
            .map(|state| state.auth.clone())
            .ok_or(AppError::Internal)
    }

    pub fn app_state() -> Result<AppState, AppError> {
        use_context::<AppState>().ok_or(AppError::Internal)
    }

    /// True when the request is a server-function call (not a page being rendered).
    pub fn is_server_fn_call() -> bool {
        use_context::<http::request::Parts>()
            .is_some_and(|parts| parts.uri.path().starts_with("/_app/"))
    }

    /// `Firefox 128 on Linux (desktop)`, from what the provider tells of a session's browser.
    pub fn device_summary(device: &scalekit_auth::user_sessions::Device) -> String {
        let join = |name: &str, version: &str| match (name.trim(), version.trim()) {
            ("", _) => String::new(),
            (name, "") => name.to_string(),
            (name, version) => format!("{name} {version}"),
        };
        let browser = join(&device.browser, &device.browser_version);
        let os = join(&device.os, &device.os_version);
        let mut summary = match (browser.is_empty(), os.is_empty()) {
            (false, false) => format!("{browser} on {os}"),
            (false, true) => browser,
            (true, false) => os,
            (true, true) if !device.user_agent.trim().is_empty() => {
                device.user_agent.trim().chars().take(80).collect()
            }
            (true, true) => "Unknown device".to_string(),
        };
        let kind = device.device_type.trim();
        if !kind.is_empty() {
            summary.push_str(&format!(" ({})", kind.to_lowercase()));
        }
        summary
    }

    /// What the session middleware found for this request.
    pub fn request_session() -> RequestSession {
        use_context::<http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<RequestSession>().cloned())
            .unwrap_or(RequestSession::SignedOut)
    }

    pub async fn cookies() -> Result<Cookies, AppError> {
        leptos_axum::extract::<Cookies>()
            .await
            .map_err(|_| AppError::Internal)
    }

    /// Sets the response status for `error` and hands it back, for `return Err(fail(..))`.
    pub fn fail(error: AppError) -> AppError {
        if let Some(response) = use_context::<ResponseOptions>() {
            response.set_status(error.status());
            response.insert_header(CACHE_CONTROL, HeaderValue::from_static("no-store"));
            if error.status_code() == 503 {
                response.insert_header(http::header::RETRY_AFTER, HeaderValue::from_static("5"));
            }
        }
        error
    }

    /// The middleware's finding in the four states: a session that cannot be used now (stale
    /// while the provider is down, or unverifiable while the store is) is `ProviderUnavailable`.
    pub fn request_state() -> AuthState<Arc<Session>> {
        match request_session() {
            RequestSession::SignedOut => AuthState::SignedOut,
            RequestSession::Ended => AuthState::SessionEnded,
            RequestSession::SignedIn(session) => AuthState::SignedIn(session),
            RequestSession::Stale(session) | RequestSession::Unverified(session) => {
                AuthState::ProviderUnavailable(session)
            }
        }
    }

    fn require(permission: Option<&'static str>) -> Result<Arc<Session>, AppError> {
        request_state()
            .access(permission, |session, needed| {
                session.user.has_permission(needed)
            })
            .into_result()
            .map_err(fail)
    }

    /// The signed-in session with a usable access token, or 401 / 503.
    pub fn require_session() -> Result<Arc<Session>, AppError> {
        require(None)
    }

    /// The session, if it holds `permission`; 401, 403 or 503 otherwise (checklist X5).
    pub fn require_permission(permission: &'static str) -> Result<Arc<Session>, AppError> {
        require(Some(permission))
    }

    /// Redirects after a post: 303 for a plain form post, Leptos' redirect header for a fetch.
    /// The URL is checked first, because `leptos_axum::redirect` panics on an invalid header.
    pub fn see_other(url: &str) -> Result<(), AppError> {
        if HeaderValue::from_str(url).is_err() {
            return Err(fail(AppError::Internal));
        }
        leptos_axum::redirect(url);
        if let Some(response) = use_context::<ResponseOptions>() {
            if accepts_html() {
                response.set_status(StatusCode::SEE_OTHER);
            }
            response.insert_header(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        }
        Ok(())
    }

    /// True for a plain form post (a browser navigation asks for HTML; the hydrated app's server
    /// function calls do not).
    pub fn accepts_html() -> bool {
        use_context::<http::request::Parts>()
            .and_then(|parts| parts.headers.get(ACCEPT).cloned())
            .and_then(|v| v.to_str().ok().map(|v| v.contains("text/html")))
            .unwrap_or(false)
    }

    /// Asks the browser to drop everything it stored for this site (checklist O5).
    pub fn clear_site_data() {
        if let Some(response) = use_context::<ResponseOptions>() {
            response.insert_header(
                HeaderName::from_static("clear-site-data"),
                HeaderValue::from_static("\"cookies\", \"storage\""),
            );
        }
    }

    /// Paths that must not be the destination after sign-in (they would loop or sign out).
    pub fn is_auth_path(path: &str) -> bool {
        ["/login", "/logout", "/auth/", "/_app/"]
            .iter()
            .any(|prefix| path.starts_with(prefix))
    }

    /// Scalekit ids (`org_…`): letters, digits, `_` and `-`.
    pub fn is_identifier(value: &str) -> bool {
        !value.is_empty()
            && value.len() <= 64
            && value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    }

    pub fn is_login_hint(value: &str) -> bool {
        !value.is_empty() && value.len() <= 254 && !value.chars().any(char::is_control)
    }
}

#[cfg(test)]
mod access_tests {
    use super::{Access, AuthState};
    use crate::error::AppError;

    /// A session is the list of its permissions here.
    fn decide(
        state: AuthState<Vec<&'static str>>,
        permission: Option<&'static str>,
    ) -> Access<Vec<&'static str>> {
        state.access(permission, |held, needed| held.contains(&needed))
    }

    #[test]
    fn x5_one_decision_for_pages_and_server_functions() {
        let admin = vec!["organization:settings"];
        assert_eq!(
            decide(AuthState::SignedIn(admin.clone()), None),
            Access::Allowed(admin.clone())
        );
        assert_eq!(
            decide(
                AuthState::SignedIn(admin.clone()),
                Some("organization:settings")
            ),
            Access::Allowed(admin.clone())
        );
        assert_eq!(
            decide(AuthState::SignedIn(vec![]), Some("organization:settings")),
            Access::Forbidden("organization:settings")
        );
        assert_eq!(
            decide(AuthState::ProviderUnavailable(admin), None),
            Access::Unavailable
        );
        assert_eq!(
            decide(AuthState::SessionEnded, None),
            Access::SignIn { ended: true }
        );
        assert_eq!(
            decide(AuthState::SignedOut, Some("x")),
            Access::SignIn { ended: false }
        );

        let status =
            |access: Access<Vec<&'static str>>| access.into_result().map_err(|e| e.status_code());
        assert_eq!(status(Access::Forbidden("x")), Err(403));
        assert_eq!(status(Access::Unavailable), Err(503));
        assert_eq!(status(Access::SignIn { ended: true }), Err(401));
        assert!(matches!(
            Access::<()>::Forbidden("p").into_result(),
            Err(AppError::Forbidden(p)) if p == "p"
        ));
    }
}
