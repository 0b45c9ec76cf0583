//! Gives every request an id of our own, runs it inside a tracing span carrying that id, logs one
//! line when it completes, and returns the id in `x-request-id` so a user can quote it. Applied by
//! the edge layer (`web::edge`).
//!
//! Only the path is logged, never the query: the OAuth callback's query carries the authorization
//! code and state.

use std::time::Instant;

use axum::extract::Request;
use axum::response::Response;
use http::HeaderValue;
use tracing::Span;

pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// One request from its arrival to its response.
pub struct RequestLog {
    id: String,
    started: Instant,
    span: Span,
}

impl RequestLog {
    /// Names the request and opens its span.
    pub fn begin(request: &mut Request) -> RequestLog {
        // A v4 UUID from the thread's CSPRNG: `Uuid::new_v4` asks the kernel (a getrandom system
        // call) for every request, which showed in the middleware's share of a JSON hello.
        let id = uuid::Builder::from_random_bytes(rand::random())
            .into_uuid()
            .simple()
            .to_string();
        // A client-sent id is replaced: log lines must not carry values an outsider chose.
        request.headers_mut().remove(REQUEST_ID_HEADER);
        let span = tracing::info_span!(
            "request",
            request_id = %id,
            method = %request.method(),
            path = %scalekit_auth::protocol::untrusted(request.uri().path()),
        );
        RequestLog {
            id,
            started: Instant::now(),
            span,
        }
    }

    /// The span the request's work runs in, so every line it logs carries the id.
    pub fn span(&self) -> Span {
        self.span.clone()
    }

    /// Logs the outcome and hands the id back to the client.
    pub fn finish(self, response: &mut Response) {
        let status = response.status().as_u16();
        let elapsed_ms = self.started.elapsed().as_secs_f64() * 1000.0;
        if status >= 500 {
            tracing::warn!(status, elapsed_ms, "request failed");
        } else {
            tracing::info!(status, elapsed_ms, "request completed");
        }
        // The String becomes the header's bytes without a copy.
        if let Ok(value) = HeaderValue::try_from(self.id) {
            response.headers_mut().insert(REQUEST_ID_HEADER, value);
        }
    }
}
