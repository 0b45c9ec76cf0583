//! The management API: organization API clients and their client-credentials tokens.

use super::{assert_oauth_error, code_for, exchange, json, management_token, post_form, verify};
use crate::common::{dev_app, send};
use axum::body::Body;
use http::{Request, StatusCode};

#[tokio::test]
async fn organization_api_clients_are_managed_and_get_client_credentials_tokens() {
    let app = dev_app();
    let org = "org_100000000000000001";
    let clients = format!("/dev-idp/api/v1/organizations/{org}/clients");

    let anonymous = post_form(&app, &clients, &[], &[]).await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(json(anonymous).await["code"], 16);

    // A signed-in user's tokens carry the same client_id, but are not management tokens.
    let (code, _) = code_for(&app, "member").await;
    let user_tokens = json(exchange(&app, &code).await).await;
    for user_token in [&user_tokens["access_token"], &user_tokens["id_token"]] {
        let response = send(
            app.clone(),
            Request::get(&clients)
                .header(
                    "authorization",
                    format!("Bearer {}", user_token.as_str().unwrap()),
                )
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }

    let token = management_token(&app).await;
    let bearer = format!("Bearer {token}");
    let create = send(
        app.clone(),
        Request::post(&clients)
            .header("authorization", &bearer)
            .header("content-type", "application/json")
            .body(Body::from(r#"{"name":"CI deployer","description":"deploys","scopes":["read:deployments","deploy:applications"],"expiry":"3600"}"#))
            .unwrap(),
    )
    .await;
    assert_eq!(create.status(), StatusCode::CREATED);
    let created = json(create).await;
    let client_id = created["client"]["client_id"].as_str().unwrap().to_string();
    let secret = created["plain_secret"].as_str().unwrap().to_string();
    assert!(client_id.starts_with("m2morg_"));
    assert_eq!(
        created["client"]["secrets"][0]["secret_suffix"],
        secret[secret.len() - 4..]
    );
    assert!(
        !created["client"].to_string().contains(&secret),
        "the secret appears only as plain_secret"
    );

    for bad in [
        r#"{"name":"  "}"#,
        r#"{"name":"x","expiry":"5"}"#,
        r#"{"name":"x","scopes":["a b"]}"#,
        "not json",
    ] {
        let response = send(
            app.clone(),
            Request::post(&clients)
                .header("authorization", &bearer)
                .header("content-type", "application/json")
                .body(Body::from(bad))
                .unwrap(),
        )
        .await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(json(response).await["code"], 3, "{bad}: INVALID_ARGUMENT");
    }

    let list = send(
        app.clone(),
        Request::get(&clients)
            .header("authorization", &bearer)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(
        json(list).await["clients"][0]["client_id"],
        client_id.as_str()
    );

    let m2m = |scope: Option<&'static str>| {
        let app = app.clone();
        let (client_id, secret) = (client_id.clone(), secret.clone());
        async move {
            let mut pairs = vec![
                ("grant_type", "client_credentials"),
                ("client_id", client_id.as_str()),
                ("client_secret", secret.as_str()),
            ];
            if let Some(scope) = scope {
                pairs.push(("scope", scope));
            }
            post_form(&app, "/dev-idp/oauth/token", &pairs, &[]).await
        }
    };
    let response = m2m(None).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body = json(response).await;
    assert_eq!(body["scope"], "read:deployments deploy:applications");
    let claims = verify(&app, body["access_token"].as_str().unwrap(), None).await;
    assert_eq!(claims["sub"], client_id.as_str());
    assert_eq!(claims["client_id"], client_id.as_str());
    assert_eq!(claims["oid"], org);
    assert_eq!(
        claims["scopes"],
        serde_json::json!(["read:deployments", "deploy:applications"])
    );
    assert_eq!(claims["scope"], "read:deployments deploy:applications");

    let narrowed = json(m2m(Some("read:deployments")).await).await;
    assert_eq!(narrowed["scope"], "read:deployments");
    assert_oauth_error(
        m2m(Some("admin:everything")).await,
        StatusCode::BAD_REQUEST,
        "invalid_scope",
    )
    .await;

    let other_org = format!("/dev-idp/api/v1/organizations/org_other/clients/{client_id}");
    let response = send(
        app.clone(),
        Request::delete(&other_org)
            .header("authorization", &bearer)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);

    let delete = send(
        app.clone(),
        Request::delete(format!("{clients}/{client_id}"))
            .header("authorization", &bearer)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(delete.status(), StatusCode::OK);
    assert_oauth_error(m2m(None).await, StatusCode::UNAUTHORIZED, "invalid_client").await;
}
