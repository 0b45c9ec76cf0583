#![cfg(feature = "ssr")]
//! The token-endpoint client against the development provider: the answers are sorted into
//! "sign in again" (invalid_grant), "our configuration is wrong" and "try again later".

use crate::common;

use common::provider::{
    authorization_code, control, start_provider, Provider, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI,
    VERIFIER,
};
use leptos_scalekit::auth::token_client::{ClientCredentials, TokenClient, TokenEndpointError};
use leptos_scalekit::secret::Secret;

fn client_at(provider: &Provider, token_endpoint: String, secret: &str) -> TokenClient {
    TokenClient::new(
        provider.client.clone(),
        token_endpoint,
        ClientCredentials {
            client_id: CLIENT_ID.into(),
            client_secret: Secret::new(secret),
        },
    )
}

fn client(provider: &Provider, secret: &str) -> TokenClient {
    client_at(provider, format!("{}/oauth/token", provider.base), secret)
}

#[tokio::test]
async fn l9_code_exchange_with_verifier_then_refresh_rotates() {
    let provider = start_provider().await;
    let tokens = client(&provider, CLIENT_SECRET);
    let code = authorization_code(&provider, "n").await;
    let first = tokens
        .exchange_code(&code, REDIRECT_URI, VERIFIER)
        .await
        .unwrap();
    assert!(first.id_token.is_some());
    let debug = format!("{first:?}");
    assert!(
        !debug.contains(&first.access_token),
        "E4: Debug never shows tokens: {debug}"
    );

    let refresh_token = first
        .refresh_token
        .clone()
        .expect("offline_access gives a refresh token");
    let second = tokens.refresh(&refresh_token).await.unwrap();
    assert_ne!(
        second.refresh_token.as_deref(),
        Some(refresh_token.as_str())
    );
    // R5/E6: the rotated token is dead, and that reads as invalid_grant.
    assert_eq!(
        tokens.refresh(&refresh_token).await.unwrap_err(),
        TokenEndpointError::InvalidGrant
    );
    // A replayed code, too.
    assert_eq!(
        tokens
            .exchange_code(&code, REDIRECT_URI, VERIFIER)
            .await
            .unwrap_err(),
        TokenEndpointError::InvalidGrant
    );
}

#[tokio::test]
async fn a_wrong_secret_is_a_configuration_error_not_a_dead_session() {
    let provider = start_provider().await;
    let code = authorization_code(&provider, "n").await;
    let error = client(&provider, "wrong")
        .exchange_code(&code, REDIRECT_URI, VERIFIER)
        .await
        .unwrap_err();
    assert!(
        matches!(error, TokenEndpointError::Refused { ref error, .. } if error == "invalid_client"),
        "{error:?}"
    );
}

#[tokio::test]
async fn r5_outages_and_garbled_answers_are_retryable() {
    let provider = start_provider().await;
    let tokens = client(&provider, CLIENT_SECRET);
    let code = authorization_code(&provider, "n").await;
    let first = tokens
        .exchange_code(&code, REDIRECT_URI, VERIFIER)
        .await
        .unwrap();
    let refresh_token = first.refresh_token.unwrap();

    control(
        &provider,
        &[("fault", "token"), ("kind", "status"), ("status", "503")],
    )
    .await;
    assert!(matches!(
        tokens.refresh(&refresh_token).await,
        Err(TokenEndpointError::Unavailable(_))
    ));
    control(&provider, &[("fault", "token"), ("kind", "malformed")]).await;
    assert!(matches!(
        tokens.refresh(&refresh_token).await,
        Err(TokenEndpointError::Unavailable(_))
    ));

    // The outage consumed nothing: the same refresh token still works afterwards.
    control(&provider, &[("reset", "true")]).await;
    assert!(tokens.refresh(&refresh_token).await.is_ok());

    // Nothing listening at all.
    let nowhere = client_at(
        &provider,
        "http://127.0.0.1:9/oauth/token".into(),
        CLIENT_SECRET,
    );
    assert!(matches!(
        nowhere.refresh(&refresh_token).await,
        Err(TokenEndpointError::Unavailable(_))
    ));
}
