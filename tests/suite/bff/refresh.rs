//! Refresh: rotation, single flight, outages and slow or refusing token endpoints (R*, E5, E6).

use super::{signed_in, SESSION};
use crate::common::browser::{location, serve_app, set_cookies, Browser, RunningApp};
use scalekit_auth::protocol::FAILURE_MEMORY;

#[tokio::test]
async fn r4_refresh_now_rotates_the_tokens_and_the_cookie() {
    let mut browser = signed_in("admin").await;
    let before: serde_json::Value = browser.call("session").await.json().await.unwrap();
    let cookie_before = browser.jar.get(SESSION).cloned();
    let refreshed = browser.call("refresh_session").await;
    assert_eq!(refreshed.status(), 200);
    let after: serde_json::Value = refreshed.json().await.unwrap();
    let fingerprint = |v: &serde_json::Value, t: &str| v["tokens"][t].clone();
    let before = &before["SignedIn"];
    assert_ne!(
        fingerprint(before, "access_token"),
        fingerprint(&after, "access_token")
    );
    assert_ne!(
        fingerprint(before, "refresh_token"),
        fingerprint(&after, "refresh_token")
    );
    assert_ne!(cookie_before, browser.jar.get(SESSION).cloned());
    assert_eq!(browser.token_calls("refresh_token").await, 1);
    assert_eq!(browser.get("/dashboard").await.status(), 200);
}

#[tokio::test]
async fn r1_r2_r3_parallel_requests_with_an_expiring_token_refresh_once() {
    let app = serve_app(&[]).await;
    let mut browser = Browser::new(&app);
    // A first access token already inside the refresh window; the refreshed one will not be.
    // The provider rotates refresh tokens and revokes the whole sign-in if a rotated one comes
    // back, so a second redemption would end the session.
    browser.control(&[("access_token_ttl", "30")]).await;
    browser.sign_in_as("admin", "/dashboard").await;
    browser.control(&[("access_token_ttl", "299")]).await;
    let cookie = browser.cookie_header();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    // 50 parallel page loads and session calls holding the same cookie...
    let mut loads = Vec::new();
    for i in 0..50 {
        let client = client.clone();
        let cookie = cookie.clone();
        let base = app.base.clone();
        loads.push(tokio::spawn(async move {
            let request = if i % 2 == 0 {
                client
                    .get(format!("{base}/dashboard"))
                    .header("accept", "text/html")
            } else {
                client
                    .post(format!("{base}/_app/session"))
                    .header("origin", base.as_str())
                    .header("accept", "application/json")
            };
            let response = request.header("cookie", cookie).send().await.unwrap();
            let status = response.status().as_u16();
            let renewed = set_cookies(response.headers())
                .iter()
                .any(|c| c.name == SESSION && !c.is_removal());
            (status, renewed)
        }));
    }
    // ...and two tabs at the same time, each keeping whatever cookie the server hands it.
    let mut tabs = Vec::new();
    for _ in 0..2 {
        let mut tab = Browser::new(&app);
        tab.jar = browser.jar.clone();
        tabs.push(tokio::spawn(async move {
            let mut statuses = Vec::new();
            for path in ["/dashboard", "/sessions", "/dashboard"] {
                statuses.push(tab.get(path).await.status().as_u16());
            }
            (statuses, tab)
        }));
    }
    for load in loads {
        let (status, renewed) = load.await.unwrap();
        assert_eq!(status, 200);
        assert!(renewed, "R3: every late request gets the new cookie");
    }
    let mut last_tab = None;
    for tab in tabs {
        let (statuses, tab) = tab.await.unwrap();
        assert_eq!(statuses, [200, 200, 200], "every tab request succeeds");
        last_tab = Some(tab);
    }
    assert_eq!(
        browser.token_calls("refresh_token").await,
        1,
        "R2: one refresh"
    );
    // The session survives: a tab carries on with its renewed cookie, no second refresh.
    let mut tab = last_tab.expect("two tabs ran");
    assert_eq!(tab.get("/sessions").await.status(), 200);
    assert_eq!(browser.token_calls("refresh_token").await, 1);
}

#[tokio::test]
async fn r5_e5_a_provider_outage_keeps_the_session_and_answers_503_where_a_token_is_needed() {
    let app = serve_app(&[]).await;
    let mut browser = Browser::new(&app);
    browser.control(&[("access_token_ttl", "2")]).await;
    browser.sign_in_as("admin", "/dashboard").await;
    browser
        .control(&[("fault", "token"), ("kind", "status"), ("status", "503")])
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let page = browser.get("/dashboard").await;
    assert_eq!(page.status(), 503);
    assert!(page
        .text()
        .await
        .unwrap()
        .contains("identity provider is unreachable"));
    assert!(browser.jar.contains_key(SESSION), "the session is kept");
    // R5: the outage is remembered for a few seconds, so the next request does not ask again.
    let calls = browser.token_calls("refresh_token").await;
    assert_eq!(browser.get("/dashboard").await.status(), 503);
    assert_eq!(browser.token_calls("refresh_token").await, calls);
    // The provider comes back: the session recovers by itself once that memory has passed.
    browser
        .control(&[("fault", "token"), ("kind", "none")])
        .await;
    tokio::time::sleep(FAILURE_MEMORY).await;
    assert_eq!(browser.get("/dashboard").await.status(), 200);
}

#[tokio::test]
async fn r5_e5_a_token_endpoint_slower_than_the_timeout_gets_a_503_in_time_and_the_session_survives(
) {
    let app = serve_app(&[]).await;
    let mut browser = Browser::new(&app);
    browser.control(&[("access_token_ttl", "2")]).await;
    browser.sign_in_as("admin", "/dashboard").await;
    // The provider now takes longer to answer a refresh than the app waits (10 s).
    browser
        .control(&[("fault", "token"), ("kind", "delay"), ("millis", "15000")])
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let started = std::time::Instant::now();
    let page = browser.get("/dashboard").await;
    let waited = started.elapsed();
    assert_eq!(page.status(), 503, "a friendly 'try again' page");
    assert!(
        waited < std::time::Duration::from_secs(12),
        "answered within the app's own timeout, not the provider's: {waited:?}"
    );
    assert!(browser.jar.contains_key(SESSION), "the session is kept");
    // The provider recovers; so does the session, with no sign-in.
    browser
        .control(&[("fault", "token"), ("kind", "none")])
        .await;
    tokio::time::sleep(FAILURE_MEMORY).await;
    assert_eq!(browser.get("/dashboard").await.status(), 200);
}

/// Signed in as the admin with `ttl`-second access tokens, then the token endpoint answers
/// every call with the OAuth `error`.
async fn signed_in_then_token_endpoint_answers(
    app: &RunningApp,
    ttl: &str,
    error: &str,
) -> Browser {
    let mut browser = Browser::new(app);
    browser.control(&[("access_token_ttl", ttl)]).await;
    browser.sign_in_as("admin", "/dashboard").await;
    browser
        .control(&[
            ("fault", "token"),
            ("kind", "oauth_error"),
            ("error", error),
        ])
        .await;
    browser
}

#[tokio::test]
async fn r5_e6_invalid_grant_ends_the_session_and_clears_its_cookies() {
    let app = serve_app(&[]).await;
    // The provider refuses the refresh token, as it does for a revoked or reused one.
    let mut browser = signed_in_then_token_endpoint_answers(&app, "30", "invalid_grant").await;
    let page = browser.get("/dashboard").await;
    assert_eq!(page.status(), 302, "signed out");
    let login = location(&page);
    assert_eq!(login, "/login?next=/dashboard&error=expired");
    assert!(!browser.jar.contains_key(SESSION), "cookie cleared");
    let explained = browser.get(&login).await.text().await.unwrap();
    assert!(explained.contains("Your session has ended"), "{explained}");
}

#[tokio::test]
async fn e6_other_oauth_errors_on_refresh_keep_the_session_and_answer_503() {
    let app = serve_app(&[]).await;
    // invalid_client is our configuration, not the user's session: try again later.
    let mut browser = signed_in_then_token_endpoint_answers(&app, "2", "invalid_client").await;
    assert_eq!(
        browser.get("/dashboard").await.status(),
        200,
        "a refresh that fails early leaves the still-valid tokens in use"
    );
    tokio::time::sleep(std::time::Duration::from_millis(2_500)).await;
    let page = browser.get("/dashboard").await;
    assert_eq!(page.status(), 503, "expired and not refreshable for now");
    assert_eq!(page.headers()["retry-after"], "5");
    assert!(browser.jar.contains_key(SESSION), "the session stays");
    browser
        .control(&[("fault", "token"), ("kind", "none")])
        .await;
    // Unavailable results are remembered for a few seconds (FAILURE_MEMORY).
    tokio::time::sleep(std::time::Duration::from_millis(3_200)).await;
    assert_eq!(browser.get("/dashboard").await.status(), 200, "recovered");
}

#[tokio::test]
async fn without_offline_access_refresh_explains_itself_and_the_session_ends_with_its_token() {
    let app = serve_app(&[("SCALEKIT_SCOPES", "openid profile email")]).await;
    let mut browser = Browser::new(&app);
    browser.control(&[("access_token_ttl", "2")]).await;
    assert_eq!(browser.sign_in_as("admin", "/sessions").await.status(), 303);
    let refresh = browser.call("refresh_session").await;
    assert_eq!(refresh.status(), 400);
    assert!(refresh.text().await.unwrap().contains("offline_access"));
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let page = browser.get("/sessions").await;
    assert_eq!(page.status(), 302);
    assert_eq!(location(&page), "/login?next=/sessions&error=expired");
}
