//! `GET /ready`: readiness for load balancers and orchestrators. 200 only when the provider's
//! discovery and signing keys have been fetched and the session store answers; else 503 with
//! each check's reason, so an instance that cannot sign anyone in gets no traffic. `/health`
//! stays liveness: it says only that the process answers.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use http::header::{CACHE_CONTROL, RETRY_AFTER};
use http::{HeaderValue, StatusCode};
use serde_json::{Map, Value};

use crate::state::AppState;

pub async fn ready(State(state): State<AppState>) -> Response {
    let readiness = state.auth.readiness().await;
    let checks: Map<String, Value> = readiness
        .checks()
        .map(|(name, result)| {
            let value = match result {
                Ok(()) => "ok".to_string(),
                Err(reason) => reason.to_string(),
            };
            (name.to_string(), Value::String(value))
        })
        .collect();
    let (status, word) = if readiness.is_ready() {
        (StatusCode::OK, "ready")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "unavailable")
    };
    let mut response = (
        status,
        Json(serde_json::json!({ "status": word, "checks": checks })),
    )
        .into_response();
    let headers = response.headers_mut();
    headers.insert(CACHE_CONTROL, scalekit_auth::NO_STORE);
    if status == StatusCode::SERVICE_UNAVAILABLE {
        headers.insert(RETRY_AFTER, HeaderValue::from_static("5"));
    }
    response
}
