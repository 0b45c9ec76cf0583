//! `GET /health`: liveness for load balancers and scripts. Says nothing about configuration.

use axum::response::IntoResponse;
use axum::Json;
use http::header::CACHE_CONTROL;

pub async fn health() -> impl IntoResponse {
    (
        [(CACHE_CONTROL, scalekit_auth::NO_STORE)],
        Json(serde_json::json!({
            "status": "healthy",
            "version": env!("CARGO_PKG_VERSION"),
        })),
    )
}
