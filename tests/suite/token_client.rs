#![cfg(feature = "ssr")]
//! The token-endpoint client against the development provider: the answers are sorted into
//! "sign in again" (invalid_grant), "our configuration is wrong" and "try again later".

use crate::common;

use common::provider::{
    authorization_code, control, start_provider, Provider, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI,
    VERIFIER,
};
use scalekit_auth::protocol::{ClientCredentials, TokenClient, TokenEndpointError};
use scalekit_auth::Secret;

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

// ---------------------------------------------------------------------------------------------
// Checklist L10 (and I14): the client the app reaches its provider with.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::routing::{any, get};
use axum::Router;
use scalekit_auth::protocol::{provider_http_client, read_limited, MAX_PROVIDER_RESPONSE_BYTES};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    base
}

/// A provider whose every endpoint redirects (307 keeps the method and body) to `/elsewhere`,
/// which counts its visitors.
async fn redirecting_provider() -> (String, Arc<AtomicUsize>) {
    let visits = Arc::new(AtomicUsize::new(0));
    let counter = visits.clone();
    let router = Router::new()
        .route(
            "/elsewhere",
            any(move || {
                counter.fetch_add(1, Ordering::SeqCst);
                async { axum::Json(serde_json::json!({"keys": [], "access_token": "x"})) }
            }),
        )
        .fallback(|| async {
            (
                http::StatusCode::TEMPORARY_REDIRECT,
                [(http::header::LOCATION, "/elsewhere")],
            )
        });
    (serve(router).await, visits)
}

#[tokio::test]
async fn l10_the_provider_client_follows_no_redirects() {
    let (base, visits) = redirecting_provider().await;
    let client = provider_http_client().unwrap();
    let response = client
        .get(format!("{base}/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 307, "the redirect is the answer");
    assert_eq!(response.headers()["location"], "/elsewhere");

    // The token endpoint redirecting elsewhere is a failed call, not a request sent on with the
    // client's secret and the refresh token.
    let tokens = TokenClient::new(
        client,
        format!("{base}/oauth/token"),
        ClientCredentials {
            client_id: CLIENT_ID.into(),
            client_secret: Secret::new(CLIENT_SECRET),
        },
    );
    assert!(matches!(
        tokens.refresh("a-refresh-token").await,
        Err(TokenEndpointError::Unavailable(_))
    ));
    assert!(matches!(
        tokens.exchange_code("a-code", REDIRECT_URI, VERIFIER).await,
        Err(TokenEndpointError::Unavailable(_))
    ));
    assert_eq!(
        visits.load(Ordering::SeqCst),
        0,
        "the target was never reached"
    );
}

#[tokio::test]
async fn l10_the_provider_client_gives_up_on_a_provider_that_never_answers() {
    // Accepts connections and reads, but never says a word.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let client = provider_http_client().unwrap();
    // (A connect timeout cannot be provoked reliably on loopback; the source rule
    // `l10_one_provider_http_client_…` checks the builder sets one.)
    let started = Instant::now();
    let error = client
        .get(format!("http://{addr}/keys"))
        .send()
        .await
        .expect_err("a silent provider is an error, not a hang");
    let waited = started.elapsed();
    assert!(error.is_timeout(), "{error:?}");
    assert!(
        waited >= Duration::from_secs(9) && waited < Duration::from_secs(13),
        "gave up after {waited:?}"
    );
}

/// Serves one raw HTTP/1.1 answer per connection: `head` then `body`.
async fn raw_server(head: &'static str, body: Vec<u8>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let body = body.clone();
            tokio::spawn(async move {
                let mut request = [0u8; 4096];
                let _ = socket.read(&mut request).await;
                let _ = socket.write_all(head.as_bytes()).await;
                let _ = socket.write_all(&body).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    base
}

#[tokio::test]
async fn l10_provider_answers_are_read_up_to_a_size_cap() {
    let client = provider_http_client().unwrap();
    let limit = MAX_PROVIDER_RESPONSE_BYTES;

    // Announced too large: refused before reading.
    let announced =
        serve(Router::new().route("/keys", get(move || async move { vec![b'x'; limit + 1] })))
            .await;
    let response = client
        .get(format!("{announced}/keys"))
        .send()
        .await
        .unwrap();
    assert!(read_limited(response, limit).await.is_err());

    // Not announced (chunked): refused once the cap is passed.
    let mut chunked = Vec::new();
    for _ in 0..(limit / 4096 + 2) {
        chunked.extend_from_slice(b"1000\r\n");
        chunked.extend_from_slice(&[b'x'; 4096]);
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    let streamed = raw_server(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n",
        chunked,
    )
    .await;
    let response = client.get(format!("{streamed}/keys")).send().await.unwrap();
    assert!(response.content_length().is_none());
    let error = read_limited(response, limit).await.unwrap_err();
    assert!(error.contains("larger than"), "{error}");

    // The token endpoint goes through the same cap.
    let huge = serve(Router::new().route(
        "/oauth/token",
        axum::routing::post(move || async move {
            let mut body = b"{\"access_token\":\"".to_vec();
            body.extend(std::iter::repeat_n(b'a', limit));
            body.extend_from_slice(b"\",\"token_type\":\"Bearer\"}");
            ([(http::header::CONTENT_TYPE, "application/json")], body)
        }),
    ))
    .await;
    let tokens = TokenClient::new(
        client.clone(),
        format!("{huge}/oauth/token"),
        ClientCredentials {
            client_id: CLIENT_ID.into(),
            client_secret: Secret::new(CLIENT_SECRET),
        },
    );
    assert!(matches!(
        tokens.refresh("rt").await,
        Err(TokenEndpointError::Unavailable(_))
    ));

    // Within the cap, the body is read whole.
    let small = serve(Router::new().route("/keys", get(|| async { "{\"keys\":[]}" }))).await;
    let response = client.get(format!("{small}/keys")).send().await.unwrap();
    assert_eq!(
        read_limited(response, limit).await.unwrap(),
        b"{\"keys\":[]}"
    );
}

/// One request the provider received.
#[derive(Clone, Debug)]
struct Seen {
    method: String,
    path: String,
    /// The app's provider client identifies itself; the test's own clients send no User-Agent.
    from_app: bool,
}

/// The development provider on its own port, registered for the app at `app_base`, recording
/// every request it gets.
async fn recording_provider(app_base: &str) -> (String, Arc<Mutex<Vec<Seen>>>) {
    use scalekit_dev_idp::IdpSettings;
    use scalekit_dev_idp::{standalone_router, DevIdp};

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let mut settings = IdpSettings::default();
    settings.register_app_uris(CLIENT_ID, &format!("{app_base}/auth/callback"), app_base);
    let key_file = std::path::PathBuf::from(common::test_state_dir())
        .join("recording-provider")
        .join("keys.json");
    let idp = DevIdp::new(base.clone(), String::new(), settings, &key_file).unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let router = standalone_router(Arc::new(idp)).layer(axum::middleware::from_fn(
        move |request: axum::extract::Request, next: axum::middleware::Next| {
            let log = log.clone();
            async move {
                let from_app = request
                    .headers()
                    .get(http::header::USER_AGENT)
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|ua| ua.starts_with("leptos-scalekit/"));
                log.lock().unwrap().push(Seen {
                    method: request.method().to_string(),
                    path: request.uri().path().to_string(),
                    from_app,
                });
                next.run(request).await
            }
        },
    ));
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (base, seen)
}

/// A whole session against the recording provider: sign-in, a guarded page, token validation, a
/// refresh, an API call and sign-out. Returns the provider's base URL, its discovery document and
/// what it saw.
async fn a_whole_session() -> (String, serde_json::Value, Vec<Seen>) {
    use common::browser::{api_token_from, location, serve_app_on, Browser};

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let app_base = format!("http://{}", listener.local_addr().unwrap());
    let (provider, seen) = recording_provider(&app_base).await;
    let app = serve_app_on(
        listener,
        &[
            ("SCALEKIT_ENVIRONMENT_URL", provider.as_str()),
            ("SCALEKIT_CLIENT_ID", CLIENT_ID),
            ("SCALEKIT_CLIENT_SECRET", CLIENT_SECRET),
        ],
    )
    .await;
    let mut browser = Browser::new(&app);
    let callback = browser.sign_in_as("admin", "/dashboard").await;
    assert_eq!(callback.status(), 303);
    assert_eq!(location(&callback), "/dashboard");
    let dashboard = browser.get("/dashboard").await;
    assert_eq!(dashboard.status(), 200);
    let html = dashboard.text().await.unwrap();
    assert!(html.contains("Ada Admin"), "the profile, from the ID token");
    let check: serde_json::Value = browser.call("validate_token").await.json().await.unwrap();
    assert_eq!(check["valid"], true, "{check}");
    assert_eq!(browser.call("refresh_session").await.status(), 200);
    let token = api_token_from(
        &provider,
        "org_100000000000000001",
        &["read:deployments"],
        &app.base,
    )
    .await;
    let api = reqwest::Client::new()
        .get(format!("{}/api/v1/deployments", app.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), 200);
    let logout = browser.post_form("/_app/logout", &[]).await;
    assert_eq!(logout.status(), 303);
    assert!(location(&logout).starts_with(&format!("{provider}/oidc/logout?")));

    let discovery: serde_json::Value =
        reqwest::get(format!("{provider}/.well-known/openid-configuration"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    let seen = seen.lock().unwrap().clone();
    (provider, discovery, seen)
}

/// The path of a discovered endpoint on `provider`.
fn endpoint_path(provider: &str, discovery: &serde_json::Value, field: &str) -> String {
    let url = discovery[field]
        .as_str()
        .unwrap_or_else(|| panic!("{field} in {discovery}"));
    url.strip_prefix(provider)
        .unwrap_or_else(|| panic!("{field} {url} is on the provider"))
        .to_string()
}

/// Checklist L10: through a whole session the app calls its provider only at the endpoints
/// discovery named (and the discovery document itself); it never calls the endpoints that are
/// the browser's to visit.
#[tokio::test]
async fn l10_the_app_calls_only_the_endpoints_discovery_names() {
    let (provider, discovery, seen) = a_whole_session().await;
    let from_app: Vec<&Seen> = seen.iter().filter(|s| s.from_app).collect();
    assert!(
        seen.iter().any(|s| !s.from_app),
        "the browser's own visits are told apart: {seen:?}"
    );
    let discovered: Vec<String> = discovery
        .as_object()
        .unwrap()
        .values()
        .filter_map(|v| v.as_str())
        .filter_map(|url| url.strip_prefix(provider.as_str()))
        .filter(|path| path.starts_with('/'))
        .map(str::to_string)
        .chain(["/.well-known/openid-configuration".to_string()])
        .collect();
    for call in &from_app {
        assert!(
            discovered.contains(&call.path),
            "{} {} was not discovered (discovered: {discovered:?})",
            call.method,
            call.path
        );
    }
    let called = |field: &str, method: &str| {
        let path = endpoint_path(&provider, &discovery, field);
        from_app
            .iter()
            .filter(|s| s.path == path && s.method == method)
            .count()
    };
    assert!(
        from_app
            .iter()
            .any(|s| s.path == "/.well-known/openid-configuration"),
        "{from_app:?}"
    );
    assert!(called("jwks_uri", "GET") >= 1, "{from_app:?}");
    assert!(
        called("token_endpoint", "POST") >= 2,
        "code and refresh: {from_app:?}"
    );
    assert_eq!(called("revocation_endpoint", "POST"), 1, "{from_app:?}");
    for browsers_own in ["authorization_endpoint", "end_session_endpoint"] {
        let path = endpoint_path(&provider, &discovery, browsers_own);
        assert!(
            !from_app.iter().any(|s| s.path == path),
            "the app itself called {browsers_own}"
        );
    }
}

/// Checklist I14 does not apply because of this: through sign-in, a guarded page, validation, a
/// refresh and sign-out nothing calls the provider's UserInfo endpoint, though discovery offers
/// one; the profile the dashboard shows comes from the validated ID token.
#[tokio::test]
async fn i14_a_whole_session_never_calls_userinfo() {
    let (provider, discovery, seen) = a_whole_session().await;
    let userinfo = endpoint_path(&provider, &discovery, "userinfo_endpoint");
    assert!(
        seen.iter().any(|s| s.from_app),
        "the app was recorded: {seen:?}"
    );
    assert!(
        !seen.iter().any(|s| s.path == userinfo),
        "{userinfo} was called: {seen:?}"
    );
}
