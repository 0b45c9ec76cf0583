//! The session cookie: tampering, what server functions return, static files and caching,
//! one Set-Cookie per cookie (C*).

use super::{signed_in, SESSION, SIGNIN};
use crate::common;
use crate::common::browser::{location, serve_app, set_cookies, Browser};

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
