//! The whole app served on a loopback port (its development provider makes real HTTP calls to
//! itself), and a scripted browser: a cookie jar, no automatic redirects, and the headers a real
//! browser sends with a same-origin form post.

use std::collections::BTreeMap;

use leptos_scalekit::dev_provider::start as start_dev_idp;
use leptos_scalekit::server::build_router;
use leptos_scalekit::state::AppState;
use reqwest::header::{HeaderMap, ACCEPT, COOKIE, SET_COOKIE};
use reqwest::{Method, Response};
use serde_json::{json, Value};

use super::{config_from, test_state_dir};

pub struct RunningApp {
    pub base: String,
}

/// Starts the app with the development provider on 127.0.0.1 and an ephemeral port.
pub async fn serve_app(extra: &[(&str, &str)]) -> RunningApp {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    serve_app_on(listener, extra).await
}

/// The same on a listener bound by the caller (who needed the app's URL before configuring it).
pub async fn serve_app_on(listener: tokio::net::TcpListener, extra: &[(&str, &str)]) -> RunningApp {
    let addr = listener.local_addr().unwrap();
    let base = format!("http://{addr}");
    let state_dir = test_state_dir();
    let addr_text = addr.to_string();
    let mut vars = vec![
        ("LEPTOS_SITE_ROOT", "target/no-site-in-router-tests"),
        ("DEV_STATE_DIR", state_dir.as_str()),
        ("LEPTOS_SITE_ADDR", addr_text.as_str()),
        ("APP_URL", base.as_str()),
    ];
    vars.extend_from_slice(extra);
    let config = config_from(&vars);
    let idp = start_dev_idp(&config).expect("dev identity provider starts");
    let state = AppState::new(config, tower_cookies::Key::generate(), idp).expect("state");
    let app = build_router(state);
    // The server's own connection loop (header-read timeout included), as `serve` runs it.
    tokio::spawn(leptos_scalekit::web::serve::serve(
        listener,
        app,
        std::future::pending(),
        std::time::Duration::from_secs(1),
    ));
    RunningApp { base }
}

/// One Set-Cookie line, parsed enough to check attributes.
#[derive(Clone, Debug)]
pub struct SetCookie {
    pub name: String,
    pub value: String,
    pub line: String,
}

impl SetCookie {
    pub fn has(&self, attribute: &str) -> bool {
        self.line
            .split(';')
            .any(|part| part.trim().eq_ignore_ascii_case(attribute))
    }

    pub fn attribute(&self, name: &str) -> Option<String> {
        self.line.split(';').skip(1).find_map(|part| {
            let (k, v) = part.trim().split_once('=')?;
            k.eq_ignore_ascii_case(name).then(|| v.to_string())
        })
    }

    pub fn is_removal(&self) -> bool {
        self.attribute("Max-Age").as_deref() == Some("0")
    }
}

pub fn set_cookies(headers: &HeaderMap) -> Vec<SetCookie> {
    headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|line| {
            let (pair, _) = line.split_once(';').unwrap_or((line, ""));
            let (name, value) = pair.split_once('=')?;
            Some(SetCookie {
                name: name.trim().to_string(),
                value: value.trim().to_string(),
                line: line.to_string(),
            })
        })
        .collect()
}

pub struct Browser {
    pub base: String,
    pub jar: BTreeMap<String, String>,
    client: reqwest::Client,
}

impl Browser {
    pub fn new(app: &RunningApp) -> Browser {
        Browser {
            base: app.base.clone(),
            jar: BTreeMap::new(),
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
        }
    }

    pub fn url(&self, path_or_url: &str) -> String {
        if path_or_url.starts_with("http") {
            path_or_url.to_string()
        } else {
            format!("{}{path_or_url}", self.base)
        }
    }

    pub fn cookie_header(&self) -> String {
        self.jar
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn remember(&mut self, response: &Response) {
        for cookie in set_cookies(response.headers()) {
            if cookie.is_removal() {
                self.jar.remove(&cookie.name);
            } else {
                self.jar.insert(cookie.name, cookie.value);
            }
        }
    }

    pub async fn request(
        &mut self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        form: Option<&[(&str, &str)]>,
    ) -> Response {
        let mut request = self.client.request(method, self.url(path));
        if !headers
            .iter()
            .any(|(name, _)| name.eq_ignore_ascii_case("accept"))
        {
            request = request.header(ACCEPT, "text/html");
        }
        if !self.jar.is_empty() {
            request = request.header(COOKIE, self.cookie_header());
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(form) = form {
            request = request.form(form);
        }
        let response = request.send().await.expect("request reaches the app");
        self.remember(&response);
        response
    }

    pub async fn get(&mut self, path: &str) -> Response {
        self.request(Method::GET, path, &[], None).await
    }

    /// A form post from one of our own pages.
    pub async fn post_form(&mut self, path: &str, form: &[(&str, &str)]) -> Response {
        let origin = self.base.clone();
        self.request(
            Method::POST,
            path,
            &[("origin", &origin), ("sec-fetch-site", "same-origin")],
            Some(form),
        )
        .await
    }

    /// A server-function call as the hydrated app makes it (JSON answer, not a redirect).
    pub async fn call(&mut self, server_fn: &str) -> Response {
        let origin = self.base.clone();
        self.request(
            Method::POST,
            &format!("/_app/{server_fn}"),
            &[
                ("origin", &origin),
                ("sec-fetch-site", "same-origin"),
                ("accept", "application/json"),
                ("content-type", "application/x-www-form-urlencoded"),
            ],
            None,
        )
        .await
    }

    /// Starts a sign-in and returns the provider's authorization URL.
    pub async fn start_login(&mut self, form: &[(&str, &str)]) -> String {
        let response = self.post_form("/_app/login", form).await;
        assert_eq!(response.status(), 303, "login answers See Other");
        location(&response)
    }

    /// Signs in as `persona` (`admin` or `member`) through the development provider and returns
    /// the callback's response (a redirect to the saved path when all went well).
    pub async fn sign_in_as(&mut self, persona: &str, next: &str) -> Response {
        let authorize = self
            .start_login(&[("next", next), ("login_hint", persona)])
            .await;
        let at_provider = self.get(&authorize).await;
        assert_eq!(
            at_provider.status(),
            302,
            "the provider signs the hinted persona in"
        );
        let callback = location(&at_provider);
        self.get(&callback).await
    }

    /// Sets development-provider test controls.
    pub async fn control(&self, pairs: &[(&str, &str)]) -> Value {
        control_at(&self.url("/dev-idp"), pairs).await
    }

    /// Token-endpoint calls so far for `grant`.
    pub async fn token_calls(&self, grant: &str) -> u64 {
        token_calls_at(&self.url("/dev-idp"), grant).await
    }
}

/// Sets the test controls of the development provider at `provider` (its base URL) and returns
/// them as it shows them.
pub async fn control_at(provider: &str, pairs: &[(&str, &str)]) -> Value {
    let response = reqwest::Client::new()
        .post(format!("{provider}/_control"))
        .form(pairs)
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "control {pairs:?}");
    response.json().await.unwrap()
}

/// Waits (up to 5 s) until the development provider at `provider` lists a back-channel logout
/// delivery the receiving app answered with 200.
pub async fn backchannel_delivered(provider: &str) -> bool {
    for _ in 0..50 {
        let controls = control_at(provider, &[]).await;
        if controls["backchannel_deliveries"]
            .as_array()
            .is_some_and(|d| d.iter().any(|d| d["status"] == 200))
        {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    false
}

/// Token-endpoint calls so far for `grant` at the development provider at `provider`.
pub async fn token_calls_at(provider: &str, grant: &str) -> u64 {
    control_at(provider, &[]).await["controls"]["token_calls"][grant]
        .as_u64()
        .unwrap_or(0)
}

pub fn location(response: &Response) -> String {
    response
        .headers()
        .get("location")
        .expect("a Location header")
        .to_str()
        .unwrap()
        .to_string()
}

pub fn query_param(url: &str, name: &str) -> Option<String> {
    let parsed = url::Url::parse(url)
        .or_else(|_| url::Url::parse(&format!("http://x{url}")))
        .ok()?;
    parsed
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// A `client_credentials` request at the token endpoint of the environment `provider`, with the
/// secret in the body as Scalekit's SDKs send it; `scope` only when given.
pub async fn token_for(
    provider: &str,
    client_id: &str,
    secret: &str,
    scope: Option<&str>,
) -> reqwest::Response {
    let mut form = vec![
        ("grant_type", "client_credentials"),
        ("client_id", client_id),
        ("client_secret", secret),
    ];
    form.extend(scope.map(|scope| ("scope", scope)));
    no_redirects()
        .post(format!("{provider}/oauth/token"))
        .form(&form)
        .send()
        .await
        .unwrap()
}

/// Creates an API client in `org` at the app's development provider and returns a token for it.
pub async fn api_token(app: &RunningApp, org: &str, scopes: &[&str], audience: &str) -> String {
    api_token_from(&format!("{}/dev-idp", app.base), org, scopes, audience).await
}

/// The same at a provider whose environment URL is `provider`.
pub async fn api_token_from(provider: &str, org: &str, scopes: &[&str], audience: &str) -> String {
    let management: Value = token_for(
        provider,
        "skc_dev_leptos_scalekit",
        "dev-only-secret-never-used-with-scalekit",
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    let created: Value = no_redirects()
        .post(format!("{provider}/api/v1/organizations/{org}/clients"))
        .bearer_auth(management["access_token"].as_str().unwrap())
        .json(&json!({ "name": "ci", "scopes": scopes, "audience": [audience], "expiry": 3600 }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let client_id = created["client"]["client_id"].as_str().unwrap();
    let secret = created["plain_secret"].as_str().unwrap();
    let token: Value = token_for(provider, client_id, secret, None)
        .await
        .json()
        .await
        .unwrap();
    token["access_token"].as_str().unwrap().to_string()
}
