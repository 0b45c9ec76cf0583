//! The one HTTP client used to reach the identity provider.

use std::time::Duration;

use reqwest::redirect::Policy;

/// Largest provider response we read (discovery, JWKS, token responses are a few KB).
pub const MAX_PROVIDER_RESPONSE_BYTES: usize = 256 * 1024;

/// Redirects are never followed (a redirect from the provider would let it point us anywhere),
/// every call has a deadline, and TLS certificates are verified (reqwest's default).
pub fn provider_http_client() -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(10))
        .user_agent(concat!("leptos-scalekit/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// An error with its causes, one after another: reqwest's own message alone ("error sending
/// request") does not say whether DNS, the connection or TLS failed.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// Reads a response body, refusing bodies larger than `limit`.
pub async fn read_limited(
    mut response: reqwest::Response,
    limit: usize,
) -> Result<Vec<u8>, String> {
    if response
        .content_length()
        .is_some_and(|len| len > limit as u64)
    {
        return Err(format!("response larger than {limit} bytes"));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| error_chain(&e))? {
        if body.len() + chunk.len() > limit {
            return Err(format!("response larger than {limit} bytes"));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
