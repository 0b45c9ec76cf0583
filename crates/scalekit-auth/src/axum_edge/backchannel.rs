//! `POST /auth/backchannel-logout`: OpenID Connect Back-Channel Logout 1.0, the URL to enter as
//! the "Back channel logout URL" in Scalekit's dashboard. The provider calls it, server to server,
//! when a user's session ends there (sign-out in another app, an admin, a session policy); every
//! instance then refuses the sessions it names on their next request.
//!
//! Not behind the browser CSRF layer (no browser sends it), so it accepts nothing but a valid
//! logout token: signed by the provider's keys, for our client, each `jti` acted on once.

use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use http::header::{CACHE_CONTROL, CONTENT_TYPE, RETRY_AFTER};
use http::{HeaderValue, StatusCode};
use serde_json::json;

use crate::auth::Auth;
use crate::session::now_secs;
use crate::sign_out::LogoutTokenRefusal;

/// Where the app serves it.
pub const BACKCHANNEL_LOGOUT_PATH: &str = "/auth/backchannel-logout";
/// Largest request read: a logout token is a few hundred bytes, capped at 16 KB.
const MAX_BODY: usize = 20 * 1024;

fn answer(status: StatusCode, body: Option<serde_json::Value>) -> Response {
    let mut response = match body {
        Some(body) => (status, Json(body)).into_response(),
        None => status.into_response(),
    };
    let headers = response.headers_mut();
    headers.insert(CACHE_CONTROL, crate::NO_STORE);
    if status == StatusCode::SERVICE_UNAVAILABLE {
        headers.insert(RETRY_AFTER, HeaderValue::from_static("5"));
    }
    response
}

fn refused(description: &str) -> Response {
    answer(
        StatusCode::BAD_REQUEST,
        Some(json!({ "error": "invalid_request", "error_description": description })),
    )
}

fn unavailable(reason: &str) -> Response {
    tracing::warn!(
        reason,
        "back-channel logout could not be handled; the provider will retry"
    );
    answer(
        StatusCode::SERVICE_UNAVAILABLE,
        Some(json!({ "error": "temporarily_unavailable", "error_description": "try again later" })),
    )
}

/// The one `logout_token` of a form body, or why not.
fn logout_token_of(body: &[u8]) -> Result<String, &'static str> {
    let mut tokens = url::form_urlencoded::parse(body)
        .filter(|(name, _)| name == "logout_token")
        .map(|(_, value)| value.into_owned());
    match (tokens.next(), tokens.next()) {
        (Some(token), None) if !token.is_empty() => Ok(token),
        (Some(_), Some(_)) => Err("logout_token is repeated"),
        _ => Err("logout_token is missing"),
    }
}

/// The back-channel logout handler (Back-Channel Logout 1.0, checklist O8), served at
/// [`BACKCHANNEL_LOGOUT_PATH`]. It takes exactly one `logout_token` from an
/// `application/x-www-form-urlencoded` body of at most 20 KB and hands it to
/// [`Auth::accept_logout_token`], which validates it and ends the sessions it names.
///
/// Answers 200 with an empty body when done; 400 `invalid_request` when the request or the token is
/// refused (a replayed `jti` included); 503 `temporarily_unavailable` with `Retry-After: 5` when
/// the provider's keys or the session store cannot be reached, so the provider retries. Every
/// answer is `Cache-Control: no-store`.
pub async fn backchannel_logout(State(auth): State<Auth>, request: Request<Body>) -> Response {
    let is_form = request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return refused("the body must be application/x-www-form-urlencoded");
    }
    let Ok(body) = to_bytes(request.into_body(), MAX_BODY).await else {
        return refused("the request is too large");
    };
    let token = match logout_token_of(&body) {
        Ok(token) => token,
        Err(problem) => return refused(problem),
    };
    match auth.accept_logout_token(&token, now_secs()).await {
        Ok(claims) => {
            tracing::info!(
                sid = claims.sid.as_deref().unwrap_or("-"),
                sub = claims.sub.as_deref().unwrap_or("-"),
                "back-channel logout: sessions ended"
            );
            answer(StatusCode::OK, None)
        }
        Err(LogoutTokenRefusal::Invalid(reason)) => {
            tracing::info!(%reason, "back-channel logout token refused");
            refused("the logout token is invalid")
        }
        Err(LogoutTokenRefusal::Replayed) => refused("the logout token was already used"),
        Err(LogoutTokenRefusal::Unavailable(reason)) => unavailable(&reason),
    }
}

#[cfg(test)]
mod tests {
    use super::logout_token_of;

    #[test]
    fn o8_the_body_carries_exactly_one_logout_token() {
        assert_eq!(logout_token_of(b"logout_token=abc").as_deref(), Ok("abc"));
        assert!(logout_token_of(b"").is_err());
        assert!(logout_token_of(b"logout_token=").is_err());
        assert!(logout_token_of(b"logout_token=a&logout_token=b").is_err());
        assert!(logout_token_of(b"other=1").is_err());
    }
}
