//! `POST /webhooks/scalekit`: Scalekit's signed webhooks. Served only with
//! `SCALEKIT_WEBHOOK_SECRET`. Every delivery is verified as Scalekit's SDKs verify it and accepted
//! (`scalekit_auth::webhook`); nothing is acted on before that. Then the event acts (`events.rs`
//! decides per type), and only then is its id recorded and the event kept for the
//! organization's admins (`recent.rs`). Refusals are JSON `{"error", "error_description"}` with
//! 400, 401, 413 or 503 (the store could not take the action or the id: nothing was recorded,
//! and the sender retries); a verified event of a type we do not act on is accepted (200) and
//! logged, and a delivery already recorded is acknowledged again (200, `"duplicate": true`).

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
    let delivery = match verifier.verify(&headers, &body, now) {
        Ok(delivery) => delivery,
        Err(refusal) => {
            tracing::warn!(%refusal, "webhook delivery refused");
            let status = StatusCode::from_u16(refusal.status()).unwrap_or(StatusCode::UNAUTHORIZED);
            let error = match refusal {
                WebhookRefusal::MissingHeader(_) | WebhookRefusal::MalformedHeader(_) => {
                    "invalid_request"
                }
                _ => "invalid_signature",
            };
            return refused(status, error, &refusal.to_string());
        }
    };
    let id = delivery.id;
    let event = match events::Event::parse(&body) {
        Ok(event) => event,
        Err(problem) => {
            // Verified, so Scalekit sent it: answered 400 so it shows as failed in its log.
            tracing::warn!(webhook_id = %id, %problem, "a verified webhook is not an event");
            return refused(StatusCode::BAD_REQUEST, "invalid_request", &problem);
        }
    };
    // Act first, record after (see `scalekit_auth::webhook`): nothing is acknowledged that the
    // store did not take, and the sender's retry of a 503 acts again.
    let handled = async {
        let outcome = events::act(&state.auth, &event, delivery.sent_at, now).await?;
        let first = state.auth.record_webhook(id, now).await?;
        Ok::<_, scalekit_auth::store::StoreUnavailable>((outcome, first))
    };
    let (outcome, first) = match handled.await {
        Ok(done) => done,
        Err(unavailable) => {
            tracing::warn!(webhook_id = %id, error = %unavailable, "a webhook could not be recorded; the sender will retry");
            return unavailable_now();
        }
    };
    if !first {
        // Acknowledged, so the sender stops; listed and logged once already.
        tracing::debug!(webhook_id = %id, "a webhook delivered again");
        return answer(
            StatusCode::OK,
            json!({ "received": true, "duplicate": true }),
        );
    }
    tracing::info!(
        webhook_id = %id,
        event_type = %scalekit_auth::protocol::untrusted(&event.kind),
        outcome = outcome.describe(),
        "webhook received"
    );
    recent::record(&state.auth, &event, outcome, now).await;
    answer(StatusCode::OK, json!({ "received": true }))
}

/// The store could not take the delivery: try again soon (with `Retry-After`).
fn unavailable_now() -> Response {
    refused(
        StatusCode::SERVICE_UNAVAILABLE,
        "temporarily_unavailable",
        "the session store is unavailable; deliver again later",
    )
}
