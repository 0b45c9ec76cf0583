//! The CSRF layer: cross-site posts refused, SameSite=Lax as a second line (X*).

use super::{SESSION, SIGNIN};
use crate::common::browser::{location, serve_app, set_cookies, Browser};
use reqwest::Method;

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
