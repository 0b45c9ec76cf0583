#![cfg(feature = "ssr")]
//! The JWKS cache against a real provider (the development one, on a loopback port): keys are
//! fetched once, a rotation is picked up by one refetch, unknown kids cannot force more refetches
//! than one per interval, and a warm cache keeps validating while the provider is down. Then
//! against a provider that withdraws a key (checklist I4, A7): past the key set's max age the
//! withdrawn key stops validating everywhere, and an outage then keeps the last good keys.

use crate::common;

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::header::CACHE_CONTROL;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use common::browser::{serve_app, RunningApp};
use common::provider::{control, login, start_provider, Provider, CLIENT_ID};
use scalekit_auth::protocol::Expected;
use scalekit_auth::protocol::{check_rs256, AccessExpected, JwtError};
use scalekit_auth::protocol::{lower_max_age_floor_for_tests, JwksCache, KeyedValidationError};
use scalekit_dev_idp::KeyRing;
use serde_json::Value;

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

async fn validate(
    cache: &JwksCache,
    provider: &Provider,
    tokens: &Value,
    nonce: &str,
) -> Result<(), KeyedValidationError> {
    let expected = Expected {
        issuer: &provider.base,
        client_id: CLIENT_ID,
        nonce: Some(nonce),
        access_token: tokens["access_token"].as_str(),
        now: now(),
    };
    cache
        .validate_id_token(tokens["id_token"].as_str().unwrap(), &expected)
        .await
        .map(|_| ())
}

/// A provider, a cache of its keys with the default 30 s refetch interval, and a sign-in's
/// tokens validated with it (the first fetch).
async fn signed_in_with_a_fresh_cache() -> (Provider, JwksCache, Value) {
    let provider = start_provider().await;
    let cache = JwksCache::with_interval(
        provider.client.clone(),
        format!("{}/keys", provider.base),
        Duration::from_secs(30),
    );
    let first = login(&provider, "nonce-1").await;
    validate(&cache, &provider, &first, "nonce-1")
        .await
        .unwrap();
    (provider, cache, first)
}

/// `tokens`' ID token with its header naming `kid`, checked as a token anyone may send (a bearer
/// token) is: through the refetch interval that guards against made-up kids. The error.
async fn check_anyones_token(
    cache: &JwksCache,
    provider: &Provider,
    tokens: &Value,
    kid: &str,
) -> JwtError {
    let id_token = tokens["id_token"].as_str().unwrap();
    let header = URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"RS256","typ":"JWT","kid":"{kid}"}}"#));
    let forged = format!("{header}.{}", id_token.split_once('.').unwrap().1);
    cache
        .check_with_keys(
            |keys| check_rs256(&forged, keys, &[&provider.base], CLIENT_ID, now()).map(|_| ()),
            |e| matches!(e, JwtError::UnknownKey(_)),
        )
        .await
        .unwrap()
        .unwrap_err()
}

#[tokio::test]
async fn i4_keys_are_cached_rotation_refetches_once_and_unknown_kids_are_rate_limited() {
    let (provider, cache, first) = signed_in_with_a_fresh_cache().await;
    validate(&cache, &provider, &first, "nonce-1")
        .await
        .unwrap();
    assert_eq!(provider.key_fetches(), 1, "fetched once, then cached");

    // oidcc-client-test-signing-key-rotation: the provider rotates; the new kid causes one refetch.
    control(&provider, &[("rotate_keys", "true")]).await;
    let rotated = login(&provider, "nonce-2").await;
    validate(&cache, &provider, &rotated, "nonce-2")
        .await
        .unwrap();
    assert_eq!(provider.key_fetches(), 2);

    // Tokens anyone can send, naming keys that do not exist: refused, and no further fetch
    // within the interval.
    for fake_kid in ["snk_forged_1", "snk_forged_2", "snk_forged_3"] {
        let error = check_anyones_token(&cache, &provider, &rotated, fake_kid).await;
        assert!(matches!(error, JwtError::UnknownKey(_)), "{error:?}");
    }
    assert_eq!(provider.key_fetches(), 2, "unknown kids are rate limited");
}

/// I4, R5: the provider's own tokens (sign-in, refresh) are not held back by the interval that
/// guards against made-up kids. A rotation right after anyone's token with a made-up kid caused
/// a refetch is picked up at once; before, the new tokens were refused for the rest of the
/// interval, and a refresh in that time ended the session.
#[tokio::test]
async fn i4_r5_a_rotation_right_after_a_made_up_kid_still_validates_the_providers_tokens() {
    let (provider, cache, first) = signed_in_with_a_fresh_cache().await;
    let error = check_anyones_token(&cache, &provider, &first, "snk_made_up").await;
    assert!(matches!(error, JwtError::UnknownKey(_)), "{error:?}");
    assert_eq!(
        provider.key_fetches(),
        2,
        "the made-up kid cost one refetch"
    );
    // Past the provider tokens' own short interval, well within the other one.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    control(&provider, &[("rotate_keys", "true")]).await;
    let rotated = login(&provider, "nonce-2").await;
    validate(&cache, &provider, &rotated, "nonce-2")
        .await
        .expect("the provider's new token validates");
    assert_eq!(provider.key_fetches(), 3);
}

#[tokio::test]
async fn a7_warm_cache_keeps_validating_while_the_provider_is_down() {
    let provider = start_provider().await;
    let cache = JwksCache::new(provider.client.clone(), format!("{}/keys", provider.base));
    let tokens = login(&provider, "nonce-3").await;
    validate(&cache, &provider, &tokens, "nonce-3")
        .await
        .unwrap();

    control(
        &provider,
        &[("fault", "keys"), ("kind", "status"), ("status", "503")],
    )
    .await;
    validate(&cache, &provider, &tokens, "nonce-3")
        .await
        .unwrap();

    // A cold cache with the provider down says so, rather than calling the token invalid, and
    // requests right after the failure do not each ask the provider again.
    let cold = JwksCache::new(provider.client.clone(), format!("{}/keys", provider.base));
    let fetches_before = provider.key_fetches();
    for _ in 0..3 {
        let error = validate(&cold, &provider, &tokens, "nonce-3")
            .await
            .unwrap_err();
        assert!(
            matches!(error, KeyedValidationError::KeysUnavailable(_)),
            "{error:?}"
        );
    }
    assert_eq!(provider.key_fetches(), fetches_before + 1);
}

/// A provider whose test decides which of its two keys it publishes, and for how long its JWKS
/// may be cached (`Cache-Control: max-age`).
struct KeyPublisher {
    base: String,
    k1: KeyRing,
    k2: KeyRing,
    published: Mutex<Vec<Value>>,
    max_age_secs: AtomicU64,
    keys_down: AtomicBool,
    key_fetches: AtomicUsize,
}

const PUBLISHER_CLIENT_ID: &str = "skc_key_publisher";

impl KeyPublisher {
    fn publish(&self, rings: &[&KeyRing]) {
        *self.published.lock().unwrap() = rings
            .iter()
            .flat_map(|ring| ring.jwks()["keys"].as_array().unwrap().clone())
            .collect();
    }

    fn key_fetches(&self) -> usize {
        self.key_fetches.load(Ordering::SeqCst)
    }

    /// A client-credentials token for the app's API, as Scalekit issues them (unique per call).
    fn api_token(&self, ring: &KeyRing, audience: &str) -> String {
        ring.sign(&serde_json::json!({
            "iss": self.base, "aud": [audience], "sub": "m2morg_1", "client_id": "m2morg_1",
            "oid": "org_1", "iat": now(), "exp": now() + 600, "jti": uuid::Uuid::new_v4().to_string(),
            "scopes": ["read:deployments"]
        }))
        .unwrap()
    }

    /// A user access token for the app itself, as the session holds.
    fn access_token(&self, ring: &KeyRing) -> String {
        ring.sign(&serde_json::json!({
            "iss": self.base, "aud": [PUBLISHER_CLIENT_ID], "sub": "usr_1",
            "iat": now(), "exp": now() + 600
        }))
        .unwrap()
    }
}

async fn publisher_discovery(State(publisher): State<Arc<KeyPublisher>>) -> Json<Value> {
    let base = &publisher.base;
    Json(serde_json::json!({
        "issuer": base,
        "authorization_endpoint": format!("{base}/oauth/authorize"),
        "token_endpoint": format!("{base}/oauth/token"),
        "jwks_uri": format!("{base}/keys"),
        "code_challenge_methods_supported": ["S256"],
    }))
}

async fn publisher_keys(State(publisher): State<Arc<KeyPublisher>>) -> Response {
    publisher.key_fetches.fetch_add(1, Ordering::SeqCst);
    if publisher.keys_down.load(Ordering::SeqCst) {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    let max_age = publisher.max_age_secs.load(Ordering::SeqCst);
    let keys = publisher.published.lock().unwrap().clone();
    (
        [(CACHE_CONTROL, format!("public, max-age={max_age}"))],
        Json(serde_json::json!({ "keys": keys })),
    )
        .into_response()
}

/// Two new signing keys, each in its own ring (so either can sign).
fn publisher_rings() -> (KeyRing, KeyRing) {
    let ring = || {
        let file = std::path::PathBuf::from(common::test_state_dir())
            .join(format!("publisher-key-{}.json", uuid::Uuid::new_v4()));
        KeyRing::load_or_create(&file).unwrap()
    };
    (ring(), ring())
}

/// The publisher, serving both keys with `max-age=1`, and this process's JWKS caches for it
/// allowed to honour that (instead of the 30 s floor).
async fn start_key_publisher() -> Arc<KeyPublisher> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (k1, k2) = tokio::task::spawn_blocking(publisher_rings).await.unwrap();
    let publisher = Arc::new(KeyPublisher {
        base,
        k1,
        k2,
        published: Mutex::new(Vec::new()),
        max_age_secs: AtomicU64::new(1),
        keys_down: AtomicBool::new(false),
        key_fetches: AtomicUsize::new(0),
    });
    publisher.publish(&[&publisher.k1, &publisher.k2]);
    lower_max_age_floor_for_tests(&format!("{}/keys", publisher.base), Duration::from_secs(1));
    let app = Router::new()
        .route(
            "/.well-known/openid-configuration",
            get(publisher_discovery),
        )
        .route("/keys", get(publisher_keys))
        .with_state(publisher.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    publisher
}

async fn app_against(publisher: &KeyPublisher) -> RunningApp {
    serve_app(&[
        ("SCALEKIT_ENVIRONMENT_URL", publisher.base.as_str()),
        ("SCALEKIT_CLIENT_ID", PUBLISHER_CLIENT_ID),
        ("SCALEKIT_CLIENT_SECRET", "key-publisher-secret-0123456789"),
    ])
    .await
}

/// The status and challenge of `GET /api/v1/deployments` at the app on `base` with `token`.
async fn call_api(base: &str, token: &str) -> (u16, String) {
    let response = reqwest::Client::new()
        .get(format!("{base}/api/v1/deployments"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (response.status().as_u16(), challenge)
}

/// Checks a session's access token as the app does at sign-in and refresh.
async fn check_access(
    cache: &JwksCache,
    publisher: &KeyPublisher,
    token: &str,
) -> Result<(), JwtError> {
    let expected = AccessExpected {
        issuer: &publisher.base,
        audience: PUBLISHER_CLIENT_ID,
        now: now(),
    };
    cache
        .validate_access_token(token, &expected)
        .await
        .unwrap()
        .map(|_| ())
}

/// Longer than the publisher's `max-age=1`.
const PAST_THE_MAX_AGE: Duration = Duration::from_millis(1_500);

#[tokio::test]
async fn i4_a7_withdrawn_keys_stop_validating_after_the_max_age() {
    let publisher = start_key_publisher().await;
    let app = app_against(&publisher).await;
    // Another cache on the same keys, checking session tokens as sign-in and refresh do.
    let sessions = JwksCache::new(reqwest::Client::new(), format!("{}/keys", publisher.base));
    let session_k1 = publisher.access_token(&publisher.k1);
    let k1 = publisher.api_token(&publisher.k1, &app.base);
    let k2 = publisher.api_token(&publisher.k2, &app.base);
    assert_eq!(call_api(&app.base, &k1).await.0, 200);
    assert_eq!(call_api(&app.base, &k2).await.0, 200);
    check_access(&sessions, &publisher, &session_k1)
        .await
        .unwrap();
    assert_eq!(publisher.key_fetches(), 2, "each cache fetched once");

    // The provider withdraws K1; its next answer may be cached for a minute.
    publisher.publish(&[&publisher.k2]);
    publisher.max_age_secs.store(60, Ordering::SeqCst);
    tokio::time::sleep(PAST_THE_MAX_AGE).await;

    // Many requests past the max age: one refetch, the others served meanwhile.
    let mut concurrent = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let (base, token) = (
            app.base.clone(),
            publisher.api_token(&publisher.k2, &app.base),
        );
        concurrent.spawn(async move { call_api(&base, &token).await.0 });
    }
    while let Some(status) = concurrent.join_next().await {
        assert_eq!(status.unwrap(), 200);
    }
    assert_eq!(
        publisher.key_fetches(),
        3,
        "one refetch, not one per request"
    );

    // The K1 token, verified (and cached) before, is refused now; K2 tokens are not.
    let (status, challenge) = call_api(&app.base, &k1).await;
    assert_eq!(status, 401);
    assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
    assert_eq!(
        publisher.key_fetches(),
        4,
        "its unknown kid asked about once"
    );
    assert_eq!(call_api(&app.base, &k1).await.0, 401);
    assert_eq!(call_api(&app.base, &k2).await.0, 200);
    assert_eq!(publisher.key_fetches(), 4, "unknown kids are rate limited");

    // Session tokens too.
    let error = check_access(&sessions, &publisher, &session_k1)
        .await
        .unwrap_err();
    assert!(matches!(error, JwtError::UnknownKey(_)), "{error:?}");
    check_access(
        &sessions,
        &publisher,
        &publisher.access_token(&publisher.k2),
    )
    .await
    .unwrap();
    assert_eq!(publisher.key_fetches(), 5);
}

#[tokio::test]
async fn a7_an_outage_after_the_max_age_keeps_the_last_good_keys() {
    let publisher = start_key_publisher().await;
    let app = app_against(&publisher).await;
    let k2 = publisher.api_token(&publisher.k2, &app.base);
    assert_eq!(call_api(&app.base, &k2).await.0, 200);
    assert_eq!(publisher.key_fetches(), 1);

    publisher.keys_down.store(true, Ordering::SeqCst);
    tokio::time::sleep(PAST_THE_MAX_AGE).await;
    assert_eq!(
        call_api(&app.base, &k2).await.0,
        200,
        "the last good keys still validate"
    );
    assert_eq!(
        publisher.key_fetches(),
        2,
        "the keys were asked for again past their max age"
    );
    for ring in [&publisher.k2, &publisher.k2, &publisher.k1] {
        let fresh = publisher.api_token(ring, &app.base);
        assert_eq!(call_api(&app.base, &fresh).await.0, 200);
    }
    assert_eq!(
        publisher.key_fetches(),
        2,
        "a failed refresh is retried later, not on every request"
    );
}
