//! Security headers on every response, static files included (checklist H1–H5, H7). A handler
//! that sets one of these itself keeps its own value. The content security policy carries a fresh
//! nonce per request, which the page's own scripts (hydration, resource data) are rendered with.
//! Applied by the edge layer (`web::edge`).

use axum::extract::Request;
use http::header::Entry;
use http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, REFERRER_POLICY, STRICT_TRANSPORT_SECURITY,
    X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use http::{HeaderMap, HeaderName, HeaderValue};

/// Headers that do not depend on the request.
const BASELINE: [(HeaderName, &str); 5] = [
    (X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (X_FRAME_OPTIONS, "DENY"),
    (REFERRER_POLICY, "strict-origin-when-cross-origin"),
    (
        HeaderName::from_static("permissions-policy"),
        "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
    ),
    (
        HeaderName::from_static("cross-origin-opener-policy"),
        "same-origin",
    ),
];

/// The per-request script nonce, left in the request's extensions for the page renderer.
#[derive(Clone, Debug)]
pub struct CspNonce(pub String);

/// What the headers depend on: production (HSTS) and where forms may post to.
#[derive(Clone, Debug)]
pub struct SecurityHeaderSettings {
    pub send_hsts: bool,
    /// Sources besides 'self' that forms may submit to, and so redirect to after submission: the
    /// identity provider's origin, for the no-JavaScript sign-in post (checklist H2).
    pub extra_form_action: Option<String>,
}

pub fn content_security_policy(nonce: &str, extra_form_action: Option<&str>) -> String {
    // Written piece by piece rather than with `format!`: it is made for every response.
    const SCRIPT: &str = "default-src 'self'; script-src 'self' 'nonce-";
    const REST: &str = "' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; \
         font-src 'self'; connect-src 'self'; form-action 'self'";
    const END: &str = "; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";
    let extra = extra_form_action.unwrap_or("");
    let mut policy = String::with_capacity(
        SCRIPT.len() + nonce.len() + REST.len() + extra.len() + END.len() + 1,
    );
    policy.push_str(SCRIPT);
    policy.push_str(nonce);
    policy.push_str(REST);
    if !extra.is_empty() {
        policy.push(' ');
        policy.push_str(extra);
    }
    policy.push_str(END);
    policy
}

/// Makes this request's script nonce and leaves it for the page renderer.
pub fn provide_nonce(request: &mut Request) -> String {
    let nonce = scalekit_auth::protocol::random_token(16);
    request.extensions_mut().insert(CspNonce(nonce.clone()));
    nonce
}

/// Adds the headers the response does not set itself; `nonce` is the request's.
pub fn apply(headers: &mut HeaderMap, nonce: &str, settings: &SecurityHeaderSettings) {
    // Room for all of them at once: the map would otherwise grow (and rehash) as they go in.
    headers.reserve(BASELINE.len() + 5);
    // `entry` looks each name up once (`contains_key` then `insert` hashed it twice).
    for (name, value) in BASELINE {
        headers
            .entry(name)
            .or_insert_with(|| HeaderValue::from_static(value));
    }
    if let Entry::Vacant(slot) = headers.entry(CONTENT_SECURITY_POLICY) {
        let policy = content_security_policy(nonce, settings.extra_form_action.as_deref());
        if let Ok(value) = HeaderValue::from_str(&policy) {
            slot.insert(value);
        }
    }
    // Personal pages must never be stored by a shared cache; anything cacheable says so itself.
    if let Entry::Vacant(slot) = headers.entry(CACHE_CONTROL) {
        slot.insert(scalekit_auth::NO_STORE);
        // What a dynamic response shows depends on the session cookie (checklist H6).
        headers.append(http::header::VARY, HeaderValue::from_static("Cookie"));
    }
    if settings.send_hsts {
        headers.insert(
            STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=63072000; includeSubDomains"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::content_security_policy;

    #[test]
    fn h2_the_policy_names_the_nonce_and_the_extra_form_action() {
        assert_eq!(
            content_security_policy("N0nce", None),
            "default-src 'self'; script-src 'self' 'nonce-N0nce' 'wasm-unsafe-eval'; \
             style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; \
             form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
        );
        assert!(content_security_policy("n", Some("https://idp.example"))
            .contains("; form-action 'self' https://idp.example; frame-ancestors"));
    }
}
