#![cfg(feature = "ssr")]

//! Checklist E4 (and L13): tokens, codes, cookies and client secrets never reach the logs. The
//! whole sign-in, refresh, sign-out round runs with every log line of the app captured.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use common::browser::{location, query_param, serve_app, Browser};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn e4_l13_no_secret_reaches_the_logs() {
    let captured = Captured::default();
    let writer = captured.clone();
    tracing_subscriber::fmt()
        .with_env_filter("leptos_scalekit=trace,tower_http=debug,info")
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .init();

    let app = serve_app(&[]).await;
    let mut browser = Browser::new(&app);
    browser.control(&[("access_token_ttl", "30")]).await;
    let authorize = browser.start_login(&[("login_hint", "admin")]).await;
    let state = query_param(&authorize, "state").unwrap();
    let callback = location(&browser.get(&authorize).await);
    let code = query_param(&callback, "code").unwrap();
    assert_eq!(browser.get(&callback).await.status(), 303);
    assert_eq!(browser.get("/dashboard").await.status(), 200); // refreshes
    let session_cookie = browser.jar.get("__Host-skit_session").cloned().unwrap();
    let logout = browser.post_form("/_app/logout", &[]).await;
    let hint = query_param(&location(&logout), "id_token_hint").unwrap();
    // A failing callback logs too.
    browser
        .get(&format!("/auth/callback?code={code}&state=wrong"))
        .await;

    // E4: outside text reaches the log escaped and capped: a bearer token whose header names a
    // forged line as its key id, and a callback error description with one.
    let header = base64url(r#"{"alg":"RS256","kid":"x\nFAKE-KID-LINE level=ERROR"}"#);
    let forged = format!("{header}.{}.c2ln", base64url(r#"{"sub":"x"}"#));
    let refused = reqwest::Client::new()
        .get(format!("{}/api/v1/deployments", app.base))
        .bearer_auth(&forged)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    let mut other = Browser::new(&app);
    let authorize = other.start_login(&[]).await;
    let other_state = query_param(&authorize, "state").unwrap();
    other
        .get(&format!(
            "/auth/callback?error=server_error&error_description=oops%0AFAKE-DESCRIPTION-LINE&state={other_state}"
        ))
        .await;
    let long_kid = base64url(&format!(
        r#"{{"alg":"RS256","kid":"{}"}}"#,
        "k".repeat(20_000)
    ));
    reqwest::Client::new()
        .get(format!("{}/api/v1/deployments", app.base))
        .bearer_auth(format!("{long_kid}.{}.c2ln", base64url(r#"{"sub":"x"}"#)))
        .send()
        .await
        .unwrap();

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    for forged_line in ["FAKE-KID-LINE", "FAKE-DESCRIPTION-LINE"] {
        assert!(
            logs.contains(forged_line),
            "{forged_line} was logged at all: {logs}"
        );
        assert!(
            !logs.lines().any(|line| line.starts_with(forged_line)),
            "{forged_line} began a log line of its own"
        );
    }
    assert!(
        !logs.contains(&"k".repeat(1_000)),
        "an outside value flooded the log"
    );
    assert!(
        logs.contains("signed in") && logs.contains("signed out"),
        "{logs}"
    );
    for (what, secret) in [
        ("a JWT", "eyJ"),
        ("the code", code.as_str()),
        ("the state", state.as_str()),
        ("the ID token", hint.as_str()),
        ("the session cookie", &session_cookie[..40]),
        (
            "the client secret",
            "dev-only-secret-never-used-with-scalekit",
        ),
    ] {
        assert!(!logs.contains(secret), "{what} is in the logs");
    }
}

fn base64url(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
}
