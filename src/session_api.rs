//! The session's server functions: the Leptos edge of the auth core. Each one checks the request's
//! session itself (server functions are public endpoints, checklist X5) and answers errors with
//! their HTTP status. None returns a token (C4): the UI gets claims and fingerprints.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::session_view::{SessionClaims, SessionView};

/// The session as the UI needs to know it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AuthState {
    SignedOut,
    /// Signed out just now: the session timed out or the provider ended it.
    SessionEnded,
    SignedIn(SessionView),
    /// Signed in, but the access token expired while the provider is unreachable.
    ProviderUnavailable(SessionView),
}

impl AuthState {
    pub fn view(&self) -> Option<&SessionView> {
        match self {
            AuthState::SignedOut | AuthState::SessionEnded => None,
            AuthState::SignedIn(v) | AuthState::ProviderUnavailable(v) => Some(v),
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
    use crate::auth::middleware::RequestSession;
    let auth = ssr::auth()?;
    Ok(match ssr::request_session() {
        RequestSession::SignedOut => AuthState::SignedOut,
        RequestSession::Ended => AuthState::SessionEnded,
        RequestSession::SignedIn(s) => AuthState::SignedIn(s.view(auth.rp.policy())),
        RequestSession::Stale(s) => AuthState::ProviderUnavailable(s.view(auth.rp.policy())),
    })
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
    use crate::auth::return_to::safe_return_path;
    use crate::auth::session::now_secs;
    use crate::auth::transaction::AuthorizationHints;

    let auth = ssr::auth()?;
    let cookies = ssr::cookies().await?;
    let return_to = next
        .as_deref()
        .and_then(safe_return_path)
        .filter(|path| !ssr::is_auth_path(path))
        .unwrap_or_else(|| "/dashboard".to_string());
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
    use crate::auth::logout::issue_logout_state;
    use crate::auth::session::now_secs;

    let auth = ssr::auth()?;
    let cookies = ssr::cookies().await?;
    let now = now_secs();
    let session = ssr::request_session().session().cloned();
    if let Some(session) = &session {
        auth.rp.revoke(session).await;
        auth.end(&cookies, session, now);
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
    use crate::auth::claims_table::claims_table_cached;
    use crate::auth::session::now_secs;

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
    use crate::auth::logout::check_logout_state;
    use crate::auth::session::now_secs;

    let auth = ssr::auth()?;
    Ok(check_logout_state(&auth.key, &state, now_secs()))
}

/// Checks the current access token against the provider's keys now.
#[server(prefix = "/_app", endpoint = "validate_token")]
pub async fn validate_token() -> Result<TokenCheck, AppError> {
    use crate::auth::session::now_secs;

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
        Err(crate::auth::relying_party::SignInError::BadAccessToken(problem)) => Ok(TokenCheck {
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
    use crate::auth::relying_party::RefreshError;
    use crate::auth::session::now_secs;

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
        Ok(refreshed) => Ok(refreshed.view(auth.rp.policy())),
        Err(RefreshError::Ended(_)) => Err(ssr::fail(AppError::Unauthorized)),
        Err(RefreshError::Unavailable(_)) => Err(ssr::fail(AppError::ProviderUnavailable)),
    }
}

#[cfg(feature = "ssr")]
pub mod ssr {
    use std::sync::Arc;

    use http::header::{ACCEPT, CACHE_CONTROL};
    use http::{HeaderName, HeaderValue, StatusCode};
    use leptos::prelude::*;
    use leptos_axum::ResponseOptions;
    use tower_cookies::Cookies;

    use crate::auth::middleware::{Auth, RequestSession};
    use crate::auth::session::Session;
    use crate::error::AppError;
    use crate::server::AppState;

    pub fn auth() -> Result<Auth, AppError> {
        use_context::<AppState>()
            .map(|state| state.auth.clone())
            .ok_or(AppError::Internal)
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
        }
        error
    }

    /// The signed-in session with a usable access token, or 401 / 503.
    pub fn require_session() -> Result<Arc<Session>, AppError> {
        match request_session() {
            RequestSession::SignedIn(session) => Ok(session),
            RequestSession::SignedOut | RequestSession::Ended => Err(fail(AppError::Unauthorized)),
            RequestSession::Stale(_) => Err(fail(AppError::ProviderUnavailable)),
        }
    }

    /// The session, if it holds `permission`; 401, 403 or 503 otherwise (checklist X5).
    pub fn require_permission(permission: &str) -> Result<Arc<Session>, AppError> {
        let session = require_session()?;
        if session.user.has_permission(permission) {
            Ok(session)
        } else {
            Err(fail(AppError::Forbidden(permission.to_string())))
        }
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
