//! Start-up: the command line, logging and the axum Router.

use std::process::ExitCode;
use std::sync::{Arc, OnceLock};

use axum::handler::Handler;
use axum::routing::get;
use axum::Router;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, AxumRouteListing};
use scalekit_leptos::{SignIn, SignInRoutes};
use tower::Layer;
use tower_cookies::CookieManagerLayer;

use crate::app::{shell, App};
use crate::config::cookie_key::load_cookie_key;
use crate::config::{Config, LogFormat};
use crate::dev_provider;
use crate::state::AppState;
use crate::web;

/// Longest time a request may take before it is answered 503.
pub const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// The whole application: the Router inside the layers every request passes (`web::edge`).
pub type AppService = web::edge::Edge<axum::Router>;

/// The whole application, ready to serve or to test with `oneshot`.
///
/// Pages and server functions sit behind the session middleware (who is this?) and the CSRF
/// guard (is this post from our own pages?), put there with the sign-in callback and back-channel
/// logout by `scalekit_leptos`' one entry point; the machine API, MCP, the development provider,
/// the health check and static files need neither.
pub fn build_router(state: AppState) -> AppService {
    let track_requests = state.config.metrics_addr.is_some();
    let routes = route_list();
    let headers = web::security_headers::SecurityHeaderSettings::new(
        state.config.is_production(),
        form_action_source(&state.config).as_deref(),
    );
    let sign_in = SignIn::new(state.auth.clone(), &state.config.app_url);
    let app = Router::<AppState>::new().leptos_routes_with_sign_in(
        &state,
        &sign_in,
        routes,
        provide_csp_nonce,
        {
            let options = state.leptos_options.clone();
            move || shell(options.clone())
        },
    );
    let deployments = Arc::new(crate::api::deployments::DeploymentStore::default());
    let api_state = crate::api::ApiState::new(
        state.auth.clone(),
        state.config.api_audience.clone(),
        &state.config.app_url,
        deployments.clone(),
    );
    let api_metadata_path = crate::api::metadata::metadata_path(&state.config.api_audience);
    let mut router = app.nest_service("/api", crate::api::router(api_state.clone()));
    if api_metadata_path == crate::mcp::RESOURCE_METADATA_PATH
        && state.config.mcp_resource_id.is_some()
    {
        tracing::error!(path = %api_metadata_path, "API_AUDIENCE's metadata would sit where /mcp's does; the API's metadata is not served");
    } else {
        router = router.route_service(
            &api_metadata_path,
            get(crate::api::metadata::protected_resource).with_state(api_state),
        );
    }
    match &state.config.mcp_resource_id {
        Some(resource_id) => {
            router = router.merge(crate::mcp::routes(
                state.auth.clone(),
                &state.config.app_url,
                resource_id,
                deployments,
            ));
        }
        None => tracing::info!("MCP endpoint off: set SCALEKIT_RESOURCE_ID to serve /mcp"),
    }
    if let Some(idp) = &state.dev_idp {
        router = dev_provider::mount(router, idp);
    }
    match crate::webhooks::routes(&state) {
        Some(webhooks) => router = router.merge(webhooks),
        None => tracing::info!(
            "webhooks off: set SCALEKIT_WEBHOOK_SECRET to receive them at {}",
            crate::webhooks::WEBHOOK_PATH
        ),
    }
    #[cfg(feature = "bench-baselines")]
    let router = router.route_service(
        web::bench_baselines::PAGE_PATH,
        web::bench_baselines::page_service(web::bench_baselines::BenchPage::new(
            &state.config.site_root,
        )),
    );
    let routes = router
        .route("/health", get(web::health::health))
        .route("/ready", get(web::ready::ready))
        // Files are served without touching the session (no refresh, no Set-Cookie on a
        // publicly cached response); the not-found page reads it itself, so it has the jar.
        .fallback(web::static_files::static_or_not_found.layer(CookieManagerLayer::new()))
        .with_state(state);
    // The layers every request passes wrap the finished Router once, as one service, rather than
    // each route (`Router::layer` puts a copy around every route, and axum clones a route's whole
    // stack of boxed services for each request it serves), and nothing wraps them: a Router
    // around them (its fallback) would match and box every request once more.
    // Request id and log, security headers (H7: on the size limit's 414 and 431 and the timeout's
    // 503 too), the size limit, and the time limit: a request that waits longer than
    // REQUEST_TIMEOUT (a client trickling its body, a stuck call) gets 503 and frees its task;
    // the provider client's own timeouts are shorter.
    let edge = web::edge::EdgeLayer::new(headers, REQUEST_TIMEOUT);
    // Only with METRICS_ADDR (without a recorder there is nobody to count for): the Router tells
    // the edge layer which route answered.
    if track_requests {
        let routes = routes.route_layer(axum::middleware::from_fn(web::metrics::remember_route));
        edge.counting_requests().layer(routes)
    } else {
        edge.layer(routes)
    }
}

/// The CSP nonce for the renderer, so hydration scripts carry it: taking it tells the
/// security-headers layer to name it in this response's policy.
pub fn provide_csp_nonce() {
    let nonce = with_context::<http::request::Parts, _>(|parts| {
        parts
            .extensions
            .get::<web::security_headers::CspNonce>()
            .map(web::security_headers::CspNonce::take)
    })
    .flatten();
    if let Some(nonce) = nonce {
        provide_context(leptos::nonce::Nonce::from_value(nonce));
    }
}

/// The provider's origin when it differs from the app's: the sign-in form post ends in a
/// redirect there.
fn form_action_source(config: &Config) -> Option<String> {
    let provider = url::Url::parse(config.provider.environment_url()).ok()?;
    let app = url::Url::parse(&config.app_url).ok()?;
    (provider.origin() != app.origin()).then(|| provider.origin().ascii_serialization())
}

/// Leptos' route list, generated once per process. Generating it switches off resource loading
/// process-wide (a global flag in leptos_server), so a generation running beside a render would
/// leave that render waiting forever; once, before anything is served, it cannot overlap one.
fn route_list() -> Vec<AxumRouteListing> {
    static ROUTES: OnceLock<Vec<AxumRouteListing>> = OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

const USAGE: &str = "usage: leptos-scalekit [serve | doctor | dev-idp | help]
  serve    run the web app (the default)
  doctor   check the configuration and the connection to the Scalekit environment
  dev-idp  run only the development identity provider (DEV_IDP_ADDR, default 127.0.0.1:4000)";

pub async fn cli_main() -> ExitCode {
    if let Err(e) = dotenvy::dotenv() {
        if !e.not_found() {
            eprintln!("error: could not read .env: {e}");
            return ExitCode::FAILURE;
        }
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        None | Some("serve") => serve().await,
        Some("doctor") => crate::doctor::run().await,
        Some("dev-idp") => dev_provider::run_standalone().await,
        Some("help" | "-h" | "--help") => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        Some(other) => {
            eprintln!("error: unknown command `{other}`\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

pub fn init_tracing(log_filter: &str, log_format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_new(log_filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(true);
    match log_format {
        LogFormat::Json => builder.json().flatten_event(true).init(),
        LogFormat::Text => builder.compact().init(),
    }
}

async fn serve() -> ExitCode {
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(errors) => {
            eprintln!("error: {errors}");
            return ExitCode::FAILURE;
        }
    };
    init_tracing(&config.log_filter, config.log_format);
    let cookie_key = match load_cookie_key(&config.cookie_secret) {
        Ok(key) => key,
        Err(e) => {
            tracing::error!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let dev_idp = match dev_provider::start(&config) {
        Ok(idp) => idp,
        Err(e) => {
            tracing::error!("{e}");
            return ExitCode::FAILURE;
        }
    };
    for (name, value) in config.describe() {
        tracing::info!(setting = name, value = %value, "configuration");
    }
    if let Some(idp) = &dev_idp {
        tracing::warn!(
            issuer = %dev_provider::issuer(idp),
            "no Scalekit environment configured: sign-in uses the built-in DEVELOPMENT identity provider (never for production)"
        );
        if config.dev_idp_allow_remote {
            tracing::warn!(
                listen = %config.site_addr,
                app_url = %config.app_url,
                "DEV_IDP_ALLOW_REMOTE=true: the DEVELOPMENT identity provider, which signs anyone in as any persona, may be reachable from other machines; use this only on a private development box"
            );
        }
    }
    let addr = config.site_addr;
    let app_url = config.app_url.clone();
    let shutdown_grace = config.shutdown_grace;
    if let Some(metrics_addr) = config.metrics_addr {
        match web::metrics::serve_metrics(metrics_addr).await {
            Ok(bound) => tracing::info!("metrics at http://{bound}/metrics"),
            Err(e) => {
                tracing::error!("{e}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        tracing::info!("metrics off: set METRICS_ADDR to serve them");
    }
    let state = match AppState::new(config, cookie_key, dev_idp) {
        Ok(state) => state,
        Err(e) => {
            tracing::error!("{e}");
            return ExitCode::FAILURE;
        }
    };
    #[cfg(feature = "bench-baselines")]
    let (state_site_root, state_options) =
        (state.config.site_root.clone(), state.leptos_options.clone());
    let app = build_router(state);
    let listener = match tokio::net::TcpListener::bind(addr).await {
        Ok(listener) => listener,
        Err(e) => {
            tracing::error!("cannot listen on {addr} (LEPTOS_SITE_ADDR): {e}");
            return ExitCode::FAILURE;
        }
    };
    #[cfg(feature = "bench-baselines")]
    if let Some(bare) = std::env::var("BENCH_BARE_ADDR")
        .ok()
        .and_then(|addr| addr.parse().ok())
    {
        tokio::spawn(web::bench_baselines::serve_bare(
            bare,
            web::bench_baselines::BenchPage::new(&state_site_root),
            state_options,
        ));
    }
    tracing::info!("listening on http://{addr}; open {app_url}");
    web::serve::serve(listener, app, shutdown_signal(), shutdown_grace).await;
    ExitCode::SUCCESS
}

/// Resolves on Ctrl-C or SIGTERM so in-flight requests finish before exit.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down");
}
