#![cfg(feature = "ssr")]

//! The app against a scripted provider (not the development one): each test decides exactly what
//! the token endpoint answers, to prove the negative cases end to end (checklist I4, I11, I15, R6,
//! L9-adjacent token handling). Keys are minted locally.

use crate::common;

use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use common::browser::{location, query_param, serve_app, Browser};
use scalekit_dev_idp::KeyRing;
use serde_json::{json, Value};

const CLIENT_ID: &str = "skc_mock_client";
const CLIENT_SECRET: &str = "mock-secret-0123456789";

#[derive(Default)]
struct Script {
    /// Changes to the sign-in ID token's claims.
    login_id_token: Option<fn(&mut Value)>,
    /// The subject the refreshed ID token names (default: the same user).
    refresh_id_sub: Option<&'static str>,
    /// Rotate the signing key before answering a refresh (the new key is not yet cached).
    rotate_before_refresh: bool,
    /// Sign the login ID token with `alg: none` instead.
    unsigned_login: bool,
    /// The audience of the refreshed access token (default: our client).
    refresh_access_aud: Option<&'static str>,
}

struct Mock {
    base: String,
    ring: Mutex<KeyRing>,
    nonce: Mutex<String>,
    script: Mutex<Script>,
    key_fetches: Mutex<usize>,
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

impl Mock {
    fn access_token(&self, sub: &str) -> String {
        self.access_token_for(sub, CLIENT_ID)
    }

    fn access_token_for(&self, sub: &str, aud: &str) -> String {
        let now = now();
        self.ring
            .lock()
            .unwrap()
            .sign(&json!({
                "iss": self.base, "aud": [aud], "sub": sub, "oid": "org_1",
                "iat": now, "exp": now + 30, "permissions": ["organization:read"]
            }))
            .unwrap()
    }

    fn id_token(&self, sub: &str, nonce: Option<&str>, access_token: &str) -> Value {
        let now = now();
        let mut claims = json!({
            "iss": self.base, "aud": [CLIENT_ID], "azp": CLIENT_ID, "sub": sub,
            "iat": now, "exp": now + 3600, "name": "Mock User", "email": "mock@example.com",
            "at_hash": scalekit_auth::protocol::half_hash(access_token),
        });
        if let Some(nonce) = nonce {
            claims["nonce"] = json!(nonce);
        }
        claims
    }
}

async fn discovery(State(mock): State<Arc<Mock>>) -> Json<Value> {
    let base = &mock.base;
    Json(json!({
        "issuer": base,
        "authorization_endpoint": format!("{base}/oauth/authorize"),
        "token_endpoint": format!("{base}/oauth/token"),
        "jwks_uri": format!("{base}/keys"),
        "end_session_endpoint": format!("{base}/oidc/logout"),
        "code_challenge_methods_supported": ["S256"],
    }))
}

async fn keys(State(mock): State<Arc<Mock>>) -> Json<Value> {
    *mock.key_fetches.lock().unwrap() += 1;
    Json(mock.ring.lock().unwrap().jwks())
}

fn unsigned(claims: &Value) -> String {
    use base64::Engine;
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    format!(
        "{}.{}.",
        engine.encode(br#"{"alg":"none","typ":"JWT"}"#),
        engine.encode(claims.to_string())
    )
}

async fn token(
    State(mock): State<Arc<Mock>>,
    Form(form): Form<std::collections::HashMap<String, String>>,
) -> Json<Value> {
    assert_eq!(
        form.get("client_secret").map(String::as_str),
        Some(CLIENT_SECRET)
    );
    let grant = form.get("grant_type").cloned().unwrap_or_default();
    if grant == "refresh_token" {
        let rotate = mock.script.lock().unwrap().rotate_before_refresh;
        if rotate {
            mock.ring.lock().unwrap().rotate().unwrap();
        }
        let sub = mock
            .script
            .lock()
            .unwrap()
            .refresh_id_sub
            .unwrap_or("usr_1");
        let aud = mock.script.lock().unwrap().refresh_access_aud;
        let access = mock.access_token_for("usr_1", aud.unwrap_or(CLIENT_ID));
        let id = mock.id_token(sub, None, &access);
        let id = mock.ring.lock().unwrap().sign(&id).unwrap();
        return Json(json!({
            "access_token": access, "id_token": id, "refresh_token": "rt-2",
            "token_type": "Bearer", "expires_in": 30
        }));
    }
    assert!(
        form.get("code_verifier").is_some_and(|v| v.len() >= 43),
        "L9: PKCE verifier sent"
    );
    let access = mock.access_token("usr_1");
    let nonce = mock.nonce.lock().unwrap().clone();
    let mut id = mock.id_token("usr_1", Some(&nonce), &access);
    let script = mock.script.lock().unwrap();
    if let Some(change) = script.login_id_token {
        change(&mut id);
    }
    let id = if script.unsigned_login {
        unsigned(&id)
    } else {
        mock.ring.lock().unwrap().sign(&id).unwrap()
    };
    Json(json!({
        "access_token": access, "id_token": id, "refresh_token": "rt-1",
        "token_type": "Bearer", "expires_in": 30
    }))
}

async fn start_mock(script: Script) -> Arc<Mock> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let key_file = std::path::PathBuf::from(common::test_state_dir())
        .join(format!("mock-keys-{}.json", uuid::Uuid::new_v4()));
    let mock = Arc::new(Mock {
        base,
        ring: Mutex::new(KeyRing::load_or_create(&key_file).unwrap()),
        nonce: Mutex::new(String::new()),
        script: Mutex::new(script),
        key_fetches: Mutex::new(0),
    });
    let app = Router::new()
        .route("/.well-known/openid-configuration", get(discovery))
        .route("/keys", get(keys))
        .route("/oauth/token", post(token))
        .with_state(mock.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    mock
}

/// Starts the app against the mock and runs a sign-in up to the callback's response.
async fn sign_in(script: Script) -> (Arc<Mock>, Browser, reqwest::Response) {
    let mock = start_mock(script).await;
    let app = serve_app(&[
        ("SCALEKIT_ENVIRONMENT_URL", mock.base.as_str()),
        ("SCALEKIT_CLIENT_ID", CLIENT_ID),
        ("SCALEKIT_CLIENT_SECRET", CLIENT_SECRET),
    ])
    .await;
    let mut browser = Browser::new(&app);
    let authorize = browser.start_login(&[("next", "/dashboard")]).await;
    assert!(authorize.starts_with(&format!("{}/oauth/authorize?", mock.base)));
    *mock.nonce.lock().unwrap() = query_param(&authorize, "nonce").unwrap();
    let state = query_param(&authorize, "state").unwrap();
    let callback = browser
        .get(&format!("/auth/callback?code=mock-code&state={state}"))
        .await;
    (mock, browser, callback)
}

#[tokio::test]
async fn oidcc_client_test_signs_in_against_a_third_party_provider() {
    let (_mock, mut browser, callback) = sign_in(Script::default()).await;
    assert_eq!(callback.status(), 303);
    assert_eq!(location(&callback), "/dashboard");
    let page = browser.get("/dashboard").await;
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("Mock User"));
}

#[tokio::test]
async fn i11_oidcc_client_test_nonce_invalid_is_refused_at_the_callback() {
    let (_mock, browser, callback) = sign_in(Script {
        login_id_token: Some(|claims| claims["nonce"] = json!("someone-elses-nonce")),
        ..Script::default()
    })
    .await;
    assert_eq!(callback.status(), 400);
    assert!(
        !browser.jar.contains_key("__Host-skit_session"),
        "nothing stored"
    );
}

#[tokio::test]
async fn i2_oidcc_client_test_idtoken_sig_none_is_refused_at_the_callback() {
    let (_mock, browser, callback) = sign_in(Script {
        unsigned_login: true,
        ..Script::default()
    })
    .await;
    assert_eq!(callback.status(), 502);
    assert!(!browser.jar.contains_key("__Host-skit_session"));
}

#[tokio::test]
async fn i6_oidcc_client_test_invalid_aud_is_refused_at_the_callback() {
    let (_mock, _browser, callback) = sign_in(Script {
        login_id_token: Some(|claims| claims["aud"] = json!(["skc_someone_else"])),
        ..Script::default()
    })
    .await;
    assert_eq!(callback.status(), 502);
    let html = callback.text().await.unwrap();
    assert!(html.contains("could not be verified") && html.contains("Try again"));
}

#[tokio::test]
async fn i15_r6_oidcc_client_test_refresh_token_invalid_sub_ends_the_session() {
    let (_mock, mut browser, callback) = sign_in(Script {
        refresh_id_sub: Some("usr_someone_else"),
        ..Script::default()
    })
    .await;
    assert_eq!(callback.status(), 303);
    // The mock's access tokens live 30 s: always inside the refresh window.
    let page = browser.get("/dashboard").await;
    assert_eq!(
        page.status(),
        302,
        "signed out, not signed in as someone else"
    );
    assert!(!browser.jar.contains_key("__Host-skit_session"));
}

/// A refreshed access token that fails validation (here: for another client) is the provider's
/// answer for this session, not an outage: the session ends rather than lingering as
/// "provider unavailable" until its access token expires.
#[tokio::test]
async fn r6_a_refreshed_access_token_that_fails_validation_ends_the_session() {
    let (_mock, mut browser, callback) = sign_in(Script {
        refresh_access_aud: Some("skc_another_client"),
        ..Script::default()
    })
    .await;
    assert_eq!(callback.status(), 303);
    let page = browser.get("/dashboard").await;
    assert_eq!(page.status(), 302, "signed out");
    assert_eq!(location(&page), "/login?next=/dashboard&error=expired");
    assert!(!browser.jar.contains_key("__Host-skit_session"));
}

#[tokio::test]
async fn i4_oidcc_client_test_signing_key_rotation_is_followed_on_refresh() {
    let (mock, mut browser, callback) = sign_in(Script {
        rotate_before_refresh: true,
        ..Script::default()
    })
    .await;
    assert_eq!(callback.status(), 303);
    let fetches_before = *mock.key_fetches.lock().unwrap();
    let page = browser.get("/dashboard").await;
    assert_eq!(
        page.status(),
        200,
        "the refreshed tokens, signed with the new key, are accepted"
    );
    assert_eq!(
        *mock.key_fetches.lock().unwrap(),
        fetches_before + 1,
        "one refetch"
    );
}

#[tokio::test]
async fn h2_forms_may_post_to_the_provider_origin_and_nowhere_else() {
    let mock = start_mock(Script::default()).await;
    let app = serve_app(&[
        ("SCALEKIT_ENVIRONMENT_URL", mock.base.as_str()),
        ("SCALEKIT_CLIENT_ID", CLIENT_ID),
        ("SCALEKIT_CLIENT_SECRET", CLIENT_SECRET),
    ])
    .await;
    let mut browser = Browser::new(&app);
    let page = browser.get("/login").await;
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        csp.contains(&format!("form-action 'self' {};", mock.base)),
        "{csp}"
    );
}
