//! Start-up: the command line, logging, the shared state and the axum Router.

use std::process::ExitCode;
use std::sync::{Arc, OnceLock};

use axum::extract::FromRef;
use axum::routing::get;
use axum::Router;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, AxumRouteListing, LeptosRoutes};
use tower_cookies::{CookieManagerLayer, Key};

use crate::app::{shell, App};
use crate::auth::cookie_key::load_cookie_key;
use crate::config::{Config, LogFormat, Mode, ProviderConfig, DEV_CLIENT_ID, DEV_IDP_MOUNT_PATH};
use crate::idp::settings::IdpSettings;
use crate::idp::{self, DevIdp};
use crate::web;

/// Everything handlers, pages and server functions share. Cheap to clone.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub config: Arc<Config>,
    pub cookie_key: Key,
    /// The built-in provider, present exactly when no Scalekit environment is configured.
    pub dev_idp: Option<Arc<DevIdp>>,
}

impl AppState {
    pub fn new(config: Config, cookie_key: Key, dev_idp: Option<Arc<DevIdp>>) -> AppState {
        let leptos_options = leptos_options(&config);
        AppState {
            leptos_options,
            config: Arc::new(config),
            cookie_key,
            dev_idp,
        }
    }
}

/// Starts the built-in identity provider when the configuration asks for it (no Scalekit
/// environment), with the app's own redirect and post-logout URIs registered.
pub fn start_dev_idp(config: &Config) -> Result<Option<Arc<DevIdp>>, String> {
    let ProviderConfig::DevIdp { environment_url } = &config.provider else {
        return Ok(None);
    };
    let mut settings =
        IdpSettings::load(config.dev_idp_config.as_deref()).map_err(|e| e.to_string())?;
    settings.register_app_uris(
        DEV_CLIENT_ID,
        &config.redirect_uri,
        &config.post_logout_redirect_uri,
    );
    let idp = DevIdp::new(
        environment_url.clone(),
        DEV_IDP_MOUNT_PATH.to_string(),
        settings,
        &config.dev_state_dir.join("dev-idp-keys.json"),
    )
    .map_err(|e| e.to_string())?;
    Ok(Some(Arc::new(idp)))
}

/// Leptos' own settings, taken from our validated configuration rather than read again.
pub fn leptos_options(config: &Config) -> LeptosOptions {
    LeptosOptions::builder()
        .output_name(config.output_name.clone())
        .site_root(config.site_root.clone())
        .site_pkg_dir(config.site_pkg_dir.clone())
        .site_addr(config.site_addr)
        .env(match config.mode {
            Mode::Development => leptos::config::Env::DEV,
            Mode::Production => leptos::config::Env::PROD,
        })
        .build()
}

/// The whole application as one Router, ready to serve or to test with `oneshot`.
pub fn build_router(state: AppState) -> Router {
    let routes = route_list();
    let send_hsts = web::security_headers::SendHsts(state.config.is_production());
    let mut router = Router::<AppState>::new();
    if let Some(idp) = &state.dev_idp {
        router = router.nest(DEV_IDP_MOUNT_PATH, idp::router(idp.clone()));
    }
    router
        .route("/health", get(web::health::health))
        .leptos_routes(&state, routes, {
            let options = state.leptos_options.clone();
            move || shell(options.clone())
        })
        .fallback(web::static_files::static_or_not_found)
        .with_state(state)
        .layer(CookieManagerLayer::new())
        .layer(axum::middleware::from_fn_with_state(
            send_hsts,
            web::security_headers::security_headers,
        ))
        .layer(axum::middleware::from_fn(web::request_log::request_log))
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
        Some("dev-idp") => idp::standalone::run().await,
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
    let dev_idp = match start_dev_idp(&config) {
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
            issuer = %idp.issuer,
            "no Scalekit environment configured: sign-in uses the built-in DEVELOPMENT identity provider (never for production)"
        );
    }
    let addr = config.site_addr;
    let app_url = config.app_url.clone();
    let app = build_router(AppState::new(config, cookie_key, dev_idp));
    let listener = match tokio::net::TcpListener::bind(addr).await {
        Ok(listener) => listener,
        Err(e) => {
            tracing::error!("cannot listen on {addr} (LEPTOS_SITE_ADDR): {e}");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!("listening on http://{addr}; open {app_url}");
    if let Err(e) = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await
    {
        tracing::error!("server stopped: {e}");
        return ExitCode::FAILURE;
    }
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
