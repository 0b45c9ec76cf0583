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
use scalekit_auth::protocol::{error_chain, read_limited};

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

/// Scalekit's authorization-server metadata for the resource, cached. One request at a time
/// fetches (the others wait for its answer); a failure is remembered for a few seconds so an
/// outage costs one upstream call per interval, not one per client; and an expired copy is served
/// while the provider cannot give a fresh one (the document rarely changes).
pub struct UpstreamMetadata {
    http: reqwest::Client,
    url: String,
    fresh_for: Duration,
    retry_after: Duration,
    cache: RwLock<Cache>,
}

#[derive(Default)]
struct Cache {
    body: Option<(Instant, Bytes)>,
    failure: Option<(Instant, String)>,
}

impl Cache {
    /// The answer this cache can give without asking upstream, if any.
    fn answer(&self, fresh_for: Duration, retry_after: Duration) -> Option<Result<Bytes, String>> {
        match (&self.body, &self.failure) {
            (Some((at, body)), _) if at.elapsed() < fresh_for => Some(Ok(body.clone())),
            (stale, Some((at, reason))) if at.elapsed() < retry_after => Some(match stale {
                Some((_, body)) => Ok(body.clone()),
                None => Err(reason.clone()),
            }),
            _ => None,
        }
    }
}

/// How long a failed fetch is remembered before the next attempt.
const RETRY_AFTER: Duration = Duration::from_secs(5);

impl UpstreamMetadata {
    pub fn new(http: reqwest::Client, url: String) -> UpstreamMetadata {
        UpstreamMetadata::with_timing(http, url, METADATA_TTL, RETRY_AFTER)
    }

    fn with_timing(
        http: reqwest::Client,
        url: String,
        fresh_for: Duration,
        retry_after: Duration,
    ) -> UpstreamMetadata {
        UpstreamMetadata {
            http,
            url,
            fresh_for,
            retry_after,
            cache: RwLock::new(Cache::default()),
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
        if let Some(answer) = self
            .cache
            .read()
            .await
            .answer(self.fresh_for, self.retry_after)
        {
            return answer;
        }
        let mut cache = self.cache.write().await;
        // Another request may have fetched (or failed) while this one waited.
        if let Some(answer) = cache.answer(self.fresh_for, self.retry_after) {
            return answer;
        }
        match self.fetch().await {
            Ok(body) => {
                *cache = Cache {
                    body: Some((Instant::now(), body.clone())),
                    failure: None,
                };
                Ok(body)
            }
            Err(reason) => {
                tracing::warn!(url = %self.url, %reason, stale = cache.body.is_some(), "cannot fetch the authorization server's metadata");
                cache.failure = Some((Instant::now(), reason.clone()));
                match &cache.body {
                    Some((_, stale)) => Ok(stale.clone()),
                    None => Err(reason),
                }
            }
        }
    }
}

/// `GET /.well-known/oauth-authorization-server`
pub async fn authorization_server(State(mcp): State<McpState>) -> Response {
    match mcp.upstream.get().await {
        Ok(body) => public(([(CONTENT_TYPE, "application/json")], body).into_response()),
        Err(_) => {
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
                .insert(CACHE_CONTROL, scalekit_auth::NO_STORE);
            response
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use axum::routing::get;
    use axum::Router;

    use super::*;

    /// An upstream that answers `status` (with a metadata document on 200) and counts its calls.
    async fn upstream(status: Arc<AtomicUsize>, calls: Arc<AtomicUsize>) -> String {
        let app = Router::new().route(
            "/meta",
            get(move || {
                let status = status.load(Ordering::SeqCst) as u16;
                calls.fetch_add(1, Ordering::SeqCst);
                async move {
                    (
                        StatusCode::from_u16(status).unwrap(),
                        r#"{"issuer":"https://acme.scalekit.dev/resources/res_1"}"#,
                    )
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/meta", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        url
    }

    #[tokio::test]
    async fn m_failures_are_remembered_and_a_stale_copy_is_served_during_an_outage() {
        let status = Arc::new(AtomicUsize::new(503));
        let calls = Arc::new(AtomicUsize::new(0));
        let url = upstream(status.clone(), calls.clone()).await;
        let metadata = Arc::new(UpstreamMetadata::with_timing(
            reqwest::Client::new(),
            url,
            Duration::from_millis(200),
            Duration::from_millis(300),
        ));

        // Down from the start: 20 concurrent clients cost one upstream call, and all fail.
        let clients: Vec<_> = (0..20)
            .map(|_| {
                let metadata = metadata.clone();
                tokio::spawn(async move { metadata.get().await })
            })
            .collect();
        for client in clients {
            assert!(client.await.unwrap().is_err());
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);

        // Back up: after the retry interval the next request fetches and caches.
        status.store(200, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(350)).await;
        let body = metadata
            .get()
            .await
            .expect("fetched once the provider is back");
        assert!(std::str::from_utf8(&body).unwrap().contains("res_1"));
        assert_eq!(calls.load(Ordering::SeqCst), 2);

        // Down again after the copy expired: the stale copy is served, and remembered failure
        // keeps further requests from calling upstream.
        status.store(500, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(250)).await;
        for _ in 0..5 {
            assert_eq!(metadata.get().await.unwrap(), body);
        }
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }
}
