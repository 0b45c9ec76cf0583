#![cfg(feature = "ssr")]

//! Hostile input, generated (checklist X, L11, C6, A4): property tests over cookie decoding,
//! return-path validation, the sign-in callback's parameters and JWT parsing. Each target also
//! replays the committed corpus in `fuzz/corpus/<target>.txt` (one input per line: known tricks
//! and every input that once broke something). The test command runs a few hundred cases per
//! target; `scripts/fuzz.sh` runs many more for a bounded time.

use crate::common;

use std::sync::OnceLock;

use axum::body::Body;
use http::{Request, StatusCode};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use scalekit_auth::protocol::check_rs256;
use scalekit_auth::protocol::KeySet;
use scalekit_auth::protocol::{open, seal};
use scalekit_auth::ReturnPath;
use tower_cookies::Key;

fn corpus(target: &str) -> Vec<String> {
    let path = format!("{}/fuzz/corpus/{target}.txt", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .lines()
        .map(str::to_string)
        .collect()
}

/// What a safe return path must be, whatever came in.
fn check_return_path(raw: &str) {
    if let Some(path) = ReturnPath::parse(raw).map(String::from) {
        assert!(path.starts_with('/'), "{raw:?} -> {path:?}");
        assert!(!path.starts_with("//"), "{raw:?} -> {path:?}");
        assert!(
            !path.chars().any(|c| c.is_control() || c == '\\'),
            "{raw:?} -> {path:?}"
        );
        let resolved = url::Url::parse("https://app.example/")
            .unwrap()
            .join(&path)
            .unwrap();
        assert_eq!(
            resolved.host_str(),
            Some("app.example"),
            "{raw:?} -> {path:?}"
        );
    }
}

fn key() -> &'static Key {
    static KEY: OnceLock<Key> = OnceLock::new();
    KEY.get_or_init(Key::generate)
}

fn no_keys() -> KeySet {
    KeySet::from_jwks(&jsonwebtoken::jwk::JwkSet { keys: Vec::new() })
}

/// The callback with `query`: any answer but a server error, and never a panic.
async fn check_callback(query: &str) {
    let app = common::dev_app();
    let uri = format!("/auth/callback?{query}");
    let Ok(request) = Request::get(uri.as_str()).body(Body::empty()) else {
        return; // not a valid URI at all: no request can carry it
    };
    let status = common::send(app, request).await.status();
    assert!(
        status.is_client_error() || status.is_redirection(),
        "{query:?} -> {status}"
    );
    assert_ne!(status, StatusCode::INTERNAL_SERVER_ERROR);
}

#[test]
fn l11_corpus_return_paths_stay_on_site() {
    for raw in corpus("return_path") {
        check_return_path(&raw);
    }
}

#[test]
fn c6_corpus_cookies_never_open_and_never_panic() {
    for raw in corpus("sealed_cookie") {
        assert_eq!(open(key(), "__Host-skit_session", &raw), None, "{raw:?}");
    }
}

#[test]
fn a4_corpus_tokens_are_refused_without_panicking() {
    for raw in corpus("jwt") {
        assert!(check_rs256(&raw, &no_keys(), &["https://x"], "aud", 0).is_err());
    }
}

#[tokio::test]
async fn l5_corpus_callbacks_never_fail_the_server() {
    for raw in corpus("callback_query") {
        check_callback(&raw).await;
    }
}

/// Generated callback queries. The app runs on the test's runtime, so the cases are drawn from
/// the strategy here rather than by `proptest!` (no shrinking; the failing query is printed).
#[tokio::test]
async fn l5_any_callback_query_is_answered_without_a_server_error() {
    let strategy = prop::collection::vec(
        (
            "(code|state|error|error_description|iss|x)",
            "(\\PC|%[0-9A-F]{2}|&|=){0,30}",
        ),
        0..5,
    );
    let mut runner = TestRunner::default();
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse::<u32>().ok())
        .map_or(48, |c| c / 5);
    for _ in 0..cases {
        let pairs = strategy
            .new_tree(&mut runner)
            .expect("a generated case")
            .current();
        let query: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
        check_callback(&query.join("&")).await;
    }
}

proptest! {
    #[test]
    fn l11_any_return_path_stays_on_site(raw in "(/|//|/\\\\|%2F|\\.|[a-z]|\\?|#|%|[\\x00-\\x7f]|\\PC){0,40}") {
        check_return_path(&raw);
    }

    #[test]
    fn c6_a_changed_sealed_cookie_never_opens(
        plaintext in "\\PC{0,200}",
        position in any::<prop::sample::Index>(),
        replacement in "[A-Za-z0-9_-]",
    ) {
        let sealed = seal(key(), "__Host-skit_session", &plaintext);
        prop_assert_eq!(open(key(), "__Host-skit_session", &sealed), Some(plaintext.clone()));
        let at = position.index(sealed.len());
        let mut changed = sealed.clone();
        changed.replace_range(at..at + 1, &replacement);
        if changed != sealed {
            prop_assert_eq!(open(key(), "__Host-skit_session", &changed), None);
        }
        // Another cookie name is other associated data: the value does not open there.
        prop_assert_eq!(open(key(), "__Host-skit_signin", &sealed), None);
    }

    #[test]
    fn c6_arbitrary_cookie_values_never_open(raw in "\\PC{0,300}") {
        prop_assert_eq!(open(key(), "__Host-skit_session", &raw), None);
    }

    #[test]
    fn a4_arbitrary_tokens_are_refused(
        header in "[A-Za-z0-9_-]{0,60}",
        payload in "[A-Za-z0-9_-]{0,80}",
        signature in "[A-Za-z0-9_-]{0,40}",
        dots in 0usize..5,
    ) {
        let token = [header, payload, signature].join(&".".repeat(dots.max(1)));
        prop_assert!(check_rs256(&token, &no_keys(), &["https://x"], "aud", 0).is_err());
    }

    #[test]
    fn a4_json_headers_of_any_shape_are_refused(alg in "\\PC{0,12}", kid in "\\PC{0,12}") {
        use base64::Engine;
        let b64 = |v: &serde_json::Value| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
        };
        let token = format!(
            "{}.{}.c2ln",
            b64(&serde_json::json!({"alg": alg, "kid": kid, "typ": "JWT"})),
            b64(&serde_json::json!({"sub": "x", "exp": 1})),
        );
        prop_assert!(check_rs256(&token, &no_keys(), &["https://x"], "aud", 0).is_err());
    }
}
