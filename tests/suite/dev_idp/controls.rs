//! `/_control`: key rotation, token lifetimes, outages and injected faults, token-call counters.

use super::{code_for, exchange, get_with_cookie, json, post_form, refresh, verify, CLIENT_ID};
use crate::common::{body_text, dev_app};
use http::StatusCode;
use serde_json::Value;

#[tokio::test]
async fn controls_rotate_keys_shorten_tokens_and_simulate_an_outage() {
    let app = dev_app();
    let (code, _) = code_for(&app, "admin").await;
    let before = json(exchange(&app, &code).await).await;

    let set = post_form(
        &app,
        "/dev-idp/_control",
        &[("rotate_keys", "true"), ("access_token_ttl", "5")],
        &[],
    )
    .await;
    assert_eq!(set.status(), StatusCode::OK);
    let jwks = json(get_with_cookie(&app, "/dev-idp/keys", None).await).await;
    assert_eq!(
        jwks["keys"].as_array().unwrap().len(),
        2,
        "old and new key published"
    );
    verify(
        &app,
        before["access_token"].as_str().unwrap(),
        Some(CLIENT_ID),
    )
    .await;

    let (code, _) = code_for(&app, "admin").await;
    let after = json(exchange(&app, &code).await).await;
    assert_eq!(after["expires_in"], 5);
    let old_kid = jsonwebtoken::decode_header(before["access_token"].as_str().unwrap())
        .unwrap()
        .kid;
    let new_kid = jsonwebtoken::decode_header(after["access_token"].as_str().unwrap())
        .unwrap()
        .kid;
    assert_ne!(old_kid, new_kid, "new tokens are signed with the new key");

    post_form(&app, "/dev-idp/_control", &[("outage", "true")], &[]).await;
    let rt = after["refresh_token"].as_str().unwrap();
    assert_eq!(
        refresh(&app, rt).await.status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
    post_form(&app, "/dev-idp/_control", &[("reset", "true")], &[]).await;
    assert_eq!(
        refresh(&app, rt).await.status(),
        StatusCode::OK,
        "the outage kept the session"
    );
}

#[tokio::test]
async fn controls_inject_failures_per_endpoint_and_count_token_calls_by_grant() {
    let app = dev_app();
    let set = |pairs: &'static [(&'static str, &'static str)]| {
        let app = app.clone();
        async move {
            let response = post_form(&app, "/dev-idp/_control", pairs, &[]).await;
            assert_eq!(response.status(), StatusCode::OK, "{pairs:?}");
            json(response).await
        }
    };

    set(&[("fault", "userinfo"), ("kind", "status"), ("status", "500")]).await;
    assert_eq!(
        get_with_cookie(&app, "/dev-idp/userinfo", None)
            .await
            .status(),
        StatusCode::INTERNAL_SERVER_ERROR
    );

    set(&[("fault", "keys"), ("kind", "malformed")]).await;
    let keys = get_with_cookie(&app, "/dev-idp/keys", None).await;
    assert_eq!(keys.status(), StatusCode::OK);
    assert!(
        serde_json::from_str::<Value>(&body_text(keys).await).is_err(),
        "malformed JSON"
    );

    set(&[("fault", "discovery"), ("kind", "delay"), ("millis", "50")]).await;
    let delayed = get_with_cookie(&app, "/dev-idp/.well-known/openid-configuration", None).await;
    assert_eq!(
        delayed.status(),
        StatusCode::OK,
        "a delay still answers, late"
    );

    set(&[("fault", "keys"), ("kind", "none")]).await;
    assert_eq!(
        get_with_cookie(&app, "/dev-idp/keys", None).await.status(),
        StatusCode::OK
    );

    let refused = post_form(
        &app,
        "/dev-idp/_control",
        &[("fault", "nowhere"), ("kind", "malformed")],
        &[],
    )
    .await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);

    // Counters: two code exchanges, one refresh, one call without a grant type.
    set(&[("reset", "true")]).await;
    let (code, _) = code_for(&app, "admin").await;
    let tokens = json(exchange(&app, &code).await).await;
    let (code, _) = code_for(&app, "member").await;
    exchange(&app, &code).await;
    refresh(&app, tokens["refresh_token"].as_str().unwrap()).await;
    post_form(
        &app,
        "/dev-idp/oauth/token",
        &[("client_id", CLIENT_ID)],
        &[],
    )
    .await;
    let shown = json(get_with_cookie(&app, "/dev-idp/_control", None).await).await;
    let calls = &shown["controls"]["token_calls"];
    assert_eq!(calls["authorization_code"], 2, "{shown}");
    assert_eq!(calls["refresh_token"], 1, "{shown}");
    assert_eq!(calls["missing"], 1, "{shown}");
}
