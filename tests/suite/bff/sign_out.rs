//! Sign-out: GET asks, POST revokes, clears and goes to the end-session endpoint; back-channel
//! logout (O1-O6, O8).

use super::{signed_in, SESSION};
use crate::common;
use crate::common::browser::{location, query_param, serve_app, set_cookies, Browser};

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
