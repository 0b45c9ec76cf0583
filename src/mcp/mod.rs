//! The MCP server at `/mcp` (the official Rust SDK, rmcp, over streamable HTTP), protected like
//! the API: a Scalekit bearer token whose audience is the MCP server's resource
//! (`SCALEKIT_RESOURCE_ID`), scopes per tool, RFC 9728 metadata pointing at the resource's
//! authorization server `{env}/resources/{resource_id}`.
//!
//! It runs stateless (no MCP session ids), so any instance can answer any request and nothing
//! about a client lives in memory between calls.

pub mod metadata;
pub mod scopes;
pub mod tools;

use std::sync::Arc;

use axum::routing::get;
use axum::Router;
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};

use self::metadata::UpstreamMetadata;
use self::tools::DeploymentTools;
use crate::api::bearer::{authenticate, BearerGuard};
use crate::api::deployments::DeploymentStore;
use crate::api::errors::ChallengeTarget;
use scalekit_auth::Auth;

pub const MCP_PATH: &str = "/mcp";
pub const RESOURCE_METADATA_PATH: &str = "/.well-known/oauth-protected-resource/mcp";

/// The scopes the tools use, for the metadata.
pub const SCOPES: [&str; 2] = crate::api::SCOPES;

#[derive(Clone)]
pub struct McpState {
    /// `{APP_URL}/mcp`
    pub resource_url: String,
    /// `{env}/resources/{resource_id}`
    pub authorization_server: String,
    pub upstream: Arc<UpstreamMetadata>,
}

/// The host names (with and without port) the transport accepts in `Host`: the app's own, so a
/// DNS-rebinding page cannot drive the endpoint through a victim's browser.
fn allowed_hosts(app_url: &str) -> Vec<String> {
    let Ok(url) = url::Url::parse(app_url) else {
        return Vec::new();
    };
    let Some(host) = url.host_str() else {
        return Vec::new();
    };
    let mut hosts = vec![host.to_string()];
    if let Some(port) = url.port() {
        hosts.push(format!("{host}:{port}"));
    }
    hosts
}

/// `/mcp` and its two well-known documents, for the resource `resource_id`.
pub fn routes<S: Clone + Send + Sync + 'static>(
    auth: Auth,
    app_url: &str,
    resource_id: &str,
    deployments: Arc<DeploymentStore>,
) -> Router<S> {
    let environment = auth.environment_url().to_string();
    let authorization_server = format!("{environment}/resources/{resource_id}");
    let state = McpState {
        resource_url: format!("{app_url}{MCP_PATH}"),
        authorization_server: authorization_server.clone(),
        upstream: Arc::new(UpstreamMetadata::new(
            auth.provider().http().clone(),
            format!("{environment}/.well-known/oauth-authorization-server/resources/{resource_id}"),
        )),
    };
    let guard = BearerGuard::new(
        auth,
        resource_id.to_string(),
        vec![authorization_server],
        ChallengeTarget {
            realm: "mcp",
            metadata_url: format!("{app_url}{RESOURCE_METADATA_PATH}").into(),
        },
    );
    let app_origin = url::Url::parse(app_url)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_default();
    let server = StreamableHttpService::new(
        move || Ok(DeploymentTools::new(deployments.clone())),
        Arc::new(NeverSessionManager::default()),
        StreamableHttpServerConfig::default()
            .with_legacy_session_mode(false)
            .with_json_response(true)
            .with_sse_keep_alive(None)
            .with_max_request_body_bytes(scopes::MAX_BODY)
            .with_allowed_hosts(allowed_hosts(app_url))
            .with_allowed_origins([app_origin]),
    );
    let mcp = Router::new()
        .route_service(MCP_PATH, server)
        .layer(axum::middleware::from_fn(scopes::require_tool_scopes))
        .layer(axum::middleware::from_fn_with_state(guard, authenticate));
    Router::new()
        .route(
            RESOURCE_METADATA_PATH,
            get(metadata::protected_resource).options(metadata::preflight),
        )
        .route(
            "/.well-known/oauth-authorization-server",
            get(metadata::authorization_server).options(metadata::preflight),
        )
        .with_state(state)
        .merge(mcp)
}

#[cfg(test)]
mod tests {
    use super::allowed_hosts;

    #[test]
    fn hosts_come_from_the_app_url() {
        assert_eq!(
            allowed_hosts("http://127.0.0.1:3000"),
            ["127.0.0.1", "127.0.0.1:3000"]
        );
        assert_eq!(
            allowed_hosts("https://app.example.com"),
            ["app.example.com"]
        );
    }
}
