#![cfg(feature = "ssr")]

//! The machine API over real HTTP (checklist A1–A11): one table over every RFC 6750 case with the
//! exact challenge and body, the RFC 9728 metadata, and tenant isolation. Tokens come from the
//! development provider's client-credentials grant for API clients created through its
//! management API, as a Scalekit organization would.

use crate::common;

use common::browser::{api_token, serve_app, RunningApp};
use serde_json::{json, Value};

const ORG_A: &str = "org_100000000000000001";
const ORG_B: &str = "org_100000000000000002";

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

struct Answer {
    status: u16,
    challenge: Option<String>,
    body: Value,
    cache: Option<String>,
}

async fn call(
    app: &RunningApp,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> Answer {
    let mut request = client().request(method.parse().unwrap(), format!("{}{path}", app.base));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
    };
    Answer {
        status: response.status().as_u16(),
        challenge: header("www-authenticate"),
        cache: header("cache-control"),
        body: response.json().await.unwrap_or(Value::Null),
    }
}

#[tokio::test]
async fn a11_rfc6750_answers_table() {
    let app = serve_app(&[]).await;
    let metadata = format!(
        "resource_metadata=\"{}/.well-known/oauth-protected-resource\"",
        app.base
    );
    let reader = api_token(&app, ORG_A, &["read:deployments"], &app.base).await;
    let other_audience =
        api_token(&app, ORG_A, &["read:deployments"], "https://other.example").await;
    let bearer = |t: &str| format!("Bearer {t}");
    let mut tampered = reader.clone();
    tampered.pop();
    tampered.push(if reader.ends_with('A') { 'B' } else { 'A' });

    /// (name, headers, path, status, exact challenge, error code)
    type Case<'a> = (
        &'a str,
        Vec<(&'a str, String)>,
        &'a str,
        u16,
        Option<String>,
        Option<&'a str>,
    );
    let cases: Vec<Case> = vec![
        (
            "A2 no credentials",
            vec![],
            "/api/v1/deployments",
            401,
            Some(format!("Bearer realm=\"api\", {metadata}")),
            None,
        ),
        (
            "another scheme is no credentials",
            vec![("authorization", "Basic dXNlcjpwdw==".into())],
            "/api/v1/deployments",
            401,
            Some(format!("Bearer realm=\"api\", {metadata}")),
            None,
        ),
        (
            "A1 token in the query",
            vec![],
            "/api/v1/deployments?access_token=abc",
            400,
            None,
            Some("invalid_request"),
        ),
        (
            "A3 header and query",
            vec![("authorization", bearer(&reader))],
            "/api/v1/deployments?access_token=abc",
            400,
            None,
            Some("invalid_request"),
        ),
        (
            "A3 malformed bearer",
            vec![("authorization", "Bearer a b".into())],
            "/api/v1/deployments",
            400,
            None,
            Some("invalid_request"),
        ),
        (
            "A3 empty bearer",
            vec![("authorization", "Bearer ".into())],
            "/api/v1/deployments",
            400,
            None,
            Some("invalid_request"),
        ),
        (
            "A4 bad signature",
            vec![("authorization", bearer(&tampered))],
            "/api/v1/deployments",
            401,
            None,
            Some("invalid_token"),
        ),
        (
            "A4 not a JWT",
            vec![("authorization", bearer("abc.def"))],
            "/api/v1/deployments",
            401,
            None,
            Some("invalid_token"),
        ),
        (
            "A6 another audience",
            vec![("authorization", bearer(&other_audience))],
            "/api/v1/deployments",
            401,
            None,
            Some("invalid_token"),
        ),
        (
            "A5 missing scope",
            vec![("authorization", bearer(&reader))],
            "/api/v1/deployments",
            403,
            None,
            Some("insufficient_scope"),
        ),
        (
            "valid",
            vec![("authorization", bearer(&reader))],
            "/api/v1/deployments",
            200,
            None,
            None,
        ),
    ];
    for (name, headers, path, status, exact_challenge, error) in cases {
        let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let method = if name == "A5 missing scope" {
            "POST"
        } else {
            "GET"
        };
        let body = (method == "POST").then(|| json!({ "name": "web" }));
        let answer = call(&app, method, path, &headers, body).await;
        assert_eq!(answer.status, status, "{name}: {:?}", answer.body);
        assert_eq!(answer.cache.as_deref(), Some("no-store"), "{name}");
        if let Some(exact) = exact_challenge {
            assert_eq!(answer.challenge.as_deref(), Some(exact.as_str()), "{name}");
            assert!(
                answer.body.get("error").is_none(),
                "{name}: no error code without credentials"
            );
        }
        if let Some(error) = error {
            let challenge = answer.challenge.clone().unwrap_or_default();
            assert!(
                challenge.starts_with("Bearer realm=\"api\", "),
                "{name}: {challenge}"
            );
            assert!(
                challenge.contains(&format!("error=\"{error}\"")),
                "{name}: {challenge}"
            );
            assert!(challenge.contains(&metadata), "{name}: {challenge}");
            assert_eq!(
                answer.body["error"], error,
                "{name}: body matches the header"
            );
        }
        if error == Some("insufficient_scope") {
            assert!(answer
                .challenge
                .unwrap()
                .contains("scope=\"deploy:applications\""));
            assert_eq!(answer.body["scope"], "deploy:applications");
        }
    }
}

/// An ID token from the development provider, obtained the way the app would.
async fn id_token(app: &RunningApp) -> String {
    use base64::Engine;
    use sha2::Digest;
    let verifier = "api-test-verifier-0123456789-0123456789-0123";
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(verifier.as_bytes()));
    let redirect_uri = format!("{}/auth/callback", app.base);
    let authorize = client()
        .get(format!("{}/dev-idp/oauth/authorize", app.base))
        .query(&[
            ("response_type", "code"),
            ("client_id", "skc_dev_leptos_scalekit"),
            ("redirect_uri", redirect_uri.as_str()),
            ("scope", "openid email"),
            ("nonce", "n-1"),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
            ("login_hint", "admin"),
        ])
        .send()
        .await
        .unwrap();
    let location = common::browser::location(&authorize);
    let code = common::browser::query_param(&location, "code").unwrap();
    let tokens: Value = client()
        .post(format!("{}/dev-idp/oauth/token", app.base))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", redirect_uri.as_str()),
            ("client_id", "skc_dev_leptos_scalekit"),
            ("client_secret", "dev-only-secret-never-used-with-scalekit"),
            ("code_verifier", verifier),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    tokens["id_token"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a6_an_id_token_is_not_an_api_credential() {
    // An API_AUDIENCE equal to the client id (what an ID token's `aud` holds) is refused at
    // start-up (config test a6_api_audience_equal_to_the_client_id_is_refused).
    let app = serve_app(&[]).await;
    let token = id_token(&app).await;
    let answer = call(
        &app,
        "GET",
        "/api/v1/deployments",
        &[("authorization", &format!("Bearer {token}"))],
        None,
    )
    .await;
    assert_eq!(answer.status, 401);
    assert_eq!(answer.body["error"], "invalid_token");
}

#[tokio::test]
async fn a8_tenants_only_see_their_own_deployments() {
    let app = serve_app(&[]).await;
    let scopes = ["read:deployments", "deploy:applications"];
    let a = api_token(&app, ORG_A, &scopes, &app.base).await;
    let b = api_token(&app, ORG_B, &scopes, &app.base).await;
    let created = call(
        &app,
        "POST",
        "/api/v1/deployments",
        &[("authorization", &format!("Bearer {a}"))],
        Some(json!({ "name": "web", "environment": "production" })),
    )
    .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    assert_eq!(created.body["name"], "web");
    let seen_by_a = call(
        &app,
        "GET",
        "/api/v1/deployments",
        &[("authorization", &format!("Bearer {a}"))],
        None,
    )
    .await;
    assert_eq!(seen_by_a.body["organization_id"], ORG_A);
    assert_eq!(seen_by_a.body["deployments"].as_array().unwrap().len(), 1);
    let seen_by_b = call(
        &app,
        "GET",
        "/api/v1/deployments",
        &[("authorization", &format!("Bearer {b}"))],
        None,
    )
    .await;
    assert_eq!(seen_by_b.body["organization_id"], ORG_B);
    assert!(seen_by_b.body["deployments"].as_array().unwrap().is_empty());
    let bad = call(
        &app,
        "POST",
        "/api/v1/deployments",
        &[("authorization", &format!("Bearer {a}"))],
        Some(json!({ "name": "Not Valid!" })),
    )
    .await;
    assert_eq!(bad.status, 400);
}

/// A9: until discovery has answered, the metadata names the environment URL as its
/// authorization server (Scalekit's convention), but tells caches not to keep it; once
/// discovered, it may be kept an hour.
#[tokio::test]
async fn a9_metadata_guessed_while_discovery_fails_is_not_cached() {
    let get = |base: String| async move {
        reqwest::get(format!("{base}/.well-known/oauth-protected-resource"))
            .await
            .unwrap()
    };
    let down = serve_app(&[
        ("SCALEKIT_ENVIRONMENT_URL", "http://127.0.0.1:9"),
        ("SCALEKIT_CLIENT_ID", "skc_1234"),
        ("SCALEKIT_CLIENT_SECRET", "test_secret_value"),
    ])
    .await;
    let guessed = get(down.base.clone()).await;
    assert_eq!(guessed.status(), 200);
    let caching = guessed.headers()["cache-control"].clone();
    let body: Value = guessed.json().await.unwrap();
    assert_eq!(caching, "no-store", "{body}");
    assert_eq!(body["authorization_servers"][0], "http://127.0.0.1:9");
    let up = serve_app(&[]).await;
    let known = get(up.base.clone()).await;
    assert_eq!(known.headers()["cache-control"], "public, max-age=3600");
}

#[tokio::test]
async fn a9_protected_resource_metadata() {
    let app = serve_app(&[]).await;
    let answer = call(
        &app,
        "GET",
        "/.well-known/oauth-protected-resource",
        &[],
        None,
    )
    .await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.body["resource"], app.base.as_str());
    assert_eq!(
        answer.body["authorization_servers"][0],
        format!("{}/dev-idp", app.base)
    );
    assert_eq!(answer.body["bearer_methods_supported"], json!(["header"]));
    assert_eq!(
        answer.body["scopes_supported"],
        json!(["read:deployments", "deploy:applications"])
    );
}

#[tokio::test]
async fn a1_session_cookies_do_not_authenticate_the_api() {
    let app = serve_app(&[]).await;
    let mut browser = common::browser::Browser::new(&app);
    browser.sign_in_as("admin", "/dashboard").await;
    let cookie = browser.cookie_header();
    let answer = call(
        &app,
        "GET",
        "/api/v1/deployments",
        &[("cookie", &cookie)],
        None,
    )
    .await;
    assert_eq!(answer.status, 401);
}

#[tokio::test]
async fn a9_an_audience_with_a_path_has_its_metadata_at_the_path_derived_well_known_url() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let audience = format!("{base}/api");
    let app = common::browser::serve_app_on(listener, &[("API_AUDIENCE", &audience)]).await;
    let document = format!("{base}/.well-known/oauth-protected-resource/api");
    let answer = call(
        &app,
        "GET",
        "/.well-known/oauth-protected-resource/api",
        &[],
        None,
    )
    .await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.body["resource"], audience.as_str(), "RFC 9728 §3.3");
    let root = call(
        &app,
        "GET",
        "/.well-known/oauth-protected-resource",
        &[],
        None,
    )
    .await;
    assert_eq!(
        root.status, 404,
        "the root document would name another resource"
    );
    let challenge = call(&app, "GET", "/api/v1/deployments", &[], None)
        .await
        .challenge
        .unwrap_or_default();
    assert!(
        challenge.contains(&format!("resource_metadata=\"{document}\"")),
        "{challenge}"
    );
}

/// The parameters of a `Bearer` challenge (values are quoted and never contain a quote).
fn challenge_params(challenge: &str) -> std::collections::BTreeMap<String, String> {
    let mut params = std::collections::BTreeMap::new();
    let mut rest = challenge
        .strip_prefix("Bearer ")
        .unwrap_or_else(|| panic!("not a Bearer challenge: {challenge}"));
    while let Some((name, after)) = rest.split_once("=\"") {
        let (value, after) = after
            .split_once('"')
            .unwrap_or_else(|| panic!("unterminated value in {challenge}"));
        params.insert(name.trim().to_string(), value.to_string());
        rest = after.trim_start_matches([',', ' ']);
    }
    assert!(rest.is_empty(), "unparsed `{rest}` in {challenge}");
    params
}

/// Checklist E3: every RFC 6750 refusal says the same thing twice, in the `WWW-Authenticate`
/// challenge and in the JSON body: the same `error` code (none when no credentials were sent),
/// the same `error_description` and, for `insufficient_scope`, the same `scope`; on `/api` and
/// on `/mcp` alike.
#[tokio::test]
async fn e3_the_json_body_repeats_the_challenges_error_code() {
    let app = serve_app(&[]).await;
    let reader = api_token(&app, ORG_A, &["read:deployments"], &app.base).await;
    let other_audience =
        api_token(&app, ORG_A, &["read:deployments"], "https://other.example").await;
    let bearer = |t: &str| format!("Bearer {t}");
    let initialize = json!({
        "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                   "clientInfo": {"name": "e3", "version": "0"}}
    });
    let mcp_accept = ("accept", "application/json, text/event-stream".to_string());
    type Case<'a> = (
        &'a str,
        &'a str,
        &'a str,
        Vec<(&'a str, String)>,
        Option<Value>,
        Option<&'a str>,
    );
    let cases: Vec<Case> = vec![
        (
            "no credentials",
            "GET",
            "/api/v1/deployments",
            vec![],
            None,
            None,
        ),
        (
            "token in the query",
            "GET",
            "/api/v1/deployments?access_token=abc",
            vec![],
            None,
            Some("invalid_request"),
        ),
        (
            "malformed header",
            "GET",
            "/api/v1/deployments",
            vec![("authorization", "Bearer a b".into())],
            None,
            Some("invalid_request"),
        ),
        (
            "two methods",
            "GET",
            "/api/v1/deployments?access_token=abc",
            vec![("authorization", bearer(&reader))],
            None,
            Some("invalid_request"),
        ),
        (
            "not a JWT",
            "GET",
            "/api/v1/deployments",
            vec![("authorization", bearer("abc.def"))],
            None,
            Some("invalid_token"),
        ),
        (
            "another audience",
            "GET",
            "/api/v1/deployments",
            vec![("authorization", bearer(&other_audience))],
            None,
            Some("invalid_token"),
        ),
        (
            "missing scope",
            "POST",
            "/api/v1/deployments",
            vec![("authorization", bearer(&reader))],
            Some(json!({ "name": "web" })),
            Some("insufficient_scope"),
        ),
        (
            "MCP without credentials",
            "POST",
            "/mcp",
            vec![mcp_accept.clone()],
            Some(initialize.clone()),
            None,
        ),
        (
            "MCP with a forged token",
            "POST",
            "/mcp",
            vec![
                mcp_accept.clone(),
                ("authorization", bearer("eyJhbGciOiJSUzI1NiJ9.e30.c2ln")),
            ],
            Some(initialize.clone()),
            Some("invalid_token"),
        ),
        (
            "MCP with the API's token",
            "POST",
            "/mcp",
            vec![mcp_accept.clone(), ("authorization", bearer(&reader))],
            Some(initialize.clone()),
            Some("invalid_token"),
        ),
    ];
    for (name, method, path, headers, body, error) in cases {
        let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let answer = call(&app, method, path, &headers, body).await;
        let challenge = answer
            .challenge
            .unwrap_or_else(|| panic!("{name}: a challenge ({})", answer.status));
        let params = challenge_params(&challenge);
        assert_eq!(
            params.get("error").map(String::as_str),
            error,
            "{name}: {challenge}"
        );
        assert_eq!(
            answer.body.get("error").and_then(Value::as_str),
            error,
            "{name}: the body's error is the challenge's: {}",
            answer.body
        );
        if error.is_some() {
            assert_eq!(
                params.get("error_description").map(String::as_str),
                answer.body["error_description"].as_str(),
                "{name}: the same description"
            );
        }
        assert_eq!(
            params.get("scope").map(String::as_str),
            answer.body.get("scope").and_then(Value::as_str),
            "{name}: the same scope"
        );
        if error == Some("insufficient_scope") {
            assert_eq!(params["scope"], "deploy:applications");
        }
    }
}

/// Checklist A10: every `/api` and `/mcp` answer is `no-store`, and neither area speaks CORS:
/// with an `Origin` from elsewhere an answer carries no `Access-Control-Allow-*` header, and a
/// preflight from another origin gets no allowance, so a page elsewhere cannot read an answer or
/// send the `Authorization` header at all. Only the public `/mcp` metadata documents allow any
/// origin, and never with credentials.
#[tokio::test]
async fn a10_api_and_mcp_answers_are_no_store_and_allow_no_other_origin() {
    let app = serve_app(&[]).await;
    let reader = api_token(&app, ORG_A, &["read:deployments"], &app.base).await;
    let evil = "https://evil.example";
    let send = |method: &str, path: &str, headers: Vec<(&str, String)>, body: Option<Value>| {
        let mut request = client()
            .request(method.parse().unwrap(), format!("{}{path}", app.base))
            .header("origin", evil);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send()
    };
    let initialize = json!({
        "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                   "clientInfo": {"name": "a10", "version": "0"}}
    });
    let bearer = format!("Bearer {reader}");
    let mcp_accept = ("accept", "application/json, text/event-stream".to_string());
    let preflight = |method: &'static str| {
        vec![
            ("access-control-request-method", method.to_string()),
            (
                "access-control-request-headers",
                "authorization, content-type".to_string(),
            ),
        ]
    };
    let cases = vec![
        ("GET", "/api/v1/deployments", vec![], None, 401),
        (
            "GET",
            "/api/v1/deployments",
            vec![("authorization", bearer.clone())],
            None,
            200,
        ),
        (
            "POST",
            "/api/v1/deployments",
            vec![("authorization", bearer.clone())],
            Some(json!({ "name": "web" })),
            403,
        ),
        (
            "GET",
            "/api/v1/no-such-route",
            vec![("authorization", bearer.clone())],
            None,
            404,
        ),
        (
            "POST",
            "/mcp",
            vec![mcp_accept.clone()],
            Some(initialize.clone()),
            401,
        ),
        (
            "POST",
            "/mcp",
            vec![mcp_accept.clone(), ("authorization", bearer.clone())],
            Some(initialize.clone()),
            401,
        ),
        ("OPTIONS", "/api/v1/deployments", preflight("GET"), None, 0),
        ("OPTIONS", "/api/v1/deployments", preflight("POST"), None, 0),
        ("OPTIONS", "/mcp", preflight("POST"), None, 0),
    ];
    for (method, path, headers, body, status) in cases {
        let what = format!("{method} {path} {headers:?}");
        let response = send(method, path, headers, body).await.unwrap();
        if status != 0 {
            assert_eq!(response.status().as_u16(), status, "{what}");
        } else {
            assert!(
                !response.status().is_success(),
                "{what}: a preflight is not granted ({})",
                response.status()
            );
        }
        assert_eq!(
            response
                .headers()
                .get("cache-control")
                .and_then(|v| v.to_str().ok()),
            Some("no-store"),
            "{what}"
        );
        let cors: Vec<String> = response
            .headers()
            .keys()
            .map(|name| name.as_str().to_string())
            .filter(|name| name.starts_with("access-control-"))
            .collect();
        assert!(cors.is_empty(), "{what}: {cors:?}");
    }

    // The public documents MCP clients read before they have a token: any origin, no credentials.
    for (method, path, headers) in [
        ("GET", "/.well-known/oauth-protected-resource/mcp", vec![]),
        (
            "OPTIONS",
            "/.well-known/oauth-protected-resource/mcp",
            vec![("access-control-request-method", "GET".to_string())],
        ),
    ] {
        let response = send(method, path, headers, None).await.unwrap();
        assert!(response.status().is_success(), "{method} {path}");
        assert_eq!(
            response.headers()["access-control-allow-origin"],
            "*",
            "{method} {path}"
        );
        assert!(
            !response
                .headers()
                .contains_key("access-control-allow-credentials"),
            "{method} {path}"
        );
    }
}

/// A user's token for the API, as a provider that grants any requested scope would issue it.
fn user_token_for_the_api(
    app: &RunningApp,
    keys: &scalekit_dev_idp::KeyRing,
    permissions: &[&str],
) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    keys.sign(&json!({
        "iss": format!("{}/dev-idp", app.base), "aud": [app.base],
        "sub": "usr_100000000000000002", "client_id": "skc_some_app", "oid": ORG_A,
        "iat": now, "nbf": now, "exp": now + 300, "roles": ["member"],
        "permissions": permissions, "scopes": ["read:deployments", "deploy:applications"],
    }))
    .unwrap()
}

#[tokio::test]
async fn a8_a_users_token_needs_the_permission_named_like_the_routes_scope() {
    let state_dir = std::path::PathBuf::from(common::test_state_dir())
        .join(format!("api-keys-{}", uuid::Uuid::new_v4()));
    let state_dir_text = state_dir.display().to_string();
    let app = serve_app(&[("DEV_STATE_DIR", state_dir_text.as_str())]).await;
    let keys =
        scalekit_dev_idp::KeyRing::load_or_create(&state_dir.join("dev-idp-keys.json")).unwrap();
    let member = user_token_for_the_api(&app, &keys, &["read:deployments"]);
    let auth = format!("Bearer {member}");
    let read = call(
        &app,
        "GET",
        "/api/v1/deployments",
        &[("authorization", &auth)],
        None,
    )
    .await;
    assert_eq!(read.status, 200, "{:?}", read.body);
    let new = json!({ "name": "by-a-member" });
    let write = call(
        &app,
        "POST",
        "/api/v1/deployments",
        &[("authorization", &auth)],
        Some(new),
    )
    .await;
    assert_eq!(write.status, 403);
    assert_eq!(write.body["error"], "forbidden");
    assert_eq!(
        write.challenge, None,
        "no step-up: asking again cannot change a role"
    );
    let admin = user_token_for_the_api(&app, &keys, &["read:deployments", "deploy:applications"]);
    let admin = format!("Bearer {admin}");
    let body = json!({ "name": "by-an-admin" });
    let created = call(
        &app,
        "POST",
        "/api/v1/deployments",
        &[("authorization", &admin)],
        Some(body),
    )
    .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
}
