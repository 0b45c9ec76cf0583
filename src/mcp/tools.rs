//! The MCP tools: who is calling, and the example deployments API as tools. Each tool names the
//! scope it needs in [`required_scope`], which the HTTP layer checks first (403 with a step-up
//! challenge) and the tool checks again, so a tool never runs for a caller without its scope.

use std::sync::Arc;

use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::tool::Extension;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{CallToolResult, Implementation, ServerCapabilities, ServerConfig};
use rmcp::{schemars, tool, tool_handler, tool_router, ErrorData, ServerHandler};
use serde_json::json;

use crate::api::bearer::Scope;
use crate::api::deployments::{
    DeployApplications, DeploymentStore, NewDeployment, ReadDeployments,
};
use crate::auth::api_token::ApiCaller;

pub const WHOAMI: &str = "whoami";
pub const LIST_DEPLOYMENTS: &str = "list_deployments";
pub const CREATE_DEPLOYMENT: &str = "create_deployment";

/// The scope a tool needs, if any. Unknown tools need none here: the server answers them with
/// a JSON-RPC error of its own.
pub fn required_scope(tool: &str) -> Option<&'static str> {
    match tool {
        LIST_DEPLOYMENTS => Some(ReadDeployments::NAME),
        CREATE_DEPLOYMENT => Some(DeployApplications::NAME),
        _ => None,
    }
}

#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
pub struct CreateDeploymentArgs {
    /// 1 to 64 lowercase letters, digits or dashes.
    pub name: String,
    /// `staging` (the default), `production` or `preview`.
    #[serde(default)]
    pub environment: Option<String>,
}

/// One MCP server instance (the transport makes one per request: it holds only shared handles).
#[derive(Clone)]
pub struct DeploymentTools {
    deployments: Arc<DeploymentStore>,
    #[allow(dead_code)] // read by the code `tool_handler` generates
    tool_router: ToolRouter<Self>,
}

impl DeploymentTools {
    pub fn new(deployments: Arc<DeploymentStore>) -> DeploymentTools {
        DeploymentTools {
            deployments,
            tool_router: Self::tool_router(),
        }
    }
}

/// The authenticated caller the HTTP layer left in the request, holding `tool`'s scope.
fn caller_for(parts: &http::request::Parts, tool: &str) -> Result<Arc<ApiCaller>, ErrorData> {
    let caller = parts
        .extensions
        .get::<Arc<ApiCaller>>()
        .cloned()
        .ok_or_else(|| ErrorData::invalid_request("the request was not authenticated", None))?;
    match required_scope(tool) {
        Some(scope) if !caller.has_scope(scope) => Err(ErrorData::invalid_request(
            format!("the token lacks the scope `{scope}`"),
            Some(json!({ "required_scope": scope })),
        )),
        _ => Ok(caller),
    }
}

fn organization_of(caller: &ApiCaller) -> &str {
    caller.organization_id.as_deref().unwrap_or_default()
}

#[tool_router]
impl DeploymentTools {
    #[tool(
        name = "whoami",
        description = "Who is calling: the user (subject) or machine client, its organization and the scopes its token carries."
    )]
    async fn whoami(
        &self,
        Extension(parts): Extension<http::request::Parts>,
    ) -> Result<CallToolResult, ErrorData> {
        let caller = caller_for(&parts, WHOAMI)?;
        Ok(CallToolResult::structured(json!({
            "subject": caller.subject,
            "client_id": caller.client_id,
            "organization_id": caller.organization_id,
            "scopes": caller.scopes,
        })))
    }

    #[tool(
        name = "list_deployments",
        description = "List the caller's organization's deployments. Needs scope read:deployments."
    )]
    async fn list_deployments(
        &self,
        Extension(parts): Extension<http::request::Parts>,
    ) -> Result<CallToolResult, ErrorData> {
        let caller = caller_for(&parts, LIST_DEPLOYMENTS)?;
        let organization = organization_of(&caller);
        Ok(CallToolResult::structured(json!({
            "organization_id": organization,
            "deployments": self.deployments.list(organization),
        })))
    }

    #[tool(
        name = "create_deployment",
        description = "Create a deployment in the caller's organization. Needs scope deploy:applications."
    )]
    async fn create_deployment(
        &self,
        Extension(parts): Extension<http::request::Parts>,
        Parameters(args): Parameters<CreateDeploymentArgs>,
    ) -> Result<CallToolResult, ErrorData> {
        let caller = caller_for(&parts, CREATE_DEPLOYMENT)?;
        let new = NewDeployment {
            name: args.name,
            environment: args.environment,
        };
        match self
            .deployments
            .create(organization_of(&caller), &caller.client_id, new)
        {
            Ok(deployment) => Ok(CallToolResult::structured(json!(deployment))),
            // A refusal the model can correct is a tool error, not a protocol error.
            Err(refused) => Ok(CallToolResult::structured_error(
                json!({ "error": refused.to_string() }),
            )),
        }
    }
}

#[tool_handler]
impl ServerHandler for DeploymentTools {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new(
                "leptos-scalekit",
                env!("CARGO_PKG_VERSION"),
            ))
            .with_instructions(
                "Example tools protected by Scalekit: whoami, and the organization's deployments.",
            )
    }
}
