//! Sign-in: the login post, the authorization URL, the callback and its refusals (L*, I13).

use super::{signed_in, SESSION, SIGNIN};
use crate::common::browser::{
    location, query_param, serve_app, serve_app_on, set_cookies, Browser,
};

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

/// L11: the callback, wherever `SCALEKIT_REDIRECT_URI` puts it, is never where a sign-in
/// lands: without its transaction it would show "sign-in expired" to a user just signed in.
#[tokio::test]
async fn l11_the_callback_path_is_never_a_return_path() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let callback = format!("http://{}/oauth/callback", listener.local_addr().unwrap());
    let app = serve_app_on(listener, &[("SCALEKIT_REDIRECT_URI", callback.as_str())]).await;
    for next in ["/oauth/callback", "/oauth/callback?code=x"] {
        let mut browser = Browser::new(&app);
        let landed = browser.sign_in_as("member", next).await;
        assert_eq!(landed.status(), 303, "{next}");
        assert_eq!(location(&landed), "/dashboard", "{next}");
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

/// L7: a provider that needs the user to sign in there (`prompt=none` without its session) gets
/// the failure page with 403, never a 401, which promises an authentication challenge.
#[tokio::test]
async fn l7_provider_refusals_never_answer_401_without_a_challenge() {
    let app = serve_app(&[]).await;
    for error in ["login_required", "interaction_required", "access_denied"] {
        let mut browser = Browser::new(&app);
        let authorize = browser.start_login(&[]).await;
        let state = query_param(&authorize, "state").unwrap();
        let response = browser
            .get(&format!("/auth/callback?error={error}&state={state}"))
            .await;
        assert_eq!(response.status(), 403, "{error}");
        assert!(!response.headers().contains_key("www-authenticate"));
    }
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
    const HINTS: [&str; 6] = scalekit_leptos::ROUTING_PARAMETERS;
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

/// Scalekit's routing parameters reach the authorization request as sent, once checked; "sign in
/// with SSO" turns an email into its domain and login hint.
#[tokio::test]
async fn l2_routing_parameters_are_forwarded_and_sso_routes_by_domain() {
    let app = serve_app(&[]).await;
    let mut browser = Browser::new(&app);
    let sent = [
        ("connection_id", "conn_200000000000000001"),
        ("organization_id", "org_100000000000000001"),
        ("domain_hint", "Example.com"),
        ("login_hint", "ada.admin@example.com"),
        ("provider", "google"),
        ("prompt", "select_account"),
    ];
    let response = browser.post_form("/_app/login", &sent).await;
    assert_eq!(response.status(), 303);
    let url = location(&response);
    for (name, value) in sent {
        let expected = if name == "domain_hint" {
            "example.com"
        } else {
            value
        };
        assert_eq!(
            query_param(&url, name).as_deref(),
            Some(expected),
            "{name}: {url}"
        );
    }

    let response = browser
        .post_form(
            "/_app/login",
            &[("sso", " Ada.Admin@EXAMPLE.com "), ("next", "/sessions")],
        )
        .await;
    let url = location(&response);
    assert_eq!(
        query_param(&url, "domain_hint").as_deref(),
        Some("example.com")
    );
    assert_eq!(
        query_param(&url, "login_hint").as_deref(),
        Some("Ada.Admin@EXAMPLE.com")
    );
    assert_eq!(query_param(&url, "organization_id"), None);
    let response = browser
        .post_form("/_app/login", &[("sso", "globex.test")])
        .await;
    let url = location(&response);
    assert_eq!(
        query_param(&url, "domain_hint").as_deref(),
        Some("globex.test")
    );
    assert_eq!(query_param(&url, "login_hint"), None);
    // Empty form fields are "not given".
    let response = browser
        .post_form("/_app/login", &[("connection_id", ""), ("sso", "")])
        .await;
    assert_eq!(query_param(&location(&response), "connection_id"), None);
}

#[tokio::test]
async fn l2_a_bad_routing_parameter_returns_to_the_login_page() {
    let app = serve_app(&[]).await;
    let mut browser = Browser::new(&app);
    let long = "o".repeat(65);
    for bad in [
        ("connection_id", "conn_1/../x"),
        ("organization_id", long.as_str()),
        ("domain_hint", "localhost"),
        ("login_hint", "ada\u{7}@example.com"),
        ("provider", "myspace"),
        ("prompt", "always"),
        ("sso", "not an email"),
    ] {
        let response = browser
            .post_form("/_app/login", &[bad, ("next", "/sessions")])
            .await;
        assert_eq!(response.status(), 303, "{bad:?}");
        assert_eq!(
            location(&response),
            "/login?error=invalid_request&next=%2Fsessions",
            "{bad:?}"
        );
        assert!(
            !browser.cookie_header().contains("skit_signin"),
            "no transaction was started for {bad:?}"
        );
    }
}
