//! The admin portal link: made per click for the caller's own organization, only with
//! `organization:settings`, never cached, and it opens the provider's portal once.

use super::signed_in;
use crate::common::browser::location;
use reqwest::Method;

fn same_origin<'a>(origin: &'a str, accept: &'a str) -> [(&'a str, &'a str); 3] {
    [
        ("origin", origin),
        ("sec-fetch-site", "same-origin"),
        ("accept", accept),
    ]
}

#[tokio::test]
async fn x5_an_admins_form_post_is_sent_to_a_fresh_single_use_portal_link() {
    let mut admin = signed_in("admin").await;
    let settings = admin
        .get("/organization/settings")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        settings.contains("Configure SSO and directory sync"),
        "{settings}"
    );

    let origin = admin.base.clone();
    let html = "text/html,application/xhtml+xml";
    let first = admin
        .request(
            Method::POST,
            "/_app/portal_link",
            &same_origin(&origin, html),
            Some(&[]),
        )
        .await;
    assert_eq!(first.status(), 303);
    assert_eq!(first.headers()["cache-control"], "no-store");
    let link = location(&first);
    assert!(
        link.starts_with(&format!("{origin}/dev-idp/portal/open?token=")),
        "{link}"
    );
    let second = admin
        .request(
            Method::POST,
            "/_app/portal_link",
            &same_origin(&origin, "application/json"),
            Some(&[]),
        )
        .await;
    assert_eq!(second.status(), 200);
    assert_eq!(second.headers()["cache-control"], "no-store");
    let second: String = second.json().await.unwrap();
    assert_ne!(second, link, "a new link per request");

    let opened = admin.get(&link).await;
    assert_eq!(opened.status(), 303, "the link opens the portal");
    assert_eq!(admin.get(&link).await.status(), 400, "once");
}

#[tokio::test]
async fn x5_members_get_403_and_cross_site_posts_are_refused() {
    let mut member = signed_in("member").await;
    let origin = member.base.clone();
    for accept in ["application/json", "text/html"] {
        let refused = member
            .request(
                Method::POST,
                "/_app/portal_link",
                &same_origin(&origin, accept),
                Some(&[]),
            )
            .await;
        assert_eq!(refused.status(), 403, "{accept}");
        let location = refused
            .headers()
            .get("location")
            .map(|v| v.to_str().unwrap().to_string());
        assert!(
            !location.clone().unwrap_or_default().contains("portal"),
            "{location:?}"
        );
    }
    let mut admin = signed_in("admin").await;
    let cross_site = admin
        .request(
            Method::POST,
            "/_app/portal_link",
            &[
                ("origin", "https://evil.example"),
                ("sec-fetch-site", "cross-site"),
                ("accept", "text/html"),
            ],
            Some(&[]),
        )
        .await;
    assert_eq!(cross_site.status(), 403);
    assert!(cross_site.headers().get("location").is_none());
}
