//! RFC 6750 §3 answers: the `WWW-Authenticate` challenge and a JSON body that says the same
//! (checklist A2–A5, E3). Descriptions are generic; details go to the log.

use axum::response::{IntoResponse, Response};
use axum::Json;
use http::header::{CACHE_CONTROL, RETRY_AFTER, WWW_AUTHENTICATE};
use http::{HeaderValue, StatusCode};
use serde_json::json;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ApiError {
    /// No credentials: a bare challenge, no error code.
    NoCredentials,
    /// Malformed request or more than one way of sending a token.
    InvalidRequest(&'static str),
    /// Bad signature, expired, wrong issuer or audience, not an access token...
    InvalidToken(&'static str),
    /// A valid token without the route's scope.
    InsufficientScope(&'static str),
    /// The provider's keys cannot be fetched and none are cached.
    Unavailable,
}

/// Where a protected area's challenges point: its realm and its RFC 9728 metadata. Travels in the
/// request's extensions so refusals raised after authentication (scopes) say the same.
#[derive(Clone, Debug, Default)]
pub struct ChallengeTarget {
    pub realm: &'static str,
    /// Shared: the target is cloned into every authenticated request.
    pub metadata_url: std::sync::Arc<str>,
}

/// An `ApiError` with the target the challenge points to.
pub struct Challenge<'a> {
    pub error: ApiError,
    pub target: &'a ChallengeTarget,
}

fn quoted(value: &str) -> String {
    value.replace(['"', '\\'], "")
}

impl Challenge<'_> {
    pub fn header(&self) -> String {
        let realm = format!("Bearer realm=\"{}\"", quoted(self.target.realm));
        let metadata = format!(
            "resource_metadata=\"{}\"",
            quoted(&self.target.metadata_url)
        );
        match &self.error {
            ApiError::NoCredentials | ApiError::Unavailable => format!("{realm}, {metadata}"),
            ApiError::InvalidRequest(description) => format!(
                "{realm}, error=\"invalid_request\", error_description=\"{}\", {metadata}",
                quoted(description)
            ),
            ApiError::InvalidToken(description) => format!(
                "{realm}, error=\"invalid_token\", error_description=\"{}\", {metadata}",
                quoted(description)
            ),
            ApiError::InsufficientScope(scope) => format!(
                "{realm}, error=\"insufficient_scope\", scope=\"{}\", error_description=\"the token lacks the required scope\", {metadata}",
                quoted(scope)
            ),
        }
    }
}

impl IntoResponse for Challenge<'_> {
    fn into_response(self) -> Response {
        let (status, body) = match &self.error {
            ApiError::NoCredentials => (
                StatusCode::UNAUTHORIZED,
                json!({ "error_description": "a bearer token is required" }),
            ),
            ApiError::InvalidRequest(description) => (
                StatusCode::BAD_REQUEST,
                json!({ "error": "invalid_request", "error_description": description }),
            ),
            ApiError::InvalidToken(description) => (
                StatusCode::UNAUTHORIZED,
                json!({ "error": "invalid_token", "error_description": description }),
            ),
            ApiError::InsufficientScope(scope) => (
                StatusCode::FORBIDDEN,
                json!({
                    "error": "insufficient_scope",
                    "error_description": "the token lacks the required scope",
                    "scope": scope,
                }),
            ),
            ApiError::Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                json!({
                    "error": "temporarily_unavailable",
                    "error_description": "the token cannot be checked right now; try again shortly",
                }),
            ),
        };
        let mut response = (status, Json(body)).into_response();
        let headers = response.headers_mut();
        if self.error != ApiError::Unavailable {
            if let Ok(value) = HeaderValue::from_str(&self.header()) {
                headers.insert(WWW_AUTHENTICATE, value);
            }
        } else {
            headers.insert(RETRY_AFTER, HeaderValue::from_static("5"));
        }
        headers.insert(CACHE_CONTROL, scalekit_auth::NO_STORE);
        response
    }
}

pub async fn not_found() -> Response {
    let mut response = (
        StatusCode::NOT_FOUND,
        Json(json!({ "error": "not_found", "error_description": "no such API route" })),
    )
        .into_response();
    response
        .headers_mut()
        .insert(CACHE_CONTROL, scalekit_auth::NO_STORE);
    response
}

/// The answer to a user whose role lacks the permission an action (an MCP tool, an API route)
/// needs: 403 with a plain JSON body and no
/// `WWW-Authenticate`. Not `insufficient_scope`, even without a `scope` to step up to: MCP SDKs
/// take that as a cue to re-authorize (the Python SDK looks only at the error code, rmcp at any
/// 403 challenge), and authorizing again cannot give a user a permission, so the client would
/// loop or keep asking the user for a consent that changes nothing. RFC 6750's code is about the
/// token's privileges; here the token is fine and the person is not allowed.
pub fn role_lacks_permission(action: &str, permission: &str) -> Response {
    let mut response = (
        StatusCode::FORBIDDEN,
        Json(json!({
            "error": "forbidden",
            "error_description": format!("your role does not allow {action}"),
            "permission": permission,
        })),
    )
        .into_response();
    response
        .headers_mut()
        .insert(CACHE_CONTROL, scalekit_auth::NO_STORE);
    response
}
