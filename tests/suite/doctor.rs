#![cfg(feature = "ssr")]
//! The `doctor` subcommand, run as the real binary against local stand-ins for a Scalekit
//! environment: one that refuses connections, one that answers correctly, one that rejects the
//! client credentials.

use std::net::SocketAddr;
use std::process::{Command, Output};

use axum::extract::Form;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

/// Runs `leptos-scalekit doctor` with only the given variables set, from a directory whose `.env`
/// is empty: the binary reads the first `.env` in its directory or any parent, and this one is
/// inside the repository, whose own `.env` (a developer's settings) must not be read.
fn doctor(vars: &[(&str, &str)]) -> Output {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("leptos-scalekit-doctor-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(".env"), "").unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_leptos-scalekit"));
    command.arg("doctor").current_dir(&dir).env_clear();
    for (name, value) in vars {
        command.env(name, value);
    }
    command.output().expect("doctor runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A minimal OpenID provider on a random loopback port that accepts `secret` for `skc_doctor`.
async fn stand_in_provider(secret: &'static str) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let base = format!("http://{addr}");
    let discovery = json!({
        "issuer": base,
        "authorization_endpoint": format!("{base}/oauth/authorize"),
        "token_endpoint": format!("{base}/oauth/token"),
        "jwks_uri": format!("{base}/keys"),
        "code_challenge_methods_supported": ["S256"],
    });
    let jwks = json!({"keys": [{
        "kty": "RSA", "use": "sig", "alg": "RS256", "kid": "snk_doctor_test",
        "n": "sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1WlUzewbgBHod5pcM9H95GQRV3JDXboIRROSBigeC5yjU1hGzHHyXss8UDprecbAYxknTcQkhslANGRUZmdTOQ5qTRsLAt6BTYuyvVRdhS8exSZEy_c4gs_7svlJJQ4H9_NxsiIoLwAEk7-Q3UXERGYw_75IDrGA84-lA_-Ct4eTlXHBIY2EaV7t7LjJaynVJCpkv4LKjTTAumiGUIuQhrNhZLuF_RJLqHpM2kgWFLU7-VTdL1VbC2tejvcI2BlMkEpk1BzBZI0KQB0GaDWFLN-aEAw3vRw",
        "e": "AQAB"
    }]});
    let resource = json!({
        "issuer": format!("{base}/resources/res_doctor"),
        "registration_endpoint": format!("{base}/resources/res_doctor/register"),
    });
    let app = Router::new()
        .route("/.well-known/openid-configuration", get(move || async move { Json(discovery) }))
        .route(
            "/.well-known/oauth-authorization-server/resources/res_doctor",
            get(move || async move { Json(resource) }),
        )
        .route("/keys", get(move || async move { Json(jwks) }))
        .route(
            "/oauth/token",
            post(move |Form(form): Form<Vec<(String, String)>>| async move {
                let field = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
                if field("client_id") == Some("skc_doctor") && field("client_secret") == Some(secret) {
                    (http::StatusCode::OK, Json(json!({"access_token": "x", "token_type": "Bearer", "expires_in": 86399})))
                } else {
                    (http::StatusCode::UNAUTHORIZED, Json::<Value>(json!({"error": "invalid_client"})))
                }
            }),
        );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

#[test]
fn doctor_fails_naming_an_unreachable_environment_url() {
    // Port 9 (discard) on loopback: nothing listens, the connection is refused.
    let output = doctor(&[
        ("SCALEKIT_ENVIRONMENT_URL", "http://127.0.0.1:9"),
        ("SCALEKIT_CLIENT_ID", "skc_doctor"),
        ("SCALEKIT_CLIENT_SECRET", "doctor-secret"),
    ]);
    let text = stdout(&output);
    assert!(!output.status.success(), "{text}");
    assert!(
        text.contains("FAIL  could not reach http://127.0.0.1:9/.well-known/openid-configuration"),
        "{text}"
    );
    assert!(text.to_lowercase().contains("connection refused"), "{text}");
    assert!(
        !text.contains("doctor-secret"),
        "E4: the secret is never printed: {text}"
    );
}

#[test]
fn doctor_reports_configuration_problems_and_fails() {
    let output = doctor(&[("SCALEKIT_ENVIRONMENT_URL", "https://acme.scalekit.dev")]);
    let text = stdout(&output);
    assert!(!output.status.success());
    assert!(text.contains("SCALEKIT_CLIENT_ID: missing"), "{text}");
    assert!(text.contains("SCALEKIT_CLIENT_SECRET: missing"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_passes_against_a_working_environment() {
    let addr = stand_in_provider("doctor-secret").await;
    let url = format!("http://{addr}");
    let output = tokio::task::spawn_blocking(move || {
        doctor(&[
            ("SCALEKIT_ENVIRONMENT_URL", &url),
            ("SCALEKIT_CLIENT_ID", "skc_doctor"),
            ("SCALEKIT_CLIENT_SECRET", "doctor-secret"),
            ("SCALEKIT_RESOURCE_ID", "res_doctor"),
        ])
    })
    .await
    .unwrap();
    let text = stdout(&output);
    assert!(output.status.success(), "{text}");
    assert!(
        text.contains("ok    MCP resource res_doctor: authorization server"),
        "{text}"
    );
    assert!(
        text.contains("RSA signing key(s): snk_doctor_test"),
        "{text}"
    );
    assert!(
        text.contains("accepted SCALEKIT_CLIENT_ID and SCALEKIT_CLIENT_SECRET"),
        "{text}"
    );
    assert!(
        text.contains("client secret              set (13 characters, hidden)"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_fails_when_the_client_secret_is_rejected() {
    let addr = stand_in_provider("the-right-secret").await;
    let url = format!("http://{addr}");
    let output = tokio::task::spawn_blocking(move || {
        doctor(&[
            ("SCALEKIT_ENVIRONMENT_URL", &url),
            ("SCALEKIT_CLIENT_ID", "skc_doctor"),
            ("SCALEKIT_CLIENT_SECRET", "a-wrong-secret"),
        ])
    })
    .await
    .unwrap();
    let text = stdout(&output);
    assert!(!output.status.success(), "{text}");
    assert!(
        text.contains("rejected SCALEKIT_CLIENT_ID / SCALEKIT_CLIENT_SECRET (invalid_client)"),
        "{text}"
    );
    assert!(
        text.contains("warn  SCALEKIT_RESOURCE_ID is not set"),
        "{text}"
    );
}

#[test]
fn doctor_in_development_explains_the_built_in_provider() {
    let output = doctor(&[]);
    let text = stdout(&output);
    assert!(output.status.success(), "{text}");
    assert!(
        text.contains("built-in development identity provider"),
        "{text}"
    );
}
