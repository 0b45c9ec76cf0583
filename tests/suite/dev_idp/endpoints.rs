//! The provider's plain endpoints: discovery and keys, end-session (logout) and revocation.

use super::{
    assert_refresh_refused, authorize_uri, code_for, encode, exchange, get_with_cookie, json,
    location, post_form, query, CLIENT_ID, CLIENT_SECRET, ISSUER,
};
use crate::common::dev_app;
use http::StatusCode;

#[tokio::test]
async fn discovery_lists_scalekit_paths() {
    let app = dev_app();
    let doc =
        json(get_with_cookie(&app, "/dev-idp/.well-known/openid-configuration", None).await).await;
    assert_eq!(doc["issuer"], ISSUER);
    assert_eq!(
        doc["authorization_endpoint"],
        format!("{ISSUER}/oauth/authorize")
    );
    assert_eq!(doc["token_endpoint"], format!("{ISSUER}/oauth/token"));
    assert_eq!(doc["jwks_uri"], format!("{ISSUER}/keys"));
    assert_eq!(doc["end_session_endpoint"], format!("{ISSUER}/oidc/logout"));
    assert_eq!(
        doc["code_challenge_methods_supported"],
        serde_json::json!(["S256"])
    );
    assert_eq!(doc["backchannel_logout_supported"], true);
    assert_eq!(doc["backchannel_logout_session_supported"], true);
    let jwks = json(get_with_cookie(&app, "/dev-idp/keys", None).await).await;
    let key = &jwks["keys"][0];
    assert_eq!(
        (
            key["kty"].as_str(),
            key["alg"].as_str(),
            key["use"].as_str()
        ),
        (Some("RSA"), Some("RS256"), Some("sig"))
    );
}

#[tokio::test]
async fn logout_ends_the_provider_session_and_echoes_state() {
    let app = dev_app();
    let (code, cookie) = code_for(&app, "admin").await;
    let tokens = json(exchange(&app, &code).await).await;
    let id_token = tokens["id_token"].as_str().unwrap();

    let unregistered = format!(
        "/dev-idp/oidc/logout?{}",
        encode(&[
            ("id_token_hint", id_token),
            ("post_logout_redirect_uri", "https://evil.example")
        ])
    );
    assert_eq!(
        get_with_cookie(&app, &unregistered, Some(&cookie))
            .await
            .status(),
        StatusCode::BAD_REQUEST
    );
    let forged = format!(
        "/dev-idp/oidc/logout?{}",
        encode(&[("id_token_hint", "e30.e30.sig")])
    );
    assert_eq!(
        get_with_cookie(&app, &forged, Some(&cookie)).await.status(),
        StatusCode::BAD_REQUEST
    );

    let logout = format!(
        "/dev-idp/oidc/logout?{}",
        encode(&[
            ("id_token_hint", id_token),
            ("post_logout_redirect_uri", "http://127.0.0.1:3000"),
            ("state", "bye-1")
        ])
    );
    let response = get_with_cookie(&app, &logout, Some(&cookie)).await;
    assert_eq!(response.status(), StatusCode::FOUND);
    let url = location(&response);
    assert_eq!(url.origin().ascii_serialization(), "http://127.0.0.1:3000");
    assert_eq!(query(&url, "state").as_deref(), Some("bye-1"));

    // The old provider cookie no longer signs anyone in, and the session's refresh token is dead.
    let after = get_with_cookie(&app, &authorize_uri(&[]), Some(&cookie)).await;
    assert_eq!(after.status(), StatusCode::OK, "the picker shows again");
    let rt = tokens["refresh_token"].as_str().unwrap();
    assert_refresh_refused(&app, rt).await;
}

#[tokio::test]
async fn revocation_kills_the_refresh_token_and_needs_client_authentication() {
    let app = dev_app();
    let (code, _) = code_for(&app, "admin").await;
    let tokens = json(exchange(&app, &code).await).await;
    let rt = tokens["refresh_token"].as_str().unwrap();

    let anonymous = post_form(
        &app,
        "/dev-idp/revoke",
        &[("token", rt), ("client_id", CLIENT_ID)],
        &[],
    )
    .await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(json(anonymous).await["error"], "invalid_client");

    let revoke = post_form(
        &app,
        "/dev-idp/revoke",
        &[
            ("token", rt),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
        ],
        &[],
    )
    .await;
    assert_eq!(revoke.status(), StatusCode::OK);
    assert_refresh_refused(&app, rt).await;

    // RFC 7009 §2.2: an unknown token is not an error.
    let unknown = post_form(
        &app,
        "/dev-idp/revoke",
        &[
            ("token", "rt_unknown"),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
        ],
        &[],
    )
    .await;
    assert_eq!(unknown.status(), StatusCode::OK);
}
