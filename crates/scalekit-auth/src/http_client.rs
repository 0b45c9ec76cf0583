//! The one HTTP client used to reach the identity provider.

use std::time::Duration;

use reqwest::redirect::Policy;

/// Largest provider response we read (discovery, JWKS, token responses are a few KB).
pub const MAX_PROVIDER_RESPONSE_BYTES: usize = 256 * 1024;

/// Redirects are never followed (a redirect from the provider would let it point us anywhere),
/// every call has a deadline, and TLS certificates are verified (reqwest's default).
pub fn provider_http_client() -> reqwest::Result<reqwest::Client> {
    provider_http_client_trusting(&ExtraRoots::default())
}

/// The same client, also trusting `extra` root certificates beside the public ones: for a
/// provider reached through a TLS-inspecting proxy or a private certificate authority.
pub fn provider_http_client_trusting(extra: &ExtraRoots) -> reqwest::Result<reqwest::Client> {
    let mut builder = reqwest::Client::builder()
        .redirect(Policy::none())
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(10))
        .user_agent(concat!("leptos-scalekit/", env!("CARGO_PKG_VERSION")));
    for certificate in &extra.0 {
        builder = builder.add_root_certificate(certificate.clone());
    }
    builder.build()
}

/// Root certificates trusted for the provider beside the public ones (none by default).
#[derive(Clone, Debug, Default)]
pub struct ExtraRoots(Vec<reqwest::Certificate>);

impl ExtraRoots {
    /// The certificates of a PEM bundle; an error when it holds none or one does not parse.
    pub fn from_pem(pem: &[u8]) -> Result<ExtraRoots, String> {
        let certificates = reqwest::Certificate::from_pem_bundle(pem)
            .map_err(|e| format!("not a PEM certificate bundle: {e}"))?;
        if certificates.is_empty() {
            return Err("no certificate in it".into());
        }
        Ok(ExtraRoots(certificates))
    }

    /// How many certificates it holds.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
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
