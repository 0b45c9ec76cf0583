//! What an MCP client reads before it has a token: the resource's RFC 9728 metadata (which
//! authorization server, which scopes), and, for clients of the older MCP revision that look for
//! the authorization server at the MCP server's origin, Scalekit's metadata for the resource,
//! fetched once an hour and served as is (as Scalekit's FastMCP provider does).

use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use http::header::{
    ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS, ACCESS_CONTROL_ALLOW_ORIGIN,
    CACHE_CONTROL, CONTENT_TYPE,
};
use http::{HeaderValue, StatusCode};
use serde_json::{json, Value};
use tokio::sync::RwLock;

use super::McpState;
use crate::auth::http_client::{error_chain, read_limited};

/// How long Scalekit's metadata is reused.
const METADATA_TTL: Duration = Duration::from_secs(3600);
/// Largest metadata document accepted from the provider.
const METADATA_LIMIT: usize = 64 * 1024;

/// Public documents: any origin may read them (browser-based MCP clients do).
fn public(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    headers.insert(
        CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    response
}

/// `GET /.well-known/oauth-protected-resource/mcp`
pub async fn protected_resource(State(mcp): State<McpState>) -> Response {
    public(
        Json(json!({
            "resource": mcp.resource_url,
            "authorization_servers": [mcp.authorization_server],
            "scopes_supported": super::SCOPES,
            "bearer_methods_supported": ["header"],
            "resource_name": "leptos-scalekit MCP server",
        }))
        .into_response(),
    )
}

/// CORS preflight for the two documents.
pub async fn preflight() -> Response {
    let mut response = public(StatusCode::NO_CONTENT.into_response());
    let headers = response.headers_mut();
    headers.insert(
        ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, OPTIONS"),
    );
    headers.insert(
        ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("mcp-protocol-version, content-type"),
    );
    response
}

/// Scalekit's authorization-server metadata for the resource, cached.
pub struct UpstreamMetadata {
    http: reqwest::Client,
    url: String,
    cached: RwLock<Option<(Instant, Bytes)>>,
}

impl UpstreamMetadata {
    pub fn new(http: reqwest::Client, url: String) -> UpstreamMetadata {
        UpstreamMetadata {
            http,
            url,
            cached: RwLock::new(None),
        }
    }

    async fn fetch(&self) -> Result<Bytes, String> {
        let response = self
            .http
            .get(&self.url)
            .send()
            .await
            .map_err(|e| error_chain(&e))?;
        if !response.status().is_success() {
            return Err(format!("HTTP {}", response.status()));
        }
        let body = read_limited(response, METADATA_LIMIT).await?;
        // Only a JSON object naming an issuer is passed on (and cached).
        match serde_json::from_slice::<Value>(&body) {
            Ok(Value::Object(fields)) if fields.get("issuer").is_some_and(Value::is_string) => {
                Ok(Bytes::from(body))
            }
            _ => Err("not an authorization-server metadata document".into()),
        }
    }

    pub async fn get(&self) -> Result<Bytes, String> {
        if let Some((at, body)) = self.cached.read().await.as_ref() {
            if at.elapsed() < METADATA_TTL {
                return Ok(body.clone());
            }
        }
        let mut cached = self.cached.write().await;
        // Another request may have refreshed it while this one waited.
        if let Some((at, body)) = cached.as_ref() {
            if at.elapsed() < METADATA_TTL {
                return Ok(body.clone());
            }
        }
        let body = self.fetch().await?;
        *cached = Some((Instant::now(), body.clone()));
        Ok(body)
    }
}

/// `GET /.well-known/oauth-authorization-server`
pub async fn authorization_server(State(mcp): State<McpState>) -> Response {
    match mcp.upstream.get().await {
        Ok(body) => public(([(CONTENT_TYPE, "application/json")], body).into_response()),
        Err(reason) => {
            tracing::warn!(url = %mcp.upstream.url, %reason, "cannot fetch the authorization server's metadata");
            let mut response = (
                StatusCode::BAD_GATEWAY,
                Json(json!({
                    "error": "server_error",
                    "error_description": "the authorization server's metadata cannot be fetched right now",
                })),
            )
                .into_response();
            response
                .headers_mut()
                .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
    }
}
