//! The token endpoint: the authorization-code grant with PKCE and the tokens it issues,
//! single-use codes, refresh rotation and client authentication.

use super::{
    assert_oauth_error, assert_refresh_refused, code_for, exchange, get_with_cookie, json,
    post_form, refresh, verify, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, VERIFIER,
};
use crate::common::{dev_app, send};
use axum::body::Body;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use http::{Request, StatusCode};
use sha2::{Digest, Sha256};

#[tokio::test]
async fn code_flow_with_pkce_issues_scalekit_shaped_tokens() {
    let app = dev_app();
    let (code, _) = code_for(&app, "admin").await;
    // Scalekit's Python SDK sends its management token as a Bearer header: ignored.
    let response = post_form(
        &app,
        "/dev-idp/oauth/token",
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT_URI),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
            ("code_verifier", VERIFIER),
        ],
        &[("authorization", "Bearer some-management-token")],
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let tokens = json(response).await;
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 299);
    assert_eq!(tokens["scope"], "openid profile email offline_access");
    assert!(tokens["refresh_token"].as_str().unwrap().starts_with("rt_"));

    let access_token = tokens["access_token"].as_str().unwrap();
    let id = verify(&app, tokens["id_token"].as_str().unwrap(), Some(CLIENT_ID)).await;
    assert_eq!(
        id["aud"],
        serde_json::json!([CLIENT_ID]),
        "aud is always an array"
    );
    assert_eq!(id["azp"], CLIENT_ID);
    assert_eq!(id["nonce"], "nonce-456");
    assert_eq!(id["email"], "ada.admin@example.com");
    assert_eq!(id["name"], "Ada Admin");
    assert!(id["sub"].as_str().unwrap().starts_with("usr_"));
    assert!(id["sid"].as_str().unwrap().starts_with("ses_"));
    assert!(id["oid"].as_str().unwrap().starts_with("org_"));
    assert!(id["amr"][0].as_str().unwrap().starts_with("conn_"));
    let at_hash = URL_SAFE_NO_PAD.encode(&Sha256::digest(access_token.as_bytes())[..16]);
    assert_eq!(id["at_hash"], at_hash);
    assert_eq!(
        id["c_hash"],
        URL_SAFE_NO_PAD.encode(&Sha256::digest(code.as_bytes())[..16])
    );

    let access = verify(&app, access_token, Some(CLIENT_ID)).await;
    assert_eq!(access["sub"], id["sub"]);
    assert_eq!(access["sid"], id["sid"]);
    assert_eq!(access["client_id"], CLIENT_ID);
    assert_eq!(access["roles"], serde_json::json!(["admin"]));
    assert!(access["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p == "organization:settings"));
    assert_eq!(access["scope"], "openid profile email offline_access");
    assert!(access["jti"].as_str().unwrap().starts_with("tkn_"));
    assert_eq!(
        access["exp"].as_u64().unwrap() - access["iat"].as_u64().unwrap(),
        299
    );

    let userinfo = send(
        app.clone(),
        Request::get("/dev-idp/userinfo")
            .header("authorization", format!("Bearer {access_token}"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(json(userinfo).await["sub"], id["sub"]);
    let id_token_as_access = send(
        app.clone(),
        Request::get("/dev-idp/userinfo")
            .header(
                "authorization",
                format!("Bearer {}", tokens["id_token"].as_str().unwrap()),
            )
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(
        id_token_as_access.status(),
        StatusCode::UNAUTHORIZED,
        "an ID token is not an access token"
    );
    let no_token = get_with_cookie(&app, "/dev-idp/userinfo", None).await;
    assert_eq!(no_token.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn codes_are_single_use_and_a_replay_revokes_what_the_code_produced() {
    let app = dev_app();
    let (code, _) = code_for(&app, "admin").await;
    let tokens = json(exchange(&app, &code).await).await;
    assert_oauth_error(
        exchange(&app, &code).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    )
    .await;
    let rt = tokens["refresh_token"].as_str().unwrap();
    assert_refresh_refused(&app, rt).await;
}

#[tokio::test]
async fn refresh_rotates_and_reuse_revokes_the_whole_family() {
    let app = dev_app();
    let (code, _) = code_for(&app, "member").await;
    let first = json(exchange(&app, &code).await).await;
    let rt1 = first["refresh_token"].as_str().unwrap().to_string();

    let second = refresh(&app, &rt1).await;
    assert_eq!(second.status(), StatusCode::OK);
    let second = json(second).await;
    let rt2 = second["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(rt1, rt2, "a new refresh token each time");
    assert!(second["access_token"].is_string() && second["id_token"].is_string());
    let id = verify(&app, second["id_token"].as_str().unwrap(), Some(CLIENT_ID)).await;
    assert_eq!(id["email"], "max.member@example.com");

    // The rotated token comes back: reuse. Both it and the newest one stop working.
    assert_refresh_refused(&app, &rt1).await;
    assert_refresh_refused(&app, &rt2).await;
}

#[tokio::test]
async fn token_endpoint_checks_client_authentication_and_pkce() {
    let app = dev_app();
    // client_secret_basic works.
    let (code, _) = code_for(&app, "admin").await;
    let basic = format!(
        "Basic {}",
        STANDARD.encode(format!("{CLIENT_ID}:{CLIENT_SECRET}"))
    );
    let response = post_form(
        &app,
        "/dev-idp/oauth/token",
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", VERIFIER),
        ],
        &[("authorization", &basic)],
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);

    // Two methods at once, a wrong secret, a wrong verifier, a wrong redirect URI.
    let (code, _) = code_for(&app, "admin").await;
    let both = post_form(
        &app,
        "/dev-idp/oauth/token",
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("client_secret", CLIENT_SECRET),
        ],
        &[("authorization", &basic)],
    )
    .await;
    assert_oauth_error(both, StatusCode::BAD_REQUEST, "invalid_request").await;
    let wrong_secret = post_form(
        &app,
        "/dev-idp/oauth/token",
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("client_id", CLIENT_ID),
            ("client_secret", "nope"),
        ],
        &[],
    )
    .await;
    assert_oauth_error(wrong_secret, StatusCode::UNAUTHORIZED, "invalid_client").await;
    let wrong_verifier = post_form(
        &app,
        "/dev-idp/oauth/token",
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT_URI),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
            (
                "code_verifier",
                "a-different-verifier-that-is-long-enough-000000000",
            ),
        ],
        &[],
    )
    .await;
    assert_oauth_error(wrong_verifier, StatusCode::BAD_REQUEST, "invalid_grant").await;
    let unsupported = post_form(
        &app,
        "/dev-idp/oauth/token",
        &[
            ("grant_type", "password"),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
        ],
        &[],
    )
    .await;
    assert_oauth_error(
        unsupported,
        StatusCode::BAD_REQUEST,
        "unsupported_grant_type",
    )
    .await;
}
