#![cfg(feature = "ssr")]

//! The backend-for-frontend over real HTTP: sign-in, callback, session cookies, guards, refresh,
//! sign-out and the CSRF layer, against the app's own development provider. Each test is named
//! after the checklist line it proves (../shared/docs/security-checklist.md).

use crate::common;

use common::browser::{location, query_param, serve_app, set_cookies, Browser, RunningApp};
use reqwest::Method;
use scalekit_auth::refresh::FAILURE_MEMORY;

const SESSION: &str = "__Host-skit_session";
const SIGNIN: &str = "__Host-skit_signin";

async fn signed_in(persona: &str) -> Browser {
    let app = serve_app(&[]).await;
    let mut browser = Browser::new(&app);
    let callback = browser.sign_in_as(persona, "/dashboard").await;
    assert_eq!(callback.status(), 303);
    browser
}

#[tokio::test]
async fn l1_l2_l4_login_posts_redirect_to_the_provider_and_keep_the_transaction_in_a_host_cookie() {
    let app = serve_app(&[]).await;
    let mut browser = Browser::new(&app);
    let response = browser
        .post_form(
            "/_app/login",
            &[
                ("next", "/dashboard"),
                ("organization_id", "org_100000000000000001"),
                ("prompt", "login"),
            ],
        )
        .await;
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let url = location(&response);
    assert!(
        url.starts_with(&format!("{}/dev-idp/oauth/authorize?", app.base)),
        "{url}"
    );
    for (name, expected) in [
        ("response_type", Some("code")),
        ("client_id", Some("skc_dev_leptos_scalekit")),
        ("code_challenge_method", Some("S256")),
        ("scope", Some("openid profile email offline_access")),
        ("organization_id", Some("org_100000000000000001")),
        ("prompt", Some("login")),
    ] {
        assert_eq!(query_param(&url, name).as_deref(), expected, "{name}");
    }
    assert_eq!(
        query_param(&url, "redirect_uri").unwrap(),
        format!("{}/auth/callback", app.base)
    );
    for name in ["state", "nonce", "code_challenge"] {
        assert!(
            query_param(&url, name).is_some_and(|v| v.len() >= 43),
            "{name}"
        );
    }
    let cookies = set_cookies(response.headers());
    let tx = cookies
        .iter()
        .find(|c| c.name == SIGNIN)
        .expect("transaction cookie");
    assert!(tx.has("HttpOnly") && tx.has("Secure"), "{}", tx.line);
    assert_eq!(tx.attribute("SameSite").as_deref(), Some("Lax"));
    assert_eq!(tx.attribute("Path").as_deref(), Some("/"));
    assert_eq!(tx.attribute("Max-Age").as_deref(), Some("600"));
    assert!(tx.attribute("Domain").is_none());
    assert!(
        !tx.value.contains(&query_param(&url, "state").unwrap()),
        "sealed, not plain"
    );
}

#[tokio::test]
async fn l3_every_login_gets_fresh_state_nonce_and_verifier() {
    let app = serve_app(&[]).await;
    let mut browser = Browser::new(&app);
    let first = browser.start_login(&[]).await;
    let second = browser.start_login(&[]).await;
    for name in ["state", "nonce", "code_challenge"] {
        assert_ne!(
            query_param(&first, name),
            query_param(&second, name),
            "{name}"
        );
    }
}

#[tokio::test]
async fn l11_c1_c4_c5_sign_in_sets_a_sealed_host_session_and_lands_on_the_saved_path() {
    let app = serve_app(&[]).await;
    let mut browser = Browser::new(&app);
    let callback = browser
        .sign_in_as("admin", "/organization/settings?tab=1")
        .await;
    assert_eq!(callback.status(), 303);
    assert_eq!(location(&callback), "/organization/settings?tab=1");
    // L13: the callback URL holds the code: no caching, no Referer.
    assert_eq!(callback.headers()["cache-control"], "no-store");
    assert_eq!(callback.headers()["referrer-policy"], "no-referrer");
    let cookies = set_cookies(callback.headers());
    // L6: the transaction cookie is cleared, with the attributes it was set with.
    let tx = cookies
        .iter()
        .find(|c| c.name == SIGNIN)
        .expect("transaction removal");
    assert!(
        tx.is_removal() && tx.has("Secure") && tx.has("HttpOnly"),
        "{}",
        tx.line
    );
    let session = cookies
        .iter()
        .find(|c| c.name == SESSION)
        .expect("session cookie");
    assert!(
        session.has("HttpOnly") && session.has("Secure"),
        "{}",
        session.line
    );
    assert_eq!(session.attribute("SameSite").as_deref(), Some("Lax"));
    assert_eq!(session.attribute("Path").as_deref(), Some("/"));
    assert!(session.attribute("Domain").is_none());
    for cookie in &cookies {
        assert!(
            cookie.line.len() < 4096,
            "C5: {} is {} bytes",
            cookie.name,
            cookie.line.len()
        );
    }

    let page = browser.get("/organization/settings?tab=1").await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("Organization settings"), "{html}");
    assert!(html.contains("org_100000000000000001"));
    // C4: the page and its hydration data carry no token (all tokens are JWTs starting `eyJ`).
    assert!(!html.contains("eyJ"), "a token leaked into the page");
}

#[tokio::test]
async fn l11_open_redirect_tricks_fall_back_to_the_dashboard() {
    let app = serve_app(&[]).await;
    for next in [
        "//evil.example",
        "https://evil.example/",
        "/\\evil.example",
        "/%2F%2Fevil.example",
        "/\t/evil.example",
        "javascript:alert(1)",
        "/login",
    ] {
        let mut browser = Browser::new(&app);
        let callback = browser.sign_in_as("member", next).await;
        assert_eq!(callback.status(), 303, "{next}");
        assert_eq!(location(&callback), "/dashboard", "{next:?}");
    }
}

#[tokio::test]
async fn l5_a_wrong_state_is_refused_before_any_token_call() {
    let app = serve_app(&[]).await;
    let mut browser = Browser::new(&app);
    let authorize = browser.start_login(&[("login_hint", "admin")]).await;
    let at_provider = browser.get(&authorize).await;
    let callback = location(&at_provider);
    let code = query_param(&callback, "code").unwrap();
    let forged = format!("/auth/callback?code={code}&state=not-the-state");
    let response = browser.get(&forged).await;
    assert_eq!(response.status(), 400);
    assert!(set_cookies(response.headers())
        .iter()
        .any(|c| c.name == SIGNIN && c.is_removal()));
    assert_eq!(browser.token_calls("authorization_code").await, 0);
    assert!(response.text().await.unwrap().contains("Try again"));
}

#[tokio::test]
async fn l6_replaying_a_callback_fails() {
    let app = serve_app(&[]).await;
    let mut browser = Browser::new(&app);
    let authorize = browser.start_login(&[("login_hint", "admin")]).await;
    let callback = location(&browser.get(&authorize).await);
    let saved_jar = browser.jar.clone();
    assert_eq!(browser.get(&callback).await.status(), 303);
    // Even with the transaction cookie put back, the code is spent.
    browser.jar = saved_jar;
    let replay = browser.get(&callback).await;
    assert_eq!(replay.status(), 400);
    assert!(!browser.jar.contains_key(SESSION));
}

#[tokio::test]
async fn l7_provider_errors_show_an_escaped_page_without_a_token_call() {
    let app = serve_app(&[]).await;
    let mut browser = Browser::new(&app);
    let authorize = browser.start_login(&[]).await;
    let state = query_param(&authorize, "state").unwrap();
    let response = browser
        .get(&format!(
            "/auth/callback?error=access_denied&error_description=%3Cscript%3Ealert(1)%3C%2Fscript%3E&state={state}"
        ))
        .await;
    assert_eq!(response.status(), 403);
    let html = response.text().await.unwrap();
    assert!(
        html.contains("&lt;script&gt;") && !html.contains("<script>alert"),
        "{html}"
    );
    assert_eq!(browser.token_calls("authorization_code").await, 0);
}

#[tokio::test]
async fn l8_an_iss_parameter_from_another_issuer_is_refused() {
    let app = serve_app(&[]).await;
    let mut browser = Browser::new(&app);
    let authorize = browser.start_login(&[("login_hint", "admin")]).await;
    let callback = location(&browser.get(&authorize).await);
    let response = browser
        .get(&format!("{callback}&iss=https%3A%2F%2Fevil.example"))
        .await;
    assert_eq!(response.status(), 400);
    assert_eq!(browser.token_calls("authorization_code").await, 0);
}

#[tokio::test]
async fn l14_a_callback_without_this_browsers_transaction_is_refused() {
    let app = serve_app(&[]).await;
    let mut attacker = Browser::new(&app);
    let authorize = attacker.start_login(&[("login_hint", "admin")]).await;
    let callback = location(&attacker.get(&authorize).await);
    let mut victim = Browser::new(&app);
    let response = victim.get(&callback).await;
    assert_eq!(response.status(), 400);
    assert!(!victim.jar.contains_key(SESSION));
    assert_eq!(victim.token_calls("authorization_code").await, 0);
}

#[tokio::test]
async fn l11_a_new_sign_in_makes_the_previous_session_cookie_useless() {
    let app = serve_app(&[]).await;
    let mut browser = Browser::new(&app);
    browser.sign_in_as("member", "/dashboard").await;
    let old_jar = browser.jar.clone();
    browser.sign_in_as("admin", "/dashboard").await;
    assert_ne!(old_jar.get(SESSION), browser.jar.get(SESSION));
    browser.jar = old_jar;
    let page = browser.get("/dashboard").await;
    assert_eq!(page.status(), 302, "the replaced session is refused");
}

/// How many resources the server wrote into the page for hydration (`__RESOLVED_RESOURCES[id] = …`).
fn resources_in_page(html: &str) -> usize {
    html.match_indices("__RESOLVED_RESOURCES[")
        .filter(|(at, needle)| html[at + needle.len()..].starts_with(|c: char| c.is_ascii_digit()))
        .count()
}

/// A guarded page's own data is fetched, and written into the page, once per render. (Made
/// inside the guard, it was fetched three times: the claims three times over in every dashboard,
/// and the API-client list asked of the provider three times per settings page.)
#[tokio::test]
async fn guarded_pages_fetch_their_data_once_per_render() {
    let mut browser = signed_in("admin").await;
    for (path, expected, what) in [
        ("/dashboard", 3, "site info, session, claims"),
        (
            "/organization/settings",
            4,
            "site info, session, API clients, kept secret",
        ),
    ] {
        let page = browser.get(path).await;
        assert_eq!(page.status(), 200, "{path}");
        let html = page.text().await.unwrap();
        assert_eq!(resources_in_page(&html), expected, "{path}: {what}");
    }
    let page = browser.get("/dashboard").await.text().await.unwrap();
    assert_eq!(
        page.matches("at_hash").count(),
        2,
        "the ID token's claims once in the table, once in the page's data"
    );
}

#[tokio::test]
async fn c6_a_tampered_session_cookie_signs_out_and_is_cleared() {
    let mut browser = signed_in("admin").await;
    let value = browser.jar.get_mut(SESSION).unwrap();
    let flipped = if value.ends_with('A') { 'B' } else { 'A' };
    value.pop();
    value.push(flipped);
    let page = browser.get("/dashboard").await;
    assert_eq!(page.status(), 302);
    assert!(set_cookies(page.headers())
        .iter()
        .any(|c| c.name == SESSION && c.is_removal()));
}

#[tokio::test]
async fn guards_redirect_signed_out_pages_and_refuse_server_functions_with_401() {
    let app = serve_app(&[]).await;
    let mut browser = Browser::new(&app);
    let page = browser.get("/dashboard?x=1").await;
    assert_eq!(page.status(), 302);
    assert_eq!(location(&page), "/login?next=/dashboard%3Fx%3D1");
    let settings = browser.get("/organization/settings").await;
    assert_eq!(settings.status(), 302);
    for server_fn in ["validate_token", "refresh_session"] {
        let response = browser.call(server_fn).await;
        assert_eq!(response.status(), 401, "{server_fn}");
        assert_eq!(response.headers()["cache-control"], "no-store");
    }
    let session = browser.call("session").await;
    assert_eq!(session.status(), 200);
    assert_eq!(session.text().await.unwrap(), "\"SignedOut\"");
}

#[tokio::test]
async fn guards_give_a_member_without_the_permission_a_403_page() {
    let mut member = signed_in("member").await;
    let page = member.get("/organization/settings").await;
    assert_eq!(page.status(), 403);
    assert_eq!(page.headers()["cache-control"], "no-store");
    assert!(page.text().await.unwrap().contains("organization:settings"));
    let mut admin = signed_in("admin").await;
    assert_eq!(admin.get("/organization/settings").await.status(), 200);
}

#[tokio::test]
async fn c4_server_functions_return_claims_and_fingerprints_never_tokens() {
    let mut browser = signed_in("admin").await;
    let session = browser.call("session").await;
    assert_eq!(session.status(), 200);
    let body = session.text().await.unwrap();
    assert!(
        body.contains("Ada Admin") && body.contains("organization:settings"),
        "{body}"
    );
    assert!(!body.contains("eyJ"), "{body}");
    let check = browser.call("validate_token").await;
    assert_eq!(check.status(), 200);
    let body: serde_json::Value = check.json().await.unwrap();
    assert_eq!(body["valid"], true);
    assert_eq!(body["subject"], "usr_100000000000000001");
    assert!(!body.to_string().contains("eyJ"));
}

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
async fn o1_get_logout_only_asks() {
    let mut browser = signed_in("admin").await;
    let page = browser.get("/logout").await;
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("Sign out?"));
    assert_eq!(
        browser.get("/dashboard").await.status(),
        200,
        "still signed in"
    );
}

#[tokio::test]
async fn o2_to_o6_logout_revokes_clears_and_goes_to_the_end_session_endpoint() {
    let mut browser = signed_in("admin").await;
    let old_jar = browser.jar.clone();
    let response = browser.post_form("/_app/logout", &[]).await;
    assert_eq!(response.status(), 303);
    assert_eq!(
        response.headers()["clear-site-data"],
        "\"cookies\", \"storage\""
    );
    assert_eq!(response.headers()["cache-control"], "no-store");
    let target = location(&response);
    assert!(
        target.starts_with(&format!("{}/dev-idp/oidc/logout?", browser.base)),
        "{target}"
    );
    assert!(query_param(&target, "id_token_hint").is_some_and(|h| h.starts_with("eyJ")));
    assert_eq!(
        query_param(&target, "post_logout_redirect_uri").unwrap(),
        browser.base
    );
    let state = query_param(&target, "state").unwrap();
    let cookies = set_cookies(response.headers());
    let removal = cookies
        .iter()
        .find(|c| c.name == SESSION)
        .expect("O3: session removed");
    assert!(removal.is_removal() && removal.has("Secure") && removal.has("HttpOnly"));
    assert_eq!(removal.attribute("Path").as_deref(), Some("/"));
    assert_eq!(removal.attribute("SameSite").as_deref(), Some("Lax"));
    // The provider ends its session and sends the browser home with the same state.
    let back = browser.get(&target).await;
    assert_eq!(back.status(), 302);
    assert_eq!(
        query_param(&location(&back), "state").as_deref(),
        Some(state.as_str())
    );
    // O6: the old cookie is refused, pages redirect, server functions answer 401.
    browser.jar = old_jar;
    assert_eq!(browser.get("/dashboard").await.status(), 302);
    assert_eq!(browser.call("validate_token").await.status(), 401);
}

#[tokio::test]
async fn x2_x3_x7_cross_site_posts_to_every_server_function_are_refused() {
    let app = serve_app(&[]).await;
    let mut browser = Browser::new(&app);
    for server_fn in [
        "login",
        "logout",
        "session",
        "validate_token",
        "refresh_session",
        "site_info",
    ] {
        let path = format!("/_app/{server_fn}");
        for headers in [
            vec![
                ("origin", "https://evil.example"),
                ("sec-fetch-site", "cross-site"),
            ],
            vec![("origin", "https://evil.example")],
            vec![("sec-fetch-site", "same-site")],
            vec![],
        ] {
            let response = browser
                .request(Method::POST, &path, &headers, Some(&[]))
                .await;
            assert_eq!(response.status(), 403, "{path} {headers:?}");
        }
    }
    // Same-origin posts go through (X7); login answers with its redirect.
    assert_eq!(browser.post_form("/_app/login", &[]).await.status(), 303);
}

#[tokio::test]
async fn h1_the_csp_nonce_matches_the_hydration_scripts() {
    let app = serve_app(&[]).await;
    let mut browser = Browser::new(&app);
    let page = browser.get("/login").await;
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    for directive in [
        "default-src 'self'",
        "'wasm-unsafe-eval'",
        "frame-ancestors 'none'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
    ] {
        assert!(csp.contains(directive), "{directive} in {csp}");
    }
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .unwrap()
        .to_string();
    // H6: what the page shows depends on the session cookie.
    assert!(page.headers()["vary"].to_str().unwrap().contains("Cookie"));
    let html = page.text().await.unwrap();
    assert!(html.contains(&format!("nonce=\"{nonce}\"")), "{html}");
    let other = browser.get("/login").await;
    assert!(!other.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains(&nonce));
}

#[tokio::test]
async fn e8_l11_a_signed_in_visit_to_login_never_redirects_off_site_or_panics() {
    let mut browser = signed_in("admin").await;
    for (next, expected) in [
        ("%2Forganization%2Fsettings", "/organization/settings"),
        ("%2Fa%0Ab", "/dashboard"),
        ("%2F%2Fevil.example", "/dashboard"),
        ("https%3A%2F%2Fevil.example", "/dashboard"),
        ("%2F%5Cevil.example", "/dashboard"),
        ("%2F%C3%A9", "/dashboard"),
    ] {
        let page = browser.get(&format!("/login?next={next}")).await;
        assert_eq!(page.status(), 302, "{next}");
        assert_eq!(location(&page), expected, "{next}");
    }
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

#[tokio::test]
async fn guards_redirect_with_302_whatever_the_accept_header() {
    let app = serve_app(&[]).await;
    let mut browser = Browser::new(&app);
    for accept in ["*/*", "application/json", "text/html"] {
        let page = browser
            .request(Method::GET, "/dashboard", &[("accept", accept)], None)
            .await;
        assert_eq!(page.status(), 302, "Accept: {accept}");
        assert_eq!(location(&page), "/login?next=/dashboard");
    }
}

#[tokio::test]
async fn without_javascript_a_new_api_client_secret_is_shown_once() {
    let mut browser = signed_in("admin").await;
    let created = browser
        .post_form(
            "/_app/create_api_client",
            &[
                ("name", "nojs"),
                ("read_deployments", "on"),
                ("expiry", "3600"),
            ],
        )
        .await;
    assert_eq!(created.status(), 303);
    assert_eq!(location(&created), "/organization/settings#new-client");
    assert!(
        browser.jar.contains_key("__Host-skit_new_client"),
        "{:?}",
        browser.jar.keys()
    );
    let page = browser
        .get("/organization/settings")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("shown only this once"), "{page}");
    assert!(!browser.jar.contains_key("__Host-skit_new_client"), "taken");
    let again = browser
        .get("/organization/settings")
        .await
        .text()
        .await
        .unwrap();
    assert!(!again.contains("shown only this once"));
}

#[tokio::test]
async fn x5_api_client_server_functions_need_the_permission_and_check_input() {
    let mut member = signed_in("member").await;
    for server_fn in ["api_clients", "delete_api_client", "create_api_client"] {
        let origin = member.base.clone();
        let response = member
            .request(
                Method::POST,
                &format!("/_app/{server_fn}"),
                &[
                    ("origin", &origin),
                    ("sec-fetch-site", "same-origin"),
                    ("accept", "application/json"),
                ],
                Some(&[("name", "x"), ("client_id", "m2morg_1")]),
            )
            .await;
        assert_eq!(response.status(), 403, "{server_fn}");
    }
    let mut admin = signed_in("admin").await;
    let origin = admin.base.clone();
    let empty_name = admin
        .request(
            Method::POST,
            "/_app/create_api_client",
            &[
                ("origin", &origin),
                ("sec-fetch-site", "same-origin"),
                ("accept", "application/json"),
            ],
            Some(&[("name", "  "), ("expiry", "3600")]),
        )
        .await;
    assert_eq!(empty_name.status(), 400);
    assert!(empty_name.text().await.unwrap().contains("name must be"));
    let unknown = admin
        .request(
            Method::POST,
            "/_app/delete_api_client",
            &[
                ("origin", &origin),
                ("sec-fetch-site", "same-origin"),
                ("accept", "application/json"),
            ],
            Some(&[("client_id", "m2morg_999999999999999999")]),
        )
        .await;
    assert_eq!(
        unknown.status(),
        404,
        "the management API's answer is passed on"
    );
}

#[tokio::test]
async fn l6_a_kept_transaction_cookie_buys_one_token_call() {
    let app = serve_app(&[]).await;
    let mut browser = Browser::new(&app);
    let authorize = browser.start_login(&[("login_hint", "admin")]).await;
    let callback = location(&browser.get(&authorize).await);
    let kept = browser
        .jar
        .get(SIGNIN)
        .cloned()
        .expect("a transaction cookie");
    let state = query_param(&callback, "state").unwrap();
    // A client that ignores the cookie's removal replays the callback with made-up codes.
    for attempt in 0..20 {
        browser.jar.insert(SIGNIN.into(), kept.clone());
        let response = browser
            .get(&format!(
                "/auth/callback?code=made-up-{attempt}&state={state}"
            ))
            .await;
        assert_eq!(response.status(), 400, "attempt {attempt}");
    }
    assert_eq!(
        browser.token_calls("authorization_code").await,
        1,
        "one token-endpoint call for the whole transaction"
    );
    // The genuine code cannot be used after the transaction was spent either.
    browser.jar.insert(SIGNIN.into(), kept);
    assert_eq!(browser.get(&callback).await.status(), 400);
    assert_eq!(browser.token_calls("authorization_code").await, 1);
}

#[tokio::test]
async fn l7_a_provider_error_without_this_sign_ins_state_is_not_shown() {
    let app = serve_app(&[]).await;
    let mut browser = Browser::new(&app);
    browser.start_login(&[]).await;
    let response = browser
        .get("/auth/callback?error=access_denied&error_description=Call+0800+FAKE+support")
        .await;
    assert_eq!(response.status(), 400);
    let html = response.text().await.unwrap();
    assert!(!html.contains("FAKE"), "{html}");
    assert!(
        html.contains("does not match your sign-in attempt"),
        "{html}"
    );
}

#[tokio::test]
async fn c11_static_files_never_touch_the_session_and_cookie_setting_responses_are_not_cached() {
    let app = serve_app(&[("LEPTOS_SITE_ROOT", "public")]).await;
    let mut browser = Browser::new(&app);
    browser.control(&[("access_token_ttl", "2")]).await;
    browser.sign_in_as("admin", "/dashboard").await;
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    // The access token is due for a refresh, but a file is the same for everyone.
    let file = browser.get("/favicon.svg").await;
    assert_eq!(file.status(), 200);
    assert_eq!(file.headers()["cache-control"], "public, max-age=86400");
    assert!(
        set_cookies(file.headers()).is_empty(),
        "{:?}",
        file.headers()
    );
    assert_eq!(browser.token_calls("refresh_token").await, 0);
    // The 404 page reads the session (it shows who is signed in): its cookies come with no-store.
    let missing = browser.get("/no-such-page").await;
    assert_eq!(missing.status(), 404);
    assert!(!set_cookies(missing.headers()).is_empty(), "refreshed here");
    assert_eq!(missing.headers()["cache-control"], "no-store");
    assert_eq!(browser.token_calls("refresh_token").await, 1);
}

/// Checklist I13 does not apply because of this: the authorization URL carries only the
/// parameters the app means to send, never `max_age` or `acr_values` (so no `auth_time` or `acr`
/// check is owed), whatever the login form adds.
#[tokio::test]
async fn i13_the_authorization_url_never_asks_for_max_age_or_acr_values() {
    let app = serve_app(&[]).await;
    let mut browser = Browser::new(&app);
    const ALWAYS: [&str; 8] = [
        "response_type",
        "client_id",
        "redirect_uri",
        "scope",
        "state",
        "nonce",
        "code_challenge",
        "code_challenge_method",
    ];
    const HINTS: [&str; 3] = ["organization_id", "login_hint", "prompt"];
    for form in [
        vec![],
        vec![
            ("next", "/dashboard"),
            ("organization_id", "org_100000000000000001"),
            ("login_hint", "admin"),
            ("prompt", "login"),
        ],
        // What a caller adds to the form is not passed on.
        vec![
            ("max_age", "0"),
            ("acr_values", "urn:mace:incommon:iap:silver"),
            ("claims", "{\"id_token\":{\"acr\":null}}"),
        ],
    ] {
        let response = browser.post_form("/_app/login", &form).await;
        assert_eq!(response.status(), 303, "{form:?}");
        let url = location(&response);
        let names: Vec<String> = url::Url::parse(&url)
            .unwrap()
            .query_pairs()
            .map(|(name, _)| name.into_owned())
            .collect();
        for name in ALWAYS {
            assert!(names.iter().any(|n| n == name), "{name} missing: {url}");
        }
        for name in &names {
            assert!(
                ALWAYS.contains(&name.as_str()) || HINTS.contains(&name.as_str()),
                "unexpected `{name}` in {url}"
            );
        }
        for banned in ["max_age", "acr_values", "claims"] {
            assert!(query_param(&url, banned).is_none(), "{banned} in {url}");
        }
    }
}

/// The attributes that decide which stored cookie a Set-Cookie line replaces or removes.
fn cookie_scope(
    cookie: &common::browser::SetCookie,
) -> (Option<String>, Option<String>, bool, bool, Option<String>) {
    (
        cookie.attribute("Path"),
        cookie.attribute("Domain"),
        cookie.has("Secure"),
        cookie.has("HttpOnly"),
        cookie.attribute("SameSite"),
    )
}

/// Checklist C9: a response that sets one cookie and removes another (the callback: the session
/// in, the transaction out) carries one Set-Cookie header per cookie, appended, none folded or
/// overwritten; and each removal names the cookie with the Path, Domain (none), Secure, HttpOnly
/// and SameSite it was set with, so the browser really drops it.
#[tokio::test]
async fn c9_cookies_are_appended_one_per_header_and_removals_match_what_they_remove() {
    let app = serve_app(&[]).await;
    let mut browser = Browser::new(&app);
    let login = browser
        .post_form(
            "/_app/login",
            &[("next", "/dashboard"), ("login_hint", "admin")],
        )
        .await;
    assert_eq!(login.status(), 303);
    let transaction = set_cookies(login.headers())
        .into_iter()
        .find(|c| c.name == SIGNIN && !c.is_removal())
        .expect("the transaction cookie");
    let at_provider = browser.get(&location(&login)).await;
    let callback = browser.get(&location(&at_provider)).await;
    assert_eq!(callback.status(), 303);

    let lines: Vec<String> = callback
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    let cookies = set_cookies(callback.headers());
    assert!(lines.len() >= 2, "{lines:?}");
    assert_eq!(lines.len(), cookies.len());
    for line in &lines {
        assert_eq!(
            line.matches("__Host-").count(),
            1,
            "one cookie per line: {line}"
        );
    }
    let mut names: Vec<&str> = cookies.iter().map(|c| c.name.as_str()).collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), cookies.len(), "each cookie once: {lines:?}");
    let session = cookies
        .iter()
        .find(|c| c.name == SESSION && !c.is_removal())
        .expect("the session is set");
    let removed_transaction = cookies
        .iter()
        .find(|c| c.name == SIGNIN)
        .expect("the transaction is removed in the same response");
    assert!(removed_transaction.is_removal());
    assert!(removed_transaction.value.is_empty());
    assert_eq!(
        cookie_scope(removed_transaction),
        cookie_scope(&transaction)
    );
    assert_eq!(
        cookie_scope(session),
        (Some("/".into()), None, true, true, Some("Lax".into()))
    );

    // Sign-out removes the session with the attributes sign-in set it with.
    let logout = browser.post_form("/_app/logout", &[]).await;
    assert_eq!(logout.status(), 303);
    let removals = set_cookies(logout.headers());
    assert_eq!(
        logout.headers().get_all("set-cookie").iter().count(),
        removals.len()
    );
    for (name, set) in [(SESSION, session), (SIGNIN, &transaction)] {
        let removal = removals
            .iter()
            .find(|c| c.name == name)
            .unwrap_or_else(|| panic!("{name} removed at sign-out"));
        assert!(removal.is_removal(), "{}", removal.line);
        assert_eq!(cookie_scope(removal), cookie_scope(set), "{name}");
    }
}

/// Checklist X6: the session and transaction cookies are `SameSite=Lax`, set explicitly on
/// every write (sign-in, callback, refresh), as a second line only: a request from a same-site
/// sibling, which Lax lets the cookie ride along with, is still refused by the CSRF layer.
#[tokio::test]
async fn x6_session_cookies_are_same_site_lax_and_the_csrf_layer_still_decides() {
    let app = serve_app(&[]).await;
    let mut browser = Browser::new(&app);
    let login = browser
        .post_form(
            "/_app/login",
            &[("next", "/dashboard"), ("login_hint", "admin")],
        )
        .await;
    let at_provider = browser.get(&location(&login)).await;
    let callback = browser.get(&location(&at_provider)).await;
    assert_eq!(callback.status(), 303);
    let refreshed = browser.call("refresh_session").await;
    assert_eq!(refreshed.status(), 200);
    let mut written = Vec::new();
    for (step, response) in [
        ("login", &login),
        ("callback", &callback),
        ("refresh", &refreshed),
    ] {
        for cookie in set_cookies(response.headers()) {
            if cookie.name.starts_with(SESSION) || cookie.name == SIGNIN {
                assert_eq!(
                    cookie.attribute("SameSite").as_deref(),
                    Some("Lax"),
                    "{step}: {}",
                    cookie.line
                );
                written.push((step, cookie.name.clone(), cookie.is_removal()));
            }
        }
    }
    for (step, name) in [
        ("login", SIGNIN),
        ("callback", SESSION),
        ("refresh", SESSION),
    ] {
        assert!(
            written
                .iter()
                .any(|(s, n, removal)| *s == step && n == name && !removal),
            "{step} sets {name}: {written:?}"
        );
    }

    // Lax sends the cookie with a same-site sibling's request; the CSRF layer refuses it anyway.
    assert!(browser.jar.contains_key(SESSION));
    let sibling = browser
        .request(
            Method::POST,
            "/_app/refresh_session",
            &[
                ("origin", "http://sibling.localhost"),
                ("sec-fetch-site", "same-site"),
                ("accept", "application/json"),
            ],
            Some(&[]),
        )
        .await;
    assert_eq!(sibling.status(), 403);
    assert!(set_cookies(sibling.headers()).is_empty());
    assert_eq!(
        browser.get("/dashboard").await.status(),
        200,
        "still signed in"
    );
}

#[tokio::test]
async fn o8_a_back_channel_logout_ends_the_session_without_a_shared_store_too() {
    let app = serve_app(&[]).await;
    let mut browser = Browser::new(&app);
    browser.sign_in_as("admin", "/dashboard").await;
    assert_eq!(browser.get("/dashboard").await.status(), 200);
    browser.control(&[("end_sessions", "admin")]).await;
    assert!(
        common::browser::backchannel_delivered(&browser.url("/dev-idp")).await,
        "the app accepted the provider's logout token"
    );
    let page = browser.get("/dashboard").await;
    assert_eq!(page.status(), 302);
    assert!(location(&page).starts_with("/login"));
}

/// The caller's sessions at the provider, as the session panel's list gets them.
async fn user_sessions_of(browser: &mut Browser) -> Vec<serde_json::Value> {
    let listed = browser.call("user_sessions").await;
    assert_eq!(listed.status(), 200);
    let body: serde_json::Value = listed.json().await.unwrap();
    body.as_array().expect("a list").clone()
}

/// O8: two browsers signed in as the same user; the second lists the sessions (its own marked),
/// cannot sign out a session that is not the user's, then signs out everywhere: the first
/// browser's next page is a redirect to sign in, and another user's session is untouched.
#[tokio::test]
async fn o8_sign_out_everywhere_from_one_session_ends_the_other() {
    let app = serve_app(&[]).await;
    let mut first = Browser::new(&app);
    assert_eq!(first.sign_in_as("admin", "/dashboard").await.status(), 303);
    let mut second = Browser::new(&app);
    assert_eq!(second.sign_in_as("admin", "/sessions").await.status(), 303);
    let mut member = Browser::new(&app);
    assert_eq!(
        member.sign_in_as("member", "/dashboard").await.status(),
        303
    );

    let sessions = user_sessions_of(&mut second).await;
    assert_eq!(sessions.len(), 2, "{sessions:?}");
    assert_eq!(
        sessions[0]["current"], true,
        "this session first: {sessions:?}"
    );
    assert_eq!(sessions[1]["current"], false, "{sessions:?}");
    let other = sessions[1]["session_id"].as_str().unwrap().to_string();
    assert!(other.starts_with("ses_"), "{other}");
    let page = second.get("/sessions").await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    for expected in [
        "Your sessions",
        "This session",
        "action=\"/_app/sign_out_everywhere\"",
        other.as_str(),
    ] {
        assert!(html.contains(expected), "{expected} in the page");
    }
    assert!(!html.contains("eyJ"), "no token in the page");

    // A session id from the form must be one of the caller's own sessions.
    let member_sessions = user_sessions_of(&mut member).await;
    assert_eq!(member_sessions.len(), 1, "{member_sessions:?}");
    let members = member_sessions[0]["session_id"]
        .as_str()
        .unwrap()
        .to_string();
    for not_ours in [members.as_str(), "ses_1"] {
        let refused = second
            .post_form("/_app/sign_out_session", &[("session_id", not_ours)])
            .await;
        assert!(
            matches!(refused.status().as_u16(), 403 | 404),
            "{not_ours}: {}",
            refused.status()
        );
    }
    let malformed = second
        .post_form("/_app/sign_out_session", &[("session_id", "ses_1/../x")])
        .await;
    assert_eq!(malformed.status(), 400);
    assert_eq!(member.get("/dashboard").await.status(), 200);

    let second_cookies = second.jar.clone();
    let everywhere = second.post_form("/_app/sign_out_everywhere", &[]).await;
    assert_eq!(everywhere.status(), 303);
    assert_eq!(location(&everywhere), "/login");
    assert!(
        !second.jar.contains_key(SESSION),
        "this session's cookies are cleared"
    );

    let page = first.get("/dashboard").await;
    assert_eq!(page.status(), 302, "the other session is over");
    assert!(location(&page).starts_with("/login"), "{}", location(&page));
    second.jar = second_cookies;
    assert_eq!(
        second.get("/dashboard").await.status(),
        302,
        "old cookie refused"
    );
    assert_eq!(
        member.get("/dashboard").await.status(),
        200,
        "another user's session stays"
    );
    assert_eq!(user_sessions_of(&mut member).await.len(), 1);
}

/// O8: signing out one other session ends that one only, at the provider and here.
#[tokio::test]
async fn o8_sign_out_session_ends_only_that_session() {
    let app = serve_app(&[]).await;
    let mut first = Browser::new(&app);
    assert_eq!(first.sign_in_as("admin", "/dashboard").await.status(), 303);
    let mut second = Browser::new(&app);
    assert_eq!(second.sign_in_as("admin", "/dashboard").await.status(), 303);

    let sessions = user_sessions_of(&mut second).await;
    let own = sessions[0]["session_id"].as_str().unwrap().to_string();
    let other = sessions[1]["session_id"].as_str().unwrap().to_string();
    let refused = second
        .post_form("/_app/sign_out_session", &[("session_id", own.as_str())])
        .await;
    assert_eq!(
        refused.status(),
        400,
        "this session signs out with Sign out"
    );

    let done = second
        .post_form("/_app/sign_out_session", &[("session_id", other.as_str())])
        .await;
    assert_eq!(done.status(), 303);
    assert_eq!(location(&done), "/sessions#your-sessions");
    assert_eq!(first.get("/dashboard").await.status(), 302);
    assert_eq!(second.get("/dashboard").await.status(), 200);
    let left = user_sessions_of(&mut second).await;
    assert_eq!(left.len(), 1, "{left:?}");
    assert_eq!(left[0]["session_id"], own.as_str());
}

/// O8: with the provider's API down, the list and sign-out everywhere answer 503 and nothing
/// ends; the session panel still renders, saying so.
#[tokio::test]
async fn o8_a_provider_outage_answers_503_and_ends_nothing() {
    let mut browser = signed_in("admin").await;
    // The development provider files paths ending in `/revoke` under its `revoke` endpoint.
    for endpoint in ["management", "revoke"] {
        browser
            .control(&[("fault", endpoint), ("kind", "status"), ("status", "503")])
            .await;
    }
    assert_eq!(browser.call("user_sessions").await.status(), 503);
    let everywhere = browser.post_form("/_app/sign_out_everywhere", &[]).await;
    assert_eq!(everywhere.status(), 503);
    assert!(browser.jar.contains_key(SESSION));
    let page = browser.get("/sessions").await;
    assert_eq!(page.status(), 200);
    assert!(page
        .text()
        .await
        .unwrap()
        .contains("Your sessions could not be loaded"));
    for endpoint in ["management", "revoke"] {
        browser
            .control(&[("fault", endpoint), ("kind", "none")])
            .await;
    }
    assert_eq!(user_sessions_of(&mut browser).await.len(), 1);
    assert_eq!(browser.get("/dashboard").await.status(), 200);
}

/// O8, X2: the sign-out server functions are refused to another site like every other one.
#[tokio::test]
async fn o8_cross_site_posts_cannot_sign_anyone_out() {
    let mut browser = signed_in("admin").await;
    let own = user_sessions_of(&mut browser).await[0]["session_id"]
        .as_str()
        .unwrap()
        .to_string();
    for (server_fn, form) in [
        ("sign_out_everywhere", vec![]),
        ("sign_out_session", vec![("session_id", own.as_str())]),
        ("user_sessions", vec![]),
    ] {
        let response = browser
            .request(
                Method::POST,
                &format!("/_app/{server_fn}"),
                &[
                    ("origin", "https://evil.example"),
                    ("sec-fetch-site", "cross-site"),
                ],
                Some(&form),
            )
            .await;
        assert_eq!(response.status(), 403, "{server_fn}");
    }
    assert_eq!(browser.get("/dashboard").await.status(), 200);
    assert_eq!(user_sessions_of(&mut browser).await.len(), 1);
}
