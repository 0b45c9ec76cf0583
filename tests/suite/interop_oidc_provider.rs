#![cfg(feature = "ssr")]

//! Interop with an independent provider (issue 9, item 3): the app signs people in, refreshes,
//! signs out and serves machine clients against panva's `oidc-provider` (OpenID Certified), run by
//! Node from `end2end/interop/scalekit-like-op.mjs` with Scalekit's paths and claims. Nothing here
//! uses the development provider, so these flows do not depend on code we wrote on both sides.

use crate::common;

use std::process::Stdio;
use std::time::Duration;

use common::browser::{location, query_param, serve_app_on, token_for, Browser, RunningApp};
use reqwest::Method;
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};

const CLIENT_ID: &str = "skc_interop_web_000000000001";
const CLIENT_SECRET: &str = "interop-web-secret-0123456789abcdef";
const READER: (&str, &str) = ("m2morg_interop_reader", "interop-reader-secret-0123456789");
const DEPLOYER: (&str, &str) = (
    "m2morg_interop_deployer",
    "interop-deployer-secret-0123456789",
);

const OTHER_API: (&str, &str) = (
    "m2morg_interop_other_api",
    "interop-other-api-secret-0123456789",
);

/// The Node process; it exits when dropped (killed, and its stdin closes).
struct IndependentProvider {
    issuer: String,
    _child: Child,
    _stdin: ChildStdin,
}

/// The provider's warnings and errors, for whoever debugs a failure here.
fn provider_log() -> Stdio {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/target/interop-oidc-provider.log"
    );
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map(Stdio::from)
        .unwrap_or_else(|_| Stdio::null())
}

impl IndependentProvider {
    async fn start(app_url: &str) -> IndependentProvider {
        let root = env!("CARGO_MANIFEST_DIR");
        let installed = format!("{root}/end2end/node_modules/oidc-provider/package.json");
        assert!(
            std::path::Path::new(&installed).exists(),
            "npm package oidc-provider is missing: run `scripts/bootstrap.sh all` (installs end2end's packages)"
        );
        let mut child = Command::new("node")
            .arg(format!("{root}/end2end/interop/scalekit-like-op.mjs"))
            .env("APP_URL", app_url)
            .env("CLIENT_ID", CLIENT_ID)
            .env("CLIENT_SECRET", CLIENT_SECRET)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(provider_log())
            .kill_on_drop(true)
            .spawn()
            .expect("node runs (scripts/bootstrap.sh installs it)");
        let stdin = child.stdin.take().unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .expect("the provider starts within 30 s")
            .unwrap()
            .expect("the provider prints its issuer");
        // Keep reading: a closed pipe would end the provider at its next message.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let issuer = first
            .strip_prefix("listening ")
            .expect("`listening <issuer>`")
            .to_string();
        IndependentProvider {
            issuer,
            _child: child,
            _stdin: stdin,
        }
    }

    async fn stats(&self) -> Value {
        reqwest::get(format!("{}/_interop/stats", self.issuer))
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    async fn machine_token(&self, client: (&str, &str), scope: &str) -> String {
        let answer: Value = token_for(&self.issuer, client.0, client.1, Some(scope))
            .await
            .json()
            .await
            .unwrap();
        answer["access_token"]
            .as_str()
            .unwrap_or_else(|| panic!("a machine token: {answer}"))
            .to_string()
    }
}

/// The app configured for the independent provider, and that provider.
async fn app_and_provider() -> (RunningApp, IndependentProvider) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let app_url = format!("http://{}", listener.local_addr().unwrap());
    let provider = IndependentProvider::start(&app_url).await;
    let app = serve_app_on(
        listener,
        &[
            ("SCALEKIT_ENVIRONMENT_URL", provider.issuer.as_str()),
            ("SCALEKIT_CLIENT_ID", CLIENT_ID),
            ("SCALEKIT_CLIENT_SECRET", CLIENT_SECRET),
        ],
    )
    .await;
    (app, provider)
}

/// `href` resolved against `base` (the provider answers with relative redirects).
fn absolute(base: &str, href: &str) -> String {
    url::Url::parse(base)
        .and_then(|b| b.join(href))
        .unwrap()
        .to_string()
}

/// Follows the provider's redirects from `url` until they lead back to the app (returns that URL)
/// or the provider shows a page (returns its URL and HTML).
async fn through_provider(
    browser: &mut Browser,
    mut url: String,
) -> Result<String, (String, String)> {
    for _ in 0..10 {
        if url.starts_with(&browser.base) {
            return Ok(url);
        }
        let response = browser.get(&url).await;
        match response.status().as_u16() {
            302 | 303 => url = absolute(&url, &location(&response)),
            200 => return Err((url, response.text().await.unwrap())),
            other => panic!("the provider answered {other} at {url}"),
        }
    }
    panic!("too many redirects at the provider");
}

/// Hidden inputs and the action of the first form in `html` (the provider's pages are simple).
fn form_in(html: &str) -> (String, Vec<(String, String)>) {
    let form = &html[html.find("<form").expect("a form")..];
    let attribute = |tag: &str, name: &str| {
        let start = tag.find(&format!("{name}=\""))? + name.len() + 2;
        Some(tag[start..start + tag[start..].find('"')?].to_string())
    };
    let action = attribute(&form[..form.find('>').unwrap()], "action").expect("an action");
    let fields = form[..form.find("</form>").unwrap()]
        .split("<input")
        .skip(1)
        .filter_map(|input| Some((attribute(input, "name")?, attribute(input, "value")?)))
        .collect();
    (action, fields)
}

/// Signs `persona` in: with a `login_hint` the provider needs no page, without one its login form
/// is submitted the way a person would. Returns the app's answer to the callback.
async fn sign_in(browser: &mut Browser, persona: &str, hint: bool) -> reqwest::Response {
    let mut form = vec![("next", "/dashboard")];
    if hint {
        form.push(("login_hint", persona));
    }
    let authorize = browser.start_login(&form).await;
    let callback = match through_provider(browser, authorize).await {
        Ok(callback) => callback,
        Err((page, html)) => {
            assert!(!hint, "a hinted persona signs in without a page");
            let (action, _) = form_in(&html);
            let answer = browser
                .request(
                    Method::POST,
                    &absolute(&page, &action),
                    &[],
                    Some(&[("persona", persona)]),
                )
                .await;
            assert_eq!(answer.status(), 303, "the login form is accepted");
            let next = absolute(&page, &location(&answer));
            through_provider(browser, next)
                .await
                .expect("the provider sends the browser back to the app")
        }
    };
    assert!(callback.contains("/auth/callback?"), "{callback}");
    assert!(query_param(&callback, "code").is_some());
    browser.get(&callback).await
}

async fn signed_in(app: &RunningApp, persona: &str) -> Browser {
    let mut browser = Browser::new(app);
    let landed = sign_in(&mut browser, persona, true).await;
    assert_eq!(landed.status(), 303, "the callback signs in");
    assert_eq!(location(&landed), "/dashboard");
    browser
}

async fn page(browser: &mut Browser, path: &str) -> (u16, String) {
    let response = browser.get(path).await;
    (response.status().as_u16(), response.text().await.unwrap())
}

#[tokio::test]
async fn interop_sign_in_shows_the_providers_claims_and_gates_on_permissions() {
    let (app, provider) = app_and_provider().await;

    let mut admin = signed_in(&app, "admin").await;
    let (status, dashboard) = page(&mut admin, "/dashboard").await;
    assert_eq!(status, 200);
    for shown in [
        "Grace Hopper",
        "grace@interop.example",
        "usr_interop_000000000001",
        "org_interop_000000000001",
        "organization:settings",
    ] {
        assert!(dashboard.contains(shown), "dashboard shows {shown}");
    }
    assert_eq!(page(&mut admin, "/organization/settings").await.0, 200);

    // The member signs in through the provider's own login form (no hint).
    let mut member = Browser::new(&app);
    let landed = sign_in(&mut member, "member", false).await;
    assert_eq!(landed.status(), 303);
    let (status, dashboard) = page(&mut member, "/dashboard").await;
    assert_eq!(status, 200);
    assert!(dashboard.contains("Alan Turing"));
    assert_eq!(page(&mut member, "/organization/settings").await.0, 403);

    let stats = provider.stats().await;
    assert_eq!(stats["grant_success"]["authorization_code"], 2, "{stats}");
    assert_eq!(stats["grant_error"], json!({}), "{stats}");
}

#[tokio::test]
async fn interop_refresh_uses_each_rotated_refresh_token_once() {
    let (app, provider) = app_and_provider().await;
    let mut browser = signed_in(&app, "admin").await;
    for round in 1..=3 {
        let refreshed = browser.call("refresh_session").await;
        let status = refreshed.status();
        let body = refreshed.text().await.unwrap();
        assert_eq!(
            status,
            200,
            "refresh {round}: {body} {}",
            provider.stats().await
        );
    }
    // panva refuses a rotated refresh token and revokes the grant on reuse: three successes and
    // no errors means the app kept each new token and never replayed an old one.
    let stats = provider.stats().await;
    assert_eq!(stats["grant_success"]["refresh_token"], 3, "{stats}");
    assert_eq!(stats["grant_error"], json!({}), "{stats}");
    // The refreshed access token still carries the claims the pages need.
    assert_eq!(page(&mut browser, "/organization/settings").await.0, 200);
    let validated: Value = browser.call("validate_token").await.json().await.unwrap();
    assert_eq!(validated["valid"], true, "{validated}");
}

#[tokio::test]
async fn interop_sign_out_ends_the_app_session_and_the_providers() {
    let (app, provider) = app_and_provider().await;
    let mut browser = signed_in(&app, "admin").await;

    let response = browser.post_form("/_app/logout", &[]).await;
    assert_eq!(response.status(), 303);
    let end_session = location(&response);
    assert!(
        end_session.starts_with(&format!("{}/oidc/logout?", provider.issuer)),
        "{end_session}"
    );
    let state = query_param(&end_session, "state").expect("a state");
    // panva asks for confirmation; its form works without JavaScript.
    let (status, html) = page(&mut browser, &end_session).await;
    assert_eq!(status, 200);
    let (action, mut fields) = form_in(&html);
    fields.push(("logout".into(), "yes".into()));
    let fields: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let confirmed = browser
        .request(
            Method::POST,
            &absolute(&end_session, &action),
            &[],
            Some(&fields),
        )
        .await;
    assert_eq!(confirmed.status(), 303);
    let home = location(&confirmed);
    assert!(home.starts_with(&app.base), "back at the app: {home}");
    assert_eq!(query_param(&home, "state"), Some(state));
    assert_eq!(provider.stats().await["end_session"], 1);

    // Signed out here...
    let dashboard = browser.get("/dashboard").await;
    assert_eq!(dashboard.status(), 302);
    assert!(location(&dashboard).starts_with("/login"));
    // ...and there: a new sign-in without a hint meets the provider's login form again.
    let authorize = browser.start_login(&[("next", "/dashboard")]).await;
    let (_, html) = through_provider(&mut browser, authorize)
        .await
        .expect_err("the provider asks who is signing in");
    assert!(html.contains("name=\"persona\""));
}

async fn api(app: &RunningApp, method: Method, token: &str) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .request(method.clone(), format!("{}/api/v1/deployments", app.base))
        .bearer_auth(token);
    if method == Method::POST {
        request = request.json(&json!({ "name": "interop", "environment": "staging" }));
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn interop_machine_client_tokens_open_the_api_by_scope() {
    let (app, provider) = app_and_provider().await;
    let reader = provider.machine_token(READER, "read:deployments").await;
    let deployer = provider
        .machine_token(DEPLOYER, "read:deployments deploy:applications")
        .await;

    assert_eq!(api(&app, Method::GET, &reader).await.0, 200);
    let (status, refused) = api(&app, Method::POST, &reader).await;
    assert_eq!(status, 403, "{refused}");
    assert_eq!(refused["error"], "insufficient_scope");

    let (status, created) = api(&app, Method::POST, &deployer).await;
    assert_eq!(status, 201, "{created}");
    let (status, listed) = api(&app, Method::GET, &reader).await;
    assert_eq!(status, 200);
    assert!(
        listed.to_string().contains("interop"),
        "same organization: {listed}"
    );

    // Same provider, same organization and scopes, another API's audience: refused.
    let elsewhere = provider.machine_token(OTHER_API, "read:deployments").await;
    let (status, body) = api(&app, Method::GET, &elsewhere).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"], "invalid_token");

    let mut forged = reader.clone();
    forged.push('x');
    let (status, body) = api(&app, Method::GET, &forged).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"], "invalid_token");
}
