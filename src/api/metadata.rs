//! RFC 9728 protected-resource metadata (checklist A9): which authorization server issues tokens
//! for this API, its scopes, and that tokens go in the header.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use http::header::CACHE_CONTROL;
use http::HeaderValue;
use serde_json::json;

use super::{ApiState, SCOPES};

pub async fn protected_resource(State(api): State<ApiState>) -> Response {
    let issuer = match api.guard.auth.rp.endpoints().await {
        Ok(endpoints) => endpoints.metadata.issuer.clone(),
        Err(_) => api.guard.auth.rp.environment_url().to_string(),
    };
    let mut response = Json(json!({
        "resource": api.guard.audience,
        "authorization_servers": [issuer],
        "scopes_supported": SCOPES,
        "bearer_methods_supported": ["header"],
        "resource_name": "leptos-scalekit example API",
    }))
    .into_response();
    response.headers_mut().insert(
        CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    response
}
