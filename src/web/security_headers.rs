//! Security headers on every response, static files included (checklist H1–H5, H7). A handler
//! that sets one of these itself keeps its own value. The content security policy carries a fresh
//! nonce per request, which the page's own scripts (hydration, resource data) are rendered with.
//! Applied by the edge layer (`web::edge`).

use std::sync::Arc;

use axum::extract::Request;
use http::header::Entry;
use http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, REFERRER_POLICY, STRICT_TRANSPORT_SECURITY,
    X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use http::{HeaderMap, HeaderName, HeaderValue};

/// Headers that do not depend on the request, made at compile time (`from_static` checks its
/// bytes when it runs, which was once per header and response).
const BASELINE: [(HeaderName, HeaderValue); 5] = [
    (X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
    (X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
    (
        REFERRER_POLICY,
        HeaderValue::from_static("strict-origin-when-cross-origin"),
    ),
    (
        HeaderName::from_static("permissions-policy"),
        HeaderValue::from_static("camera=(), microphone=(), geolocation=(), payment=(), usb=()"),
    ),
    (
        HeaderName::from_static("cross-origin-opener-policy"),
        HeaderValue::from_static("same-origin"),
    ),
];

const HSTS: HeaderValue = HeaderValue::from_static("max-age=63072000; includeSubDomains");
const VARY_COOKIE: HeaderValue = HeaderValue::from_static("Cookie");

/// The policy up to the nonce, and after it up to the extra form-action source.
const POLICY_START: &str = "default-src 'self'; script-src 'self' 'nonce-";
const POLICY_MIDDLE: &str = "' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; \
     font-src 'self'; connect-src 'self'; form-action 'self'";
const POLICY_END: &str = "; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

/// The per-request script nonce, left in the request's extensions for the page renderer.
#[derive(Clone, Debug)]
pub struct CspNonce(pub Arc<str>);

/// What the headers depend on: production (HSTS) and where forms may post to.
#[derive(Clone, Debug)]
pub struct SecurityHeaderSettings {
    send_hsts: bool,
    /// The policy after the nonce: the same for every response, so written once.
    policy_rest: String,
}

impl SecurityHeaderSettings {
    /// `extra_form_action`: a source besides 'self' that forms may submit to, and so redirect to
    /// after submission: the identity provider's origin, for the no-JavaScript sign-in post
    /// (checklist H2).
    pub fn new(send_hsts: bool, extra_form_action: Option<&str>) -> SecurityHeaderSettings {
        let mut policy_rest = String::from(POLICY_MIDDLE);
        if let Some(extra) = extra_form_action.filter(|extra| !extra.is_empty()) {
            policy_rest.push(' ');
            policy_rest.push_str(extra);
        }
        policy_rest.push_str(POLICY_END);
        SecurityHeaderSettings {
            send_hsts,
            policy_rest,
        }
    }

    /// The content security policy of a response whose scripts carry `nonce`.
    pub fn content_security_policy(&self, nonce: &str) -> String {
        let mut policy =
            String::with_capacity(POLICY_START.len() + nonce.len() + self.policy_rest.len());
        policy.push_str(POLICY_START);
        policy.push_str(nonce);
        policy.push_str(&self.policy_rest);
        policy
    }
}

/// Makes this request's script nonce (16 bytes from the thread's CSPRNG, base64url) and leaves it
/// for the page renderer, which shares it.
pub fn provide_nonce(request: &mut Request) -> Arc<str> {
    let nonce: Arc<str> = scalekit_auth::protocol::random_token(16).into();
    request.extensions_mut().insert(CspNonce(nonce.clone()));
    nonce
}

/// Adds the headers the response does not set itself; `nonce` is the request's.
pub fn apply(headers: &mut HeaderMap, nonce: &str, settings: &SecurityHeaderSettings) {
    // Room for all of them at once: the map would otherwise grow (and rehash) as they go in.
    headers.reserve(BASELINE.len() + 5);
    // `entry` looks each name up once (`contains_key` then `insert` hashed it twice).
    for (name, value) in BASELINE {
        headers.entry(name).or_insert(value);
    }
    if let Entry::Vacant(slot) = headers.entry(CONTENT_SECURITY_POLICY) {
        // From the String's own bytes, without a copy.
        if let Ok(value) = HeaderValue::try_from(settings.content_security_policy(nonce)) {
            slot.insert(value);
        }
    }
    // Personal pages must never be stored by a shared cache; anything cacheable says so itself.
    if let Entry::Vacant(slot) = headers.entry(CACHE_CONTROL) {
        slot.insert(scalekit_auth::NO_STORE);
        // What a dynamic response shows depends on the session cookie (checklist H6).
        headers.append(http::header::VARY, VARY_COOKIE);
    }
    if settings.send_hsts {
        headers.insert(STRICT_TRANSPORT_SECURITY, HSTS);
    }
}

#[cfg(test)]
mod tests {
    use super::SecurityHeaderSettings;

    #[test]
    fn h2_the_policy_names_the_nonce_and_the_extra_form_action() {
        assert_eq!(
            SecurityHeaderSettings::new(false, None).content_security_policy("N0nce"),
            "default-src 'self'; script-src 'self' 'nonce-N0nce' 'wasm-unsafe-eval'; \
             style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; \
             form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
        );
        assert!(
            SecurityHeaderSettings::new(false, Some("https://idp.example"))
                .content_security_policy("n")
                .contains("; form-action 'self' https://idp.example; frame-ancestors")
        );
    }
}
