//! Switching organization: Ada is the admin of Acme and a member of Globex. "Switch organization"
//! (`prompt=select_account`) offers both at the provider; choosing one ends in a fresh session for
//! it, the previous one ended, and permission-gated pages follow the new roles at once.

use super::{signed_in, SESSION};
use crate::common::browser::{location, query_param};

const ACME: &str = "org_100000000000000001";
const GLOBEX: &str = "org_100000000000000002";

#[tokio::test]
async fn l11_switching_organization_ends_the_session_and_the_new_roles_apply_at_once() {
    let mut ada = signed_in("admin").await;
    assert_eq!(ada.get("/organization/settings").await.status(), 200);
    let dashboard = ada.get("/dashboard").await.text().await.unwrap();
    assert!(dashboard.contains(ACME) && dashboard.contains("Switch organization"));
    let old_jar = ada.jar.clone();

    // The switcher asks the provider, which offers her organizations.
    let authorize = ada
        .start_login(&[("prompt", "select_account"), ("next", "/dashboard")])
        .await;
    assert_eq!(
        query_param(&authorize, "prompt").as_deref(),
        Some("select_account")
    );
    let picker = ada.get(&authorize).await;
    assert_eq!(picker.status(), 200);
    let page = picker.text().await.unwrap();
    assert!(page.contains("Choose an organization"), "{page}");
    assert!(page.contains("Acme Development") && page.contains("Globex Testing"));

    // Choosing Globex (as the picker's button posts organization_id) signs in there.
    let authorize = ada
        .start_login(&[
            ("prompt", "select_account"),
            ("organization_id", GLOBEX),
            ("next", "/dashboard"),
        ])
        .await;
    let at_provider = ada.get(&authorize).await;
    assert_eq!(at_provider.status(), 302, "the provider session is Ada's");
    let callback = ada.get(&location(&at_provider)).await;
    assert_eq!(callback.status(), 303);
    assert_ne!(old_jar.get(SESSION), ada.jar.get(SESSION), "a new session");
    assert_eq!(
        ada.get("/organization/settings").await.status(),
        403,
        "a member of Globex"
    );
    let dashboard = ada.get("/dashboard").await.text().await.unwrap();
    assert!(dashboard.contains(GLOBEX), "the session is for Globex");

    // The session it replaced is over.
    let new_jar = std::mem::replace(&mut ada.jar, old_jar);
    assert_eq!(ada.get("/dashboard").await.status(), 302);
    ada.jar = new_jar;

    // And back: Acme's admin again.
    let authorize = ada
        .start_login(&[("prompt", "select_account"), ("organization_id", ACME)])
        .await;
    let at_provider = ada.get(&authorize).await;
    ada.get(&location(&at_provider)).await;
    assert_eq!(ada.get("/organization/settings").await.status(), 200);
}
