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

use super::logout_token::{validate_logout_token, LogoutClaims, LogoutExpected, LogoutTokenError};
use super::middleware::Auth;
use super::session::now_secs;
use super::store::{OneTime, StoreUnavailable};

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
/// `application/x-www-form-urlencoded` body of at most 20 KB and validates it
/// ([`validate_logout_token`]). It then ends the provider session the token names (`sid`), or else
/// every session of the user (`sub`) signed in at or before the token's `iat`, and only after that
/// records the `jti`, so a replayed token is refused.
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
    let claims = match validate(&auth, &token).await {
        Ok(claims) => claims,
        Err(Outcome::Refused(reason)) => {
            tracing::info!(%reason, "back-channel logout token refused");
            return refused("the logout token is invalid");
        }
        Err(Outcome::Unavailable(reason)) => return unavailable(&reason),
    };
    let now = now_secs();
    // Ending comes first and is idempotent (the provider session, or the user's sessions begun
    // before the token was issued: a replay names the same set), so a store failure at either
    // step answers 503 and the provider's retry finishes the job; the jti is recorded only after
    // the sessions are ended, and a replayed token is then refused.
    if let Err(StoreUnavailable(reason)) = end_named_sessions(&auth, &claims, now).await {
        return unavailable(&reason);
    }
    match auth
        .rp
        .store
        .first_use(
            OneTime::LogoutToken,
            &claims.jti,
            claims.remember_until,
            now,
        )
        .await
    {
        Ok(true) => {}
        Ok(false) => return refused("the logout token was already used"),
        Err(StoreUnavailable(reason)) => return unavailable(&reason),
    }
    tracing::info!(
        sid = claims.sid.as_deref().unwrap_or("-"),
        sub = claims.sub.as_deref().unwrap_or("-"),
        "back-channel logout: sessions ended"
    );
    answer(StatusCode::OK, None)
}

enum Outcome {
    Refused(LogoutTokenError),
    Unavailable(String),
}

async fn validate(auth: &Auth, token: &str) -> Result<LogoutClaims, Outcome> {
    let endpoints = auth
        .rp
        .endpoints()
        .await
        .map_err(|e| Outcome::Unavailable(e.to_string()))?;
    let expected = LogoutExpected {
        issuer: &endpoints.metadata.issuer,
        client_id: auth.rp.client_id(),
        now: now_secs(),
    };
    endpoints
        .jwks
        .check_with_keys(
            |keys| validate_logout_token(token, keys, &expected),
            |e| matches!(e, LogoutTokenError::UnknownKey(_)),
        )
        .await
        .map_err(|e| Outcome::Unavailable(e.to_string()))?
        .map_err(Outcome::Refused)
}

/// The provider's session when the token names one (it identifies the session exactly);
/// otherwise every session of the user that began before the token was issued.
async fn end_named_sessions(
    auth: &Auth,
    claims: &LogoutClaims,
    now: u64,
) -> Result<(), StoreUnavailable> {
    // Sessions that began before now live at most one absolute timeout more.
    let until = now + auth.rp.policy().absolute_timeout_secs;
    match (&claims.sid, &claims.sub) {
        (Some(sid), _) => auth.rp.store.end_provider_session(sid, until, now).await,
        (None, Some(sub)) => {
            auth.rp
                .store
                .end_user_sessions(sub, claims.iat, until, now)
                .await
        }
        (None, None) => Ok(()), // refused by validation already
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
