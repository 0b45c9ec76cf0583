#![cfg(feature = "ssr")]
//! Discovery as the running app does it (checklist L10), against a provider whose discovery
//! document can be slow, unusable or down: stale metadata is served while one background fetch
//! refreshes it, first-time callers share one fetch, and a failure is remembered briefly.

use std::sync::atomic::{AtomicBool, AtomicU16, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use scalekit_auth::protocol::ClientCredentials;
use scalekit_auth::protocol::{DiscoveryTimes, Endpoints, Provider, ProviderError};
use scalekit_auth::Secret;
use serde_json::json;
use tokio::task::JoinSet;

/// A discovery endpoint whose answers a test scripts.
struct Discoverable {
    base: String,
    fetches: AtomicUsize,
    delay_millis: AtomicU64,
    /// Publishes another issuer: metadata the app must refuse.
    wrong_issuer: AtomicBool,
    /// Answers with this status instead (0: answer normally).
    status: AtomicU16,
}

impl Discoverable {
    fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }
}

async fn discovery(State(mock): State<Arc<Discoverable>>) -> Response {
    mock.fetches.fetch_add(1, Ordering::SeqCst);
    let delay = mock.delay_millis.load(Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(delay)).await;
    let status = mock.status.load(Ordering::SeqCst);
    if status != 0 {
        return StatusCode::from_u16(status).unwrap().into_response();
    }
    let base = &mock.base;
    let issuer = if mock.wrong_issuer.load(Ordering::SeqCst) {
        format!("{base}/somewhere-else")
    } else {
        base.clone()
    };
    Json(json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{base}/oauth/authorize"),
        "token_endpoint": format!("{base}/oauth/token"),
        "jwks_uri": format!("{base}/keys"),
        "code_challenge_methods_supported": ["S256"],
    }))
    .into_response()
}

async fn start_discoverable() -> Arc<Discoverable> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mock = Arc::new(Discoverable {
        base: format!("http://{}", listener.local_addr().unwrap()),
        fetches: AtomicUsize::new(0),
        delay_millis: AtomicU64::new(0),
        wrong_issuer: AtomicBool::new(false),
        status: AtomicU16::new(0),
    });
    let app = Router::new()
        .route("/.well-known/openid-configuration", get(discovery))
        .with_state(mock.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    mock
}

/// Short times, so a test sees metadata go stale and failures be forgotten.
const TIMES: DiscoveryTimes = DiscoveryTimes {
    metadata_ttl: Duration::from_millis(500),
    fallback_ttl: Duration::from_millis(500),
    failure_memory: Duration::from_secs(1),
};

fn provider_for(mock: &Discoverable) -> Arc<Provider> {
    Arc::new(Provider::with_times(
        reqwest::Client::new(),
        mock.base.clone(),
        ClientCredentials {
            client_id: "skc_discovery_test".into(),
            client_secret: Secret::new("discovery-test-secret"),
        },
        TIMES,
    ))
}

/// `callers` concurrent calls of `endpoints()`, each with how long it took.
async fn concurrent_calls(
    provider: &Arc<Provider>,
    callers: usize,
) -> Vec<(Duration, Result<Arc<Endpoints>, ProviderError>)> {
    let mut calls = JoinSet::new();
    for _ in 0..callers {
        let provider = provider.clone();
        calls.spawn(async move {
            let started = Instant::now();
            let endpoints = provider.endpoints().await;
            (started.elapsed(), endpoints)
        });
    }
    calls.join_all().await
}

async fn eventually(what: &str, within: Duration, condition: impl Fn() -> bool) {
    let started = Instant::now();
    while !condition() {
        assert!(started.elapsed() < within, "{what} within {within:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

const SLOW_DISCOVERY: Duration = Duration::from_secs(3);
/// Far below `SLOW_DISCOVERY`, and far above what a cached answer takes.
const PROMPTLY: Duration = Duration::from_secs(1);

#[tokio::test]
async fn l10_a_slow_rediscovery_does_not_block_callers() {
    let mock = start_discoverable().await;
    let provider = provider_for(&mock);
    let first = provider.endpoints().await.unwrap();
    assert_eq!(first.metadata.issuer, mock.base);
    assert_eq!(mock.fetches(), 1);

    tokio::time::sleep(TIMES.metadata_ttl + Duration::from_millis(100)).await;
    mock.delay_millis
        .store(SLOW_DISCOVERY.as_millis() as u64, Ordering::SeqCst);
    let wave_started = Instant::now();
    for (took, endpoints) in concurrent_calls(&provider, 8).await {
        assert!(took < PROMPTLY, "answered from the stale copy in {took:?}");
        assert!(Arc::ptr_eq(&endpoints.unwrap(), &first));
    }
    eventually("the refresh reaches the provider", PROMPTLY, || {
        mock.fetches() == 2
    })
    .await;
    // Still prompt while the refresh runs, and no second refresh starts.
    for (took, _) in concurrent_calls(&provider, 8).await {
        assert!(took < PROMPTLY, "{took:?}");
    }
    assert!(
        wave_started.elapsed() < SLOW_DISCOVERY,
        "all before it ended"
    );
    assert_eq!(mock.fetches(), 2, "one refresh, not one per caller");

    // When it lands, callers get the new copy, with the same key cache (same jwks_uri).
    let mut refreshed = provider.endpoints().await.unwrap();
    let deadline = Instant::now() + SLOW_DISCOVERY + PROMPTLY;
    while Arc::ptr_eq(&refreshed, &first) {
        assert!(Instant::now() < deadline, "the refresh landed");
        tokio::time::sleep(Duration::from_millis(20)).await;
        refreshed = provider.endpoints().await.unwrap();
    }
    assert!(Arc::ptr_eq(&refreshed.jwks, &first.jwks));
    assert_eq!(mock.fetches(), 2);
}

#[tokio::test]
async fn l10_failed_discovery_is_remembered_briefly() {
    let mock = start_discoverable().await;
    mock.wrong_issuer.store(true, Ordering::SeqCst);
    mock.delay_millis.store(500, Ordering::SeqCst);
    let provider = provider_for(&mock);

    // First-time callers during a failing discovery wait for one fetch and share its failure.
    for (_, endpoints) in concurrent_calls(&provider, 8).await {
        assert!(matches!(endpoints, Err(ProviderError::BadMetadata(_))));
    }
    assert_eq!(mock.fetches(), 1, "one fetch, not one per caller");
    assert!(provider.endpoints().await.is_err());
    assert_eq!(mock.fetches(), 1, "remembered");

    // Briefly: once the memory has passed, discovery is tried again.
    mock.delay_millis.store(0, Ordering::SeqCst);
    tokio::time::sleep(TIMES.failure_memory + Duration::from_millis(100)).await;
    assert!(provider.endpoints().await.is_err());
    assert_eq!(mock.fetches(), 2);
    mock.wrong_issuer.store(false, Ordering::SeqCst);
    tokio::time::sleep(TIMES.failure_memory + Duration::from_millis(100)).await;
    let endpoints = provider.endpoints().await.unwrap();
    assert_eq!(endpoints.metadata.issuer, mock.base);
    assert_eq!(mock.fetches(), 3);
}

#[tokio::test]
async fn l10_unreachable_discovery_falls_back_to_scalekits_paths_once() {
    let mock = start_discoverable().await;
    mock.status.store(503, Ordering::SeqCst);
    mock.delay_millis.store(300, Ordering::SeqCst);
    let provider = provider_for(&mock);
    for (_, endpoints) in concurrent_calls(&provider, 8).await {
        let endpoints = endpoints.unwrap();
        assert_eq!(
            endpoints.metadata.token_endpoint,
            format!("{}/oauth/token", mock.base)
        );
        assert_eq!(endpoints.metadata.jwks_uri, format!("{}/keys", mock.base));
    }
    assert_eq!(mock.fetches(), 1);
}
