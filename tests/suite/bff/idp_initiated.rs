//! IdP-initiated login at `/auth/initiate-login`: the development provider's "start from the
//! identity provider" page sends a signed `idp_initiated_login` token; the app validates it and
//! sends the browser to the login page with its hints, whose **Sign in** starts an ordinary
//! sign-in with a fresh state, nonce and PKCE. Without a token (Scalekit's other ways here: an
//! expired login page, a password reset, an invitation) the login page gets the query's checked
//! routing parameters. Nothing starts without the user's click (login CSRF). Refusals get the
//! sign-in failure page with 400.

use super::SIGNIN;
use crate::common::browser::{location, query_param, serve_app, Browser};

const CLIENT_ID: &str = "skc_dev_leptos_scalekit";

/// The app's initiate-login URL with a fresh token for `persona`, as the provider's page sends it.
async fn token_link(browser: &mut Browser, persona: &str, relay_state: &str) -> String {
    let page = browser.get("/dev-idp/idp-initiated").await;
    assert_eq!(page.status(), 200);
    let origin = browser.base.clone();
    let sent = browser
        .request(
            reqwest::Method::POST,
            "/dev-idp/idp-initiated",
            &[("origin", &origin)],
            Some(&[
                ("persona", persona),
                ("client_id", CLIENT_ID),
                ("relay_state", relay_state),
            ]),
        )
        .await;
    assert_eq!(sent.status(), 303);
    let link = location(&sent);
    assert!(
        link.starts_with(&format!(
            "{origin}/auth/initiate-login?idp_initiated_login="
        )),
        "{link}"
    );
    link
}

/// The routing parameters (and `next`) the login page at `login` passes on: its form's hidden
/// fields, checked against the page the app renders, then posted as its **Sign in** does. The
/// provider's authorization URL.
async fn sign_in_from_the_login_page(browser: &mut Browser, login: &str) -> String {
    let page = browser.get(login).await;
    assert_eq!(page.status(), 200, "{login}");
    let html = page.text().await.unwrap();
    let names = [
        "next",
        "connection_id",
        "organization_id",
        "domain_hint",
        "login_hint",
    ];
    let fields: Vec<(&str, String)> = names
        .iter()
        .filter_map(|name| query_param(login, name).map(|value| (*name, value)))
        .collect();
    for (name, value) in &fields {
        assert!(
            html.contains(&format!(r#"name="{name}" value="{value}""#)),
            "the login page passes {name} on: {html}"
        );
    }
    let form: Vec<(&str, &str)> = fields.iter().map(|(n, v)| (*n, v.as_str())).collect();
    browser.start_login(&form).await
}

#[tokio::test]
async fn idp_initiated_login_goes_through_the_login_page_and_lands_on_the_relay_state() {
    let app = serve_app(&[]).await;
    let mut browser = Browser::new(&app);
    let link = token_link(&mut browser, "admin", "/sessions").await;

    let started = browser.get(&link).await;
    assert_eq!(started.status(), 303);
    assert_eq!(started.headers()["cache-control"], "no-store");
    assert_eq!(started.headers()["referrer-policy"], "no-referrer");
    assert!(
        !browser.jar.contains_key(SIGNIN),
        "nothing starts before the user's click"
    );
    let login = location(&started);
    assert!(login.starts_with("/login?"), "{login}");
    assert_eq!(query_param(&login, "next").as_deref(), Some("/sessions"));

    let authorize = sign_in_from_the_login_page(&mut browser, &login).await;
    assert!(browser.jar.contains_key(SIGNIN), "a transaction of our own");
    assert_eq!(
        query_param(&authorize, "connection_id").as_deref(),
        Some("conn_200000000000000001")
    );
    assert_eq!(
        query_param(&authorize, "organization_id").as_deref(),
        Some("org_100000000000000001")
    );
    assert_eq!(
        query_param(&authorize, "login_hint").as_deref(),
        Some("ada.admin@example.com")
    );
    let state = query_param(&authorize, "state").unwrap();
    assert_ne!(state, "/sessions", "the state is ours, not the relay state");
    assert!(query_param(&authorize, "nonce").is_some());
    assert!(query_param(&authorize, "code_challenge").is_some());

    let at_provider = browser.get(&authorize).await;
    assert_eq!(at_provider.status(), 302);
    let callback = browser.get(&location(&at_provider)).await;
    assert_eq!(callback.status(), 303);
    assert_eq!(location(&callback), "/sessions");
    assert_eq!(browser.get("/sessions").await.status(), 200);

    // The same token again: refused.
    let mut other = Browser::new(&app);
    let replayed = other.get(&link).await;
    assert_eq!(replayed.status(), 400);
    assert!(replayed.text().await.unwrap().contains("already used"));
}

/// L14, X4: the initiate-login URL is a GET any site can send a browser to. A valid token for
/// someone else's identity (a link made by whoever runs an organization's identity provider)
/// neither starts a sign-in nor touches the visitor's own session: it only leads to the login
/// page, where a signed-in visitor is sent on and a signed-out one must click.
#[tokio::test]
async fn l14_x4_a_link_from_another_site_neither_signs_in_nor_ends_the_session() {
    let app = serve_app(&[]).await;
    let mut ada = Browser::new(&app);
    assert_eq!(ada.sign_in_as("admin", "/dashboard").await.status(), 303);
    let before = ada.cookie_header();
    let mut attacker = Browser::new(&app);
    let link = token_link(&mut attacker, "member", "/dashboard").await;
    let path = link.strip_prefix(&app.base).unwrap().to_string();
    let followed = ada
        .request(
            reqwest::Method::GET,
            &path,
            &[("sec-fetch-site", "cross-site")],
            None,
        )
        .await;
    assert_eq!(followed.status(), 303);
    assert!(location(&followed).starts_with("/login?"));
    assert!(!ada.jar.contains_key(SIGNIN), "no sign-in started");
    assert_eq!(ada.cookie_header(), before, "the session is untouched");
    let page = ada.get("/dashboard").await;
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("Ada"), "still Ada");
}

#[tokio::test]
async fn l11_a_relay_state_that_next_would_refuse_is_ignored() {
    let app = serve_app(&[]).await;
    for foreign in [
        "https://evil.example/x",
        "//evil.example",
        "/\\evil.example",
        // Not back into sign-in itself, as for `next`.
        "/logout",
        "/auth/initiate-login",
    ] {
        let mut browser = Browser::new(&app);
        let link = token_link(&mut browser, "admin", foreign).await;
        let started = browser.get(&link).await;
        assert_eq!(started.status(), 303, "{foreign}");
        let login = location(&started);
        assert_eq!(query_param(&login, "next"), None, "{foreign}");
        let authorize = sign_in_from_the_login_page(&mut browser, &login).await;
        let at_provider = browser.get(&authorize).await;
        let callback = browser.get(&location(&at_provider)).await;
        assert_eq!(location(&callback), "/dashboard", "{foreign}");
    }
}

#[tokio::test]
async fn a_bad_or_tampered_token_gets_the_sign_in_failure_page() {
    let app = serve_app(&[]).await;
    let mut browser = Browser::new(&app);
    let link = token_link(&mut browser, "admin", "").await;
    let token = query_param(&link, "idp_initiated_login").unwrap();
    let parts: Vec<&str> = token.split('.').collect();
    // Another organization in the payload, the signature left as it was.
    use base64::Engine;
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut claims: serde_json::Value =
        serde_json::from_slice(&engine.decode(parts[1]).unwrap()).unwrap();
    claims["organization_id"] = "org_100000000000000002".into();
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        engine.encode(claims.to_string()),
        parts[2]
    );
    for query in [
        format!("idp_initiated_login={tampered}"),
        "idp_initiated_login=not-a-jwt".to_string(),
        "error=access_denied".to_string(),
        format!("idp_initiated_login={token}&idp_initiated_login={token}"),
    ] {
        let mut fresh = Browser::new(&app);
        let refused = fresh.get(&format!("/auth/initiate-login?{query}")).await;
        assert_eq!(refused.status(), 400, "{query}");
        assert!(!fresh.jar.contains_key(SIGNIN), "{query}");
        let page = refused.text().await.unwrap();
        assert!(page.contains("Sign-in failed"), "{page}");
        assert!(!page.contains(&token), "the token is not echoed");
    }
    // The untouched token still works once: the refusals did not spend it.
    assert_eq!(browser.get(&link).await.status(), 303);
}

/// L1: Scalekit sends browsers to the initiate-login URL without a token after a password reset,
/// an email verification or an invitation, or from an expired login page. Each goes to the login
/// page with the routing parameters once checked, whose **Sign in** passes them on; a parameter
/// that is not valid gets the failure page.
#[tokio::test]
async fn l1_initiate_login_without_a_token_leads_to_the_login_page_with_its_parameters() {
    let app = serve_app(&[]).await;
    let mut browser = Browser::new(&app);
    let started = browser
        .get("/auth/initiate-login?organization_id=org_100000000000000001&login_hint=admin")
        .await;
    assert_eq!(started.status(), 303);
    assert!(
        !browser.jar.contains_key(SIGNIN),
        "nothing starts before the click"
    );
    let login = location(&started);
    assert_eq!(
        login,
        "/login?organization_id=org_100000000000000001&login_hint=admin"
    );
    let authorize = sign_in_from_the_login_page(&mut browser, &login).await;
    assert_eq!(
        query_param(&authorize, "organization_id").as_deref(),
        Some("org_100000000000000001")
    );
    let at_provider = browser.get(&authorize).await;
    assert_eq!(at_provider.status(), 302);
    let callback = browser.get(&location(&at_provider)).await;
    assert_eq!(location(&callback), "/dashboard");
    assert_eq!(browser.get("/dashboard").await.status(), 200);

    let mut plain = Browser::new(&app);
    let bare = plain.get("/auth/initiate-login").await;
    assert_eq!(bare.status(), 303);
    assert_eq!(location(&bare), "/login");
    // An empty parameter is one not given, as in the login form.
    let empty = plain
        .get("/auth/initiate-login?organization_id=&login_hint=admin")
        .await;
    assert_eq!(location(&empty), "/login?login_hint=admin");
    for query in ["organization_id=not%20an%20id", "prompt=everything"] {
        let mut fresh = Browser::new(&app);
        let refused = fresh.get(&format!("/auth/initiate-login?{query}")).await;
        assert_eq!(refused.status(), 400, "{query}");
        assert!(!fresh.jar.contains_key(SIGNIN), "{query}");
    }
}
