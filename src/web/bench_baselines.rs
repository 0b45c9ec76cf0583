//! Baselines for `scripts/bench.sh` (cargo feature `bench-baselines`, never in a production
//! build): the limits a page is measured against, served by the same process.
//!
//! - `GET /_bench/page`: the bytes of `bench-page.html` in the site root (the benchmark writes
//!   the dashboard's own bytes there), from memory, through the app's middleware;
//! - on `BENCH_BARE_ADDR`, a second listener with nothing around its handlers: the same page
//!   (the machine's limit for those bytes), the JSON hello of `/health`, and a minimal Leptos page
//!   (a router with one route, the same shell parts: the floor of a Leptos server render), and
//!   the JSON hello behind each of the app's outer layers alone (`/_bench/layer/<name>`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use http::header::{CACHE_CONTROL, CONTENT_TYPE};
use http::{HeaderValue, StatusCode};
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags};
use leptos_router::components::{Route, Router as LeptosRouter, Routes};
use leptos_router::{SsrMode, StaticSegment};

/// Where the in-memory page is served, on the app and on the bare listener.
pub const PAGE_PATH: &str = "/_bench/page";
/// Where the minimal Leptos page is served on the bare listener.
pub const LEPTOS_FLOOR_PATH: &str = "/_bench/leptos";
const PAGE_FILE: &str = "bench-page.html";

/// The page's bytes, read from the site root on the first request that finds the file.
#[derive(Clone)]
pub struct BenchPage {
    file: Arc<PathBuf>,
    bytes: Arc<OnceLock<Bytes>>,
}

impl BenchPage {
    pub fn new(site_root: &str) -> BenchPage {
        BenchPage {
            file: Arc::new(PathBuf::from(site_root).join(PAGE_FILE)),
            bytes: Arc::new(OnceLock::new()),
        }
    }

    fn bytes(&self) -> Option<Bytes> {
        if let Some(bytes) = self.bytes.get() {
            return Some(bytes.clone());
        }
        let read = Bytes::from(std::fs::read(self.file.as_path()).ok()?);
        Some(self.bytes.get_or_init(|| read).clone())
    }
}

async fn serve_page(State(page): State<BenchPage>) -> Response {
    match page.bytes() {
        Some(bytes) => (
            [
                (
                    CONTENT_TYPE,
                    HeaderValue::from_static("text/html; charset=utf-8"),
                ),
                (CACHE_CONTROL, scalekit_auth::NO_STORE),
            ],
            bytes,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// The in-memory page as a service, for the app's Router to serve at [`PAGE_PATH`] (inside its
/// middleware).
pub fn page_service(page: BenchPage) -> Router {
    Router::new()
        .route(PAGE_PATH, get(serve_page))
        .with_state(page)
}

/// Serves the bare baselines on `addr` until the process ends.
pub async fn serve_bare(addr: SocketAddr, page: BenchPage, options: LeptosOptions) {
    // Through the same page handler as the app's pages, so the floor differs from them only in
    // what is rendered.
    let floor = scalekit_leptos::render_page(|| (), move || floor_shell(options.clone()));
    let router = Router::new()
        .route(PAGE_PATH, get(serve_page))
        .route("/health", get(super::health::health))
        .route(LEPTOS_FLOOR_PATH, get(floor))
        .merge(one_layer_each())
        .with_state(page);
    match tokio::net::TcpListener::bind(addr).await {
        Ok(listener) => {
            tracing::warn!(%addr, "benchmark baselines listening (bench-baselines build)");
            if let Err(error) = axum::serve(listener, router).await {
                tracing::error!(%error, "benchmark baselines stopped");
            }
        }
        Err(error) => tracing::error!(%addr, %error, "cannot listen for benchmark baselines"),
    }
}

/// The JSON hello behind each of the app's outer layers alone, at `/_bench/layer/<name>`: what
/// each layer costs (instructions.sh counts them against the bare hello).
fn one_layer_each() -> Router<BenchPage> {
    let hello = || get(super::health::health);
    let headers = super::security_headers::SecurityHeaderSettings::new(true, None);
    Router::new().route(
        "/_bench/layer/edge",
        hello().layer(super::edge::EdgeLayer::new(
            headers,
            crate::server::REQUEST_TIMEOUT,
        )),
    )
}

/// The minimal Leptos page's document: the same head parts as the app's shell.
fn floor_shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <FloorApp/>
            </body>
        </html>
    }
}

#[component]
fn FloorApp() -> impl IntoView {
    provide_meta_context();
    view! {
        <LeptosRouter>
            <main>
                <Routes fallback=|| "not found">
                    <Route
                        path=(StaticSegment("_bench"), StaticSegment("leptos"))
                        view=|| view! { <h1>"Hello"</h1><p>"A minimal Leptos page."</p> }
                        ssr=SsrMode::Async
                    />
                </Routes>
            </main>
        </LeptosRouter>
    }
}
