//! Ceilings on the request line and headers. Browsers keep cookies to about 4 KB each and nothing
//! legitimate here needs more than a few; an oversized header block (a cookie bomb, a forged
//! session split into many pieces) gets 431 and an oversized URI 414, before any of it is parsed.
//! Applied by the edge layer (`web::edge`).

use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use http::StatusCode;

/// The most header bytes (names and values) a request may carry.
pub const MAX_HEADER_BYTES: usize = 32 * 1024;
/// The longest path and query accepted (return paths are limited to 2 KB anyway).
pub const MAX_URI_BYTES: usize = 8 * 1024;

pub fn header_bytes(request: &Request) -> usize {
    request
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum()
}

/// The answer to a request whose line or headers are over the ceilings, `None` for the rest.
pub fn refusal(request: &Request) -> Option<Response> {
    if request
        .uri()
        .path_and_query()
        .map_or(0, |p| p.as_str().len())
        > MAX_URI_BYTES
    {
        return Some((StatusCode::URI_TOO_LONG, "The address is too long.").into_response());
    }
    if header_bytes(request) > MAX_HEADER_BYTES {
        return Some(
            (
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                "Request headers too large: clear this site's cookies and try again.",
            )
                .into_response(),
        );
    }
    None
}
