//! Security headers on every response, static files included (checklist H1–H5, H7). A handler
//! that sets one of these itself keeps its own value. A response whose renderer took the
//! request's nonce (a page: its hydration scripts and resource data carry it) gets a policy that
//! names it; any other response (JSON, files, redirects) gets the same policy with no nonce, so no
//! inline script can run in it. Applied by the edge layer (`web::edge`).

use std::sync::{Arc, OnceLock};

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

/// The policy up to where the nonce goes, and after it up to the extra form-action source.
const POLICY_START: &str = "default-src 'self'; script-src 'self'";
const POLICY_MIDDLE: &str = " 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; \
     font-src 'self'; connect-src 'self'; form-action 'self'";
const POLICY_END: &str = "; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

/// The request's script nonce, left in its extensions for the page renderer: made the first
/// time the renderer asks (16 bytes from the thread's CSPRNG, base64url), so a response that
/// renders no page never draws one.
#[derive(Clone, Debug, Default)]
pub struct CspNonce(Arc<OnceLock<Arc<str>>>);

impl CspNonce {
    /// The nonce, made now if nothing asked before. Whoever asks must put it in the page.
    pub fn take(&self) -> Arc<str> {
        self.0
            .get_or_init(|| scalekit_auth::protocol::random_token(16).into())
            .clone()
    }

    /// The nonce if a renderer took it.
    fn taken(&self) -> Option<&str> {
        self.0.get().map(|nonce| &**nonce)
    }
}

/// What the headers depend on: production (HSTS) and where forms may post to.
#[derive(Clone, Debug)]
pub struct SecurityHeaderSettings {
    send_hsts: bool,
    /// The policy after the nonce: the same for every response, so written once.
    policy_rest: String,
    /// The whole policy of a response with no nonce, made once.
    policy_without_nonce: HeaderValue,
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
        let policy_without_nonce = format!("{POLICY_START}{policy_rest}");
        SecurityHeaderSettings {
            send_hsts,
            // Only a form-action source from the configuration could make it invalid, and the
            // configuration accepts origins only; should one slip through, the strictest policy.
            policy_without_nonce: HeaderValue::try_from(policy_without_nonce)
                .unwrap_or(HeaderValue::from_static("default-src 'none'")),
            policy_rest,
        }
    }

    /// The content security policy of a response whose scripts carry `nonce`, or of one with no
    /// inline scripts when `nonce` is `None`.
    pub fn content_security_policy(&self, nonce: Option<&str>) -> String {
        let Some(nonce) = nonce else {
            return String::from_utf8_lossy(self.policy_without_nonce.as_bytes()).into_owned();
        };
        const NONCE_START: &str = " 'nonce-";
        let mut policy = String::with_capacity(
            POLICY_START.len() + NONCE_START.len() + nonce.len() + 1 + self.policy_rest.len(),
        );
        policy.push_str(POLICY_START);
        policy.push_str(NONCE_START);
        policy.push_str(nonce);
        policy.push('\'');
        policy.push_str(&self.policy_rest);
        policy
    }
}

/// Leaves this request's nonce, not yet made, for the page renderer; the edge layer keeps a
/// handle to see whether it was taken.
pub fn provide_nonce(request: &mut Request) -> CspNonce {
    let nonce = CspNonce::default();
    request.extensions_mut().insert(nonce.clone());
    nonce
}

/// Adds the headers the response does not set itself; `nonce` is the request's.
pub fn apply(headers: &mut HeaderMap, nonce: &CspNonce, settings: &SecurityHeaderSettings) {
    // Room for all of them at once: the map would otherwise grow (and rehash) as they go in.
    headers.reserve(BASELINE.len() + 5);
    // `entry` looks each name up once (`contains_key` then `insert` hashed it twice).
    for (name, value) in BASELINE {
        headers.entry(name).or_insert(value);
    }
    if let Entry::Vacant(slot) = headers.entry(CONTENT_SECURITY_POLICY) {
        match nonce.taken() {
            // From the String's own bytes, without a copy.
            Some(nonce) => {
                if let Ok(value) =
                    HeaderValue::try_from(settings.content_security_policy(Some(nonce)))
                {
                    slot.insert(value);
                }
            }
            // A clone shares the bytes.
            None => {
                slot.insert(settings.policy_without_nonce.clone());
            }
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
    use super::{apply, CspNonce, SecurityHeaderSettings};

    #[test]
    fn h1_a_response_gets_the_nonce_only_when_its_renderer_took_one() {
        let settings = SecurityHeaderSettings::new(false, Some("https://idp.example"));
        let policy = |nonce: &CspNonce| {
            let mut headers = http::HeaderMap::new();
            apply(&mut headers, nonce, &settings);
            headers["content-security-policy"]
                .to_str()
                .expect("ASCII")
                .to_owned()
        };
        let untouched = CspNonce::default();
        assert_eq!(policy(&untouched), settings.content_security_policy(None));
        assert!(!policy(&untouched).contains("'nonce-"));
        assert!(policy(&untouched).starts_with("default-src 'self'; script-src 'self' 'wasm"));

        let taken = CspNonce::default();
        let nonce = taken.take();
        assert_eq!(nonce.len(), 22);
        assert_eq!(
            taken.take(),
            nonce,
            "one nonce per request, however often asked"
        );
        assert_eq!(
            policy(&taken),
            settings.content_security_policy(Some(&nonce))
        );
        assert_ne!(CspNonce::default().take(), nonce);
        // The two policies differ only by the nonce.
        assert_eq!(
            policy(&taken).replace(&format!(" 'nonce-{nonce}'"), ""),
            policy(&untouched)
        );
    }

    #[test]
    fn h2_the_policy_names_the_nonce_and_the_extra_form_action() {
        assert_eq!(
            SecurityHeaderSettings::new(false, None).content_security_policy(Some("N0nce")),
            "default-src 'self'; script-src 'self' 'nonce-N0nce' 'wasm-unsafe-eval'; \
             style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; \
             form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
        );
        assert!(
            SecurityHeaderSettings::new(false, Some("https://idp.example"))
                .content_security_policy(Some("n"))
                .contains("; form-action 'self' https://idp.example; frame-ancestors")
        );
    }
}
