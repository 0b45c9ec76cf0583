//! Gives every request an id of our own, runs it inside a tracing span carrying that id, logs one
//! line when it completes, and returns the id in `x-request-id` so a user can quote it. Applied by
//! the edge layer (`web::edge`).
//!
//! Only the path is logged, never the query: the OAuth callback's query carries the authorization
//! code and state.

use std::time::{Duration, Instant};

use axum::extract::Request;
use axum::response::Response;
use http::{HeaderName, HeaderValue};
use tracing::Span;

pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// One request from its arrival to its response.
pub struct RequestLog {
    /// A v4 UUID in its simple form (32 lowercase hex digits).
    id: [u8; 32],
    started: Instant,
    span: Span,
}

impl RequestLog {
    /// Names the request and opens its span.
    pub fn begin(request: &mut Request) -> RequestLog {
        // From the thread's CSPRNG (`Uuid::new_v4` asks the kernel for every request), written
        // as hex on the stack rather than through the formatter into a String.
        let id = simple_uuid_v4(rand::random::<u128>().to_ne_bytes());
        // A client-sent id is replaced: log lines must not carry values an outsider chose.
        request.headers_mut().remove(REQUEST_ID_HEADER);
        let span = tracing::info_span!(
            "request",
            request_id = std::str::from_utf8(&id).unwrap_or_default(),
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
    pub fn span(&self) -> &Span {
        &self.span
    }

    /// Logs the outcome and hands the id back to the client. Answers how long the request took.
    pub fn finish(self, response: &mut Response) -> Duration {
        let status = response.status().as_u16();
        let took = self.started.elapsed();
        let elapsed_ms = took.as_secs_f64() * 1000.0;
        if status >= 500 {
            tracing::warn!(status, elapsed_ms, "request failed");
        } else {
            tracing::info!(status, elapsed_ms, "request completed");
        }
        if let Ok(value) = HeaderValue::from_bytes(&self.id) {
            response.headers_mut().insert(REQUEST_ID_HEADER, value);
        }
        took
    }
}

/// `random` as a version 4, variant 1 UUID (RFC 9562), in hex without hyphens.
fn simple_uuid_v4(mut random: [u8; 16]) -> [u8; 32] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    random[6] = (random[6] & 0x0f) | 0x40;
    random[8] = (random[8] & 0x3f) | 0x80;
    let mut text = [0u8; 32];
    for (pair, byte) in text.chunks_exact_mut(2).zip(random) {
        pair[0] = HEX[usize::from(byte >> 4)];
        pair[1] = HEX[usize::from(byte & 0x0f)];
    }
    text
}

#[cfg(test)]
mod tests {
    use super::simple_uuid_v4;

    #[test]
    fn request_ids_are_v4_uuids_in_simple_form() {
        let id = simple_uuid_v4([0xff; 16]);
        let text = std::str::from_utf8(&id).unwrap();
        let parsed = uuid::Uuid::try_parse(text).unwrap();
        assert_eq!(parsed.get_version_num(), 4);
        assert_eq!(parsed.get_variant(), uuid::Variant::RFC4122);
        assert_eq!(parsed.simple().to_string(), text);
        assert_eq!(
            std::str::from_utf8(&simple_uuid_v4([0; 16])).unwrap(),
            "00000000000040008000000000000000"
        );
    }
}
