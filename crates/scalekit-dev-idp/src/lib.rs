//! A Scalekit-compatible OpenID provider for development and tests.
//!
//! It answers on Scalekit's paths with Scalekit's token shapes, so an app, its tests and
//! Scalekit's own SDKs run against it offline: authorization code with PKCE, refresh rotation with
//! reuse detection, client credentials, the management API for organization clients, the user
//! sessions API (REST and gRPC), back-channel logout, MCP resources with dynamic registration, and
//! test controls at `/_control` (faults, outages, key rotation).
//!
//! It signs anyone in as any persona: mount it only in development, on loopback. The
//! `leptos-scalekit` app mounts it at `/dev-idp` when no Scalekit environment is configured, and
//! refuses production and remote addresses.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use scalekit_dev_idp::{standalone_router, DevIdp, IdpSettings};
//!
//! let settings = IdpSettings::load(None)?;
//! let idp = DevIdp::new(
//!     "http://127.0.0.1:4000".into(),
//!     String::new(),
//!     settings,
//!     std::path::Path::new(".dev-state/dev-idp-keys.json"),
//! )?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:4000").await?;
//! axum::serve(listener, standalone_router(Arc::new(idp))).await?;
//! # Ok(())
//! # }
//! ```

#![deny(missing_docs)]

mod authorize;
mod backchannel;
mod claims;
mod connections;
mod controls;
mod endpoints;
mod html;
mod idp_initiated;
mod keys;
mod management;
mod memberships;
mod organizations;
mod params;
mod portal;
mod resources;
mod same_origin;
mod sessions;
mod sessions_api;
mod sessions_grpc;
pub mod settings;
mod store;
mod token;
mod user_agent;
mod webhooks;

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, RwLock, RwLockReadGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::routing::{get, post};
use axum::Router;
use rand::Rng;

use self::keys::NewKey;
pub use self::keys::{KeyError, KeyRing};
use self::same_origin::AppOrigin;
use self::settings::ClientSettings;
pub use self::settings::IdpSettings;
use self::store::Store;

/// Where [`DevIdp::in_app`] mounts the provider.
pub const IN_APP_MOUNT_PATH: &str = "/dev-idp";

/// Where [`DevIdp::in_app`] sends the webhooks, under the app's URL (the endpoint an app
/// registers in Scalekit's dashboard).
pub const APP_WEBHOOK_PATH: &str = "/webhooks/scalekit";

/// Name of the provider's own session cookie.
pub const SESSION_COOKIE: &str = "skdev_session";
/// Authorization codes live ten minutes, as at Scalekit.
pub const CODE_TTL: u64 = 600;
/// Management (environment client) tokens, as at Scalekit.
pub const MANAGEMENT_TOKEN_TTL: u64 = 86_399;

/// One provider: its settings, signing keys and in-memory state (codes, sessions, tokens). Share
/// it in an `Arc` between [`router`] and [`root_router`].
pub struct DevIdp {
    /// The issuer, also the base of every endpoint (no trailing slash).
    pub issuer: String,
    /// Path the provider is mounted under ("" when it runs alone); scopes its cookie.
    pub mount_path: String,
    /// Personas, organizations, clients and resources.
    pub settings: IdpSettings,
    keys: RwLock<KeyRing>,
    store: Mutex<Store>,
    /// Made on the first back-channel logout (see `backchannel::http_client`).
    backchannel_http: OnceLock<Result<reqwest::Client, String>>,
    /// Roles changed and memberships removed through `/_control` (see [`DevIdp::persona`]).
    memberships: memberships::Memberships,
    /// Scalekit's webhooks to the configured targets, and their deliveries.
    webhooks: webhooks::Webhooks,
}

impl DevIdp {
    /// A provider answering as `issuer` (its base URL, no trailing slash), mounted at `mount_path`
    /// ("" at the root), with its RSA keys kept in `key_file` (created, owner-only, when missing).
    pub fn new(
        issuer: String,
        mount_path: String,
        settings: IdpSettings,
        key_file: &Path,
    ) -> Result<DevIdp, KeyError> {
        let store = Store {
            connections: settings.connections.clone(),
            ..Store::default()
        };
        let webhooks = webhooks::Webhooks::new(&settings.webhooks);
        Ok(DevIdp {
            issuer,
            mount_path,
            settings,
            keys: RwLock::new(KeyRing::load_or_create(key_file)?),
            store: Mutex::new(store),
            backchannel_http: OnceLock::new(),
            memberships: Default::default(),
            webhooks,
        })
    }

    /// The provider with its default personas, mounted at `/dev-idp` inside the app at `app_url`,
    /// with the app's redirect and post-logout URIs registered for [`settings::DEV_CLIENT_ID`],
    /// and webhooks sent to `{app_url}/webhooks/scalekit` signed with
    /// [`settings::DEV_WEBHOOK_SECRET`]: what an app needs to sign in without a Scalekit
    /// environment. Mount it with [`mount`].
    pub fn in_app(
        app_url: &str,
        redirect_uri: &str,
        post_logout_redirect_uri: &str,
        key_file: &Path,
    ) -> Result<DevIdp, String> {
        let mut settings = IdpSettings::load(None).map_err(|e| e.to_string())?;
        settings.register_app_uris(
            settings::DEV_CLIENT_ID,
            redirect_uri,
            post_logout_redirect_uri,
        );
        let app_url = app_url.trim_end_matches('/');
        settings.register_app_webhook(
            &format!("{app_url}{APP_WEBHOOK_PATH}"),
            settings::DEV_WEBHOOK_SECRET,
        )?;
        let issuer = format!("{app_url}{IN_APP_MOUNT_PATH}");
        DevIdp::new(issuer, IN_APP_MOUNT_PATH.into(), settings, key_file).map_err(|e| e.to_string())
    }

    /// The state, even if a panic poisoned the lock (the data is plain maps; a half-done update is
    /// no worse than a lost one in a development provider).
    fn store(&self) -> MutexGuard<'_, Store> {
        self.store
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The connection the session `sid` signed in through (the picker's, for a session no longer
    /// recorded).
    fn session_connection(&self, sid: &str) -> String {
        self.store()
            .session_records
            .get(sid)
            .map(|record| record.connection_id.clone())
            .unwrap_or_else(|| connections::PICKER_CONNECTION_ID.to_string())
    }

    fn keys(&self) -> RwLockReadGuard<'_, KeyRing> {
        self.keys
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Generates the new key on a blocking thread, then holds the lock only to publish it, so
    /// signing and the JWKS keep answering meanwhile.
    async fn rotate_keys(&self) -> Result<(), String> {
        let key = tokio::task::spawn_blocking(NewKey::generate)
            .await
            .map_err(|e| e.to_string())??;
        self.keys
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .install(key)
            .map_err(|e| e.to_string())
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.issuer)
    }

    fn registered_client(&self, client_id: &str) -> Option<&ClientSettings> {
        self.settings
            .clients
            .iter()
            .find(|c| c.client_id == client_id)
    }

    /// A client as the authorize and token endpoints see it: registered in the settings, or
    /// registered dynamically for a resource (public, bound to that resource).
    fn client(&self, client_id: &str) -> Option<KnownClient> {
        if let Some(client) = self.registered_client(client_id) {
            return Some(KnownClient {
                client_secret: client.client_secret.clone(),
                redirect_uris: client.redirect_uris.clone(),
                management: client.management,
                resource_id: None,
            });
        }
        self.store()
            .dynamic_clients
            .get(client_id)
            .map(|client| KnownClient {
                client_secret: None,
                redirect_uris: client.redirect_uris.clone(),
                management: false,
                resource_id: Some(client.resource_id.clone()),
            })
    }

    fn cookie_path(&self) -> String {
        if self.mount_path.is_empty() {
            "/".into()
        } else {
            self.mount_path.clone()
        }
    }

    fn secure_cookies(&self) -> bool {
        self.issuer.starts_with("https://")
    }

    /// The issuer's origin as browsers write it in `Origin` (the app's origin when mounted in it).
    /// An issuer without one (never: both callers build it from a checked URL) falls back to the
    /// issuer itself, which no browser sends, rather than to `null`, which sandboxed pages do.
    fn origin(&self) -> String {
        url::Url::parse(&self.issuer)
            .ok()
            .map(|url| url.origin())
            .filter(url::Origin::is_tuple)
            .map(|origin| origin.ascii_serialization())
            .unwrap_or_else(|| self.issuer.clone())
    }
}

/// What the authorize and token endpoints need to know about a client.
struct KnownClient {
    /// None for a public client (PKCE, no secret).
    client_secret: Option<String>,
    redirect_uris: Vec<String>,
    management: bool,
    /// The resource a dynamically registered client is bound to.
    resource_id: Option<String>,
}

/// The provider's routes, relative to its base URL, ready to nest in a router of any state.
pub fn router<S: Clone + Send + Sync + 'static>(idp: Arc<DevIdp>) -> Router<S> {
    // The forms a browser posts with the provider's session cookie (persona picker, consent) and
    // the test controls must not be posted from another site's page.
    let same_origin_posts_only = axum::middleware::from_fn_with_state(
        AppOrigin(idp.origin()),
        same_origin::cross_site_guard,
    );
    Router::new()
        .route(
            "/.well-known/openid-configuration",
            get(endpoints::discovery),
        )
        .route("/keys", get(endpoints::jwks))
        .route(
            "/oauth/authorize",
            get(authorize::authorize_get)
                .post(authorize::authorize_post)
                .layer(same_origin_posts_only.clone()),
        )
        .route("/oauth/token", post(token::token))
        .route(
            "/userinfo",
            get(endpoints::userinfo).post(endpoints::userinfo),
        )
        .route("/revoke", post(endpoints::revoke))
        .route("/oidc/logout", get(endpoints::logout))
        .route(
            "/api/v1/organizations/{org}/clients",
            get(management::list_clients).post(management::create_client),
        )
        .route(
            "/api/v1/organizations/{org}/clients/{client_id}",
            get(management::get_client).delete(management::delete_client),
        )
        .route(
            "/api/v1/organizations/{org}/portal_links",
            axum::routing::put(portal::create_link),
        )
        .route(
            "/idp-initiated",
            get(idp_initiated::show)
                .post(idp_initiated::start)
                .layer(same_origin_posts_only.clone()),
        )
        .route("/portal", get(portal::show))
        .route("/portal/open", get(portal::open))
        .route(
            "/portal/connections/{connection_id}",
            post(portal::save_connection).layer(same_origin_posts_only.clone()),
        )
        .route(
            "/api/v1/users/{user_id}/sessions",
            get(sessions_api::list_user_sessions),
        )
        .route(
            "/api/v1/users/{user_id}/sessions/revoke",
            post(sessions_api::revoke_user_sessions),
        )
        .route(
            "/api/v1/sessions/{session_id}",
            get(sessions_api::get_session),
        )
        .route(
            "/api/v1/sessions/{session_id}/revoke",
            post(sessions_api::revoke_session),
        )
        .route(sessions_grpc::SERVICE_PATH, post(sessions_grpc::call))
        .route(
            "/.well-known/oauth-authorization-server/resources/{resource_id}",
            get(resources::authorization_server_metadata),
        )
        .route(
            "/resources/{resource_id}/.well-known/oauth-authorization-server",
            get(resources::authorization_server_metadata),
        )
        .route(
            "/resources/{resource_id}/register",
            post(resources::register),
        )
        .route(
            "/_control",
            get(controls::show)
                .post(controls::set)
                .layer(same_origin_posts_only.clone()),
        )
        .route(
            "/_control/webhooks",
            get(webhooks::show).layer(same_origin_posts_only),
        )
        .layer(axum::middleware::from_fn_with_state(
            idp.clone(),
            controls::apply_faults,
        ))
        // Its own cookie jar (the provider's sign-in cookie), whatever the host router has.
        .layer(tower_cookies::CookieManagerLayer::new())
        .with_state(idp)
}

/// RFC 8414 discovery for an issuer with a path puts `/.well-known/...` at the host's root before
/// the path: when the provider is mounted at `mount_path`, these routes belong at the root of the
/// host router. (Scalekit environments sit at the root, so there the paths coincide.) The same
/// holds for the gRPC services.
pub fn root_router<S: Clone + Send + Sync + 'static>(
    idp: Arc<DevIdp>,
    mount_path: &str,
) -> Router<S> {
    Router::new()
        .route(
            &format!(
                "/.well-known/oauth-authorization-server{mount_path}/resources/{{resource_id}}"
            ),
            get(resources::authorization_server_metadata),
        )
        // gRPC clients address the host, not a base path (Python's channel takes host:port).
        .route(sessions_grpc::SERVICE_PATH, post(sessions_grpc::call))
        .with_state(idp)
}

/// `host` with the provider's routes: its own under its mount path, and the well-known and gRPC
/// routes that belong at the host's root (see [`root_router`]).
pub fn mount<S: Clone + Send + Sync + 'static>(host: Router<S>, idp: Arc<DevIdp>) -> Router<S> {
    let mount_path = idp.mount_path.clone();
    host.nest(&mount_path, router(idp.clone()))
        .merge(root_router(idp, &mount_path))
}

/// The router for `leptos-scalekit dev-idp`: the provider alone.
pub fn standalone_router(idp: Arc<DevIdp>) -> Router {
    router(idp)
}

/// The client for the provider's own deliveries (back-channel logouts, webhooks): it sends no
/// cookies, follows no redirects (the URL is the registered one, not wherever it points) and
/// keeps no connections, since deliveries may come from a runtime that is gone by the next one.
pub(crate) fn outgoing_client(timeout: std::time::Duration) -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .timeout(timeout)
        .user_agent(concat!(
            "leptos-scalekit-dev-idp/",
            env!("CARGO_PKG_VERSION")
        ))
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(0)
        .build()
        .map_err(|e| e.to_string())
}

pub(crate) fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// RFC 3339 UTC time (`2026-11-22T10:41:07Z`) for the management and sessions APIs.
pub(crate) fn rfc3339(secs: u64) -> String {
    let time = UNIX_EPOCH + std::time::Duration::from_secs(secs);
    humantime::format_rfc3339_seconds(time).to_string()
}

/// `bytes` random bytes, base64url: codes, refresh tokens, cookie values.
pub(crate) fn random_token(bytes: usize) -> String {
    use base64::Engine;
    use rand::RngCore;
    // One fill from the thread's CSPRNG (drawing a byte at a time made a call per byte).
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

/// Compares two secrets in time that depends only on their lengths.
pub(crate) fn constant_time_eq(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// A Scalekit-style id: a prefix and 18 digits (`ses_…`, `tkn_…`, `m2morg_…`).
pub(crate) fn scalekit_id(prefix: &str) -> String {
    format!(
        "{prefix}{}",
        rand::rng().random_range(10u64.pow(17)..10u64.pow(18))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_time_eq_compares_whole_strings() {
        assert!(constant_time_eq("secret", "secret"));
        assert!(!constant_time_eq("secret", "secreT"));
        assert!(!constant_time_eq("secret", "secret2"));
    }

    #[test]
    fn formats_utc_times() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_795_305_600), "2026-11-22T00:00:00Z");
        assert_eq!(rfc3339(951_782_400 + 3661), "2000-02-29T01:01:01Z");
    }

    #[test]
    fn ids_have_scalekit_prefixes() {
        let id = scalekit_id("ses_");
        assert!(id.starts_with("ses_") && id.len() == 22, "{id}");
        assert_ne!(random_token(32), random_token(32));
    }
}
