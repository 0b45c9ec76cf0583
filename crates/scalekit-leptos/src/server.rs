//! The server side of the layer: the request's session and the auth core's handle from the
//! Leptos context, the one access decision for server functions, the response helpers they share
//! (status, redirect after a post, Clear-Site-Data), and the views the browser may see, built from
//! the core's types.

use std::sync::Arc;

use http::header::{ACCEPT, CACHE_CONTROL};
use http::{HeaderName, HeaderValue, StatusCode};
use leptos::prelude::*;
use leptos_axum::ResponseOptions;
use tower_cookies::Cookies;

use crate::error::ServerError;
use crate::session::{AuthState, SessionView, TokenFingerprints, UserSummary};
use scalekit_auth::{Auth, RequestSession, Session, SessionPolicy, User};

/// The auth core's handle, provided to every render and server function by
/// [`crate::SignInRoutes::leptos_routes_with_sign_in`].
pub fn auth() -> Result<Auth, ServerError> {
    use_context::<Auth>().ok_or(ServerError::Internal)
}

/// True when the request is a server-function call (not a page being rendered).
pub fn is_server_fn_call() -> bool {
    with_context::<http::request::Parts, _>(|parts| parts.uri.path().starts_with("/_app/"))
        .unwrap_or(false)
}

/// What the session middleware found for this request.
pub fn request_session() -> RequestSession {
    with_context::<http::request::Parts, _>(|parts| {
        parts.extensions.get::<RequestSession>().cloned()
    })
    .flatten()
    .unwrap_or(RequestSession::SignedOut)
}

/// The request's cookie jar (set cookies here; they go out with the response).
pub async fn cookies() -> Result<Cookies, ServerError> {
    leptos_axum::extract::<Cookies>()
        .await
        .map_err(|_| ServerError::Internal)
}

/// Sets the response status for `error` and hands it back, for `return Err(fail(..))`.
pub fn fail(error: ServerError) -> ServerError {
    if let Some(response) = use_context::<ResponseOptions>() {
        response.set_status(error.status());
        response.insert_header(CACHE_CONTROL, scalekit_auth::NO_STORE);
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

fn require(permission: Option<&'static str>) -> Result<Arc<Session>, ServerError> {
    request_state()
        .access(permission, |session, needed| {
            session.user().has_permission(needed)
        })
        .into_result()
        .map_err(fail)
}

/// The signed-in session with a usable access token, or 401 / 503.
pub fn require_session() -> Result<Arc<Session>, ServerError> {
    require(None)
}

/// The session, if it holds `permission`; 401, 403 or 503 otherwise (checklist X5).
pub fn require_permission(permission: &'static str) -> Result<Arc<Session>, ServerError> {
    require(Some(permission))
}

/// Redirects after a post: 303 for a plain form post, Leptos' redirect header for a fetch.
/// The URL is checked first, because `leptos_axum::redirect` panics on an invalid header.
pub fn see_other(url: &str) -> Result<(), ServerError> {
    if HeaderValue::from_str(url).is_err() {
        return Err(fail(ServerError::Internal));
    }
    leptos_axum::redirect(url);
    if let Some(response) = use_context::<ResponseOptions>() {
        if accepts_html() {
            response.set_status(StatusCode::SEE_OTHER);
        }
        response.insert_header(CACHE_CONTROL, scalekit_auth::NO_STORE);
    }
    Ok(())
}

/// True for a plain form post (a browser navigation asks for HTML; the hydrated app's server
/// function calls do not).
pub fn accepts_html() -> bool {
    with_context::<http::request::Parts, _>(|parts| {
        parts
            .headers
            .get(ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/html"))
    })
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

/// The user as the pages show it.
pub fn user_summary(user: &User) -> UserSummary {
    UserSummary {
        sub: user.sub().to_string(),
        name: user.name().to_string(),
        email: user.email().map(str::to_string),
        organization_id: user.organization_id().map(str::to_string),
        roles: user.roles().to_vec(),
        permissions: user.permissions().to_vec(),
    }
}

/// The request's session in its four states, as pages see it (no token, only fingerprints).
pub fn session_state() -> Result<AuthState, ServerError> {
    let auth = auth()?;
    let policy = auth.policy();
    Ok(request_state().map(|session| session_view(&session, policy)))
}

/// The session as the pages show it: its user, its timeouts under `policy`, and fingerprints of
/// its tokens.
pub fn session_view(session: &Session, policy: &SessionPolicy) -> SessionView {
    SessionView {
        user: user_summary(session.user()),
        access_token_expires_at: session.access_token_expires_at(),
        idle_expires_at: session.idle_expires_at(policy),
        absolute_expires_at: session.absolute_expires_at(policy),
        signed_in_at: session.signed_in_at(),
        tokens: {
            let prints = session.fingerprints();
            TokenFingerprints {
                access_token: Some(prints.access_token.clone()),
                refresh_token: prints.refresh_token.clone(),
                id_token: prints.id_token.clone(),
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use scalekit_auth::protocol::fingerprint;

    #[test]
    fn c4_the_session_view_carries_fingerprints_not_tokens() {
        // As the session cookie holds it (the core alone makes sessions, from validated tokens).
        let session: Session = serde_json::from_value(serde_json::json!({
            "id": "id",
            "issuer": "https://env.example",
            "user": {
                "sub": "usr_1", "name": "Ada", "email": null, "organization_id": null,
                "roles": [], "permissions": ["organization:settings"]
            },
            "access_token": "at-secret",
            "access_token_expires_at": 299,
            "refresh_token": "rt-secret",
            "id_token": "id-secret",
            "signed_in_at": 0,
            "last_seen": 0
        }))
        .expect("a session as the cookie holds it");
        let policy = SessionPolicy {
            idle_timeout_secs: 1800,
            absolute_timeout_secs: 8 * 3600,
        };
        let view = session_view(&session, &policy);
        let text = format!("{view:?}");
        for secret in ["at-secret", "rt-secret", "id-secret"] {
            assert!(!text.contains(secret), "{text}");
        }
        assert_eq!(view.tokens.access_token, Some(fingerprint("at-secret")));
        assert_eq!(view.idle_expires_at, 1800);
        assert!(view.user.has_permission("organization:settings"));
    }
}
