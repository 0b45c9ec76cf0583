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

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
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
