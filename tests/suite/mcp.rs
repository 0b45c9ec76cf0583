#![cfg(feature = "ssr")]

//! The MCP endpoint end to end with the official Rust MCP SDK's client (rmcp): it connects with
//! no token, follows the 401's `resource_metadata` to the resource's authorization server at the
//! development provider, registers itself dynamically, signs a persona in (login_hint, PKCE) and
//! calls the tools. Then the refusals: a token for another audience, a missing scope, a member
//! whose role does not allow a tool, and the RFC 6750 / RFC 9728 details.

use crate::common;

use common::browser::{api_token, location, serve_app, RunningApp};
use rmcp::model::{CallToolRequestParams, CallToolResult};
use rmcp::service::{RoleClient, RunningService};
use rmcp::transport::auth::{AuthClient, AuthorizationManager, AuthorizationRequest, OAuthState};
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::ServiceExt;
use scalekit_dev_idp::KeyRing;
use serde_json::{json, Value};

const RESOURCE_ID: &str = "res_100000000000000001";
/// Where the MCP client would listen for the browser's redirect; the test reads the redirect
/// from the provider's answer instead of serving it.
const CLIENT_REDIRECT: &str = "http://127.0.0.1:8976/callback";

/// rmcp's HTTP client brings rustls without a crypto provider; the tests use ring (plain http on
/// loopback needs no TLS, but the client refuses to build without one).
fn install_crypto() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn mcp_url(app: &RunningApp) -> String {
    format!("{}/mcp", app.base)
}

/// Connects with no credentials: the SDK reports the server's challenge.
async fn challenge_without_token(app: &RunningApp) -> String {
    let error = ()
        .serve(StreamableHttpClientTransport::from_uri(mcp_url(app)))
        .await
        .expect_err("/mcp without a token must refuse the handshake");
    error
        .auth_challenge()
        .expect("the refusal carries a WWW-Authenticate challenge")
        .to_string()
}

/// The whole OAuth leg as an MCP client does it, starting from the challenge: discovery,
/// dynamic registration, authorization code with PKCE (the browser step is the provider's
/// login_hint shortcut), token exchange.
async fn authorize(
    app: &RunningApp,
    challenge: &str,
    scopes: &[&str],
    persona: &str,
) -> AuthorizationManager {
    let mut oauth = OAuthState::new(mcp_url(app), None).await.unwrap();
    oauth
        .start_authorization(
            AuthorizationRequest::new(CLIENT_REDIRECT)
                .with_client_name("leptos-scalekit tests")
                .with_scopes(scopes.iter().copied())
                .with_challenge(challenge),
        )
        .await
        .expect("discovery and dynamic registration succeed");
    let authorization_url = oauth.get_authorization_url().await.unwrap();
    assert!(
        authorization_url.starts_with(&format!("{}/dev-idp/oauth/authorize?", app.base)),
        "{authorization_url}"
    );
    assert!(authorization_url.contains("code_challenge_method=S256"));
    let browser = http()
        .get(format!("{authorization_url}&login_hint={persona}"))
        .send()
        .await
        .unwrap();
    assert_eq!(browser.status(), 302);
    let callback = location(&browser);
    assert!(callback.starts_with(CLIENT_REDIRECT), "{callback}");
    oauth
        .handle_callback_url(&callback)
        .await
        .expect("the code is exchanged for tokens");
    oauth.into_authorization_manager().unwrap()
}

async fn connect(
    app: &RunningApp,
    manager: AuthorizationManager,
) -> RunningService<RoleClient, ()> {
    let transport = StreamableHttpClientTransport::with_client(
        AuthClient::new(reqwest_for_rmcp::Client::default(), manager),
        StreamableHttpClientTransportConfig::with_uri(mcp_url(app)),
    );
    ().serve(transport)
        .await
        .expect("an authorized client completes the handshake")
}

async fn call(
    client: &RunningService<RoleClient, ()>,
    tool: &str,
    arguments: Value,
) -> Result<CallToolResult, rmcp::ServiceError> {
    let mut params = CallToolRequestParams::new(tool.to_string());
    if let Value::Object(map) = arguments {
        params = params.with_arguments(map);
    }
    client.call_tool(params).await
}

fn structured(result: &CallToolResult) -> Value {
    result
        .structured_content
        .clone()
        .expect("tools answer with structured content")
}

#[tokio::test]
async fn a9_an_mcp_client_discovers_registers_signs_in_and_calls_the_tools() {
    install_crypto();
    let app = serve_app(&[]).await;

    let challenge = challenge_without_token(&app).await;
    assert!(
        challenge.contains(&format!(
            "resource_metadata=\"{}/.well-known/oauth-protected-resource/mcp\"",
            app.base
        )),
        "{challenge}"
    );

    let manager = authorize(
        &app,
        &challenge,
        &["read:deployments", "deploy:applications"],
        "admin",
    )
    .await;
    let mcp_token = manager.get_access_token().await.unwrap();
    let client = connect(&app, manager).await;

    let tools = client.list_all_tools().await.unwrap();
    let mut names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    names.sort_unstable();
    assert_eq!(names, ["create_deployment", "list_deployments", "whoami"]);

    let me = structured(&call(&client, "whoami", json!({})).await.unwrap());
    assert_eq!(me["subject"], "usr_100000000000000001", "{me}");
    assert_eq!(me["organization_id"], "org_100000000000000001");
    assert!(
        me["client_id"].as_str().unwrap().starts_with("m2m_"),
        "a dynamically registered client: {me}"
    );
    assert_eq!(
        me["scopes"],
        json!(["read:deployments", "deploy:applications", "offline_access"]),
        "the SDK adds offline_access because the provider offers it"
    );

    let created = call(
        &client,
        "create_deployment",
        json!({ "name": "mcp-web", "environment": "preview" }),
    )
    .await
    .unwrap();
    assert_ne!(created.is_error, Some(true), "{created:?}");
    assert_eq!(structured(&created)["name"], "mcp-web");

    let listed = structured(&call(&client, "list_deployments", json!({})).await.unwrap());
    assert_eq!(listed["organization_id"], "org_100000000000000001");
    assert_eq!(listed["deployments"][0]["name"], "mcp-web");

    // The MCP token (accepted and cached at /mcp by now) is for the MCP resource only: the API,
    // another audience, refuses it.
    let at_api = http()
        .get(format!("{}/api/v1/deployments", app.base))
        .bearer_auth(&mcp_token)
        .send()
        .await
        .unwrap();
    assert_eq!(at_api.status(), 401, "aud is the MCP resource, not the API");

    let refused = call(&client, "create_deployment", json!({ "name": "Not Valid" }))
        .await
        .unwrap();
    assert_eq!(
        refused.is_error,
        Some(true),
        "bad arguments are a tool error"
    );
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn a8_a_missing_scope_is_refused_with_a_step_up_challenge() {
    install_crypto();
    let app = serve_app(&[]).await;
    let challenge = challenge_without_token(&app).await;
    // The admin may deploy but asked for less: asking again can help, so the 403 says what for.
    let manager = authorize(&app, &challenge, &["read:deployments"], "admin").await;
    let client = connect(&app, manager).await;

    assert!(call(&client, "list_deployments", json!({})).await.is_ok());
    let error = call(&client, "create_deployment", json!({ "name": "nope" }))
        .await
        .expect_err("create_deployment needs deploy:applications");
    let step_up = error
        .auth_challenge()
        .expect("a 403 insufficient_scope challenge");
    assert!(
        step_up.contains("error=\"insufficient_scope\""),
        "{step_up}"
    );
    assert!(
        step_up.contains("scope=\"deploy:applications\""),
        "{step_up}"
    );
    client.cancel().await.unwrap();
}

const MEMBER_SUB: &str = "usr_100000000000000002";
const ORG: &str = "org_100000000000000001";

/// An app whose development provider keeps its keys in a directory of its own, so the test can
/// sign tokens the provider never issued (another test rotating shared keys cannot interfere).
async fn serve_app_with_own_keys() -> (RunningApp, KeyRing) {
    let state_dir = std::path::PathBuf::from(common::test_state_dir())
        .join(format!("mcp-keys-{}", uuid::Uuid::new_v4()));
    let state_dir_text = state_dir.display().to_string();
    let app = serve_app(&[("DEV_STATE_DIR", state_dir_text.as_str())]).await;
    let keys = KeyRing::load_or_create(&state_dir.join("dev-idp-keys.json")).unwrap();
    (app, keys)
}

/// A member's token for the MCP resource as a provider that does NOT intersect scopes with
/// permissions would issue it: every scope; `permissions` as given (None: no claim at all).
fn member_token_with_every_scope(
    app: &RunningApp,
    keys: &KeyRing,
    permissions: Option<&[&str]>,
) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let mut claims = json!({
        "iss": format!("{}/dev-idp/resources/{RESOURCE_ID}", app.base),
        "aud": [mcp_url(app), RESOURCE_ID],
        "sub": MEMBER_SUB, "client_id": "m2m_100000000000000099", "oid": ORG,
        "iat": now, "nbf": now, "exp": now + 300, "roles": ["member"],
        "scopes": ["read:deployments", "deploy:applications"],
        "scope": "read:deployments deploy:applications",
    });
    if let Some(permissions) = permissions {
        claims["permissions"] = json!(permissions);
    }
    keys.sign(&claims).unwrap()
}

async fn post_tool_call(
    app: &RunningApp,
    token: &str,
    tool: &str,
    arguments: Value,
) -> reqwest::Response {
    http()
        .post(mcp_url(app))
        .header("accept", "application/json, text/event-stream")
        .bearer_auth(token)
        .json(&json!({
            "jsonrpc": "2.0", "id": 7, "method": "tools/call",
            "params": {"name": tool, "arguments": arguments},
        }))
        .send()
        .await
        .unwrap()
}

async fn deployment_names(app: &RunningApp) -> Vec<String> {
    let reader = api_token(app, ORG, &["read:deployments"], &app.base).await;
    let listed: Value = http()
        .get(format!("{}/api/v1/deployments", app.base))
        .bearer_auth(&reader)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    listed["deployments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn a8_a_member_cannot_create_a_deployment_through_mcp() {
    install_crypto();
    let (app, keys) = serve_app_with_own_keys().await;

    // A token that does carry the scope (from a provider not intersecting scopes with
    // permissions) is refused for a user whose permissions lack it, or who has none at all.
    for permissions in [Some(&["organization:read", "read:deployments"][..]), None] {
        let token = member_token_with_every_scope(&app, &keys, permissions);
        let refused = post_tool_call(
            &app,
            &token,
            "create_deployment",
            json!({ "name": "minted" }),
        )
        .await;
        assert_eq!(refused.status(), 403, "{permissions:?}");
        assert!(
            refused.headers().get("www-authenticate").is_none(),
            "not a scope challenge"
        );
        let body: Value = refused.json().await.unwrap();
        assert_eq!(body["error"], "forbidden", "{body}");
        assert_eq!(
            body["error_description"],
            "your role does not allow create_deployment"
        );
    }

    // Through the development provider, asking for every scope, the member is granted only
    // what their role allows, and the call is refused without a step-up.
    let challenge = challenge_without_token(&app).await;
    let manager = authorize(
        &app,
        &challenge,
        &["read:deployments", "deploy:applications"],
        "member",
    )
    .await;
    let client = connect(&app, manager).await;
    let me = structured(&call(&client, "whoami", json!({})).await.unwrap());
    assert_eq!(me["subject"], MEMBER_SUB);
    assert_eq!(me["kind"], "user");
    assert!(
        !me["scopes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s == "deploy:applications"),
        "the provider grants resource scopes within the persona's permissions: {me}"
    );
    assert!(call(&client, "list_deployments", json!({})).await.is_ok());
    let error = call(&client, "create_deployment", json!({ "name": "by-member" }))
        .await
        .expect_err("the member's role does not allow create_deployment");
    assert!(
        error.auth_challenge().is_none(),
        "no step-up: authorizing again cannot give the member a permission ({error})"
    );
    client.cancel().await.unwrap();

    assert!(
        deployment_names(&app).await.is_empty(),
        "no refused call created anything"
    );

    // The same signed token with the permission works: the refusals above were the permission.
    let allowed = member_token_with_every_scope(
        &app,
        &keys,
        Some(&["read:deployments", "deploy:applications"]),
    );
    let transport = StreamableHttpClientTransport::from_config(
        StreamableHttpClientTransportConfig::with_uri(mcp_url(&app)).auth_header(allowed),
    );
    let client = ().serve(transport).await.unwrap();
    let created = call(&client, "create_deployment", json!({ "name": "permitted" }))
        .await
        .unwrap();
    assert_ne!(created.is_error, Some(true), "{created:?}");
    client.cancel().await.unwrap();
    assert_eq!(deployment_names(&app).await, ["permitted"]);
}

/// The raw HTTP answers: RFC 6750 challenges, the RFC 9728 document, and the authorization
/// server metadata served at the app's origin for older MCP clients.
#[tokio::test]
async fn a2_a9_mcp_challenges_and_metadata() {
    let app = serve_app(&[]).await;
    let initialize = json!({
        "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                   "clientInfo": {"name": "curl", "version": "0"}}
    });
    let post = |token: Option<&str>| {
        let mut request = http()
            .post(mcp_url(&app))
            .header("accept", "application/json, text/event-stream")
            .json(&initialize);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send()
    };
    let metadata_url = format!("{}/.well-known/oauth-protected-resource/mcp", app.base);

    let bare = post(None).await.unwrap();
    assert_eq!(bare.status(), 401);
    assert_eq!(
        bare.headers()["www-authenticate"].to_str().unwrap(),
        format!("Bearer realm=\"mcp\", resource_metadata=\"{metadata_url}\"")
    );

    let forged = post(Some("eyJhbGciOiJSUzI1NiJ9.e30.c2ln")).await.unwrap();
    assert_eq!(forged.status(), 401);
    assert!(forged.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .contains("error=\"invalid_token\""));

    // A genuine token from the same provider for the API (another audience) opens nothing here,
    // even right after the API accepted (and cached) it: each area keeps its own cache.
    let api_token = api_token(
        &app,
        "org_100000000000000001",
        &["read:deployments"],
        &app.base,
    )
    .await;
    let api_ok = http()
        .get(format!("{}/api/v1/deployments", app.base))
        .bearer_auth(&api_token)
        .send()
        .await
        .unwrap();
    assert_eq!(api_ok.status(), 200, "the token works where it belongs");
    let wrong_audience = post(Some(&api_token)).await.unwrap();
    assert_eq!(wrong_audience.status(), 401, "aud must be the MCP resource");

    let document: Value = http()
        .get(&metadata_url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        document,
        json!({
            "resource": mcp_url(&app),
            "authorization_servers": [format!("{}/dev-idp/resources/{RESOURCE_ID}", app.base)],
            "scopes_supported": ["read:deployments", "deploy:applications"],
            "bearer_methods_supported": ["header"],
            "resource_name": "leptos-scalekit MCP server",
        })
    );

    let server = http()
        .get(format!(
            "{}/.well-known/oauth-authorization-server",
            app.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(server.status(), 200);
    assert_eq!(server.headers()["access-control-allow-origin"], "*");
    let server: Value = server.json().await.unwrap();
    assert_eq!(
        server["issuer"],
        format!("{}/dev-idp/resources/{RESOURCE_ID}", app.base)
    );
    assert_eq!(
        server["registration_endpoint"],
        format!("{}/dev-idp/resources/{RESOURCE_ID}/register", app.base)
    );
}
