//! The provider's webhooks and membership controls: `set_roles` and `remove_membership` at
//! `/_control` change what later tokens carry and who may sign in, and each sends its signed
//! event to the configured targets; `/_control/webhooks` shows the deliveries, never a secret.

use leptos_scalekit::server::AppService;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use http::{HeaderMap, Request, StatusCode};
use scalekit_auth::webhook::{WebhookHeaders, WebhookVerifier};
use scalekit_auth::Secret;
use serde_json::{json as json_value, Value};

use super::{
    authorize_uri, code_for, exchange, get_with_cookie, json, post_form, refresh, ADMIN_USER_ID,
};
use crate::common;

/// The receiver's own secret, set in `DEV_IDP_CONFIG`.
const SECRET: &str = "whsec_c2VjcmV0LW9mLXRoZS10ZXN0LXJlY2VpdmVy";

/// One delivery as received: its three headers and raw body.
#[derive(Clone, Debug)]
struct Received {
    headers: HeaderMap,
    body: String,
}

impl Received {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Verified as the app verifies a delivery (Scalekit's SDKs' rules); the event.
    fn verified(&self) -> Value {
        let verifier = WebhookVerifier::new(&Secret::new(SECRET)).unwrap();
        let headers = WebhookHeaders {
            id: self.header("webhook-id"),
            timestamp: self.header("webhook-timestamp"),
            signature: self.header("webhook-signature"),
        };
        let id = verifier
            .verify(&headers, self.body.as_bytes(), scalekit_auth::now_secs())
            .expect("signed with the target's secret")
            .id;
        let event: Value = serde_json::from_str(&self.body).unwrap();
        assert_eq!(event["id"], id, "the webhook-id is the event's id");
        event
    }
}

struct Receiver {
    url: String,
    posts: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    async fn start() -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hooks", listener.local_addr().unwrap());
        let posts = Arc::new(Mutex::new(Vec::new()));
        let recorded = posts.clone();
        let handler = move |headers: HeaderMap, body: String| {
            let recorded = recorded.clone();
            async move {
                recorded.lock().unwrap().push(Received { headers, body });
                StatusCode::NO_CONTENT
            }
        };
        let app = Router::new().route("/hooks", axum::routing::post(handler));
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Receiver { url, posts }
    }

    /// Waits (at most ten seconds) for an event of `kind`, verified.
    async fn event(&self, kind: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let posts = self.posts.lock().unwrap().clone();
            if let Some(post) = posts.iter().find(|p| p.body.contains(kind)) {
                return post.verified();
            }
            assert!(Instant::now() < deadline, "no {kind} event");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// The app, its provider sending webhooks to `receiver` too. Its own endpoint is on a port
/// nobody listens on, so that no app running on this machine gets the test's events.
fn app_sending_to(receiver: &Receiver) -> AppService {
    let settings = json_value!({ "webhooks": [{ "url": receiver.url, "secret": SECRET }] });
    let dir = std::path::PathBuf::from(common::test_state_dir());
    std::fs::create_dir_all(&dir).unwrap();
    let port = receiver
        .url
        .split(':')
        .nth(2)
        .unwrap_or_default()
        .replace("/hooks", "");
    let path = dir.join(format!("dev-idp-webhooks-{port}.json"));
    std::fs::write(&path, settings.to_string()).unwrap();
    common::app_from(&[
        ("DEV_IDP_CONFIG", path.to_str().unwrap()),
        ("APP_URL", "http://127.0.0.1:9"),
    ])
}

/// The claims of a JWT, unverified (the provider's own tests verify its signatures).
fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

async fn control(app: &AppService, pairs: &[(&str, &str)]) -> (StatusCode, Value) {
    let response = post_form(app, "/dev-idp/_control", pairs, &[]).await;
    let status = response.status();
    (status, json(response).await)
}

#[tokio::test]
async fn w15_a_role_change_is_in_the_next_tokens_and_sends_a_signed_membership_update() {
    let receiver = Receiver::start().await;
    let app = app_sending_to(&receiver);
    let (code, _) = code_for(&app, "member").await;
    let before = json(exchange(&app, &code).await).await;
    let login = receiver.event("user.login").await;
    assert_eq!(login["data"]["user"]["email"], "max.member@example.com");

    let (status, shown) = control(
        &app,
        &[
            ("set_roles", "member"),
            ("roles", "admin,auditor"),
            ("permissions", "organization:settings organization:read"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{shown}");
    let event = receiver.event("user.organization_membership_updated").await;
    assert_eq!(event["organization_id"], "org_100000000000000001");
    assert_eq!(event["data"]["user"]["id"], "usr_100000000000000002");
    assert_eq!(event["data"]["organization"]["name"], "Acme Development");
    assert_eq!(
        event["data"]["roles"],
        json_value!([{ "name": "admin" }, { "name": "auditor" }])
    );

    // The refresh of the earlier sign-in already carries the new roles and permissions.
    let refreshed = json(refresh(&app, before["refresh_token"].as_str().unwrap()).await).await;
    let access = claims(refreshed["access_token"].as_str().unwrap());
    assert_eq!(access["roles"], json_value!(["admin", "auditor"]));
    assert_eq!(
        access["permissions"],
        json_value!(["organization:settings", "organization:read"])
    );
    let (code, _) = code_for(&app, "member").await;
    let again = json(exchange(&app, &code).await).await;
    assert_eq!(
        claims(again["access_token"].as_str().unwrap())["roles"],
        json_value!(["admin", "auditor"])
    );

    control(&app, &[("reset", "true")]).await;
    let (code, _) = code_for(&app, "member").await;
    let reset = json(exchange(&app, &code).await).await;
    assert_eq!(
        claims(reset["access_token"].as_str().unwrap())["roles"],
        json_value!(["member"]),
        "reset restores the configured roles"
    );
}

#[tokio::test]
async fn w15_a_removed_member_cannot_sign_in_refresh_or_read_userinfo() {
    let receiver = Receiver::start().await;
    let app = app_sending_to(&receiver);
    let (code, _) = code_for(&app, "admin").await;
    let tokens = json(exchange(&app, &code).await).await;
    let (pending, _) = code_for(&app, "admin").await;

    let (status, _) = control(&app, &[("remove_membership", "admin")]).await;
    assert_eq!(status, StatusCode::OK);
    let event = receiver.event("user.organization_membership_deleted").await;
    assert_eq!(event["data"]["user"]["id"], ADMIN_USER_ID);
    assert_eq!(event["data"]["user"]["email"], "ada.admin@example.com");
    assert_eq!(
        event["data"]["organization"]["id"],
        "org_100000000000000001"
    );

    let refused = json(refresh(&app, tokens["refresh_token"].as_str().unwrap()).await).await;
    assert_eq!(refused["error"], "invalid_grant", "{refused}");
    let exchanged = json(exchange(&app, &pending).await).await;
    assert_eq!(
        exchanged["error"], "invalid_grant",
        "a code issued before is void"
    );
    let access = tokens["access_token"].as_str().unwrap();
    let userinfo = common::send(
        app.clone(),
        Request::get("/dev-idp/userinfo")
            .header("authorization", format!("Bearer {access}"))
            .body(axum::body::Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(userinfo.status(), StatusCode::UNAUTHORIZED);

    // Nor is she offered: login_hint finds nobody, and the picker lists only Max.
    let hinted = get_with_cookie(&app, &authorize_uri(&[("login_hint", "admin")]), None).await;
    let redirected_with_code = hinted.status() == StatusCode::FOUND
        && hinted
            .headers()
            .get("location")
            .and_then(|l| l.to_str().ok())
            .is_some_and(|l| l.contains("code="));
    assert!(!redirected_with_code, "no code for a removed persona");
    let picker = common::body_text(get_with_cookie(&app, &authorize_uri(&[]), None).await).await;
    assert!(
        picker.contains("Max Member") && !picker.contains("Ada Admin"),
        "{picker}"
    );
}

#[tokio::test]
async fn w15_membership_controls_refuse_unknown_personas_and_bad_names() {
    let app = common::dev_app();
    for pairs in [
        &[("set_roles", "nobody"), ("roles", "admin")][..],
        &[("set_roles", "member"), ("roles", "<script>")][..],
        &[
            ("set_roles", "member"),
            ("roles", "a"),
            ("permissions", "x\"y"),
        ][..],
        &[("remove_membership", "nobody")][..],
    ] {
        let (status, body) = control(&app, pairs).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{pairs:?}: {body}");
        assert!(body["error"].is_string());
    }
    let cross_site = [
        ("origin", "https://evil.example"),
        ("sec-fetch-site", "cross-site"),
    ];
    let response = post_form(
        &app,
        "/dev-idp/_control",
        &[("remove_membership", "admin")],
        &cross_site,
    )
    .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let (code, _) = code_for(&app, "admin").await;
    assert_eq!(
        exchange(&app, &code).await.status(),
        StatusCode::OK,
        "the refused post removed nobody"
    );
}

#[tokio::test]
async fn w14_the_webhook_log_shows_targets_and_deliveries_never_a_secret() {
    let receiver = Receiver::start().await;
    let app = app_sending_to(&receiver);
    let (code, _) = code_for(&app, "admin").await;
    exchange(&app, &code).await;
    receiver.event("user.login").await;

    let deadline = Instant::now() + Duration::from_secs(10);
    let shown = loop {
        let shown = json(get_with_cookie(&app, "/dev-idp/_control/webhooks", None).await).await;
        let delivered = shown["deliveries"]
            .as_array()
            .is_some_and(|d| d.iter().any(|d| d["target"] == receiver.url.as_str()));
        if delivered {
            break shown;
        }
        assert!(Instant::now() < deadline, "no delivery logged: {shown}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(
        shown["targets"],
        json_value!([receiver.url, "http://127.0.0.1:9/webhooks/scalekit"])
    );
    let delivery = shown["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["target"] == receiver.url.as_str())
        .unwrap();
    assert_eq!(delivery["type"], "user.login");
    assert_eq!(delivery["status"], 204);
    assert_eq!(delivery["attempts"], 1);
    assert!(delivery["id"].as_str().unwrap().starts_with("evt_"));
    let last = &shown["last_signed"];
    assert!(last["headers"]["webhook-signature"]
        .as_str()
        .unwrap()
        .starts_with("v1,"));

    let everything = format!(
        "{shown} {}",
        json(get_with_cookie(&app, "/dev-idp/_control", None).await).await
    );
    for secret in [SECRET, &SECRET[6..], &common_dev_secret()[6..]] {
        assert!(!everything.contains(secret), "a secret is shown");
    }
}

fn common_dev_secret() -> String {
    leptos_scalekit::config::webhooks::DEV_WEBHOOK_SECRET.to_string()
}

/// Kills the child process when the test ends, pass or fail.
struct Stop(std::process::Child);

impl Drop for Stop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn w18_the_standalone_provider_sends_to_the_targets_of_its_config() {
    let receiver = Receiver::start().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = std::path::PathBuf::from(common::test_state_dir()).join(format!("standalone-{port}"));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("dev-idp.json");
    let settings = json_value!({ "webhooks": [{ "url": receiver.url, "secret": SECRET }] });
    std::fs::write(&config, settings.to_string()).unwrap();
    let _child = Stop(
        std::process::Command::new(env!("CARGO_BIN_EXE_leptos-scalekit"))
            .arg("dev-idp")
            .env_clear()
            .env("DEV_IDP_ADDR", format!("127.0.0.1:{port}"))
            .env("DEV_STATE_DIR", &dir)
            .env("DEV_IDP_CONFIG", &config)
            .current_dir(std::env::temp_dir())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("dev-idp starts"),
    );
    let control = format!("http://127.0.0.1:{port}/_control");
    let client = reqwest::Client::new();
    let mut answered = None;
    for _ in 0..100 {
        let sent = client
            .post(&control)
            .form(&[("remove_membership", "member")])
            .send()
            .await;
        if let Ok(response) = sent {
            answered = Some(response.status());
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(answered, Some(reqwest::StatusCode::OK));
    let event = receiver.event("user.organization_membership_deleted").await;
    assert_eq!(event["data"]["user"]["email"], "max.member@example.com");
    let shown: Value = client
        .get(format!("{control}/webhooks"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        shown["targets"],
        json_value!([receiver.url]),
        "only its own"
    );
}
