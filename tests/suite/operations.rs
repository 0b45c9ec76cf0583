#![cfg(feature = "ssr")]

//! Running in production: `/ready` for load balancers, Prometheus metrics on their own listener,
//! and a shutdown that lets requests in flight finish within its deadline. The metrics and
//! shutdown tests run the real binary (one process per recorder and per signal).

use crate::common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::browser::{control_at, serve_app, Browser, RunningApp};
use serde_json::Value;

use common::redis_server::free_port;

async fn ready(base: &str) -> (u16, Option<String>, Value) {
    let response = reqwest::get(format!("{base}/ready")).await.unwrap();
    let status = response.status().as_u16();
    let retry = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_string());
    (status, retry, response.json().await.unwrap())
}

#[tokio::test]
async fn ready_answers_200_once_discovery_keys_and_the_store_answer() {
    let app = serve_app(&[]).await;
    let (status, _, body) = ready(&app.base).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "ready");
    for check in ["provider", "keys", "store"] {
        assert_eq!(body["checks"][check], "ok", "{body}");
    }
}

#[tokio::test]
async fn ready_answers_503_with_the_reason_while_the_provider_cannot_be_reached() {
    let closed = format!("http://127.0.0.1:{}", free_port());
    let app = serve_app(&[
        ("SCALEKIT_ENVIRONMENT_URL", closed.as_str()),
        ("SCALEKIT_CLIENT_ID", "skc_1"),
        (
            "SCALEKIT_CLIENT_SECRET",
            "a-secret-for-a-provider-that-is-not-there",
        ),
    ])
    .await;
    let (status, retry, body) = ready(&app.base).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(retry.as_deref(), Some("5"));
    assert_eq!(body["status"], "unavailable");
    assert_ne!(body["checks"]["provider"], "ok", "{body}");
    assert_ne!(body["checks"]["keys"], "ok", "{body}");
    assert_eq!(body["checks"]["store"], "ok", "{body}");
    assert!(
        !body.to_string().contains("a-secret-for"),
        "no secret in the reasons"
    );
    // `/health` is liveness: the process answers whatever the provider does.
    let health = reqwest::get(format!("{}/health", app.base)).await.unwrap();
    assert_eq!(health.status(), 200);
}

#[tokio::test]
async fn ready_answers_503_while_the_session_store_is_down() {
    let redis = format!("redis://127.0.0.1:{}", free_port());
    let app = serve_app(&[("REDIS_URL", redis.as_str())]).await;
    let (status, _, body) = ready(&app.base).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["checks"]["provider"], "ok", "{body}");
    assert_ne!(body["checks"]["store"], "ok", "{body}");
}

/// The app binary on its development provider, killed when the test ends.
struct AppProcess {
    child: Child,
    base: String,
}

impl AppProcess {
    async fn start(vars: &[(&str, &str)]) -> AppProcess {
        let port = free_port();
        let base = format!("http://127.0.0.1:{port}");
        let state_dir = std::path::PathBuf::from(common::test_state_dir()).join("operations");
        let child = Command::new(env!("CARGO_BIN_EXE_leptos-scalekit"))
            .env_clear()
            .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
            .env("APP_URL", &base)
            .env("LEPTOS_SITE_ROOT", "target/no-site-in-router-tests")
            .env("DEV_STATE_DIR", &state_dir)
            .env("RUST_LOG", "warn")
            .envs(vars.iter().copied())
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the app starts");
        let app = AppProcess { child, base };
        let deadline = Instant::now() + Duration::from_secs(30);
        while reqwest::get(format!("{}/health", app.base)).await.is_err() {
            assert!(Instant::now() < deadline, "the app answers /health");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        app
    }

    fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
    }

    /// Waits up to `limit` for the process to exit; its success and how long it took.
    fn exit_within(&mut self, limit: Duration) -> (bool, Duration) {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("the app can be waited for") {
                return (status.success(), started.elapsed());
            }
            assert!(started.elapsed() < limit, "the app exits within {limit:?}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for AppProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The value of the sample `name{labels…}` in a Prometheus text scrape, whatever the label order.
fn sample(scrape: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    scrape
        .lines()
        .filter(|line| !line.starts_with('#'))
        .filter(|line| {
            line.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with('{') || rest.starts_with(' '))
        })
        .find(|line| {
            labels
                .iter()
                .all(|(key, value)| line.contains(&format!("{key}=\"{value}\"")))
        })
        .and_then(|line| line.rsplit(' ').next())
        .and_then(|value| value.parse().ok())
}

#[tokio::test]
async fn metrics_count_a_sign_in_and_are_served_only_on_their_own_address() {
    let metrics_port = free_port();
    let metrics_addr = format!("127.0.0.1:{metrics_port}");
    let app = AppProcess::start(&[("METRICS_ADDR", metrics_addr.as_str())]).await;
    let mut browser = Browser::new(&RunningApp {
        base: app.base.clone(),
    });
    assert_eq!(
        browser.sign_in_as("admin", "/dashboard").await.status(),
        303
    );
    assert_eq!(browser.get("/dashboard").await.status(), 200);
    let refused = reqwest::Client::new()
        .get(format!("{}/api/v1/deployments", app.base))
        .bearer_auth("not-a-jwt")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);

    let response = reqwest::get(format!("http://{metrics_addr}/metrics"))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    let scrape = response.text().await.unwrap();
    let count = |name: &str, labels: &[(&str, &str)]| sample(&scrape, name, labels);
    assert_eq!(
        count("scalekit_sign_ins_total", &[("outcome", "ok")]),
        Some(1.0),
        "{scrape}"
    );
    for endpoint in ["discovery", "jwks", "token"] {
        assert!(
            count(
                "scalekit_provider_requests_total",
                &[("endpoint", endpoint), ("outcome", "ok")]
            )
            .is_some_and(|n| n >= 1.0),
            "{endpoint}: {scrape}"
        );
        assert!(
            count(
                "scalekit_provider_request_duration_seconds_count",
                &[("endpoint", endpoint)]
            )
            .is_some_and(|n| n >= 1.0),
            "{endpoint} latency: {scrape}"
        );
    }
    assert_eq!(
        count(
            "http_requests_total",
            &[
                ("method", "GET"),
                ("route", "/dashboard"),
                ("status", "200")
            ]
        ),
        Some(1.0),
        "{scrape}"
    );
    assert!(count(
        "http_request_duration_seconds_count",
        &[("method", "GET"), ("route", "/dashboard")]
    )
    .is_some_and(|n| n >= 1.0));
    assert_eq!(
        count(
            "scalekit_tokens_refused_total",
            &[("token", "bearer"), ("reason", "malformed")]
        ),
        Some(1.0),
        "{scrape}"
    );
    assert!(!scrape.contains("usr_"), "no user id in a label");

    // The app's own listener does not serve them.
    let on_app = reqwest::get(format!("{}/metrics", app.base)).await.unwrap();
    assert_eq!(on_app.status(), 404);
}

/// A request to `app` that takes `millis`: the in-process provider's token endpoint, slowed down.
async fn slow_request(
    app: &AppProcess,
    millis: u64,
) -> tokio::task::JoinHandle<Result<u16, reqwest::Error>> {
    let provider = format!("{}/dev-idp", app.base);
    control_at(
        &provider,
        &[
            ("fault", "token"),
            ("kind", "delay"),
            ("millis", &millis.to_string()),
        ],
    )
    .await;
    let url = format!("{provider}/oauth/token");
    tokio::spawn(async move {
        reqwest::Client::new()
            .post(url)
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .map(|response| response.status().as_u16())
    })
}

#[tokio::test]
async fn shutdown_lets_requests_in_flight_finish_and_refuses_new_ones() {
    let mut app = AppProcess::start(&[("SHUTDOWN_GRACE_SECS", "10")]).await;
    // A request that takes 1.5 s: the provider's token endpoint, served by this process.
    let slow = slow_request(&app, 1500).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    app.terminate();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let port = app.base.rsplit(':').next().unwrap().to_string();
    assert!(
        tokio::net::TcpStream::connect(format!("127.0.0.1:{port}"))
            .await
            .is_err(),
        "no new connection is accepted once the shutdown began"
    );
    let answered = slow.await.unwrap();
    assert!(
        answered.is_ok(),
        "the request in flight got its answer: {answered:?}"
    );
    let (success, _) = app.exit_within(Duration::from_secs(5));
    assert!(success, "a clean exit");
}

#[tokio::test]
async fn shutdown_stops_at_its_deadline_with_requests_still_running() {
    let mut app = AppProcess::start(&[("SHUTDOWN_GRACE_SECS", "1")]).await;
    let slow = slow_request(&app, 20_000).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    app.terminate();
    let (_, took) = app.exit_within(Duration::from_secs(5));
    assert!(
        took < Duration::from_secs(4),
        "gone about a second after the signal, not after the 20 s request: {took:?}"
    );
    assert!(
        slow.await.unwrap().is_err(),
        "the request still running was cut off"
    );
}
