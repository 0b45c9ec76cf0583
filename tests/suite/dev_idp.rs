#![cfg(feature = "ssr")]
//! The development identity provider, mounted in the app at /dev-idp, driven over HTTP the way a
//! relying party and Scalekit's SDKs drive Scalekit.

use crate::common;

use axum::body::Body;
use axum::Router;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use common::{body_text, dev_app, send};
use http::{Request, Response, StatusCode};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const ISSUER: &str = "http://127.0.0.1:3000/dev-idp";
const CLIENT_ID: &str = "skc_dev_leptos_scalekit";
const CLIENT_SECRET: &str = "dev-only-secret-never-used-with-scalekit";
const REDIRECT_URI: &str = "http://127.0.0.1:3000/auth/callback";
const VERIFIER: &str = "a-pkce-verifier-that-is-long-enough-0123456789abcdef";

fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

fn encode(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

fn authorize_uri(extra: &[(&str, &str)]) -> String {
    let challenge = challenge(VERIFIER);
    let mut pairs = vec![
        ("response_type", "code"),
        ("client_id", CLIENT_ID),
        ("redirect_uri", REDIRECT_URI),
        ("scope", "openid profile email offline_access"),
        ("state", "state-123"),
        ("nonce", "nonce-456"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    pairs.extend_from_slice(extra);
    format!("/dev-idp/oauth/authorize?{}", encode(&pairs))
}

async fn get_with_cookie(app: &Router, uri: &str, cookie: Option<&str>) -> Response<Body> {
    let mut request = Request::get(uri);
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    send(app.clone(), request.body(Body::empty()).unwrap()).await
}

async fn post_form(
    app: &Router,
    uri: &str,
    pairs: &[(&str, &str)],
    headers: &[(&str, &str)],
) -> Response<Body> {
    let mut request =
        Request::post(uri).header("content-type", "application/x-www-form-urlencoded");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    send(
        app.clone(),
        request.body(Body::from(encode(pairs))).unwrap(),
    )
    .await
}

async fn json(response: Response<Body>) -> Value {
    serde_json::from_str(&body_text(response).await).expect("JSON body")
}

fn location(response: &Response<Body>) -> url::Url {
    url::Url::parse(response.headers()["location"].to_str().unwrap()).unwrap()
}

fn query(url: &url::Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// The provider's session cookie (`name=value`) from a response.
fn session_cookie(response: &Response<Body>) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("skdev_session="))
        .map(|v| v.split(';').next().unwrap().to_string())
}

/// Signs `persona` in by login_hint and returns the code and the provider cookie.
async fn code_for(app: &Router, persona: &str) -> (String, String) {
    let response = get_with_cookie(app, &authorize_uri(&[("login_hint", persona)]), None).await;
    assert_eq!(response.status(), StatusCode::FOUND);
    let cookie = session_cookie(&response).expect("provider session cookie");
    let url = location(&response);
    assert_eq!(url.as_str().split('?').next(), Some(REDIRECT_URI));
    assert_eq!(query(&url, "state").as_deref(), Some("state-123"));
    (query(&url, "code").expect("code"), cookie)
}

async fn exchange(app: &Router, code: &str) -> Response<Body> {
    post_form(
        app,
        "/dev-idp/oauth/token",
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT_URI),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
            ("code_verifier", VERIFIER),
        ],
        &[],
    )
    .await
}

async fn refresh(app: &Router, refresh_token: &str) -> Response<Body> {
    post_form(
        app,
        "/dev-idp/oauth/token",
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
        ],
        &[],
    )
    .await
}

/// The refresh token no longer works: the provider answers `invalid_grant`.
async fn assert_refresh_refused(app: &Router, refresh_token: &str) {
    assert_oauth_error(
        refresh(app, refresh_token).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    )
    .await;
}

async fn assert_oauth_error(response: Response<Body>, status: StatusCode, code: &str) {
    assert_eq!(response.status(), status);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body = json(response).await;
    assert_eq!(body["error"], code, "{body}");
}

/// Verifies `token` against the provider's published keys, like a relying party.
async fn verify(app: &Router, token: &str, audience: Option<&str>) -> Value {
    let jwks = json(get_with_cookie(app, "/dev-idp/keys", None).await).await;
    let header = jsonwebtoken::decode_header(token).unwrap();
    assert_eq!(header.alg, Algorithm::RS256);
    let kid = header.kid.expect("kid");
    assert!(kid.starts_with("snk_"), "{kid}");
    let jwk = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == kid.as_str())
        .expect("key published");
    let key =
        DecodingKey::from_rsa_components(jwk["n"].as_str().unwrap(), jwk["e"].as_str().unwrap())
            .unwrap();
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_issuer(&[ISSUER]);
    match audience {
        Some(aud) => validation.set_audience(&[aud]),
        None => validation.validate_aud = false,
    }
    jsonwebtoken::decode::<Value>(token, &key, &validation)
        .expect("valid token")
        .claims
}

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

#[tokio::test]
async fn authorize_refuses_bad_requests() {
    let app = dev_app();
    // A redirect URI that is not registered: an error page, never a redirect there.
    let evil = authorize_uri(&[]).replace(
        &encode(&[("redirect_uri", REDIRECT_URI)]),
        &encode(&[("redirect_uri", "https://evil.example/cb")]),
    );
    let response = get_with_cookie(&app, &evil, None).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response.headers().get("location").is_none());
    assert!(body_text(response).await.contains("is not registered"));

    let unknown_client = get_with_cookie(
        &app,
        &authorize_uri(&[]).replace(CLIENT_ID, "skc_unknown"),
        None,
    )
    .await;
    assert_eq!(unknown_client.status(), StatusCode::BAD_REQUEST);

    // plain PKCE goes back to the client as an error, with state.
    let plain = format!(
        "{}&code_challenge_method=plain",
        authorize_uri(&[]).replace("&code_challenge_method=S256", "")
    );
    let response = get_with_cookie(&app, &plain, None).await;
    assert_eq!(response.status(), StatusCode::FOUND);
    let url = location(&response);
    assert_eq!(query(&url, "error").as_deref(), Some("invalid_request"));
    assert_eq!(query(&url, "state").as_deref(), Some("state-123"));
    assert!(query(&url, "code").is_none());

    let no_openid = authorize_uri(&[]).replace("scope=openid+", "scope=");
    let url = location(&get_with_cookie(&app, &no_openid, None).await);
    assert_eq!(query(&url, "error").as_deref(), Some("invalid_scope"));
}

#[tokio::test]
async fn picker_works_without_javascript_and_sessions_are_remembered() {
    let app = dev_app();
    let page = get_with_cookie(&app, &authorize_uri(&[]), None).await;
    assert_eq!(page.status(), StatusCode::OK);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        csp.contains("form-action 'self' http://127.0.0.1:3000"),
        "{csp}"
    );
    let html = body_text(page).await;
    assert!(html.contains("Ada Admin") && html.contains("Max Member"));
    assert!(html.contains("name=\"persona\" value=\"member\""));
    assert!(!html.contains("<script"), "the picker needs no JavaScript");

    // Submitting the form (all original parameters as hidden fields) picks the member.
    let challenge = challenge(VERIFIER);
    let chosen = post_form(
        &app,
        "/dev-idp/oauth/authorize",
        &[
            ("response_type", "code"),
            ("client_id", CLIENT_ID),
            ("redirect_uri", REDIRECT_URI),
            ("scope", "openid profile email offline_access"),
            ("state", "state-123"),
            ("nonce", "nonce-456"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
            ("persona", "member"),
        ],
        &[],
    )
    .await;
    assert_eq!(chosen.status(), StatusCode::SEE_OTHER);
    let cookie = session_cookie(&chosen).unwrap();
    let code = query(&location(&chosen), "code").unwrap();
    let tokens = json(exchange(&app, &code).await).await;
    let id = verify(&app, tokens["id_token"].as_str().unwrap(), Some(CLIENT_ID)).await;
    assert_eq!(id["email"], "max.member@example.com");

    // The provider remembers the session: no picker the second time...
    let again = get_with_cookie(&app, &authorize_uri(&[]), Some(&cookie)).await;
    assert_eq!(again.status(), StatusCode::FOUND);
    // ...unless prompt=login.
    let forced = get_with_cookie(&app, &authorize_uri(&[("prompt", "login")]), Some(&cookie)).await;
    assert_eq!(forced.status(), StatusCode::OK);
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

async fn management_token(app: &Router) -> String {
    let response = post_form(
        app,
        "/dev-idp/oauth/token",
        &[
            ("grant_type", "client_credentials"),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
        ],
        &[],
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body = json(response).await;
    assert_eq!(body["expires_in"], 86399);
    body["access_token"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn organization_api_clients_are_managed_and_get_client_credentials_tokens() {
    let app = dev_app();
    let org = "org_100000000000000001";
    let clients = format!("/dev-idp/api/v1/organizations/{org}/clients");

    let anonymous = post_form(&app, &clients, &[], &[]).await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(json(anonymous).await["code"], 16);

    // A signed-in user's tokens carry the same client_id, but are not management tokens.
    let (code, _) = code_for(&app, "member").await;
    let user_tokens = json(exchange(&app, &code).await).await;
    for user_token in [&user_tokens["access_token"], &user_tokens["id_token"]] {
        let response = send(
            app.clone(),
            Request::get(&clients)
                .header(
                    "authorization",
                    format!("Bearer {}", user_token.as_str().unwrap()),
                )
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }

    let token = management_token(&app).await;
    let bearer = format!("Bearer {token}");
    let create = send(
        app.clone(),
        Request::post(&clients)
            .header("authorization", &bearer)
            .header("content-type", "application/json")
            .body(Body::from(r#"{"name":"CI deployer","description":"deploys","scopes":["read:deployments","deploy:applications"],"expiry":"3600"}"#))
            .unwrap(),
    )
    .await;
    assert_eq!(create.status(), StatusCode::CREATED);
    let created = json(create).await;
    let client_id = created["client"]["client_id"].as_str().unwrap().to_string();
    let secret = created["plain_secret"].as_str().unwrap().to_string();
    assert!(client_id.starts_with("m2morg_"));
    assert_eq!(
        created["client"]["secrets"][0]["secret_suffix"],
        secret[secret.len() - 4..]
    );
    assert!(
        !created["client"].to_string().contains(&secret),
        "the secret appears only as plain_secret"
    );

    for bad in [
        r#"{"name":"  "}"#,
        r#"{"name":"x","expiry":"5"}"#,
        r#"{"name":"x","scopes":["a b"]}"#,
        "not json",
    ] {
        let response = send(
            app.clone(),
            Request::post(&clients)
                .header("authorization", &bearer)
                .header("content-type", "application/json")
                .body(Body::from(bad))
                .unwrap(),
        )
        .await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(json(response).await["code"], 3, "{bad}: INVALID_ARGUMENT");
    }

    let list = send(
        app.clone(),
        Request::get(&clients)
            .header("authorization", &bearer)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(
        json(list).await["clients"][0]["client_id"],
        client_id.as_str()
    );

    let m2m = |scope: Option<&'static str>| {
        let app = app.clone();
        let (client_id, secret) = (client_id.clone(), secret.clone());
        async move {
            let mut pairs = vec![
                ("grant_type", "client_credentials"),
                ("client_id", client_id.as_str()),
                ("client_secret", secret.as_str()),
            ];
            if let Some(scope) = scope {
                pairs.push(("scope", scope));
            }
            post_form(&app, "/dev-idp/oauth/token", &pairs, &[]).await
        }
    };
    let response = m2m(None).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body = json(response).await;
    assert_eq!(body["scope"], "read:deployments deploy:applications");
    let claims = verify(&app, body["access_token"].as_str().unwrap(), None).await;
    assert_eq!(claims["sub"], client_id.as_str());
    assert_eq!(claims["client_id"], client_id.as_str());
    assert_eq!(claims["oid"], org);
    assert_eq!(
        claims["scopes"],
        serde_json::json!(["read:deployments", "deploy:applications"])
    );
    assert_eq!(claims["scope"], "read:deployments deploy:applications");

    let narrowed = json(m2m(Some("read:deployments")).await).await;
    assert_eq!(narrowed["scope"], "read:deployments");
    assert_oauth_error(
        m2m(Some("admin:everything")).await,
        StatusCode::BAD_REQUEST,
        "invalid_scope",
    )
    .await;

    let other_org = format!("/dev-idp/api/v1/organizations/org_other/clients/{client_id}");
    let response = send(
        app.clone(),
        Request::delete(&other_org)
            .header("authorization", &bearer)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);

    let delete = send(
        app.clone(),
        Request::delete(format!("{clients}/{client_id}"))
            .header("authorization", &bearer)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(delete.status(), StatusCode::OK);
    assert_oauth_error(m2m(None).await, StatusCode::UNAUTHORIZED, "invalid_client").await;
}

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

#[tokio::test]
async fn the_provider_is_never_mounted_with_a_scalekit_environment() {
    let app = common::app_from(&[
        ("SCALEKIT_ENVIRONMENT_URL", "https://acme.scalekit.dev"),
        ("SCALEKIT_CLIENT_ID", "skc_1"),
        ("SCALEKIT_CLIENT_SECRET", "secret"),
    ]);
    let response = get_with_cookie(&app, "/dev-idp/.well-known/openid-configuration", None).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

/// Kills the child process when the test ends, pass or fail.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn dev_idp_subcommand_serves_the_provider_on_its_own_address() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let state_dir = std::path::PathBuf::from(common::test_state_dir()).join("standalone");
    let _child = KillOnDrop(
        std::process::Command::new(env!("CARGO_BIN_EXE_leptos-scalekit"))
            .arg("dev-idp")
            .env_clear()
            .env("DEV_IDP_ADDR", format!("127.0.0.1:{port}"))
            .env("DEV_STATE_DIR", &state_dir)
            .current_dir(std::env::temp_dir())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("dev-idp starts"),
    );
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let discovery_url = format!("{base}/.well-known/openid-configuration");
    let mut discovery = None;
    for _ in 0..100 {
        if let Ok(response) = client.get(&discovery_url).send().await {
            discovery = Some(response.json::<Value>().await.unwrap());
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let discovery = discovery.expect("the provider answers");
    assert_eq!(discovery["issuer"], base.as_str());
    assert_eq!(discovery["token_endpoint"], format!("{base}/oauth/token"));

    // The app's client is registered for the default app address.
    let challenge = challenge(VERIFIER);
    let authorize = format!(
        "{base}/oauth/authorize?{}",
        encode(&[
            ("response_type", "code"),
            ("client_id", CLIENT_ID),
            ("redirect_uri", REDIRECT_URI),
            ("scope", "openid"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
            ("login_hint", "member"),
        ])
    );
    let response = client.get(&authorize).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::FOUND);
    let cookie = response.headers()["set-cookie"].to_str().unwrap();
    assert!(cookie.contains("Path=/"), "{cookie}");
    assert!(response.headers()["location"]
        .to_str()
        .unwrap()
        .starts_with(REDIRECT_URI));
    assert!(
        state_dir.join("dev-idp-keys.json").exists(),
        "the signing key is persisted"
    );
}

const RESOURCE_ID: &str = "res_100000000000000001";
const MCP_SERVER: &str = "http://127.0.0.1:3000/mcp";
const MCP_REDIRECT: &str = "http://127.0.0.1:8976/callback";

async fn post_json(app: &Router, uri: &str, body: Value) -> Response<Body> {
    send(
        app.clone(),
        Request::post(uri)
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .unwrap(),
    )
    .await
}

async fn register_mcp_client(app: &Router) -> String {
    let response = post_json(
        app,
        &format!("/dev-idp/resources/{RESOURCE_ID}/register"),
        serde_json::json!({
            "client_name": "an MCP client",
            "redirect_uris": [MCP_REDIRECT],
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "none",
        }),
    )
    .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let registered = json(response).await;
    assert_eq!(registered["token_endpoint_auth_method"], "none");
    assert!(registered.get("client_secret").is_none(), "public client");
    let client_id = registered["client_id"].as_str().unwrap().to_string();
    assert!(client_id.starts_with("m2m_"), "{client_id}");
    client_id
}

fn mcp_authorize_uri(client_id: &str, scope: &str, extra: &[(&str, &str)]) -> String {
    let challenge = challenge(VERIFIER);
    let mut pairs = vec![
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", MCP_REDIRECT),
        ("scope", scope),
        ("state", "s"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
        ("login_hint", "admin"),
    ];
    pairs.extend_from_slice(extra);
    format!("/dev-idp/oauth/authorize?{}", encode(&pairs))
}

#[tokio::test]
async fn resources_publish_authorization_server_metadata_at_both_well_known_forms() {
    let app = dev_app();
    for path in [
        format!("/.well-known/oauth-authorization-server/dev-idp/resources/{RESOURCE_ID}"),
        format!("/dev-idp/.well-known/oauth-authorization-server/resources/{RESOURCE_ID}"),
        format!("/dev-idp/resources/{RESOURCE_ID}/.well-known/oauth-authorization-server"),
    ] {
        let response = get_with_cookie(&app, &path, None).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let metadata = json(response).await;
        assert_eq!(
            metadata["issuer"],
            format!("{ISSUER}/resources/{RESOURCE_ID}")
        );
        assert_eq!(
            metadata["registration_endpoint"],
            format!("{ISSUER}/resources/{RESOURCE_ID}/register")
        );
        assert_eq!(metadata["code_challenge_methods_supported"][0], "S256");
    }
    let unknown = get_with_cookie(
        &app,
        "/dev-idp/.well-known/oauth-authorization-server/resources/res_nope",
        None,
    )
    .await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn dynamic_registration_takes_public_clients_with_safe_redirects_only() {
    let app = dev_app();
    let uri = format!("/dev-idp/resources/{RESOURCE_ID}/register");
    let cases = [
        (serde_json::json!({}), "invalid_redirect_uri"),
        (
            serde_json::json!({"redirect_uris": ["http://evil.example/cb"]}),
            "invalid_redirect_uri",
        ),
        (
            serde_json::json!({"redirect_uris": ["javascript:alert(1)"]}),
            "invalid_redirect_uri",
        ),
        (
            serde_json::json!({"redirect_uris": [MCP_REDIRECT], "token_endpoint_auth_method": "client_secret_basic"}),
            "invalid_client_metadata",
        ),
        (
            serde_json::json!({"redirect_uris": [MCP_REDIRECT], "grant_types": ["client_credentials"]}),
            "invalid_client_metadata",
        ),
        (
            serde_json::json!({"redirect_uris": [MCP_REDIRECT], "scope": "admin:everything"}),
            "invalid_client_metadata",
        ),
    ];
    for (body, error) in cases {
        let response = post_json(&app, &uri, body.clone()).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(json(response).await["error"], error, "{body}");
    }
    let not_json = send(
        app.clone(),
        Request::post(&uri)
            .body(Body::from("redirect_uris=x"))
            .unwrap(),
    )
    .await;
    assert_eq!(not_json.status(), StatusCode::BAD_REQUEST);
    let unknown = post_json(
        &app,
        "/dev-idp/resources/res_nope/register",
        serde_json::json!({"redirect_uris": [MCP_REDIRECT]}),
    )
    .await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_mcp_client_gets_resource_tokens_by_code_and_refresh() {
    let app = dev_app();
    let client_id = register_mcp_client(&app).await;

    // Refusals go back to the client's redirect URI.
    const SCOPE: &str = "read:deployments offline_access";
    for (scope, extra, error) in [
        (
            SCOPE,
            vec![("resource", "https://elsewhere.example/mcp")],
            "invalid_target",
        ),
        ("read:deployments admin:all", vec![], "invalid_scope"),
    ] {
        let response =
            get_with_cookie(&app, &mcp_authorize_uri(&client_id, scope, &extra), None).await;
        assert_eq!(response.status(), StatusCode::FOUND);
        assert_eq!(query(&location(&response), "error").as_deref(), Some(error));
    }
    let no_pkce = get_with_cookie(
        &app,
        &mcp_authorize_uri(&client_id, SCOPE, &[])
            .replace("code_challenge=", "x=")
            .replace("code_challenge_method=", "y="),
        None,
    )
    .await;
    assert_eq!(
        query(&location(&no_pkce), "error").as_deref(),
        Some("invalid_request"),
        "public clients need PKCE"
    );

    let response = get_with_cookie(
        &app,
        &mcp_authorize_uri(&client_id, SCOPE, &[("resource", MCP_SERVER)]),
        None,
    )
    .await;
    let code = query(&location(&response), "code").expect("code");
    let token_request = |extra: Vec<(&'static str, String)>| {
        let mut pairs: Vec<(&str, String)> = vec![("client_id", client_id.clone())];
        pairs.extend(extra);
        let app = app.clone();
        async move {
            let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
            post_form(&app, "/dev-idp/oauth/token", &pairs, &[]).await
        }
    };
    let tokens = json(
        token_request(vec![
            ("grant_type", "authorization_code".into()),
            ("code", code),
            ("redirect_uri", MCP_REDIRECT.into()),
            ("code_verifier", VERIFIER.into()),
            ("resource", MCP_SERVER.into()),
        ])
        .await,
    )
    .await;
    assert!(
        tokens.get("id_token").is_none(),
        "no openid, no ID token: {tokens}"
    );
    assert_eq!(tokens["scope"], "read:deployments offline_access");
    let access = tokens["access_token"].as_str().unwrap();
    let header = jsonwebtoken::decode_header(access).unwrap();
    assert!(header.kid.unwrap().starts_with("snk_"));
    let claims: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(access.split('.').nth(1).unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        claims["iss"],
        format!("{ISSUER}/resources/{RESOURCE_ID}"),
        "resource tokens carry the resource-scoped issuer"
    );
    assert_eq!(claims["aud"], serde_json::json!([MCP_SERVER, RESOURCE_ID]));
    assert_eq!(claims["client_id"], client_id.as_str());
    assert_eq!(claims["sub"], "usr_100000000000000001");

    let refresh_token = tokens["refresh_token"].as_str().unwrap().to_string();
    let wrong_target = token_request(vec![
        ("grant_type", "refresh_token".into()),
        ("refresh_token", refresh_token.clone()),
        ("resource", "https://elsewhere.example/mcp".into()),
    ])
    .await;
    assert_oauth_error(wrong_target, StatusCode::BAD_REQUEST, "invalid_target").await;
    let refreshed = json(
        token_request(vec![
            ("grant_type", "refresh_token".into()),
            ("refresh_token", refresh_token),
        ])
        .await,
    )
    .await;
    let access = refreshed["access_token"].as_str().unwrap();
    let claims: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(access.split('.').nth(1).unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(claims["aud"], serde_json::json!([MCP_SERVER, RESOURCE_ID]));

    // Public clients cannot revoke at Scalekit.
    let response = send(
        app.clone(),
        Request::post("/dev-idp/revoke")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(encode(&[
                ("client_id", client_id.as_str()),
                ("token", "x"),
            ])))
            .unwrap(),
    )
    .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_registered_client_sending_the_browser_off_this_machine_needs_a_click() {
    // Anyone may register a client; with an https redirect URI a silent sign-in (by hint or by
    // provider session) would make the provider an open redirector that hands out codes.
    let app = dev_app();
    const ELSEWHERE: &str = "https://mcp-client.example/oauth/callback";
    let response = post_json(
        &app,
        &format!("/dev-idp/resources/{RESOURCE_ID}/register"),
        serde_json::json!({ "client_name": "a hosted MCP client", "redirect_uris": [ELSEWHERE] }),
    )
    .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let client_id = json(response).await["client_id"]
        .as_str()
        .unwrap()
        .to_string();
    let authorize = mcp_authorize_uri(&client_id, "read:deployments", &[]).replace(
        &encode(&[("redirect_uri", MCP_REDIRECT)]),
        &encode(&[("redirect_uri", ELSEWHERE)]),
    );
    assert!(authorize.contains("login_hint=admin"));

    // The hint does not sign in: the picker says where the browser will go.
    let picker = get_with_cookie(&app, &authorize, None).await;
    assert_eq!(picker.status(), StatusCode::OK);
    assert!(body_text(picker)
        .await
        .contains("https://mcp-client.example"));
    // Nor does a provider session (from the app's own sign-in), nor prompt=none.
    let signed_in = get_with_cookie(&app, &authorize_uri(&[("login_hint", "admin")]), None).await;
    let cookie = session_cookie(&signed_in).expect("a provider session");
    let again = get_with_cookie(&app, &authorize, Some(&cookie)).await;
    assert_eq!(again.status(), StatusCode::OK);
    let silent = get_with_cookie(&app, &format!("{authorize}&prompt=none"), Some(&cookie)).await;
    assert_eq!(silent.status(), StatusCode::FOUND);
    assert_eq!(
        query(&location(&silent), "error").as_deref(),
        Some("consent_required")
    );
    assert!(query(&location(&silent), "code").is_none());

    // A click on the picker does.
    let query_part = authorize.split_once('?').unwrap().1;
    let mut pairs: Vec<(String, String)> = url::form_urlencoded::parse(query_part.as_bytes())
        .into_owned()
        .collect();
    pairs.push(("persona".into(), "admin".into()));
    let pairs: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let chosen = post_form(&app, "/dev-idp/oauth/authorize", &pairs, &[]).await;
    assert_eq!(chosen.status(), StatusCode::SEE_OTHER);
    let back = location(&chosen);
    assert!(back.as_str().starts_with(ELSEWHERE), "{back}");
    assert!(query(&back, "code").is_some());
}

/// What a page on another site sends when it posts a form to the provider.
const CROSS_SITE: [(&str, &str); 2] = [
    ("origin", "https://evil.example"),
    ("sec-fetch-site", "cross-site"),
];
/// What the provider's own pages send (mounted in the app: the app's origin).
const SAME_ORIGIN: [(&str, &str); 2] = [
    ("origin", "http://127.0.0.1:3000"),
    ("sec-fetch-site", "same-origin"),
];

/// The picker form as the provider's page submits it: the original parameters and a persona.
fn picker_form<'a>(challenge: &'a str, persona: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("response_type", "code"),
        ("client_id", CLIENT_ID),
        ("redirect_uri", REDIRECT_URI),
        ("scope", "openid profile email offline_access"),
        ("state", "state-123"),
        ("nonce", "nonce-456"),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
        ("persona", persona),
    ]
}

async fn injected_faults(app: &Router) -> Value {
    json(get_with_cookie(app, "/dev-idp/_control", None).await).await["controls"]["faults"].clone()
}

async fn assert_cross_site_refusal(response: Response<Body>) {
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(session_cookie(&response).is_none(), "no provider session");
    assert!(response.headers().get("location").is_none(), "no redirect");
    let body = json(response).await;
    assert_eq!(body["error"], "forbidden", "{body}");
    assert_eq!(
        body["error_description"], "cross-site request refused",
        "{body}"
    );
}

#[tokio::test]
async fn dev_idp_refuses_cross_site_control_and_persona_posts() {
    let app = dev_app();
    let outage = [("outage", "true")];
    assert_cross_site_refusal(post_form(&app, "/dev-idp/_control", &outage, &CROSS_SITE).await)
        .await;
    // Origin alone decides for browsers without fetch metadata.
    let evil_origin = [("origin", "https://evil.example")];
    assert_cross_site_refusal(post_form(&app, "/dev-idp/_control", &outage, &evil_origin).await)
        .await;
    assert_eq!(
        injected_faults(&app).await,
        serde_json::json!({}),
        "the outage was not applied"
    );

    let challenge = challenge(VERIFIER);
    let form = picker_form(&challenge, "admin");
    for headers in [&CROSS_SITE[..], &evil_origin[..]] {
        assert_cross_site_refusal(
            post_form(&app, "/dev-idp/oauth/authorize", &form, headers).await,
        )
        .await;
    }
}

#[tokio::test]
async fn dev_idp_accepts_same_origin_and_non_browser_control_and_persona_posts() {
    let app = dev_app();
    let set = post_form(
        &app,
        "/dev-idp/_control",
        &[("outage", "true")],
        &SAME_ORIGIN,
    )
    .await;
    assert_eq!(set.status(), StatusCode::OK);
    assert_eq!(injected_faults(&app).await["token"]["status"], 503);
    // Tools send neither Sec-Fetch-Site nor Origin.
    let reset = post_form(&app, "/dev-idp/_control", &[("reset", "true")], &[]).await;
    assert_eq!(reset.status(), StatusCode::OK);
    assert_eq!(injected_faults(&app).await, serde_json::json!({}));

    let challenge = challenge(VERIFIER);
    let form = picker_form(&challenge, "member");
    let chosen = post_form(&app, "/dev-idp/oauth/authorize", &form, &SAME_ORIGIN).await;
    assert_eq!(chosen.status(), StatusCode::SEE_OTHER);
    assert!(query(&location(&chosen), "code").is_some());
}

/// A free loopback port (bound, then released for the child to take).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `leptos-scalekit dev-idp` with only `vars` set, from a directory without `.env`.
fn dev_idp_command(vars: &[(&str, &str)]) -> std::process::Command {
    let state_dir = std::path::PathBuf::from(common::test_state_dir()).join("standalone-refusals");
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_leptos-scalekit"));
    command
        .arg("dev-idp")
        .env_clear()
        .env("DEV_STATE_DIR", &state_dir)
        .envs(vars.iter().copied())
        .current_dir(std::env::temp_dir())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    command
}

/// Runs `dev-idp` expecting it to stop by itself; one still serving after 30 s is killed and the
/// test fails.
fn dev_idp_exit(vars: &[(&str, &str)]) -> std::process::Output {
    let mut child = dev_idp_command(vars).spawn().expect("dev-idp starts");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while child
        .try_wait()
        .expect("dev-idp can be waited for")
        .is_none()
    {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let output = child.wait_with_output().expect("dev-idp output");
            panic!(
                "dev-idp kept running with {vars:?}: {}",
                String::from_utf8_lossy(&output.stdout)
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    child.wait_with_output().expect("dev-idp output")
}

/// Asserts `dev-idp` refused to start, naming `variable` on stderr.
fn assert_dev_idp_refuses(vars: &[(&str, &str)], variable: &str) -> String {
    let output = dev_idp_exit(vars);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(!output.status.success(), "{vars:?}: {stderr}");
    assert!(
        stderr.contains(&format!("error: {variable}: ")),
        "{vars:?}: {stderr}"
    );
    stderr
}

#[test]
fn dev_idp_refuses_production_and_remote_addresses() {
    let port = free_port();
    let loopback = format!("127.0.0.1:{port}");
    for env in ["production", "PROD"] {
        let stderr =
            assert_dev_idp_refuses(&[("APP_ENV", env), ("DEV_IDP_ADDR", &loopback)], "APP_ENV");
        assert!(stderr.contains("never runs in production"), "{stderr}");
    }
    let wildcard = format!("0.0.0.0:{port}");
    let stderr = assert_dev_idp_refuses(&[("DEV_IDP_ADDR", &wildcard)], "DEV_IDP_ADDR");
    assert!(stderr.contains("DEV_IDP_ALLOW_REMOTE=true"), "{stderr}");
    assert!(
        stderr.contains("example: DEV_IDP_ADDR=127.0.0.1:4000"),
        "{stderr}"
    );
    assert_dev_idp_refuses(
        &[
            ("DEV_IDP_ADDR", &loopback),
            ("DEV_IDP_ISSUER", "https://idp.example.com"),
        ],
        "DEV_IDP_ISSUER",
    );
    // The opt-in never covers production.
    assert_dev_idp_refuses(
        &[
            ("APP_ENV", "production"),
            ("DEV_IDP_ADDR", &loopback),
            ("DEV_IDP_ALLOW_REMOTE", "true"),
        ],
        "APP_ENV",
    );
}

#[tokio::test]
async fn dev_idp_allow_remote_serves_a_remote_issuer_with_a_loud_warning() {
    let port = free_port();
    let issuer = format!("http://devbox.example:{port}");
    let child = dev_idp_command(&[
        ("DEV_IDP_ADDR", &format!("127.0.0.1:{port}")),
        ("DEV_IDP_ISSUER", &issuer),
        ("DEV_IDP_ALLOW_REMOTE", "true"),
    ])
    .spawn()
    .expect("dev-idp starts");
    let mut child = KillOnDrop(child);
    let discovery_url = format!("http://127.0.0.1:{port}/.well-known/openid-configuration");
    let mut discovery = None;
    for _ in 0..100 {
        if let Ok(response) = reqwest::get(&discovery_url).await {
            discovery = Some(response.json::<Value>().await.unwrap());
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let _ = child.0.kill();
    let output = child.0.stdout.take().map(|mut stdout| {
        let mut text = String::new();
        let _ = std::io::Read::read_to_string(&mut stdout, &mut text);
        text
    });
    assert_eq!(
        discovery.expect("the provider answers")["issuer"],
        issuer.as_str()
    );
    let logs = output.unwrap_or_default();
    assert!(logs.contains("DEV_IDP_ALLOW_REMOTE=true"), "{logs}");
}

// OpenID Connect Back-Channel Logout 1.0 (O8) and Scalekit's user-sessions API.

const ADMIN_USER_ID: &str = "usr_100000000000000001";
const MEMBER_USER_ID: &str = "usr_100000000000000002";
const DEFAULT_ORG: &str = "org_100000000000000001";
const RP_CLIENT_ID: &str = "skc_backchannel_rp";
const RP_CLIENT_SECRET: &str = "backchannel-rp-secret";
const LOGOUT_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";
const CHROME_ON_WINDOWS: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.91 Safari/537.36";

/// One POST the relying party's back-channel endpoint received.
#[derive(Clone, Debug)]
struct ReceivedPost {
    content_type: String,
    body: String,
}

impl ReceivedPost {
    /// The form's only field, `logout_token`.
    fn logout_token(&self) -> String {
        let fields: Vec<(String, String)> = url::form_urlencoded::parse(self.body.as_bytes())
            .into_owned()
            .collect();
        assert_eq!(fields.len(), 1, "{fields:?}");
        assert_eq!(fields[0].0, "logout_token");
        fields[0].1.clone()
    }
}

/// A relying party on a real loopback port: its back-channel logout endpoint records every POST
/// and answers with the scripted statuses, then 200.
struct LogoutReceiver {
    base: String,
    posts: Arc<Mutex<Vec<ReceivedPost>>>,
}

impl LogoutReceiver {
    async fn start(script: &[u16]) -> LogoutReceiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let posts = Arc::new(Mutex::new(Vec::new()));
        let script = Arc::new(Mutex::new(VecDeque::from(script.to_vec())));
        let recorded = posts.clone();
        let handler = move |headers: http::HeaderMap, body: String| {
            let recorded = recorded.clone();
            let script = script.clone();
            async move {
                recorded.lock().unwrap().push(ReceivedPost {
                    content_type: headers
                        .get("content-type")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_string(),
                    body,
                });
                let status = script.lock().unwrap().pop_front().unwrap_or(200);
                StatusCode::from_u16(status).unwrap()
            }
        };
        let app = Router::new().route("/backchannel-logout", axum::routing::post(handler));
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        LogoutReceiver { base, posts }
    }

    fn logout_uri(&self) -> String {
        format!("{}/backchannel-logout", self.base)
    }

    fn callback(&self) -> String {
        format!("{}/callback", self.base)
    }

    fn posts(&self) -> Vec<ReceivedPost> {
        self.posts.lock().unwrap().clone()
    }

    /// Waits (at most five seconds) until `count` POSTs arrived.
    async fn wait_for(&self, count: usize) -> Vec<ReceivedPost> {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let posts = self.posts();
            if posts.len() >= count {
                return posts;
            }
            assert!(
                Instant::now() < deadline,
                "expected {count} back-channel POSTs, got {}",
                posts.len()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// The app with a provider that knows a second client, the receiver's, with a back-channel
/// logout URI (the app's own client keeps the management API).
fn app_with_backchannel_client(receiver: &LogoutReceiver) -> Router {
    let settings = json!({
        "clients": [
            { "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "management": true },
            {
                "client_id": RP_CLIENT_ID,
                "client_secret": RP_CLIENT_SECRET,
                "redirect_uris": [receiver.callback()],
                "backchannel_logout_uri": receiver.logout_uri(),
            },
        ],
    });
    let dir = std::path::PathBuf::from(common::test_state_dir());
    std::fs::create_dir_all(&dir).unwrap();
    let port = receiver.base.rsplit(':').next().unwrap();
    let path = dir.join(format!("dev-idp-backchannel-{port}.json"));
    std::fs::write(&path, settings.to_string()).unwrap();
    common::app_from(&[("DEV_IDP_CONFIG", path.to_str().unwrap())])
}

/// Signs `persona` in through the receiver's client from Chrome on Windows, in a new provider
/// session; returns the token response and the provider cookie.
async fn rp_sign_in(app: &Router, receiver: &LogoutReceiver, persona: &str) -> (Value, String) {
    let challenge = challenge(VERIFIER);
    let callback = receiver.callback();
    let query = encode(&[
        ("response_type", "code"),
        ("client_id", RP_CLIENT_ID),
        ("redirect_uri", &callback),
        ("scope", "openid email offline_access"),
        ("nonce", "rp-nonce"),
        ("code_challenge", &challenge),
        ("code_challenge_method", "S256"),
        ("login_hint", persona),
    ]);
    let response = send(
        app.clone(),
        Request::get(format!("/dev-idp/oauth/authorize?{query}"))
            .header("user-agent", CHROME_ON_WINDOWS)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(response.status(), StatusCode::FOUND);
    let cookie = session_cookie(&response).expect("a new provider session");
    let code = query_param_of(&response, "code");
    let tokens = post_form(
        app,
        "/dev-idp/oauth/token",
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", &callback),
            ("client_id", RP_CLIENT_ID),
            ("client_secret", RP_CLIENT_SECRET),
            ("code_verifier", VERIFIER),
        ],
        &[],
    )
    .await;
    assert_eq!(tokens.status(), StatusCode::OK);
    (json(tokens).await, cookie)
}

fn query_param_of(response: &Response<Body>, name: &str) -> String {
    query(&location(response), name).unwrap_or_else(|| panic!("no {name} in the redirect"))
}

/// The receiver's client can no longer refresh with `refresh_token`.
async fn assert_rp_refresh_refused(app: &Router, refresh_token: &str) {
    let response = post_form(
        app,
        "/dev-idp/oauth/token",
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
            ("client_id", RP_CLIENT_ID),
            ("client_secret", RP_CLIENT_SECRET),
        ],
        &[],
    )
    .await;
    assert_oauth_error(response, StatusCode::BAD_REQUEST, "invalid_grant").await;
}

/// A management API call with an optional Bearer token.
async fn api_call(app: &Router, method: &str, uri: &str, token: Option<&str>) -> Response<Body> {
    let mut request = Request::builder().method(method).uri(uri);
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    send(app.clone(), request.body(Body::empty()).unwrap()).await
}

async fn api_json(app: &Router, method: &str, uri: &str, token: &str) -> Value {
    let response = api_call(app, method, uri, Some(token)).await;
    assert_eq!(response.status(), StatusCode::OK, "{method} {uri}");
    json(response).await
}

/// Waits (at most five seconds) until `/_control` lists `count` back-channel deliveries.
async fn wait_for_deliveries(app: &Router, count: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let shown = json(get_with_cookie(app, "/dev-idp/_control", None).await).await;
        let deliveries = shown["backchannel_deliveries"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if deliveries.len() >= count {
            return deliveries;
        }
        assert!(Instant::now() < deadline, "{shown}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A received logout token, verified with the provider's JWKS like a relying party would
/// (Back-Channel Logout §2.6), with its claims.
async fn verified_logout_token(app: &Router, post: &ReceivedPost) -> Value {
    assert_eq!(post.content_type, "application/x-www-form-urlencoded");
    let token = post.logout_token();
    let header = jsonwebtoken::decode_header(&token).unwrap();
    assert_eq!(header.typ.as_deref(), Some("logout+jwt"));
    let claims = verify(app, &token, Some(RP_CLIENT_ID)).await;
    assert_eq!(claims["aud"], RP_CLIENT_ID);
    assert_eq!(claims["events"], json!({ LOGOUT_EVENT: {} }));
    assert!(claims.get("nonce").is_none(), "{claims}");
    assert!(!claims["jti"].as_str().unwrap_or_default().is_empty());
    assert_eq!(
        claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(),
        120
    );
    claims
}

#[tokio::test]
async fn o8_the_provider_delivers_a_signed_logout_token_when_a_session_ends() {
    let receiver = LogoutReceiver::start(&[]).await;
    let app = app_with_backchannel_client(&receiver);
    let (tokens, cookie) = rp_sign_in(&app, &receiver, "admin").await;
    let id_token = tokens["id_token"].as_str().unwrap();
    let id_claims = verify(&app, id_token, Some(RP_CLIENT_ID)).await;
    let access_claims = verify(
        &app,
        tokens["access_token"].as_str().unwrap(),
        Some(RP_CLIENT_ID),
    )
    .await;
    let sid = id_claims["sid"].as_str().unwrap();
    assert!(sid.starts_with("ses_"), "{sid}");
    assert_eq!(access_claims["sid"], sid, "both tokens name the session");

    let logout = format!(
        "/dev-idp/oidc/logout?{}",
        encode(&[("id_token_hint", id_token)])
    );
    let response = get_with_cookie(&app, &logout, Some(&cookie)).await;
    assert_eq!(response.status(), StatusCode::OK);

    let posts = receiver.wait_for(1).await;
    let claims = verified_logout_token(&app, &posts[0]).await;
    assert_eq!(claims["sub"], id_claims["sub"]);
    assert_eq!(claims["sid"], sid);
    let deliveries = wait_for_deliveries(&app, 1).await;
    assert_eq!(deliveries.len(), 1, "{deliveries:?}");
    assert_eq!(receiver.posts().len(), 1, "exactly one logout token");
    assert_eq!(deliveries[0]["client_id"], RP_CLIENT_ID);
    assert_eq!(deliveries[0]["session_id"], sid);
    assert_eq!(deliveries[0]["attempts"], 1);
    assert_eq!(deliveries[0]["status"], 200);
    assert_eq!(deliveries[0]["error"], Value::Null);
    assert_rp_refresh_refused(&app, tokens["refresh_token"].as_str().unwrap()).await;

    // A logout token is no access token, even though it names a user and a session.
    let userinfo = send(
        app.clone(),
        Request::get("/dev-idp/userinfo")
            .header(
                "authorization",
                format!("Bearer {}", posts[0].logout_token()),
            )
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(userinfo.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn o8_the_sessions_api_lists_and_revokes_a_users_sessions() {
    let receiver = LogoutReceiver::start(&[]).await;
    let app = app_with_backchannel_client(&receiver);
    let (tokens, _) = rp_sign_in(&app, &receiver, "admin").await;
    let id_claims = verify(&app, tokens["id_token"].as_str().unwrap(), None).await;
    let sid = id_claims["sid"].as_str().unwrap().to_string();
    let token = management_token(&app).await;
    let sessions_of =
        |user: &str, query: &str| format!("/dev-idp/api/v1/users/{user}/sessions{query}");

    let listed = api_json(
        &app,
        "GET",
        &sessions_of(ADMIN_USER_ID, "?page_size=10&filter.status=ACTIVE"),
        &token,
    )
    .await;
    assert_eq!(listed["total_size"], 1, "{listed}");
    assert_eq!(listed["next_page_token"], "");
    assert_eq!(listed["prev_page_token"], "");
    let session = &listed["sessions"][0];
    assert_eq!(session["session_id"], sid.as_str());
    assert_eq!(session["user_id"], ADMIN_USER_ID);
    assert_eq!(session["status"], "ACTIVE");
    assert_eq!(session["organization_id"], DEFAULT_ORG);
    assert_eq!(session["authenticated_organizations"], json!([DEFAULT_ORG]));
    assert_eq!(
        session["authenticated_clients"],
        json!([{ "client_id": RP_CLIENT_ID, "organization_id": DEFAULT_ORG }])
    );
    let device = &session["device"];
    assert_eq!(device["user_agent"], CHROME_ON_WINDOWS);
    assert_eq!(device["browser"], "Chrome");
    assert_eq!(device["browser_version"], "124.0.6367.91");
    assert_eq!(device["os"], "Windows");
    assert_eq!(device["os_version"], "10.0");
    assert_eq!(device["device_type"], "desktop");
    assert_eq!(device["location"]["city"], "");
    for field in [
        "created_at",
        "updated_at",
        "last_active_at",
        "idle_expires_at",
        "absolute_expires_at",
    ] {
        let at = session[field].as_str().unwrap_or_default();
        assert!(at.len() == 20 && at.ends_with('Z'), "{field}: {session}");
    }
    assert_eq!(session["logout_at"], Value::Null);
    assert_eq!(session["expired_at"], Value::Null);
    let one = api_json(
        &app,
        "GET",
        &format!("/dev-idp/api/v1/sessions/{sid}"),
        &token,
    )
    .await;
    assert_eq!(&one, session);

    let revoked = api_json(&app, "POST", &sessions_of(ADMIN_USER_ID, "/revoke"), &token).await;
    assert_eq!(revoked["total_revoked"], 1, "{revoked}");
    let revoked_session = &revoked["revoked_sessions"][0];
    assert_eq!(revoked_session["session_id"], sid.as_str());
    assert_eq!(revoked_session["status"], "REVOKED");
    assert!(
        revoked_session["logout_at"].is_string(),
        "{revoked_session}"
    );
    assert!(revoked_session.get("device").is_none());
    assert!(revoked_session.get("authenticated_clients").is_none());

    let posts = receiver.wait_for(1).await;
    let claims = verified_logout_token(&app, &posts[0]).await;
    assert_eq!(claims["sid"], sid.as_str());
    assert_eq!(claims["sub"], ADMIN_USER_ID);
    assert_rp_refresh_refused(&app, tokens["refresh_token"].as_str().unwrap()).await;
    let after = api_json(
        &app,
        "GET",
        &format!("/dev-idp/api/v1/sessions/{sid}"),
        &token,
    )
    .await;
    assert_eq!(after["status"], "REVOKED");
    let active = api_json(
        &app,
        "GET",
        &sessions_of(ADMIN_USER_ID, "?filter.status=active"),
        &token,
    )
    .await;
    assert_eq!(active["total_size"], 0, "the filter takes any case");
    let all = api_json(&app, "GET", &sessions_of(ADMIN_USER_ID, ""), &token).await;
    assert_eq!(all["total_size"], 1);

    // One session by id: the member's, revoked alone; revoking it again changes nothing.
    let (member_tokens, _) = rp_sign_in(&app, &receiver, "member").await;
    let member_sid = verify(&app, member_tokens["id_token"].as_str().unwrap(), None).await["sid"]
        .as_str()
        .unwrap()
        .to_string();
    let revoke_one = format!("/dev-idp/api/v1/sessions/{member_sid}/revoke");
    let revoked = api_json(&app, "POST", &revoke_one, &token).await;
    assert_eq!(revoked["revoked_session"]["status"], "REVOKED");
    assert_eq!(revoked["revoked_session"]["user_id"], MEMBER_USER_ID);
    let posts = receiver.wait_for(2).await;
    let claims = verified_logout_token(&app, &posts[1]).await;
    assert_eq!(claims["sid"], member_sid.as_str());
    let again = api_json(&app, "POST", &revoke_one, &token).await;
    assert_eq!(again["revoked_session"], revoked["revoked_session"]);

    // Ids are checked before they are looked up.
    for (uri, status, code) in [
        (
            "/dev-idp/api/v1/sessions/nope".to_string(),
            StatusCode::BAD_REQUEST,
            3,
        ),
        (
            "/dev-idp/api/v1/sessions/ses_12x/revoke".into(),
            StatusCode::BAD_REQUEST,
            3,
        ),
        (sessions_of("usr_", ""), StatusCode::BAD_REQUEST, 3),
        (
            sessions_of(ADMIN_USER_ID, "?filter.status=gone"),
            StatusCode::BAD_REQUEST,
            3,
        ),
        (
            "/dev-idp/api/v1/sessions/ses_1".into(),
            StatusCode::NOT_FOUND,
            5,
        ),
        (sessions_of("usr_999", ""), StatusCode::NOT_FOUND, 5),
    ] {
        let method = if uri.ends_with("/revoke") {
            "POST"
        } else {
            "GET"
        };
        let response = api_call(&app, method, &uri, Some(&token)).await;
        assert_eq!(response.status(), status, "{uri}");
        assert_eq!(json(response).await["code"], code, "{uri}");
    }
}

#[tokio::test]
async fn o8_control_end_sessions_ends_every_session_of_a_persona_and_delivers() {
    let receiver = LogoutReceiver::start(&[]).await;
    let app = app_with_backchannel_client(&receiver);
    let mut admin_sids = Vec::new();
    for _ in 0..2 {
        let (tokens, _) = rp_sign_in(&app, &receiver, "admin").await;
        let claims = verify(&app, tokens["id_token"].as_str().unwrap(), None).await;
        admin_sids.push(claims["sid"].as_str().unwrap().to_string());
    }
    assert_ne!(admin_sids[0], admin_sids[1], "two provider sessions");
    rp_sign_in(&app, &receiver, "member").await;

    let refused = post_form(
        &app,
        "/dev-idp/_control",
        &[("end_sessions", "nobody")],
        &[],
    )
    .await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let ended = post_form(&app, "/dev-idp/_control", &[("end_sessions", "admin")], &[]).await;
    assert_eq!(ended.status(), StatusCode::OK);

    let posts = receiver.wait_for(2).await;
    let mut delivered_sids = Vec::new();
    for post in &posts {
        let claims = verified_logout_token(&app, post).await;
        assert_eq!(claims["sub"], ADMIN_USER_ID);
        delivered_sids.push(claims["sid"].as_str().unwrap().to_string());
    }
    delivered_sids.sort();
    admin_sids.sort();
    assert_eq!(delivered_sids, admin_sids);
    assert_eq!(wait_for_deliveries(&app, 2).await.len(), 2);
    assert_eq!(
        receiver.posts().len(),
        2,
        "the member's session was left alone"
    );

    let token = management_token(&app).await;
    let admin = api_json(
        &app,
        "GET",
        &format!("/dev-idp/api/v1/users/{ADMIN_USER_ID}/sessions?filter.status=REVOKED"),
        &token,
    )
    .await;
    assert_eq!(admin["total_size"], 2, "{admin}");
    let member = api_json(
        &app,
        "GET",
        &format!("/dev-idp/api/v1/users/{MEMBER_USER_ID}/sessions?filter.status=ACTIVE"),
        &token,
    )
    .await;
    assert_eq!(member["total_size"], 1, "{member}");
}

#[tokio::test]
async fn o8_a_logout_token_is_retried_after_server_errors_and_each_delivery_is_listed() {
    // Two 503s then 200 for the first session; a 400 for the second is final.
    let receiver = LogoutReceiver::start(&[503, 503, 200, 400]).await;
    let app = app_with_backchannel_client(&receiver);
    let (tokens, _) = rp_sign_in(&app, &receiver, "admin").await;
    let sid = verify(&app, tokens["id_token"].as_str().unwrap(), None).await["sid"].clone();

    post_form(&app, "/dev-idp/_control", &[("end_sessions", "admin")], &[]).await;
    let posts = receiver.wait_for(3).await;
    let deliveries = wait_for_deliveries(&app, 1).await;
    assert_eq!(deliveries.len(), 1, "{deliveries:?}");
    let delivery = &deliveries[0];
    assert_eq!(delivery["attempts"], 3, "{delivery}");
    assert_eq!(delivery["status"], 200);
    assert_eq!(delivery["error"], Value::Null);
    assert_eq!(delivery["session_id"], sid);
    assert_eq!(delivery["client_id"], RP_CLIENT_ID);
    assert_eq!(delivery["uri"], receiver.logout_uri());
    assert!(delivery["at"].as_str().unwrap_or_default().ends_with('Z'));
    assert!(
        posts
            .iter()
            .all(|p| p.logout_token() == posts[0].logout_token()),
        "a retry resends the same token"
    );

    rp_sign_in(&app, &receiver, "admin").await;
    post_form(&app, "/dev-idp/_control", &[("end_sessions", "admin")], &[]).await;
    let deliveries = wait_for_deliveries(&app, 2).await;
    assert_eq!(deliveries[1]["attempts"], 1, "a 4xx is not retried");
    assert_eq!(deliveries[1]["status"], 400);
    assert_eq!(receiver.posts().len(), 4);
}

#[tokio::test]
async fn o8_an_unreachable_receiver_is_tried_three_times_and_the_error_is_listed() {
    // A port nobody listens on: every attempt is refused at once.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let receiver = LogoutReceiver {
        base,
        posts: Arc::default(),
    };
    let app = app_with_backchannel_client(&receiver);
    rp_sign_in(&app, &receiver, "member").await;
    post_form(
        &app,
        "/dev-idp/_control",
        &[("end_sessions", "member")],
        &[],
    )
    .await;
    let deliveries = wait_for_deliveries(&app, 1).await;
    assert_eq!(deliveries[0]["attempts"], 3, "{deliveries:?}");
    assert_eq!(deliveries[0]["status"], Value::Null);
    assert!(
        !deliveries[0]["error"]
            .as_str()
            .unwrap_or_default()
            .is_empty(),
        "{deliveries:?}"
    );
}

/// The admin signed in to the app's own client: its tokens and the session id they carry.
async fn admin_tokens_and_sid(app: &Router) -> (Value, String) {
    let (code, _) = code_for(app, "admin").await;
    let user_tokens = json(exchange(app, &code).await).await;
    let sid = verify(app, user_tokens["id_token"].as_str().unwrap(), None).await["sid"]
        .as_str()
        .unwrap()
        .to_string();
    (user_tokens, sid)
}

#[tokio::test]
async fn o8_the_sessions_api_needs_an_environment_management_token() {
    let app = dev_app();
    let (user_tokens, sid) = admin_tokens_and_sid(&app).await;
    let endpoints = [
        (
            "GET",
            format!("/dev-idp/api/v1/users/{ADMIN_USER_ID}/sessions"),
        ),
        (
            "POST",
            format!("/dev-idp/api/v1/users/{ADMIN_USER_ID}/sessions/revoke"),
        ),
        ("GET", format!("/dev-idp/api/v1/sessions/{sid}")),
        ("POST", format!("/dev-idp/api/v1/sessions/{sid}/revoke")),
    ];
    let user_access_token = user_tokens["access_token"].as_str().unwrap();
    for (method, uri) in &endpoints {
        for token in [None, Some("not-a-token"), Some(user_access_token)] {
            let response = api_call(&app, method, uri, token).await;
            assert_eq!(
                response.status(),
                StatusCode::UNAUTHORIZED,
                "{method} {uri} {token:?}"
            );
            assert_eq!(json(response).await["code"], 16);
        }
    }
    // Nothing was revoked by the refused calls.
    let token = management_token(&app).await;
    let session = api_json(
        &app,
        "GET",
        &format!("/dev-idp/api/v1/sessions/{sid}"),
        &token,
    )
    .await;
    assert_eq!(session["status"], "ACTIVE");
    assert_eq!(
        session["authenticated_clients"][0]["client_id"], CLIENT_ID,
        "the app's own client got tokens in it"
    );
}

/// A unary gRPC request to the provider's SessionService: `message` is the protobuf body.
async fn grpc_call(
    app: &Router,
    method: &str,
    message: &[u8],
    token: Option<&str>,
    content_type: &str,
) -> Response<Body> {
    let mut framed = vec![0u8];
    framed.extend_from_slice(&(message.len() as u32).to_be_bytes());
    framed.extend_from_slice(message);
    let mut request = Request::post(format!(
        "/dev-idp/scalekit.v1.sessions.SessionService/{method}"
    ))
    .header("content-type", content_type);
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    send(app.clone(), request.body(Body::from(framed)).unwrap()).await
}

/// A protobuf message with one string field 1, as SessionDetailsRequest is.
fn field_one(text: &str) -> Vec<u8> {
    let mut message = vec![0x0a, text.len() as u8];
    message.extend_from_slice(text.as_bytes());
    message
}

#[tokio::test]
async fn o8_the_grpc_session_service_answers_with_trailers_and_refuses_like_grpc() {
    use http_body_util::BodyExt;
    let app = dev_app();
    let (user_tokens, sid) = admin_tokens_and_sid(&app).await;
    let request = field_one(&sid);
    let grpc = "application/grpc";
    let user_token = user_tokens["access_token"].as_str().unwrap();

    // Not gRPC at all: plain HTTP 415, as the gRPC spec says.
    let json_call = grpc_call(&app, "GetSession", &request, None, "application/json").await;
    assert_eq!(json_call.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    // No token or a user's token: UNAUTHENTICATED (16), trailers-only.
    for token in [None, Some(user_token)] {
        let refused = grpc_call(&app, "GetSession", &request, token, grpc).await;
        assert_eq!(refused.status(), StatusCode::OK);
        assert_eq!(refused.headers()["grpc-status"], "16", "{token:?}");
    }

    let token = management_token(&app).await;
    let unknown = grpc_call(&app, "GetSession", &field_one("ses_1"), Some(&token), grpc).await;
    assert_eq!(unknown.headers()["grpc-status"], "5");
    let malformed = grpc_call(&app, "GetSession", &field_one("nope"), Some(&token), grpc).await;
    assert_eq!(malformed.headers()["grpc-status"], "3");
    assert!(malformed.headers()["grpc-message"]
        .to_str()
        .unwrap()
        .contains("session_id"));
    let no_method = grpc_call(&app, "DropTables", &request, Some(&token), grpc).await;
    assert_eq!(no_method.headers()["grpc-status"], "12");

    let answered = grpc_call(&app, "GetSession", &request, Some(&token), grpc).await;
    assert_eq!(answered.headers()["content-type"], grpc);
    assert!(answered.headers().get("grpc-status").is_none());
    let collected = answered.into_body().collect().await.unwrap();
    let trailers = collected.trailers().cloned().expect("trailers");
    assert_eq!(trailers["grpc-status"], "0");
    let body = collected.to_bytes();
    assert_eq!(body[0], 0, "uncompressed");
    let length = u32::from_be_bytes([body[1], body[2], body[3], body[4]]) as usize;
    assert_eq!(length, body.len() - 5);
    // SessionDetails starts with field 1, the session id; its status (field 11) is in there too.
    assert!(body[5..].starts_with(&field_one(&sid)));
    assert!(body.windows(6).any(|w| w == b"ACTIVE"));
}
