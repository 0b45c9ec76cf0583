//! IdP-initiated login at `/auth/initiate-login`: the development provider's "start from the
//! identity provider" page sends a signed `idp_initiated_login` token; the app validates it and
//! starts an ordinary sign-in with its hints and a fresh state, nonce and PKCE. Without a token
//! (Scalekit's other ways here: an expired login page, a password reset, an invitation) it is an
//! ordinary sign-in with the query's checked routing parameters. Refusals get the sign-in failure
//! page with 400.

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

#[tokio::test]
async fn idp_initiated_login_starts_an_ordinary_sign_in_and_lands_on_the_relay_state() {
    let app = serve_app(&[]).await;
    let mut browser = Browser::new(&app);
    let link = token_link(&mut browser, "admin", "/sessions").await;

    let started = browser.get(&link).await;
    assert_eq!(started.status(), 303);
    assert_eq!(started.headers()["cache-control"], "no-store");
    assert_eq!(started.headers()["referrer-policy"], "no-referrer");
    assert!(browser.jar.contains_key(SIGNIN), "a transaction of our own");
    let authorize = location(&started);
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

    // The same token again: refused, and no new sign-in starts.
    let mut other = Browser::new(&app);
    let replayed = other.get(&link).await;
    assert_eq!(replayed.status(), 400);
    assert!(replayed.text().await.unwrap().contains("already used"));
    assert!(!other.jar.contains_key(SIGNIN));
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
        let at_provider = browser.get(&location(&started)).await;
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
/// an email verification or an invitation, or from an expired login page. Each starts an
/// ordinary sign-in, passing on the routing parameters once checked, and lands on the default
/// page; a parameter that is not valid gets the failure page.
#[tokio::test]
async fn l1_initiate_login_without_a_token_starts_an_ordinary_sign_in() {
    let app = serve_app(&[]).await;
    let mut browser = Browser::new(&app);
    let started = browser
        .get("/auth/initiate-login?organization_id=org_100000000000000001&login_hint=admin")
        .await;
    assert_eq!(started.status(), 303);
    assert!(browser.jar.contains_key(SIGNIN), "a transaction of its own");
    let authorize = location(&started);
    assert!(
        authorize.contains("/dev-idp/oauth/authorize?"),
        "{authorize}"
    );
    assert_eq!(
        query_param(&authorize, "organization_id").as_deref(),
        Some("org_100000000000000001")
    );
    assert_eq!(
        query_param(&authorize, "login_hint").as_deref(),
        Some("admin")
    );
    assert!(query_param(&authorize, "code_challenge").is_some());
    let at_provider = browser.get(&authorize).await;
    assert_eq!(at_provider.status(), 302);
    let callback = browser.get(&location(&at_provider)).await;
    assert_eq!(callback.status(), 303);
    assert_eq!(location(&callback), "/dashboard");
    assert_eq!(browser.get("/dashboard").await.status(), 200);

    let mut plain = Browser::new(&app);
    assert_eq!(plain.get("/auth/initiate-login").await.status(), 303);
    for query in ["organization_id=not%20an%20id", "prompt=everything"] {
        let mut fresh = Browser::new(&app);
        let refused = fresh.get(&format!("/auth/initiate-login?{query}")).await;
        assert_eq!(refused.status(), 400, "{query}");
        assert!(!fresh.jar.contains_key(SIGNIN), "{query}");
    }
}
