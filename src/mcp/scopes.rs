//! Step-up for tools: a `tools/call` naming a tool whose scope the token lacks is answered at the
//! HTTP level with 403 `insufficient_scope` and the scope to ask for (MCP authorization, "scope
//! challenge"), so a client can re-authorize instead of reading a tool error.

use std::sync::Arc;

use axum::body::{to_bytes, Body};
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use http::{Method, StatusCode};
use serde_json::{json, Value};

use super::tools::required_scope;
use crate::api::errors::{ApiError, Challenge, ChallengeTarget};
use crate::auth::api_token::ApiCaller;

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

/// The first scope the caller lacks for the tools in `body`.
pub fn missing_scope(body: &[u8], caller: &ApiCaller) -> Option<&'static str> {
    tools_called(body)
        .iter()
        .filter_map(|tool| required_scope(tool))
        .find(|scope| !caller.has_scope(scope))
}

/// Runs after authentication: reads the (bounded) body, refuses a call the token's scopes do
/// not cover, and hands the body on unchanged otherwise.
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
        Some(caller) => {
            if let Some(scope) = missing_scope(&bytes, caller) {
                return Challenge {
                    error: ApiError::InsufficientScope(scope),
                    target: &target,
                }
                .into_response();
            }
        }
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(scopes: &[&str]) -> ApiCaller {
        ApiCaller {
            client_id: "m2m_1".into(),
            subject: "usr_1".into(),
            organization_id: Some("org_1".into()),
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            expires_at: 0,
        }
    }

    #[test]
    fn a8_tool_calls_need_their_scope_and_other_messages_none() {
        let call = |tool: &str| {
            json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": tool}})
                .to_string()
        };
        let reader = caller(&["read:deployments"]);
        assert_eq!(
            missing_scope(call("list_deployments").as_bytes(), &reader),
            None
        );
        assert_eq!(
            missing_scope(call("create_deployment").as_bytes(), &reader),
            Some("deploy:applications")
        );
        assert_eq!(missing_scope(call("whoami").as_bytes(), &caller(&[])), None);
        let batch = format!("[{},{}]", call("whoami"), call("create_deployment"));
        assert_eq!(
            missing_scope(batch.as_bytes(), &reader),
            Some("deploy:applications"),
            "a batch is as strong as its most demanding call"
        );
        let list = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}).to_string();
        assert_eq!(missing_scope(list.as_bytes(), &caller(&[])), None);
        assert_eq!(missing_scope(b"{not json", &reader), None);
    }
}
