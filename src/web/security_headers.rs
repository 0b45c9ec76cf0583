//! Security headers on every response, static files included (checklist H1–H5, H7). A handler
//! that sets one of these itself keeps its own value. A response whose renderer took the
//! request's nonce (a page: its hydration scripts and resource data carry it) gets a policy that
//! names it; any other response (JSON, files, redirects) gets the same policy with no nonce, so no
//! inline script can run in it. Applied by the edge layer (`web::edge`).

use std::sync::{Arc, OnceLock};

use axum::extract::Request;
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
    /// Every header a response gets unless it sets its own (`Cache-Control: no-store`
    /// included), made once.
    defaults: HeaderMap,
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
        // Only a form-action source from the configuration could make it invalid, and the
        // configuration accepts origins only; should one slip through, the strictest policy.
        let policy_without_nonce = HeaderValue::try_from(format!("{POLICY_START}{policy_rest}"))
            .unwrap_or(HeaderValue::from_static("default-src 'none'"));
        let mut defaults = HeaderMap::with_capacity(BASELINE.len() + 8);
        defaults.extend(BASELINE);
        defaults.insert(CONTENT_SECURITY_POLICY, policy_without_nonce.clone());
        // Personal pages must never be stored by a shared cache; anything cacheable says so
        // itself, and its own value replaces this one.
        defaults.insert(CACHE_CONTROL, scalekit_auth::NO_STORE);
        if send_hsts {
            defaults.insert(STRICT_TRANSPORT_SECURITY, HSTS);
        }
        SecurityHeaderSettings {
            send_hsts,
            policy_without_nonce,
            policy_rest,
            defaults,
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
///
/// The response's own headers are moved into a copy of the map made at start-up rather than
/// each of ours looked up in the response's: a copy hashes nothing, and a response has few
/// headers of its own, where ours are about ten (each lookup was about 300 instructions).
pub fn apply(headers: &mut HeaderMap, nonce: &CspNonce, settings: &SecurityHeaderSettings) {
    let mut merged = settings.defaults.clone();
    let mut own_policy = false;
    let mut own_caching = false;
    // The name of the header being moved, and whether its values are kept.
    let mut current: Option<(HeaderName, bool)> = None;
    for (name, value) in std::mem::take(headers) {
        // A name comes with its first value only; the rest follow with `None`.
        match name {
            Some(name) => {
                own_policy |= name == CONTENT_SECURITY_POLICY;
                own_caching |= name == CACHE_CONTROL;
                // HSTS in production is always ours.
                let keep = !(name == STRICT_TRANSPORT_SECURITY && settings.send_hsts);
                if keep {
                    // Replaces ours, if we have one by that name.
                    merged.insert(name.clone(), value);
                }
                current = Some((name, keep));
            }
            None => {
                if let Some((name, true)) = &current {
                    merged.append(name.clone(), value);
                }
            }
        }
    }
    if !own_policy {
        // From the String's own bytes, without a copy.
        if let Some(nonce) = nonce.taken() {
            if let Ok(value) = HeaderValue::try_from(settings.content_security_policy(Some(nonce)))
            {
                merged.insert(CONTENT_SECURITY_POLICY, value);
            }
        }
    }
    if !own_caching {
        // What a dynamic response shows depends on the session cookie (checklist H6), after
        // whatever the response varies on itself.
        merged.append(http::header::VARY, VARY_COOKIE);
    }
    *headers = merged;
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
    fn h5_a_response_keeps_every_header_it_set_itself_and_gets_the_rest() {
        use http::header::{CACHE_CONTROL, SET_COOKIE, STRICT_TRANSPORT_SECURITY, VARY};
        let production = SecurityHeaderSettings::new(true, None);
        let mut own = http::HeaderMap::new();
        own.insert("x-frame-options", "SAMEORIGIN".parse().unwrap());
        own.append(SET_COOKIE, "a=1".parse().unwrap());
        own.append(SET_COOKIE, "b=2".parse().unwrap());
        own.insert(VARY, "accept-encoding".parse().unwrap());
        own.insert(STRICT_TRANSPORT_SECURITY, "max-age=1".parse().unwrap());
        own.insert(
            "content-security-policy",
            "default-src 'none'".parse().unwrap(),
        );
        let taken = CspNonce::default();
        taken.take();
        apply(&mut own, &taken, &production);
        assert_eq!(own["x-frame-options"], "SAMEORIGIN");
        let cookies: Vec<_> = own.get_all(SET_COOKIE).iter().collect();
        assert_eq!(cookies, ["a=1", "b=2"]);
        // Its own policy, though a renderer took the nonce; HSTS is always ours in production.
        assert_eq!(own["content-security-policy"], "default-src 'none'");
        assert_eq!(
            own[STRICT_TRANSPORT_SECURITY],
            "max-age=63072000; includeSubDomains"
        );
        assert_eq!(own.get_all(STRICT_TRANSPORT_SECURITY).iter().count(), 1);
        // Not cacheable by its own account: no-store, and it varies on the cookie after its own.
        assert_eq!(own[CACHE_CONTROL], "no-store");
        let vary: Vec<_> = own.get_all(VARY).iter().collect();
        assert_eq!(vary, ["accept-encoding", "Cookie"]);
        for name in [
            "x-content-type-options",
            "referrer-policy",
            "permissions-policy",
            "cross-origin-opener-policy",
        ] {
            assert!(own.contains_key(name), "{name}");
        }

        let mut cacheable = http::HeaderMap::new();
        cacheable.insert(CACHE_CONTROL, "public, max-age=60".parse().unwrap());
        apply(
            &mut cacheable,
            &CspNonce::default(),
            &SecurityHeaderSettings::new(false, None),
        );
        assert_eq!(cacheable[CACHE_CONTROL], "public, max-age=60");
        assert!(!cacheable.contains_key(VARY));
        assert!(!cacheable.contains_key(STRICT_TRANSPORT_SECURITY));
        assert_eq!(cacheable["x-frame-options"], "DENY");
        assert_eq!(cacheable.len(), 7, "{cacheable:?}");
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
