//! Tool refusals at the HTTP level, before the MCP server runs anything. A `tools/call` naming a
//! tool whose scope the token lacks is answered with 403 `insufficient_scope` and the scope to ask
//! for (MCP authorization, "scope challenge"), so a client can re-authorize instead of reading a
//! tool error. A user whose role lacks the tool's permission gets a plain 403 `forbidden` with no
//! challenge: see [`role_lacks_permission`] for why.

use std::sync::Arc;

use axum::body::{to_bytes, Body};
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use http::{Method, StatusCode};
use serde_json::{json, Value};

use super::tools::{refusal, Refusal};
use crate::api::errors::{role_lacks_permission, ApiError, Challenge, ChallengeTarget};
use scalekit_auth::bearer::ApiCaller;

/// Largest MCP request body read; the tools take a few short strings.
pub const MAX_BODY: usize = 256 * 1024;

/// Tool names called by a JSON-RPC message or batch.
pub fn tools_called(body: &[u8]) -> Vec<String> {
    let Ok(value) = serde_json::from_slice::<Value>(body) else {
        return Vec::new(); // not JSON: the MCP server answers it with a parse error
    };
    let messages = match value {
        Value::Array(messages) => messages,
        single => vec![single],
    };
    messages
        .iter()
        .filter(|m| m.get("method").and_then(Value::as_str) == Some("tools/call"))
        .filter_map(|m| m.pointer("/params/name").and_then(Value::as_str))
        .map(str::to_string)
        .collect()
}

/// Why the caller may not make the tool calls in `body`, and the tool refused. A missing
/// permission wins over a missing scope: stepping up for the scope would still leave it refused.
pub fn first_refusal(body: &[u8], caller: &ApiCaller) -> Option<(String, Refusal)> {
    let refusals: Vec<(String, Refusal)> = tools_called(body)
        .into_iter()
        .filter_map(|tool| refusal(caller, &tool).map(|why| (tool, why)))
        .collect();
    let by_role = refusals
        .iter()
        .position(|(_, why)| matches!(why, Refusal::RoleLacksPermission(_)));
    refusals.into_iter().nth(by_role.unwrap_or(0))
}

/// Runs after authentication: reads the (bounded) body, refuses a call the caller may not make
/// (see [`refusal`]), and hands the body on unchanged otherwise.
pub async fn require_tool_scopes(request: Request, next: Next) -> Response {
    if request.method() != Method::POST {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_BODY).await else {
        return (
            StatusCode::PAYLOAD_TOO_LARGE,
            Json(json!({
                "error": "invalid_request",
                "error_description": format!("MCP requests are limited to {MAX_BODY} bytes"),
            })),
        )
            .into_response();
    };
    let caller = parts.extensions.get::<Arc<ApiCaller>>();
    let target = parts
        .extensions
        .get::<ChallengeTarget>()
        .cloned()
        .unwrap_or_default();
    match caller {
        None => {
            return Challenge {
                error: ApiError::NoCredentials,
                target: &target,
            }
            .into_response()
        }
        Some(caller) => match first_refusal(&bytes, caller) {
            Some((tool, Refusal::RoleLacksPermission(permission))) => {
                return role_lacks_permission(&tool, permission)
            }
            Some((_, Refusal::TokenLacksScope(scope))) => {
                return Challenge {
                    error: ApiError::InsufficientScope(scope),
                    target: &target,
                }
                .into_response()
            }
            None => {}
        },
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    const READ: &str = "read:deployments";
    const DEPLOY: &str = "deploy:applications";

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    /// A client-credentials token: the client is its own subject, no permissions.
    fn machine(scopes: &[&str]) -> ApiCaller {
        ApiCaller {
            client_id: "m2morg_1".into(),
            subject: "m2morg_1".into(),
            organization_id: Some("org_1".into()),
            scopes: strings(scopes),
            is_user: false,
            permissions: None,
            expires_at: 0,
        }
    }

    fn user(scopes: &[&str], permissions: Option<&[&str]>) -> ApiCaller {
        ApiCaller {
            client_id: "m2m_1".into(),
            subject: "usr_1".into(),
            is_user: true,
            permissions: permissions.map(strings),
            ..machine(scopes)
        }
    }

    fn call(tool: &str) -> String {
        json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": tool}})
            .to_string()
    }

    fn refused(tool: &str, caller: &ApiCaller) -> Option<Refusal> {
        first_refusal(call(tool).as_bytes(), caller).map(|(_, why)| why)
    }

    #[test]
    fn a8_tool_calls_need_their_scope_and_other_messages_none() {
        let reader = machine(&[READ]);
        assert_eq!(refused("list_deployments", &reader), None);
        assert_eq!(
            refused("create_deployment", &reader),
            Some(Refusal::TokenLacksScope(DEPLOY))
        );
        assert_eq!(refused("whoami", &machine(&[])), None);
        let batch = format!("[{},{}]", call("whoami"), call("create_deployment"));
        assert_eq!(
            first_refusal(batch.as_bytes(), &reader),
            Some(("create_deployment".into(), Refusal::TokenLacksScope(DEPLOY))),
            "a batch is as strong as its most demanding call"
        );
        let list = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}).to_string();
        assert_eq!(first_refusal(list.as_bytes(), &machine(&[])), None);
        assert_eq!(first_refusal(b"{not json", &reader), None);
    }

    #[test]
    fn a8_a_machine_token_needs_only_the_scope() {
        assert_eq!(refused("create_deployment", &machine(&[DEPLOY])), None);
    }

    #[test]
    fn a8_a_user_token_needs_the_scope_and_the_permission() {
        let scope_only = user(&[READ, DEPLOY], Some(&[READ]));
        assert_eq!(
            refused("create_deployment", &scope_only),
            Some(Refusal::RoleLacksPermission(DEPLOY))
        );
        assert_eq!(refused("list_deployments", &scope_only), None);
        let both = user(&[READ, DEPLOY], Some(&[READ, DEPLOY]));
        assert_eq!(refused("create_deployment", &both), None);
        let permission_only = user(&[READ], Some(&[READ, DEPLOY]));
        assert_eq!(
            refused("create_deployment", &permission_only),
            Some(Refusal::TokenLacksScope(DEPLOY)),
            "a user who may deploy can step up for the scope"
        );
    }

    #[test]
    fn a8_a_user_token_without_a_permissions_claim_is_refused_every_scoped_tool() {
        let unknown_role = user(&[READ, DEPLOY], None);
        assert_eq!(
            refused("create_deployment", &unknown_role),
            Some(Refusal::RoleLacksPermission(DEPLOY))
        );
        assert_eq!(
            refused("list_deployments", &unknown_role),
            Some(Refusal::RoleLacksPermission(READ))
        );
        assert_eq!(refused("whoami", &unknown_role), None);
    }

    #[test]
    fn a8_in_a_batch_a_missing_permission_wins_over_a_missing_scope() {
        let caller = user(&[], Some(&[READ]));
        let batch = format!(
            "[{},{}]",
            call("list_deployments"),
            call("create_deployment")
        );
        assert_eq!(
            first_refusal(batch.as_bytes(), &caller),
            Some((
                "create_deployment".into(),
                Refusal::RoleLacksPermission(DEPLOY)
            ))
        );
    }
}
