//! Prometheus metrics, on a listener of their own (`METRICS_ADDR`, off unless set), so they are
//! never served to the internet by the app's own router by accident.
//!
//! `metrics-exporter-prometheus` is the exporter of the `metrics` facade the core records
//! through; its own HTTP listener is left out (our listener is the same axum server as the app's,
//! with nothing else on it). This module adds the requests the app answers:
//!
//! | metric | labels |
//! |---|---|
//! | `http_requests_total` | `method`, `route` (the route template, never the raw path), `status` |
//! | `http_request_duration_seconds` | `method`, `route` (histogram) |
//!
//! and the core adds its own (`scalekit_*`: sign-ins, refreshes, refused tokens, provider calls
//! and their latency, store errors; see `docs/deployment.md`).

use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use http::header::{CACHE_CONTROL, CONTENT_TYPE};
use http::{HeaderValue, Method};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Latency buckets, in seconds: from a cached page (sub-millisecond) to the request timeout.
const LATENCY_BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0, 30.0,
];
/// How often histograms are folded (the exporter needs it done now and then).
const UPKEEP_INTERVAL: Duration = Duration::from_secs(5);

/// Installs the Prometheus recorder for the whole process and serves `GET /metrics` on `addr`.
/// Fails when the address cannot be bound or a recorder is already installed.
pub async fn serve_metrics(addr: SocketAddr) -> Result<SocketAddr, String> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on {addr} (METRICS_ADDR): {e}"))?;
    let bound = listener.local_addr().map_err(|e| e.to_string())?;
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &LATENCY_BUCKETS)
        .map_err(|e| format!("metrics: {e}"))?
        .install_recorder()
        .map_err(|e| format!("metrics: {e}"))?;
    let upkeep = handle.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(UPKEEP_INTERVAL);
        loop {
            every.tick().await;
            upkeep.run_upkeep();
        }
    });
    let app = Router::new().route("/metrics", get(move || scrape(handle.clone())));
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "the metrics listener stopped");
        }
    });
    Ok(bound)
}

async fn scrape(handle: PrometheusHandle) -> Response {
    (
        [
            (
                CONTENT_TYPE,
                HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
            ),
            (CACHE_CONTROL, scalekit_auth::NO_STORE),
        ],
        handle.render(),
    )
        .into_response()
}

/// The route a request matched, as a label: its template (`/api/v1/deployments`), a nested
/// router's prefix with `*`, or `fallback` for static files and pages not found.
fn route_label(response: &Response) -> String {
    match response.extensions().get::<MatchedRoute>() {
        Some(MatchedRoute(matched)) => {
            let path = matched.as_str();
            match path.find("{*") {
                Some(tail) => format!("{}*", &path[..tail]),
                None => path.to_string(),
            }
        }
        None => "fallback".to_string(),
    }
}

/// The route template the Router matched, carried out on the response to [`track_requests`],
/// which runs outside the Router and so before it matched anything.
#[derive(Clone)]
struct MatchedRoute(MatchedPath);

/// Puts the matched route on the response (a route layer of the app's Router, only with
/// `METRICS_ADDR`).
pub async fn remember_route(request: Request, next: Next) -> Response {
    let matched = request.extensions().get::<MatchedPath>().cloned();
    let mut response = next.run(request).await;
    if let Some(matched) = matched {
        response.extensions_mut().insert(MatchedRoute(matched));
    }
    response
}

/// Counts and times a request the app answered (the edge layer calls it, only with
/// `METRICS_ADDR`).
pub fn count(method: &Method, response: &Response, took: Duration) {
    let method = method.as_str().to_string();
    let route = route_label(response);
    let status = response.status().as_u16().to_string();
    metrics::counter!(
        "http_requests_total",
        "method" => method.clone(),
        "route" => route.clone(),
        "status" => status
    )
    .increment(1);
    metrics::histogram!(
        "http_request_duration_seconds",
        "method" => method,
        "route" => route
    )
    .record(took.as_secs_f64());
}
