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
    // Even with the API audience set to the app's client id (what an ID token's `aud` holds).
    let app = serve_app(&[("API_AUDIENCE", "skc_dev_leptos_scalekit")]).await;
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
