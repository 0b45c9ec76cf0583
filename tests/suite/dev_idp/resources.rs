//! MCP resources: authorization-server metadata, dynamic client registration and resource
//! tokens.

use super::{
    assert_oauth_error, authorize_uri, challenge, encode, get_with_cookie, json, location,
    post_form, query, session_cookie, ISSUER, VERIFIER,
};
use crate::common::{body_text, dev_app, send};
use axum::body::Body;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use http::{Request, Response, StatusCode};
use leptos_scalekit::server::AppService;
use serde_json::Value;

const RESOURCE_ID: &str = "res_100000000000000001";
const MCP_SERVER: &str = "http://127.0.0.1:3000/mcp";
const MCP_REDIRECT: &str = "http://127.0.0.1:8976/callback";

async fn post_json(app: &AppService, uri: &str, body: Value) -> Response<Body> {
    send(
        app.clone(),
        Request::post(uri)
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .unwrap(),
    )
    .await
}

async fn register_mcp_client(app: &AppService) -> String {
    let response = post_json(
        app,
        &format!("/dev-idp/resources/{RESOURCE_ID}/register"),
        serde_json::json!({
            "client_name": "an MCP client",
            "redirect_uris": [MCP_REDIRECT],
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "none",
        }),
    )
    .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let registered = json(response).await;
    assert_eq!(registered["token_endpoint_auth_method"], "none");
    assert!(registered.get("client_secret").is_none(), "public client");
    let client_id = registered["client_id"].as_str().unwrap().to_string();
    assert!(client_id.starts_with("m2m_"), "{client_id}");
    client_id
}

fn mcp_authorize_uri(client_id: &str, scope: &str, extra: &[(&str, &str)]) -> String {
    let challenge = challenge(VERIFIER);
    let mut pairs = vec![
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", MCP_REDIRECT),
        ("scope", scope),
        ("state", "s"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
        ("login_hint", "admin"),
    ];
    pairs.extend_from_slice(extra);
    format!("/dev-idp/oauth/authorize?{}", encode(&pairs))
}

#[tokio::test]
async fn resources_publish_authorization_server_metadata_at_both_well_known_forms() {
    let app = dev_app();
    for path in [
        format!("/.well-known/oauth-authorization-server/dev-idp/resources/{RESOURCE_ID}"),
        format!("/dev-idp/.well-known/oauth-authorization-server/resources/{RESOURCE_ID}"),
        format!("/dev-idp/resources/{RESOURCE_ID}/.well-known/oauth-authorization-server"),
    ] {
        let response = get_with_cookie(&app, &path, None).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let metadata = json(response).await;
        assert_eq!(
            metadata["issuer"],
            format!("{ISSUER}/resources/{RESOURCE_ID}")
        );
        assert_eq!(
            metadata["registration_endpoint"],
            format!("{ISSUER}/resources/{RESOURCE_ID}/register")
        );
        assert_eq!(metadata["code_challenge_methods_supported"][0], "S256");
    }
    let unknown = get_with_cookie(
        &app,
        "/dev-idp/.well-known/oauth-authorization-server/resources/res_nope",
        None,
    )
    .await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn dynamic_registration_takes_public_clients_with_safe_redirects_only() {
    let app = dev_app();
    let uri = format!("/dev-idp/resources/{RESOURCE_ID}/register");
    let cases = [
        (serde_json::json!({}), "invalid_redirect_uri"),
        (
            serde_json::json!({"redirect_uris": ["http://evil.example/cb"]}),
            "invalid_redirect_uri",
        ),
        (
            serde_json::json!({"redirect_uris": ["javascript:alert(1)"]}),
            "invalid_redirect_uri",
        ),
        (
            serde_json::json!({"redirect_uris": [MCP_REDIRECT], "token_endpoint_auth_method": "client_secret_basic"}),
            "invalid_client_metadata",
        ),
        (
            serde_json::json!({"redirect_uris": [MCP_REDIRECT], "grant_types": ["client_credentials"]}),
            "invalid_client_metadata",
        ),
        (
            serde_json::json!({"redirect_uris": [MCP_REDIRECT], "scope": "admin:everything"}),
            "invalid_client_metadata",
        ),
    ];
    for (body, error) in cases {
        let response = post_json(&app, &uri, body.clone()).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(json(response).await["error"], error, "{body}");
    }
    let not_json = send(
        app.clone(),
        Request::post(&uri)
            .body(Body::from("redirect_uris=x"))
            .unwrap(),
    )
    .await;
    assert_eq!(not_json.status(), StatusCode::BAD_REQUEST);
    let unknown = post_json(
        &app,
        "/dev-idp/resources/res_nope/register",
        serde_json::json!({"redirect_uris": [MCP_REDIRECT]}),
    )
    .await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_mcp_client_gets_resource_tokens_by_code_and_refresh() {
    let app = dev_app();
    let client_id = register_mcp_client(&app).await;

    // Refusals go back to the client's redirect URI.
    const SCOPE: &str = "read:deployments offline_access";
    for (scope, extra, error) in [
        (
            SCOPE,
            vec![("resource", "https://elsewhere.example/mcp")],
            "invalid_target",
        ),
        ("read:deployments admin:all", vec![], "invalid_scope"),
    ] {
        let response =
            get_with_cookie(&app, &mcp_authorize_uri(&client_id, scope, &extra), None).await;
        assert_eq!(response.status(), StatusCode::FOUND);
        assert_eq!(query(&location(&response), "error").as_deref(), Some(error));
    }
    let no_pkce = get_with_cookie(
        &app,
        &mcp_authorize_uri(&client_id, SCOPE, &[])
            .replace("code_challenge=", "x=")
            .replace("code_challenge_method=", "y="),
        None,
    )
    .await;
    assert_eq!(
        query(&location(&no_pkce), "error").as_deref(),
        Some("invalid_request"),
        "public clients need PKCE"
    );

    let response = get_with_cookie(
        &app,
        &mcp_authorize_uri(&client_id, SCOPE, &[("resource", MCP_SERVER)]),
        None,
    )
    .await;
    let code = query(&location(&response), "code").expect("code");
    let token_request = |extra: Vec<(&'static str, String)>| {
        let mut pairs: Vec<(&str, String)> = vec![("client_id", client_id.clone())];
        pairs.extend(extra);
        let app = app.clone();
        async move {
            let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
            post_form(&app, "/dev-idp/oauth/token", &pairs, &[]).await
        }
    };
    let tokens = json(
        token_request(vec![
            ("grant_type", "authorization_code".into()),
            ("code", code),
            ("redirect_uri", MCP_REDIRECT.into()),
            ("code_verifier", VERIFIER.into()),
            ("resource", MCP_SERVER.into()),
        ])
        .await,
    )
    .await;
    assert!(
        tokens.get("id_token").is_none(),
        "no openid, no ID token: {tokens}"
    );
    assert_eq!(tokens["scope"], "read:deployments offline_access");
    let access = tokens["access_token"].as_str().unwrap();
    let header = jsonwebtoken::decode_header(access).unwrap();
    assert!(header.kid.unwrap().starts_with("snk_"));
    let claims: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(access.split('.').nth(1).unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        claims["iss"],
        format!("{ISSUER}/resources/{RESOURCE_ID}"),
        "resource tokens carry the resource-scoped issuer"
    );
    assert_eq!(claims["aud"], serde_json::json!([MCP_SERVER, RESOURCE_ID]));
    assert_eq!(claims["client_id"], client_id.as_str());
    assert_eq!(claims["sub"], "usr_100000000000000001");

    let refresh_token = tokens["refresh_token"].as_str().unwrap().to_string();
    let wrong_target = token_request(vec![
        ("grant_type", "refresh_token".into()),
        ("refresh_token", refresh_token.clone()),
        ("resource", "https://elsewhere.example/mcp".into()),
    ])
    .await;
    assert_oauth_error(wrong_target, StatusCode::BAD_REQUEST, "invalid_target").await;
    let refreshed = json(
        token_request(vec![
            ("grant_type", "refresh_token".into()),
            ("refresh_token", refresh_token),
        ])
        .await,
    )
    .await;
    let access = refreshed["access_token"].as_str().unwrap();
    let claims: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(access.split('.').nth(1).unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(claims["aud"], serde_json::json!([MCP_SERVER, RESOURCE_ID]));

    // Public clients cannot revoke at Scalekit.
    let response = send(
        app.clone(),
        Request::post("/dev-idp/revoke")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(encode(&[
                ("client_id", client_id.as_str()),
                ("token", "x"),
            ])))
            .unwrap(),
    )
    .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_registered_client_sending_the_browser_off_this_machine_needs_a_click() {
    // Anyone may register a client; with an https redirect URI a silent sign-in (by hint or by
    // provider session) would make the provider an open redirector that hands out codes.
    let app = dev_app();
    const ELSEWHERE: &str = "https://mcp-client.example/oauth/callback";
    let response = post_json(
        &app,
        &format!("/dev-idp/resources/{RESOURCE_ID}/register"),
        serde_json::json!({ "client_name": "a hosted MCP client", "redirect_uris": [ELSEWHERE] }),
    )
    .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let client_id = json(response).await["client_id"]
        .as_str()
        .unwrap()
        .to_string();
    let authorize = mcp_authorize_uri(&client_id, "read:deployments", &[]).replace(
        &encode(&[("redirect_uri", MCP_REDIRECT)]),
        &encode(&[("redirect_uri", ELSEWHERE)]),
    );
    assert!(authorize.contains("login_hint=admin"));

    // The hint does not sign in: the picker says where the browser will go.
    let picker = get_with_cookie(&app, &authorize, None).await;
    assert_eq!(picker.status(), StatusCode::OK);
    assert!(body_text(picker)
        .await
        .contains("https://mcp-client.example"));
    // Nor does a provider session (from the app's own sign-in), nor prompt=none.
    let signed_in = get_with_cookie(&app, &authorize_uri(&[("login_hint", "admin")]), None).await;
    let cookie = session_cookie(&signed_in).expect("a provider session");
    let again = get_with_cookie(&app, &authorize, Some(&cookie)).await;
    assert_eq!(again.status(), StatusCode::OK);
    let silent = get_with_cookie(&app, &format!("{authorize}&prompt=none"), Some(&cookie)).await;
    assert_eq!(silent.status(), StatusCode::FOUND);
    assert_eq!(
        query(&location(&silent), "error").as_deref(),
        Some("consent_required")
    );
    assert!(query(&location(&silent), "code").is_none());

    // A click on the picker does.
    let query_part = authorize.split_once('?').unwrap().1;
    let mut pairs: Vec<(String, String)> = url::form_urlencoded::parse(query_part.as_bytes())
        .into_owned()
        .collect();
    pairs.push(("persona".into(), "member".into()));
    let pairs: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let chosen = post_form(&app, "/dev-idp/oauth/authorize", &pairs, &[]).await;
    assert_eq!(chosen.status(), StatusCode::SEE_OTHER);
    let back = location(&chosen);
    assert!(back.as_str().starts_with(ELSEWHERE), "{back}");
    assert!(query(&back, "code").is_some());
}

/// The development provider grants what the app checks: its personas' permissions and its API
/// clients' scopes are the app's names, kept twice on purpose (the provider depends on neither
/// the app nor the core), so this test is what keeps the two lists one.
#[test]
fn x5_the_dev_providers_grants_are_the_apps_permission_and_scope_names() {
    use leptos_scalekit::api::bearer::Scope;
    use leptos_scalekit::api::deployments::{DeployApplications, ReadDeployments};
    use leptos_scalekit::organization::{API_CLIENTS_PERMISSION, SETTINGS_PERMISSION};
    use scalekit_dev_idp::settings as idp;

    assert_eq!(idp::SETTINGS_PERMISSION, SETTINGS_PERMISSION);
    assert_eq!(idp::API_CLIENTS_PERMISSION, API_CLIENTS_PERMISSION);
    assert_eq!(idp::READ_DEPLOYMENTS_PERMISSION, ReadDeployments::NAME);
    assert_eq!(
        idp::DEPLOY_APPLICATIONS_PERMISSION,
        DeployApplications::NAME
    );
}
