//! SSO connections and the admin portal: an authorization request routes by `connection_id`,
//! `organization_id` or domain; a management-API portal link opens the portal once; what the
//! portal changes routes the next sign-in.

use super::{
    authorize_uri, body_text, code_for, exchange, get_with_cookie, json, location,
    management_token, post_form, query, verify, CLIENT_ID,
};
use crate::common::{dev_app, send};
use axum::body::Body;
use http::{Request, Response, StatusCode};
use leptos_scalekit::server::AppService;

const ORG: &str = "org_100000000000000001";
const CONNECTION: &str = "conn_200000000000000001";
const SECOND_CONNECTION: &str = "conn_200000000000000002";
const PICKER_CONNECTION: &str = "conn_100000000000000001";

async fn picker(app: &AppService, extra: &[(&str, &str)]) -> String {
    let response = get_with_cookie(app, &authorize_uri(extra), None).await;
    assert_eq!(response.status(), StatusCode::OK, "{extra:?}");
    body_text(response).await
}

/// The ID token's `amr` after `persona` signs in with `extra` routing parameters.
async fn amr_after(app: &AppService, extra: &[(&str, &str)]) -> serde_json::Value {
    let mut params = vec![("login_hint", "admin")];
    params.extend_from_slice(extra);
    let response = get_with_cookie(app, &authorize_uri(&params), None).await;
    assert_eq!(response.status(), StatusCode::FOUND, "{extra:?}");
    let code = query(&location(&response), "code").expect("code");
    let tokens = json(exchange(app, &code).await).await;
    verify(app, tokens["id_token"].as_str().unwrap(), Some(CLIENT_ID)).await["amr"].clone()
}

#[tokio::test]
async fn sign_in_routes_by_connection_then_organization_then_domain() {
    let app = dev_app();
    let by_domain = picker(&app, &[("domain_hint", "example.com")]).await;
    assert!(by_domain.contains(CONNECTION), "{by_domain}");
    assert!(by_domain.contains("Ada Admin"));
    // The Node SDK's `domain` spelling routes too; in Globex, Ada is a member and Max is not.
    let globex = picker(&app, &[("domain", "globex.test")]).await;
    assert!(globex.contains(SECOND_CONNECTION), "{globex}");
    assert!(
        globex.contains("Ada Admin") && globex.contains("role: member"),
        "{globex}"
    );
    assert!(!globex.contains("Max Member"));
    let unmatched = picker(&app, &[("domain_hint", "nobody.test")]).await;
    assert!(unmatched.contains("No SSO connection is set up for nobody.test"));
    assert!(unmatched.contains("Ada Admin"));

    // The connection an ID token names is the one signed in through (Scalekit's amr[0]).
    assert_eq!(
        amr_after(&app, &[]).await,
        serde_json::json!([PICKER_CONNECTION])
    );
    assert_eq!(
        amr_after(
            &app,
            &[
                ("connection_id", CONNECTION),
                ("domain_hint", "globex.test")
            ]
        )
        .await,
        serde_json::json!([CONNECTION])
    );
    assert_eq!(
        amr_after(&app, &[("organization_id", ORG)]).await,
        serde_json::json!([CONNECTION])
    );

    for (param, value, error) in [
        ("connection_id", "conn_999", "invalid_connection_id"),
        ("organization_id", "org_999", "invalid_organization_id"),
        ("domain_hint", "not a domain", "invalid_request"),
    ] {
        let response = get_with_cookie(&app, &authorize_uri(&[(param, value)]), None).await;
        assert_eq!(response.status(), StatusCode::FOUND, "{param}");
        let url = location(&response);
        assert_eq!(query(&url, "error").as_deref(), Some(error), "{param}");
        assert_eq!(query(&url, "state").as_deref(), Some("state-123"));
        assert_eq!(query(&url, "code"), None);
    }
}

/// The `name=value` of the portal cookie a response sets.
fn portal_cookie(response: &Response<Body>) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("skdev_portal="))
        .map(|v| v.split(';').next().unwrap_or_default().to_string())
}

async fn portal_link(app: &AppService, org: &str, features: &str) -> Response<Body> {
    let token = management_token(app).await;
    send(
        app.clone(),
        Request::put(format!(
            "/dev-idp/api/v1/organizations/{org}/portal_links{features}"
        ))
        .header("authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap(),
    )
    .await
}

#[tokio::test]
async fn a_portal_link_opens_once_and_its_changes_route_the_next_sign_in() {
    let app = dev_app();
    let anonymous = send(
        app.clone(),
        Request::put(format!("/dev-idp/api/v1/organizations/{ORG}/portal_links"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        portal_link(&app, "org_999", "").await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        portal_link(&app, ORG, "?features=billing").await.status(),
        StatusCode::BAD_REQUEST
    );

    let link = json(portal_link(&app, ORG, "?features=sso&features=dir_sync").await).await;
    assert!(link["link"]["id"].as_str().unwrap().starts_with("lnk_"));
    assert!(link["link"]["expire_time"].as_str().unwrap().ends_with('Z'));
    let location_url = url::Url::parse(link["link"]["location"].as_str().unwrap()).unwrap();
    assert_eq!(location_url.path(), "/dev-idp/portal/open");
    let open_uri = format!("/dev-idp/portal/open?{}", location_url.query().unwrap());

    assert_eq!(
        get_with_cookie(&app, "/dev-idp/portal", None)
            .await
            .status(),
        StatusCode::UNAUTHORIZED,
        "no portal without a link"
    );
    let opened = get_with_cookie(&app, &open_uri, None).await;
    assert_eq!(opened.status(), StatusCode::SEE_OTHER);
    assert_eq!(opened.headers()["location"], "/dev-idp/portal");
    let cookie = portal_cookie(&opened).expect("portal session cookie");
    let again = get_with_cookie(&app, &open_uri, None).await;
    assert_eq!(again.status(), StatusCode::BAD_REQUEST, "single use");
    assert!(portal_cookie(&again).is_none());

    let page = body_text(get_with_cookie(&app, "/dev-idp/portal", Some(&cookie)).await).await;
    assert!(
        page.contains(CONNECTION) && page.contains("example.com"),
        "{page}"
    );
    assert!(
        !page.contains(SECOND_CONNECTION),
        "only its own organization's"
    );
    assert!(page.contains("Directory sync"));

    let save = |domains: &'static str, connection: &'static str| {
        let app = app.clone();
        let cookie = cookie.clone();
        async move {
            post_form(
                &app,
                &format!("/dev-idp/portal/connections/{connection}"),
                &[("domains", domains), ("enabled", "on")],
                &[("cookie", &cookie)],
            )
            .await
        }
    };
    assert_eq!(
        save("globex.test", CONNECTION).await.status(),
        StatusCode::BAD_REQUEST,
        "another organization's domain"
    );
    assert_eq!(
        save("acme.test", SECOND_CONNECTION).await.status(),
        StatusCode::BAD_REQUEST,
        "another organization's connection"
    );
    let saved = save("acme.test, example.com", CONNECTION).await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);

    let routed = picker(&app, &[("domain_hint", "acme.test")]).await;
    assert!(routed.contains(CONNECTION), "{routed}");
    let cross_site = post_form(
        &app,
        &format!("/dev-idp/portal/connections/{CONNECTION}"),
        &[("domains", "")],
        &[("cookie", &cookie), ("sec-fetch-site", "cross-site")],
    )
    .await;
    assert_eq!(cross_site.status(), StatusCode::FORBIDDEN);

    // Switched off, the connection routes nothing: sign-in falls back to the picker.
    let off = post_form(
        &app,
        &format!("/dev-idp/portal/connections/{CONNECTION}"),
        &[("domains", "acme.test")],
        &[("cookie", &cookie)],
    )
    .await;
    assert_eq!(off.status(), StatusCode::SEE_OTHER);
    let fallback = picker(&app, &[("domain_hint", "acme.test")]).await;
    assert!(
        fallback.contains("No SSO connection is set up for acme.test"),
        "{fallback}"
    );
    let _ = code_for(&app, "admin").await;
}

#[tokio::test]
async fn prompt_create_signs_up_a_new_member_who_can_sign_in_again() {
    let app = dev_app();
    let form = picker(&app, &[("prompt", "create"), ("login_hint", "admin")]).await;
    assert!(form.contains("Create your account"), "{form}");
    assert!(form.contains("Acme Development"));
    let mut fields = vec![
        ("response_type", "code"),
        ("client_id", CLIENT_ID),
        ("redirect_uri", super::REDIRECT_URI),
        ("scope", "openid email"),
        ("state", "state-123"),
        ("prompt", "create"),
        ("signup", "1"),
        ("name", "Nia New"),
    ];
    let bad = post_form(
        &app,
        "/dev-idp/oauth/authorize",
        &[fields.clone(), vec![("email", "nia@")]].concat(),
        &[],
    )
    .await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    let taken = post_form(
        &app,
        "/dev-idp/oauth/authorize",
        &[fields.clone(), vec![("email", "ADA.admin@example.com")]].concat(),
        &[],
    )
    .await;
    assert_eq!(taken.status(), StatusCode::BAD_REQUEST);
    assert!(body_text(taken).await.contains("already exists"));

    fields.push(("email", "nia.new@example.com"));
    let created = post_form(&app, "/dev-idp/oauth/authorize", &fields, &[]).await;
    assert_eq!(created.status(), StatusCode::SEE_OTHER);
    let code = query(&location(&created), "code").expect("code");
    let tokens = json(exchange_without_verifier(&app, &code).await).await;
    let claims = verify(&app, tokens["id_token"].as_str().unwrap(), Some(CLIENT_ID)).await;
    assert_eq!(claims["email"], "nia.new@example.com");
    assert_eq!(claims["name"], "Nia New");
    assert!(claims["sub"].as_str().unwrap().starts_with("usr_"));
    assert_eq!(claims["oid"], ORG);
    // The new account is a persona like the others: a login hint by its email signs it in.
    let again = get_with_cookie(
        &app,
        &authorize_uri(&[("login_hint", "nia.new@example.com")]),
        None,
    )
    .await;
    assert_eq!(again.status(), StatusCode::FOUND);
}

async fn exchange_without_verifier(app: &AppService, code: &str) -> Response<Body> {
    post_form(
        app,
        "/dev-idp/oauth/token",
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", super::REDIRECT_URI),
            ("client_id", CLIENT_ID),
            ("client_secret", super::CLIENT_SECRET),
        ],
        &[],
    )
    .await
}

#[tokio::test]
async fn a_member_of_two_organizations_chooses_one_and_its_tokens_stay_in_it() {
    let app = dev_app();
    // Chosen on the persona picker with no organization asked for: the organization picker.
    let mut fields: Vec<(&str, &str)> = vec![
        ("response_type", "code"),
        ("client_id", CLIENT_ID),
        ("redirect_uri", super::REDIRECT_URI),
        ("scope", "openid email offline_access"),
        ("state", "state-123"),
        ("persona", "admin"),
    ];
    let asked = post_form(&app, "/dev-idp/oauth/authorize", &fields, &[]).await;
    assert_eq!(asked.status(), StatusCode::OK);
    let page = body_text(asked).await;
    assert!(page.contains("Choose an organization"), "{page}");
    assert!(page.contains("name=\"organization_id\" value=\"org_100000000000000002\""));

    // Its button posts organization_id: a code for a Globex session.
    fields.push(("organization_id", "org_100000000000000002"));
    let chosen = post_form(&app, "/dev-idp/oauth/authorize", &fields, &[]).await;
    assert_eq!(chosen.status(), StatusCode::SEE_OTHER);
    let code = query(&location(&chosen), "code").expect("code");
    let tokens = json(exchange_without_verifier(&app, &code).await).await;
    let access = verify(&app, tokens["access_token"].as_str().unwrap(), None).await;
    assert_eq!(access["oid"], "org_100000000000000002");
    assert_eq!(access["roles"], serde_json::json!(["member"]));
    // A refresh stays in the session's organization.
    let refreshed =
        json(super::refresh(&app, tokens["refresh_token"].as_str().unwrap()).await).await;
    let access = verify(&app, refreshed["access_token"].as_str().unwrap(), None).await;
    assert_eq!(access["oid"], "org_100000000000000002");

    // A scripted login_hint signs in to her first organization, unless asked to choose.
    assert_eq!(
        amr_after(&app, &[]).await,
        serde_json::json!([PICKER_CONNECTION])
    );
    let choose = get_with_cookie(
        &app,
        &authorize_uri(&[("login_hint", "admin"), ("prompt", "select_account")]),
        None,
    )
    .await;
    assert_eq!(choose.status(), StatusCode::OK);
    assert!(body_text(choose).await.contains("Choose an organization"));
    // Max belongs to one: no picker.
    let max = get_with_cookie(
        &app,
        &authorize_uri(&[("login_hint", "member"), ("prompt", "select_account")]),
        None,
    )
    .await;
    assert_eq!(max.status(), StatusCode::FOUND);
}
