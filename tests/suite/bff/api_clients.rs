//! Organization API clients: the secret shown once without JavaScript, permission and input
//! checks (X5).

use super::signed_in;
use crate::common::browser::location;
use reqwest::Method;

#[tokio::test]
async fn without_javascript_a_new_api_client_secret_is_shown_once() {
    let mut browser = signed_in("admin").await;
    let created = browser
        .post_form(
            "/_app/create_api_client",
            &[
                ("name", "nojs"),
                ("read_deployments", "on"),
                ("expiry", "3600"),
            ],
        )
        .await;
    assert_eq!(created.status(), 303);
    assert_eq!(location(&created), "/organization/settings#new-client");
    assert!(
        browser.jar.contains_key("__Host-skit_kept_new_client"),
        "{:?}",
        browser.jar.keys()
    );
    let page = browser
        .get("/organization/settings")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("shown only this once"), "{page}");
    assert!(
        !browser.jar.contains_key("__Host-skit_kept_new_client"),
        "taken"
    );
    let again = browser
        .get("/organization/settings")
        .await
        .text()
        .await
        .unwrap();
    assert!(!again.contains("shown only this once"));
}

#[tokio::test]
async fn x5_api_client_server_functions_need_the_permission_and_check_input() {
    let mut member = signed_in("member").await;
    for server_fn in ["api_clients", "delete_api_client", "create_api_client"] {
        let origin = member.base.clone();
        let response = member
            .request(
                Method::POST,
                &format!("/_app/{server_fn}"),
                &[
                    ("origin", &origin),
                    ("sec-fetch-site", "same-origin"),
                    ("accept", "application/json"),
                ],
                Some(&[("name", "x"), ("client_id", "m2morg_1")]),
            )
            .await;
        assert_eq!(response.status(), 403, "{server_fn}");
    }
    let mut admin = signed_in("admin").await;
    let origin = admin.base.clone();
    let empty_name = admin
        .request(
            Method::POST,
            "/_app/create_api_client",
            &[
                ("origin", &origin),
                ("sec-fetch-site", "same-origin"),
                ("accept", "application/json"),
            ],
            Some(&[("name", "  "), ("expiry", "3600")]),
        )
        .await;
    assert_eq!(empty_name.status(), 400);
    assert!(empty_name.text().await.unwrap().contains("name must be"));
    let unknown = admin
        .request(
            Method::POST,
            "/_app/delete_api_client",
            &[
                ("origin", &origin),
                ("sec-fetch-site", "same-origin"),
                ("accept", "application/json"),
            ],
            Some(&[("client_id", "m2morg_999999999999999999")]),
        )
        .await;
    assert_eq!(
        unknown.status(),
        404,
        "the management API's answer is passed on"
    );
}
