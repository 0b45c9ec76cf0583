//! Gives every request an id of our own, runs it inside a tracing span carrying that id, logs one
//! line when it completes, and returns the id in `x-request-id` so a user can quote it.
//!
//! Only the path is logged, never the query: the OAuth callback's query carries the authorization
//! code and state.

use std::time::Instant;

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use http::HeaderValue;
use tracing::Instrument;

pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// The id of the current request, in the request's extensions.
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

pub async fn request_log(mut request: Request, next: Next) -> Response {
    // A v4 UUID from the thread's CSPRNG: `Uuid::new_v4` asks the kernel (a getrandom system
    // call) for every request, which showed in the middleware's share of a JSON hello.
    let id = uuid::Builder::from_random_bytes(rand::random())
        .into_uuid()
        .simple()
        .to_string();
    // A client-sent id is replaced: log lines must not carry values an outsider chose.
    request.headers_mut().remove(REQUEST_ID_HEADER);
    request.extensions_mut().insert(RequestId(id.clone()));
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %request.method(),
        path = %scalekit_auth::protocol::untrusted(request.uri().path()),
    );
    let started = Instant::now();
    async move {
        let mut response = next.run(request).await;
        let status = response.status().as_u16();
        let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
        if status >= 500 {
            tracing::warn!(status, elapsed_ms, "request failed");
        } else {
            tracing::info!(status, elapsed_ms, "request completed");
        }
        if let Ok(value) = HeaderValue::from_str(&id) {
            response.headers_mut().insert(REQUEST_ID_HEADER, value);
        }
        response
    }
    .instrument(span)
    .await
}
