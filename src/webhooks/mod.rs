//! `POST /webhooks/scalekit`: Scalekit's signed webhooks. Served only with
//! `SCALEKIT_WEBHOOK_SECRET`. Every delivery is verified as Scalekit's SDKs verify it and accepted
//! once (`scalekit_auth::webhook`); nothing is acted on before that. Then the event acts
//! (`events.rs` decides per type) and is kept for the organization's admins (`recent.rs`).
//! Refusals are JSON `{"error", "error_description"}` with 400, 401, 409, 413 or 503; a verified
//! event of a type we do not act on is accepted (200) and logged.

pub mod events;
pub mod recent;

use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use http::header::{CACHE_CONTROL, RETRY_AFTER};
use http::{HeaderMap, HeaderValue, StatusCode};
use scalekit_auth::webhook::{WebhookHeaders, WebhookRefusal};
use serde_json::json;

use crate::state::AppState;

/// Where Scalekit delivers (Dashboard > Webhooks > endpoint URL: `{APP_URL}/webhooks/scalekit`).
pub const WEBHOOK_PATH: &str = "/webhooks/scalekit";
/// Largest body read: Scalekit's events are a few KB.
const MAX_BODY: usize = 256 * 1024;

/// The endpoint, when a secret is configured.
pub fn routes(state: &AppState) -> Option<axum::Router<AppState>> {
    state.config.webhook_verifier.as_ref()?;
    Some(Router::new().route(WEBHOOK_PATH, post(receive)))
}

fn answer(status: StatusCode, body: serde_json::Value) -> Response {
    let mut response = (status, Json(body)).into_response();
    response
        .headers_mut()
        .insert(CACHE_CONTROL, scalekit_auth::NO_STORE);
    if status == StatusCode::SERVICE_UNAVAILABLE {
        response
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from_static("5"));
    }
    response
}

fn refused(status: StatusCode, error: &str, description: &str) -> Response {
    answer(
        status,
        json!({ "error": error, "error_description": description }),
    )
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

async fn receive(State(state): State<AppState>, request: Request<Body>) -> Response {
    let Some(verifier) = state.config.webhook_verifier.as_ref() else {
        return refused(StatusCode::NOT_FOUND, "not_found", "webhooks are off");
    };
    let (parts, body) = request.into_parts();
    let Ok(body) = to_bytes(body, MAX_BODY).await else {
        return refused(
            StatusCode::PAYLOAD_TOO_LARGE,
            "invalid_request",
            "the body is larger than 256 KB",
        );
    };
    let headers = WebhookHeaders {
        id: header(&parts.headers, "webhook-id"),
        timestamp: header(&parts.headers, "webhook-timestamp"),
        signature: header(&parts.headers, "webhook-signature"),
    };
    let now = scalekit_auth::now_secs();
    let id = match state
        .auth
        .accept_webhook(verifier, &headers, &body, now)
        .await
    {
        Ok(id) => id.to_string(),
        Err(refusal) => {
            tracing::warn!(%refusal, "webhook delivery refused");
            let status = StatusCode::from_u16(refusal.status()).unwrap_or(StatusCode::UNAUTHORIZED);
            let error = match refusal {
                WebhookRefusal::MissingHeader(_) | WebhookRefusal::MalformedHeader(_) => {
                    "invalid_request"
                }
                WebhookRefusal::Replayed => "already_received",
                WebhookRefusal::Unavailable(_) => "temporarily_unavailable",
                _ => "invalid_signature",
            };
            return refused(status, error, &refusal.to_string());
        }
    };
    let event = match events::Event::parse(&body) {
        Ok(event) => event,
        Err(problem) => {
            // Verified, so Scalekit sent it: answered 400 so it shows as failed in its log.
            tracing::warn!(webhook_id = %id, %problem, "a verified webhook is not an event");
            return refused(StatusCode::BAD_REQUEST, "invalid_request", &problem);
        }
    };
    let outcome = events::act(&state.auth, &event, now).await;
    tracing::info!(
        webhook_id = %id,
        event_type = %scalekit_auth::protocol::untrusted(&event.kind),
        outcome = outcome.describe(),
        "webhook received"
    );
    recent::record(&state.auth, &event, outcome, now).await;
    answer(StatusCode::OK, json!({ "received": true }))
}
