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
use crate::config::cookie_key::load_cookie_key;
use crate::config::{Config, LogFormat, Mode};
use crate::dev_provider::{self, DevProvider};
use crate::web;
use scalekit_auth::callback::SignInPages;
use scalekit_auth::http_client::provider_http_client;
use scalekit_auth::management::ManagementClient;
use scalekit_auth::middleware::{session_middleware, Auth};
use scalekit_auth::provider::Provider;
use scalekit_auth::relying_party::{RelyingParty, RelyingPartySettings};
use scalekit_auth::session::SessionPolicy;
use scalekit_auth::session_cookies::CookieSettings;
use scalekit_auth::store::{RedisStore, Store};
use scalekit_auth::token_client::ClientCredentials;

/// Longest time a request may take before it is answered 503.
pub const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Everything handlers, pages and server functions share. Cheap to clone.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub config: Arc<Config>,
    pub cookie_key: Key,
    /// The built-in provider, present exactly when no Scalekit environment is configured.
    pub dev_idp: Option<Arc<DevProvider>>,
    pub auth: Auth,
    /// Scalekit's management API, for the organization's API clients.
    pub management: Arc<ManagementClient>,
}

impl AppState {
    pub fn new(
        config: Config,
        cookie_key: Key,
        dev_idp: Option<Arc<DevProvider>>,
    ) -> Result<AppState, String> {
        let leptos_options = leptos_options(&config);
        let http = provider_http_client()
            .map_err(|e| format!("cannot build the HTTP client for the provider: {e}"))?;
        let provider = Arc::new(Provider::new(
            http,
            config.provider.environment_url().to_string(),
            ClientCredentials {
                client_id: config.provider.client_id().to_string(),
                client_secret: config.provider.client_secret(),
            },
        ));
        let management = Arc::new(ManagementClient::new(provider.clone()));
        let store = match &config.redis {
            None => Store::default(),
            Some(settings) => Store::Redis(Arc::new(RedisStore::connect(settings)?)),
        };
        let rp = RelyingParty::new(
            provider,
            RelyingPartySettings {
                redirect_uri: config.redirect_uri.clone(),
                post_logout_redirect_uri: config.post_logout_redirect_uri.clone(),
                scopes: config.scopes.clone(),
                policy: SessionPolicy {
                    idle_timeout_secs: config.session_idle_timeout_secs,
                    absolute_timeout_secs: config.session_absolute_timeout_secs,
                },
            },
            store,
            cookie_key.clone(),
        );
        let auth = Auth {
            rp: Arc::new(rp),
            key: cookie_key.clone(),
            cookies: CookieSettings {
                secure: config.cookies_secure(),
            },
            pages: Arc::new(SignInPages {
                default_return_to: crate::session_api::DEFAULT_RETURN_PATH.into(),
                login_path: "/login".into(),
                site_name: crate::site_info::SITE_NAME.into(),
                stylesheet: format!("/{}/{}.css", config.site_pkg_dir, config.output_name),
            }),
        };
        Ok(AppState {
            leptos_options,
            config: Arc::new(config),
            cookie_key,
            dev_idp,
            auth,
            management,
        })
    }
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
///
/// Pages and server functions sit behind the session middleware (who is this?) and the CSRF
/// guard (is this post from our own pages?); the sign-in callback, back-channel logout, the
/// development provider, the health check and static files need neither.
pub fn build_router(state: AppState) -> Router {
    let routes = route_list();
    let headers = web::security_headers::SecurityHeaderSettings {
        send_hsts: state.config.is_production(),
        extra_form_action: form_action_source(&state.config),
    };
    let origin = web::csrf::AppOrigin(state.config.app_url.clone());
    // Server to server: outside the browser CSRF layer and the session middleware.
    let backchannel = Router::<AppState>::new().route(
        scalekit_auth::backchannel::BACKCHANNEL_LOGOUT_PATH,
        axum::routing::post(scalekit_auth::backchannel::backchannel_logout),
    );
    // The callback opens the session cookie itself (a sign-in ends the one it replaces): the
    // session middleware would only open it first, and a GET needs no CSRF check.
    let callback = Router::<AppState>::new().route(
        &state.config.callback_path,
        get(scalekit_auth::callback::callback),
    );
    let app = Router::<AppState>::new()
        .leptos_routes_with_context(&state, routes, provide_request_context, {
            let options = state.leptos_options.clone();
            move || shell(options.clone())
        })
        .route_layer(axum::middleware::from_fn_with_state(
            state.auth.clone(),
            session_middleware,
        ))
        .route_layer(axum::middleware::from_fn_with_state(
            origin,
            web::csrf::csrf_guard,
        ));
    let deployments = Arc::new(crate::api::deployments::DeploymentStore::default());
    let api_state = crate::api::ApiState::new(
        state.auth.clone(),
        state.config.api_audience.clone(),
        &state.config.app_url,
        deployments.clone(),
    );
    let api_metadata_path = crate::api::metadata::metadata_path(&state.config.api_audience);
    let mut router = app
        .merge(callback)
        .merge(backchannel)
        .nest_service("/api", crate::api::router(api_state.clone()));
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
    router
        .route("/health", get(web::health::health))
        // Files are served without touching the session (no refresh, no Set-Cookie on a
        // publicly cached response); the not-found page reads it itself.
        .fallback(web::static_files::static_or_not_found)
        .with_state(state)
        .layer(CookieManagerLayer::new())
        // A request that takes longer than this (a client trickling its body, a stuck call)
        // gets 503 and frees its task; the provider client's own timeouts are shorter.
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            http::StatusCode::SERVICE_UNAVAILABLE,
            REQUEST_TIMEOUT,
        ))
        .layer(axum::middleware::from_fn_with_state(
            headers,
            web::security_headers::security_headers,
        ))
        .layer(axum::middleware::from_fn(
            web::header_limit::limit_request_size,
        ))
        .layer(axum::middleware::from_fn(web::request_log::request_log))
}

/// Per-request context for the renderer: the CSP nonce, so hydration scripts carry it, and a
/// server redirect that always answers 302. (Leptos' own sends a 200 with a header only its client
/// understands unless the request's `Accept` names HTML, so a guarded page fetched by curl or a
/// crawler would come back 200 and blank instead of redirecting.)
pub fn provide_request_context() {
    let nonce = use_context::<http::request::Parts>().and_then(|parts| {
        parts
            .extensions
            .get::<web::security_headers::CspNonce>()
            .cloned()
    });
    if let Some(nonce) = nonce {
        provide_context(leptos::nonce::Nonce::from_value(nonce.0));
    }
    leptos_router::components::provide_server_redirect(|path: &str| {
        let response = use_context::<leptos_axum::ResponseOptions>();
        if let (Ok(location), Some(response)) = (http::HeaderValue::from_str(path), response) {
            response.insert_header(http::header::LOCATION, location);
            response.set_status(http::StatusCode::FOUND);
        }
    });
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
    let state = match AppState::new(config, cookie_key, dev_idp) {
        Ok(state) => state,
        Err(e) => {
            tracing::error!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let app = build_router(state);
    let listener = match tokio::net::TcpListener::bind(addr).await {
        Ok(listener) => listener,
        Err(e) => {
            tracing::error!("cannot listen on {addr} (LEPTOS_SITE_ADDR): {e}");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!("listening on http://{addr}; open {app_url}");
    web::serve::serve(listener, app, shutdown_signal()).await;
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
