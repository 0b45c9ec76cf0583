//! Where the provider runs: never mounted with a Scalekit environment, and the `dev-idp`
//! subcommand as a real process (its own address, its refusals, the remote opt-in).

use super::{challenge, encode, get_with_cookie, CLIENT_ID, REDIRECT_URI, VERIFIER};
use crate::common;
use http::StatusCode;
use serde_json::Value;

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

use common::redis_server::free_port;

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
