//! The user's sessions at the provider: list, sign out one or everywhere (O8).

use super::{signed_in, SESSION};
use crate::common::browser::{location, serve_app, Browser};
use reqwest::Method;

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
