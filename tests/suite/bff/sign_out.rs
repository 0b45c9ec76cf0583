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

/// O8: a logout token naming only the user ends the sessions begun by its `iat`, but never later
/// than now: from a provider whose clock runs ahead (within the leeway validation allows), it
/// spares a sign-in made after the token arrived.
#[tokio::test]
async fn o8_a_user_logout_token_from_a_fast_clock_spares_later_sign_ins() {
    use leptos_scalekit::config::DEV_CLIENT_ID;

    // A state directory of its own: other tests rotate the shared one's signing keys.
    let state_dir = format!("{}-fast-clock", common::test_state_dir());
    let app = serve_app(&[("DEV_STATE_DIR", state_dir.as_str())]).await;
    let mut before = Browser::new(&app);
    before.sign_in_as("admin", "/dashboard").await;
    let keys = scalekit_dev_idp::KeyRing::load_or_create(
        &std::path::Path::new(&state_dir).join("dev-idp-keys.json"),
    )
    .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let ahead = now + 50;
    let token = keys
        .sign(&serde_json::json!({
            "iss": format!("{}/dev-idp", app.base), "aud": DEV_CLIENT_ID, "iat": ahead, "exp": ahead + 120,
            "jti": uuid::Uuid::new_v4().to_string(), "sub": "usr_100000000000000001",
            "events": { "http://schemas.openid.net/event/backchannel-logout": {} },
        }))
        .unwrap();
    let answer = reqwest::Client::new()
        .post(format!("{}/auth/backchannel-logout", app.base))
        .form(&[("logout_token", token)])
        .send()
        .await
        .unwrap();
    let status = answer.status();
    assert_eq!(status, 200, "{}", answer.text().await.unwrap_or_default());
    assert_eq!(
        before.get("/dashboard").await.status(),
        302,
        "the session begun before the token is over"
    );
    // Cutoffs are whole seconds: the next sign-in starts in a later one.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let mut after = Browser::new(&app);
    after.sign_in_as("admin", "/dashboard").await;
    assert_eq!(
        after.get("/dashboard").await.status(),
        200,
        "a sign-in after the token, though before its iat, stands"
    );
}
