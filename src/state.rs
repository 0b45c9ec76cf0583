//! What handlers, pages and server functions share, built once at start-up from the validated
//! configuration.

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::prelude::*;
use scalekit_auth::management::ManagementClient;
use scalekit_auth::store::{RedisStore, Store};
use scalekit_auth::SessionPolicy;
use scalekit_auth::SignInPages;
use scalekit_auth::{Auth, AuthSettings};
use scalekit_leptos::ServerError;
use tower_cookies::Key;

use crate::config::{Config, Mode};
use crate::dev_provider::DevProvider;

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
        let store = match &config.redis {
            None => Store::default(),
            Some(settings) => Store::Redis(Arc::new(RedisStore::connect(settings)?)),
        };
        let settings = AuthSettings::new(
            config.provider.environment_url(),
            config.provider.client_id(),
            config.provider.client_secret(),
            &config.app_url,
            cookie_key.clone(),
        )
        .with_redirect_uri(&config.redirect_uri)
        .with_post_logout_redirect_uri(&config.post_logout_redirect_uri)
        .with_scopes(config.scopes.clone())
        .with_extra_roots(config.provider_roots.clone())
        .with_policy(SessionPolicy {
            idle_timeout_secs: config.session_idle_timeout_secs,
            absolute_timeout_secs: config.session_absolute_timeout_secs,
        })
        .with_store(store)
        .with_pages(SignInPages {
            default_return_to: crate::app::DEFAULT_RETURN_PATH.into(),
            login_path: "/login".into(),
            site_name: crate::components::site_info::SITE_NAME.into(),
            stylesheet: format!("/{}/{}.css", config.site_pkg_dir, config.output_name),
        });
        let auth = Auth::new(settings)?;
        let management = Arc::new(ManagementClient::new(auth.provider().clone()));
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

/// The app state in a server function or a render (Leptos provides it from the router's state).
pub fn app_state() -> Result<AppState, ServerError> {
    use_context::<AppState>().ok_or(ServerError::Internal)
}
