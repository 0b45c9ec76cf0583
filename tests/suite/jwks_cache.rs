#![cfg(feature = "ssr")]
//! The JWKS cache against a real provider (the development one, on a loopback port): keys are
//! fetched once, a rotation is picked up by one refetch, unknown kids cannot force more refetches
//! than one per interval, and a warm cache keeps validating while the provider is down.

use crate::common;

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use common::provider::{control, login, start_provider, Provider, CLIENT_ID};
use leptos_scalekit::auth::id_token::{Expected, IdTokenError};
use leptos_scalekit::auth::jwks_cache::{JwksCache, KeyedValidationError};
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
    assert_eq!(provider.key_fetches(), 1, "fetched once, then cached");

    // oidcc-client-test-signing-key-rotation: the provider rotates; the new kid causes one refetch.
    control(&provider, &[("rotate_keys", "true")]).await;
    let rotated = login(&provider, "nonce-2").await;
    validate(&cache, &provider, &rotated, "nonce-2")
        .await
        .unwrap();
    assert_eq!(provider.key_fetches(), 2);

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
    assert_eq!(provider.key_fetches(), 2, "unknown kids are rate limited");
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
