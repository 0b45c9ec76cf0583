//! Guards: signed-out redirects, 401 from server functions, 403 pages, one fetch per render.

use super::signed_in;
use crate::common::browser::{location, serve_app, Browser};
use reqwest::Method;

/// How many resources the server wrote into the page for hydration (`__RESOLVED_RESOURCES[id] = …`).
/// The decoded values of the resources written into the page (`__RESOLVED_RESOURCES[id] = "…"`,
/// postcard in base64).
fn resource_data(html: &str) -> Vec<Vec<u8>> {
    use base64::Engine;
    html.split("__RESOLVED_RESOURCES[")
        .skip(1)
        .filter_map(|rest| rest.split_once("] = \"")?.1.split_once('"'))
        .filter_map(|(data, _)| base64::engine::general_purpose::STANDARD.decode(data).ok())
        .collect()
}

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
        ("/dashboard", 2, "session, claims"),
        (
            "/organization/settings",
            4,
            "session, API clients, kept secret, webhook events",
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
        1,
        "the ID token's claims once in the table"
    );
    let data = resource_data(&page);
    assert_eq!(data.len(), 2, "every resource's data decodes");
    assert!(
        !data
            .iter()
            .any(|bytes| bytes.windows(7).any(|w| w == b"at_hash")),
        "and not again in the page's data: hydration keeps the server's table"
    );
    // The browser that reaches the dashboard by in-app navigation asks for the rows themselves.
    let called = browser.call("claims").await;
    assert_eq!(called.status(), 200);
    let claims: serde_json::Value = called.json().await.unwrap();
    let names = |table: &str| -> Vec<String> {
        claims[table]
            .as_array()
            .map(|rows| {
                rows.iter()
                    .filter_map(|row| row["name"].as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    };
    assert!(names("id_token").iter().any(|n| n == "at_hash"), "{claims}");
    assert!(names("access_token").iter().any(|n| n == "sub"), "{claims}");
    assert!(!claims.to_string().contains("eyJ"), "never a token");
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
