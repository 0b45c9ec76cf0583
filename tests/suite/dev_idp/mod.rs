#![cfg(feature = "ssr")]
//! The development identity provider, mounted in the app at /dev-idp, driven over HTTP the way a
//! relying party and Scalekit's SDKs drive Scalekit.

use crate::common;
use crate::common::{body_text, send};
use axum::body::Body;
use axum::Router;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use http::{Request, Response, StatusCode};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use leptos_scalekit::server::AppService;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

mod authorize;
mod backchannel;
mod controls;
mod endpoints;
mod management;
mod resources;
mod same_origin;
mod sso_routing;
mod standalone;
mod token;
mod user_sessions;
mod webhooks;

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

async fn get_with_cookie(app: &AppService, uri: &str, cookie: Option<&str>) -> Response<Body> {
    let mut request = Request::get(uri);
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    send(app.clone(), request.body(Body::empty()).unwrap()).await
}

async fn post_form(
    app: &AppService,
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
async fn code_for(app: &AppService, persona: &str) -> (String, String) {
    let response = get_with_cookie(app, &authorize_uri(&[("login_hint", persona)]), None).await;
    assert_eq!(response.status(), StatusCode::FOUND);
    let cookie = session_cookie(&response).expect("provider session cookie");
    let url = location(&response);
    assert_eq!(url.as_str().split('?').next(), Some(REDIRECT_URI));
    assert_eq!(query(&url, "state").as_deref(), Some("state-123"));
    (query(&url, "code").expect("code"), cookie)
}

async fn exchange(app: &AppService, code: &str) -> Response<Body> {
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

async fn refresh(app: &AppService, refresh_token: &str) -> Response<Body> {
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
async fn assert_refresh_refused(app: &AppService, refresh_token: &str) {
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
async fn verify(app: &AppService, token: &str, audience: Option<&str>) -> Value {
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

async fn management_token(app: &AppService) -> String {
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

// OpenID Connect Back-Channel Logout 1.0 (O8) and Scalekit's user-sessions API.

const ADMIN_USER_ID: &str = "usr_100000000000000001";
const MEMBER_USER_ID: &str = "usr_100000000000000002";
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
fn app_with_backchannel_client(receiver: &LogoutReceiver) -> AppService {
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
async fn rp_sign_in(app: &AppService, receiver: &LogoutReceiver, persona: &str) -> (Value, String) {
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
async fn assert_rp_refresh_refused(app: &AppService, refresh_token: &str) {
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
async fn api_call(
    app: &AppService,
    method: &str,
    uri: &str,
    token: Option<&str>,
) -> Response<Body> {
    let mut request = Request::builder().method(method).uri(uri);
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    send(app.clone(), request.body(Body::empty()).unwrap()).await
}

async fn api_json(app: &AppService, method: &str, uri: &str, token: &str) -> Value {
    let response = api_call(app, method, uri, Some(token)).await;
    assert_eq!(response.status(), StatusCode::OK, "{method} {uri}");
    json(response).await
}

/// A received logout token, verified with the provider's JWKS like a relying party would
/// (Back-Channel Logout §2.6), with its claims.
async fn verified_logout_token(app: &AppService, post: &ReceivedPost) -> Value {
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
