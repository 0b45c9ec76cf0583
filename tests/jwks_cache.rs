#![cfg(feature = "ssr")]
//! The JWKS cache against a real provider (the development one, on a loopback port): keys are
//! fetched once, a rotation is picked up by one refetch, unknown kids cannot force more refetches
//! than one per interval, and a warm cache keeps validating while the provider is down.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use leptos_scalekit::auth::id_token::{Expected, IdTokenError};
use leptos_scalekit::auth::jwks_cache::{JwksCache, KeyedValidationError};
use leptos_scalekit::idp::settings::IdpSettings;
use leptos_scalekit::idp::{standalone_router, DevIdp};
use serde_json::Value;
use sha2::{Digest, Sha256};

const CLIENT_ID: &str = "skc_dev_leptos_scalekit";
const CLIENT_SECRET: &str = "dev-only-secret-never-used-with-scalekit";
const REDIRECT_URI: &str = "http://127.0.0.1:3000/auth/callback";
const VERIFIER: &str = "jwks-cache-test-verifier-0123456789-0123456789";

struct Provider {
    base: String,
    key_fetches: Arc<AtomicUsize>,
    client: reqwest::Client,
}

async fn start_provider() -> Provider {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let state_dir = std::path::PathBuf::from(common::test_state_dir()).join("jwks-cache");
    let idp = DevIdp::new(
        base.clone(),
        String::new(),
        IdpSettings::default(),
        &state_dir.join("keys.json"),
    )
    .unwrap();
    let key_fetches = Arc::new(AtomicUsize::new(0));
    let counter = key_fetches.clone();
    let app = standalone_router(Arc::new(idp)).layer(axum::middleware::from_fn(
        move |request: axum::extract::Request, next: axum::middleware::Next| {
            let counter = counter.clone();
            async move {
                if request.uri().path() == "/keys" {
                    counter.fetch_add(1, Ordering::SeqCst);
                }
                next.run(request).await
            }
        },
    ));
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    Provider {
        base,
        key_fetches,
        client,
    }
}

/// Signs the admin in with `nonce` and returns the token response.
async fn login(provider: &Provider, nonce: &str) -> Value {
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(VERIFIER.as_bytes()));
    let authorize = provider
        .client
        .get(format!("{}/oauth/authorize", provider.base))
        .query(&[
            ("response_type", "code"),
            ("client_id", CLIENT_ID),
            ("redirect_uri", REDIRECT_URI),
            ("scope", "openid email"),
            ("nonce", nonce),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
            ("login_hint", "admin"),
        ])
        .send()
        .await
        .unwrap();
    let location = url::Url::parse(authorize.headers()["location"].to_str().unwrap()).unwrap();
    let code = location
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    provider
        .client
        .post(format!("{}/oauth/token", provider.base))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT_URI),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
            ("code_verifier", VERIFIER),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn control(provider: &Provider, pairs: &[(&str, &str)]) {
    let response = provider
        .client
        .post(format!("{}/_control", provider.base))
        .form(pairs)
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());
}

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

#[tokio::test]
async fn i4_keys_are_cached_rotation_refetches_once_and_unknown_kids_are_rate_limited() {
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
    validate(&cache, &provider, &first, "nonce-1")
        .await
        .unwrap();
    assert_eq!(
        provider.key_fetches.load(Ordering::SeqCst),
        1,
        "fetched once, then cached"
    );

    // oidcc-client-test-signing-key-rotation: the provider rotates; the new kid causes one refetch.
    control(&provider, &[("rotate_keys", "true")]).await;
    let rotated = login(&provider, "nonce-2").await;
    validate(&cache, &provider, &rotated, "nonce-2")
        .await
        .unwrap();
    assert_eq!(provider.key_fetches.load(Ordering::SeqCst), 2);

    // Tokens naming keys that do not exist: refused, and no further fetch within the interval.
    for fake_kid in ["snk_forged_1", "snk_forged_2", "snk_forged_3"] {
        let id_token = rotated["id_token"].as_str().unwrap();
        let header = URL_SAFE_NO_PAD.encode(format!(
            r#"{{"alg":"RS256","typ":"JWT","kid":"{fake_kid}"}}"#
        ));
        let forged = format!("{header}.{}", id_token.split_once('.').unwrap().1);
        let tokens =
            serde_json::json!({ "id_token": forged, "access_token": rotated["access_token"] });
        let error = validate(&cache, &provider, &tokens, "nonce-2")
            .await
            .unwrap_err();
        assert!(
            matches!(
                error,
                KeyedValidationError::Invalid(IdTokenError::UnknownKey(_))
            ),
            "{error:?}"
        );
    }
    assert_eq!(
        provider.key_fetches.load(Ordering::SeqCst),
        2,
        "unknown kids are rate limited"
    );
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

    // A cold cache with the provider down says so, rather than calling the token invalid.
    let cold = JwksCache::new(provider.client.clone(), format!("{}/keys", provider.base));
    let error = validate(&cold, &provider, &tokens, "nonce-3")
        .await
        .unwrap_err();
    assert!(
        matches!(error, KeyedValidationError::KeysUnavailable(_)),
        "{error:?}"
    );
}
