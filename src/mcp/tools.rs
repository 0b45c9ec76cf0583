//! The MCP tools: who is calling, and the example deployments API as tools. Each tool names the
//! scope it needs in [`required_scope`]; [`refusal`] decides whether a caller may run it. The
//! HTTP layer checks first (403, with a step-up challenge when asking again can help) and the
//! tool checks again, so a tool never runs for a caller it refuses.

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
use scalekit_auth::bearer::ApiCaller;

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

/// Why a caller may not run a tool.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// A user whose roles lack the permission named like the tool's scope (or whose token has
    /// no `permissions` claim). Authorizing again cannot change a role, so no step-up.
    RoleLacksPermission(&'static str),
    /// The token lacks the scope; the client can ask for it again (step-up).
    TokenLacksScope(&'static str),
}

/// Whether `caller` may run `tool`, and why not.
///
/// A tool needs its scope and, on a user's token, also the permission of the same name (scope
/// `deploy:applications` needs permission `deploy:applications`). A user's scopes are whatever
/// the MCP client asked for: Scalekit's MCP quickstart says they "are pre-approved when users
/// authenticate" after the user "is prompted to grant consent for the requested scopes", its
/// docs never say scopes are limited by role, and the quickstart asks servers to "add scope
/// validation at the MCP tool execution level". Scalekit's resource API has a flag, absent from
/// its docs, `intersect_scopes_user_permission` (SDK protos `scalekit/v1/clients`) to intersect
/// scopes with user permissions; this is that intersection, enforced here whatever the
/// environment's setting. A token is a user's when its `sub` is a `usr_` id or is not its own
/// `client_id`/`azp` (see `ApiCaller::is_user`); one without a `permissions` claim fails closed.
/// Machine tokens (client credentials, no user) need only the scope.
pub fn refusal(caller: &ApiCaller, tool: &str) -> Option<Refusal> {
    let scope = required_scope(tool)?;
    if caller.is_user && !caller.has_permission(scope) {
        return Some(Refusal::RoleLacksPermission(scope));
    }
    (!caller.has_scope(scope)).then_some(Refusal::TokenLacksScope(scope))
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

/// The authenticated caller the HTTP layer left in the request, if [`refusal`] lets it run `tool`.
fn caller_for(parts: &http::request::Parts, tool: &str) -> Result<Arc<ApiCaller>, ErrorData> {
    let caller = parts
        .extensions
        .get::<Arc<ApiCaller>>()
        .cloned()
        .ok_or_else(|| ErrorData::invalid_request("the request was not authenticated", None))?;
    match refusal(&caller, tool) {
        Some(Refusal::RoleLacksPermission(permission)) => Err(ErrorData::invalid_request(
            format!("your role does not allow `{tool}`"),
            Some(json!({ "required_permission": permission })),
        )),
        Some(Refusal::TokenLacksScope(scope)) => Err(ErrorData::invalid_request(
            format!("the token lacks the scope `{scope}`"),
            Some(json!({ "required_scope": scope })),
        )),
        None => Ok(caller),
    }
}

fn organization_of(caller: &ApiCaller) -> &str {
    caller.organization_id.as_deref().unwrap_or_default()
}

#[tool_router]
impl DeploymentTools {
    #[tool(
        name = "whoami",
        description = "Who is calling: the user (subject) or machine client, its organization, the scopes its token carries and, for a user, the permissions of their roles."
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
            "kind": if caller.is_user { "user" } else { "machine" },
            "scopes": caller.scopes,
            "permissions": caller.permissions,
        })))
    }

    #[tool(
        name = "list_deployments",
        description = "List the caller's organization's deployments. Needs scope read:deployments (and, for a user, that permission)."
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
        description = "Create a deployment in the caller's organization. Needs scope deploy:applications (and, for a user, that permission)."
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

#[cfg(test)]
mod tests {
    use super::*;

    fn user(scopes: &[&str], permissions: Option<&[&str]>) -> ApiCaller {
        let strings = |items: &[&str]| items.iter().map(|s| s.to_string()).collect();
        ApiCaller {
            client_id: "m2m_1".into(),
            subject: "usr_1".into(),
            organization_id: Some("org_1".into()),
            scopes: strings(scopes),
            is_user: true,
            permissions: permissions.map(strings),
            expires_at: 0,
        }
    }

    fn parts_with(caller: ApiCaller) -> http::request::Parts {
        let (mut parts, ()) = http::Request::new(()).into_parts();
        parts.extensions.insert(Arc::new(caller));
        parts
    }

    #[test]
    fn a8_a_permission_refusal_comes_before_a_scope_refusal() {
        let member = user(&["read:deployments"], Some(&["read:deployments"]));
        assert_eq!(
            refusal(&member, CREATE_DEPLOYMENT),
            Some(Refusal::RoleLacksPermission("deploy:applications")),
            "asking for the scope again would not help a member"
        );
        let narrowed_admin = user(
            &["read:deployments"],
            Some(&["read:deployments", "deploy:applications"]),
        );
        assert_eq!(
            refusal(&narrowed_admin, CREATE_DEPLOYMENT),
            Some(Refusal::TokenLacksScope("deploy:applications"))
        );
        assert_eq!(refusal(&user(&[], None), WHOAMI), None);
    }

    #[test]
    fn a8_the_tool_itself_refuses_a_user_without_the_permission() {
        let scoped_member = user(&["deploy:applications"], Some(&["read:deployments"]));
        let refused = caller_for(&parts_with(scoped_member), CREATE_DEPLOYMENT).unwrap_err();
        assert_eq!(
            refused.data,
            Some(json!({ "required_permission": "deploy:applications" }))
        );
        let no_claim = user(&["deploy:applications"], None);
        assert!(caller_for(&parts_with(no_claim), CREATE_DEPLOYMENT).is_err());
        let admin = user(&["deploy:applications"], Some(&["deploy:applications"]));
        assert!(caller_for(&parts_with(admin), CREATE_DEPLOYMENT).is_ok());
    }
}
