//! Security headers on every response, static files included (checklist H1–H5, H7). A handler
//! that sets one of these itself keeps its own value. The content security policy carries a fresh
//! nonce per request, which the page's own scripts (hydration, resource data) are rendered with.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, REFERRER_POLICY, STRICT_TRANSPORT_SECURITY,
    X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use http::{HeaderName, HeaderValue};

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
    let form_action = match extra_form_action {
        Some(source) => format!("'self' {source}"),
        None => "'self'".to_string(),
    };
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; \
         form-action {form_action}; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    )
}

pub async fn security_headers(
    State(settings): State<SecurityHeaderSettings>,
    mut request: Request,
    next: Next,
) -> Response {
    let nonce = scalekit_auth::protocol::random_token(16);
    request.extensions_mut().insert(CspNonce(nonce.clone()));
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    for (name, value) in BASELINE {
        if !headers.contains_key(&name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    }
    if !headers.contains_key(CONTENT_SECURITY_POLICY) {
        let policy = content_security_policy(&nonce, settings.extra_form_action.as_deref());
        if let Ok(value) = HeaderValue::from_str(&policy) {
            headers.insert(CONTENT_SECURITY_POLICY, value);
        }
    }
    // Personal pages must never be stored by a shared cache; anything cacheable says so itself.
    if !headers.contains_key(CACHE_CONTROL) {
        headers.insert(CACHE_CONTROL, scalekit_auth::NO_STORE);
        // What a dynamic response shows depends on the session cookie (checklist H6).
        headers.append(http::header::VARY, HeaderValue::from_static("Cookie"));
    }
    if settings.send_hsts {
        headers.insert(
            STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=63072000; includeSubDomains"),
        );
    }
    response
}
