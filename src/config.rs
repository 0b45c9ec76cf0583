//! Typed configuration read from the process environment (and `.env`, loaded by `main`).
//!
//! Every problem names its variable, says what is wrong and shows an example value, and all problems
//! are reported together so a newcomer fixes their `.env` in one pass. Parsing is a pure function of
//! a variable lookup so each bad input is unit-tested without touching the real environment.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

use url::Url;

use scalekit_auth::Secret;

/// Scopes requested when `SCALEKIT_SCOPES` is not set: `offline_access` is what gets a refresh token.
pub const DEFAULT_SCOPES: &str = "openid profile email offline_access";
/// Path of the OAuth callback when `SCALEKIT_REDIRECT_URI` is not set.
pub const DEFAULT_CALLBACK_PATH: &str = "/auth/callback";
/// Where the built-in development identity provider is mounted inside the app.
pub const DEV_IDP_MOUNT_PATH: &str = "/dev-idp";
/// The app's own client at the built-in development identity provider. Not secret: that provider
/// only exists in development and is never used when a Scalekit environment is configured.
pub const DEV_CLIENT_ID: &str = "skc_dev_leptos_scalekit";
pub const DEV_CLIENT_SECRET: &str = "dev-only-secret-never-used-with-scalekit";
/// The development provider's MCP resource, used for `/mcp` when no Scalekit environment is set.
pub const DEV_RESOURCE_ID: &str = "res_100000000000000001";
/// Minimum length of `SECRET_KEY`; the cookie key is derived from it with HKDF.
pub const MIN_SECRET_KEY_LEN: usize = 32;
/// Sign-out after this long without a request (OWASP: 15–30 min for ordinary apps).
pub const DEFAULT_SESSION_IDLE_TIMEOUT_SECS: u64 = 30 * 60;
/// Sign-out this long after sign-in, whatever the activity (OWASP: 4–8 h for office use).
pub const DEFAULT_SESSION_ABSOLUTE_TIMEOUT_SECS: u64 = 8 * 60 * 60;

/// The environment-URL variables, highest precedence first.
pub const ENVIRONMENT_URL_VARS: [&str; 3] = [
    "SCALEKIT_ENVIRONMENT_URL",
    "SCALEKIT_ENV_URL",
    "SCALEKIT_DOMAIN",
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Development,
    Production,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// Which OpenID provider the app signs people in with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProviderConfig {
    /// A real Scalekit environment (or any compliant OpenID provider at that URL).
    Scalekit {
        /// No trailing slash: Scalekit's SDKs append paths to it with `/`.
        environment_url: String,
        /// The variable the URL came from, for messages.
        source_var: &'static str,
        client_id: String,
        client_secret: Secret,
    },
    /// The built-in Scalekit-compatible provider, mounted at [`DEV_IDP_MOUNT_PATH`].
    DevIdp { environment_url: String },
}

impl ProviderConfig {
    pub fn environment_url(&self) -> &str {
        match self {
            ProviderConfig::Scalekit {
                environment_url, ..
            }
            | ProviderConfig::DevIdp { environment_url } => environment_url,
        }
    }

    pub fn client_id(&self) -> &str {
        match self {
            ProviderConfig::Scalekit { client_id, .. } => client_id,
            ProviderConfig::DevIdp { .. } => DEV_CLIENT_ID,
        }
    }

    pub fn client_secret(&self) -> Secret {
        match self {
            ProviderConfig::Scalekit { client_secret, .. } => client_secret.clone(),
            ProviderConfig::DevIdp { .. } => Secret::new(DEV_CLIENT_SECRET),
        }
    }

    pub fn is_dev_idp(&self) -> bool {
        matches!(self, ProviderConfig::DevIdp { .. })
    }
}

/// Where the cookie-encryption key comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CookieSecret {
    /// `SECRET_KEY`, already length-checked.
    Configured(Secret),
    /// Development without `SECRET_KEY`: a random key generated once and kept in this file, so
    /// sessions survive a restart.
    DevPersisted(PathBuf),
}

#[derive(Clone, Debug)]
pub struct Config {
    pub mode: Mode,
    pub site_addr: SocketAddr,
    /// Public origin of the app, no trailing slash (`APP_URL`).
    pub app_url: String,
    pub provider: ProviderConfig,
    pub redirect_uri: String,
    /// Path component of `redirect_uri`: the app serves its callback there.
    pub callback_path: String,
    pub post_logout_redirect_uri: String,
    pub scopes: Vec<String>,
    /// The API's resource identifier: the `aud` its bearer tokens must carry and the `resource` of
    /// its RFC 9728 metadata.
    pub api_audience: String,
    /// The Scalekit resource (`res_…`) registered for the MCP server: the `aud` of the tokens `/mcp`
    /// accepts. None switches `/mcp` off.
    pub mcp_resource_id: Option<String>,
    /// Seconds of inactivity after which a session ends.
    pub session_idle_timeout_secs: u64,
    /// Seconds after sign-in after which a session ends, refreshes notwithstanding.
    pub session_absolute_timeout_secs: u64,
    pub cookie_secret: CookieSecret,
    pub dev_state_dir: PathBuf,
    /// Personas and clients for the development identity provider (`DEV_IDP_CONFIG`).
    pub dev_idp_config: Option<PathBuf>,
    /// `DEV_IDP_ALLOW_REMOTE`: the development identity provider may be served on a
    /// non-loopback address or URL (a remote development box). Never true in production.
    pub dev_idp_allow_remote: bool,
    /// The shared session store (`REDIS_URL`); None keeps it in process memory (one instance).
    pub redis: Option<scalekit_auth::store::RedisSettings>,
    pub log_filter: String,
    pub log_format: LogFormat,
    pub site_root: String,
    pub site_pkg_dir: String,
    pub output_name: String,
    /// Where Prometheus scrapes `/metrics` (`METRICS_ADDR`); None: no metrics at all.
    pub metrics_addr: Option<SocketAddr>,
    /// How long a shutdown waits for requests in flight (`SHUTDOWN_GRACE_SECS`).
    pub shutdown_grace: std::time::Duration,
    /// Root certificates trusted for the provider beside the public ones (`SCALEKIT_CA_FILE`).
    pub provider_roots: scalekit_auth::protocol::ExtraRoots,
    /// Verifies Scalekit's webhook deliveries (`SCALEKIT_WEBHOOK_SECRET`, or the development
    /// provider's built-in secret on that provider); None: no endpoint.
    pub webhook_verifier: Option<scalekit_auth::webhook::WebhookVerifier>,
    /// The secret behind `webhook_verifier`, and where it came from.
    pub webhook_secret: Option<webhooks::WebhookSecret>,
}

/// One thing wrong with the configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigProblem {
    pub variable: &'static str,
    pub problem: String,
    pub example: &'static str,
}

impl fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} (example: {}={})",
            self.variable, self.problem, self.variable, self.example
        )
    }
}

/// All the problems found, in the order the variables are read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct ConfigErrors(pub Vec<ConfigProblem>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "invalid configuration ({} problem{}); set these in the environment or in .env (see .env.example):",
            self.0.len(),
            if self.0.len() == 1 { "" } else { "s" }
        )?;
        for problem in &self.0 {
            writeln!(f, "  - {problem}")?;
        }
        Ok(())
    }
}

impl ConfigErrors {
    pub fn variables(&self) -> Vec<&'static str> {
        self.0.iter().map(|p| p.variable).collect()
    }
}

/// Collects problems while the variables are read.
struct Reader<'a> {
    lookup: &'a dyn Fn(&str) -> Option<String>,
    problems: Vec<ConfigProblem>,
}

impl Reader<'_> {
    /// A variable's value, with surrounding whitespace removed; empty counts as unset.
    fn get(&self, name: &str) -> Option<String> {
        (self.lookup)(name)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    }

    fn problem(
        &mut self,
        variable: &'static str,
        problem: impl Into<String>,
        example: &'static str,
    ) {
        self.problems.push(ConfigProblem {
            variable,
            problem: problem.into(),
            example,
        });
    }
}

impl Config {
    /// Reads the configuration from the process environment.
    pub fn from_env() -> Result<Config, ConfigErrors> {
        Config::from_lookup(&|name| std::env::var(name).ok())
    }

    /// Reads the configuration through `lookup` (a variable name to its value).
    pub fn from_lookup(lookup: &dyn Fn(&str) -> Option<String>) -> Result<Config, ConfigErrors> {
        let mut r = Reader {
            lookup,
            problems: Vec::new(),
        };

        let mode = read_mode(&mut r);
        let site_addr = read_site_addr(&mut r);
        let app_url = read_app_url(&mut r, mode, site_addr);
        let dev_idp_allow_remote = read_dev_idp_allow_remote(&mut r, mode);
        let provider = read_provider(
            &mut r,
            mode,
            site_addr,
            app_url.as_deref(),
            dev_idp_allow_remote,
        );
        let (redirect_uri, callback_path) = read_redirect_uri(&mut r, mode, app_url.as_deref());
        let post_logout_redirect_uri = read_post_logout_uri(&mut r, mode, app_url.as_deref());
        let scopes = read_scopes(&mut r);
        let (session_idle_timeout_secs, session_absolute_timeout_secs) =
            read_session_timeouts(&mut r);
        let api_audience = read_api_audience(&mut r, app_url.as_deref());
        if let (Some(audience), Some(provider)) = (&api_audience, &provider) {
            check_api_audience_is_not_the_client_id(&mut r, audience, provider);
        }
        let mcp_resource_id = read_resource_id(&mut r, provider.as_ref());
        if let (Some(audience), Some(Some(resource))) = (&api_audience, &mcp_resource_id) {
            if audience == resource {
                r.problem(
                    "SCALEKIT_RESOURCE_ID",
                    "must differ from API_AUDIENCE: tokens for the API would open /mcp and the other way round",
                    "res_1234567890123456",
                );
            }
        }
        let dev_state_dir = PathBuf::from(
            r.get("DEV_STATE_DIR")
                .unwrap_or_else(|| ".dev-state".into()),
        );
        let dev_idp_config = r.get("DEV_IDP_CONFIG").map(PathBuf::from);
        let cookie_secret = read_cookie_secret(&mut r, mode, &dev_state_dir);
        let redis = read_redis(&mut r);
        let log_filter = read_log_filter(&mut r);
        let log_format = read_log_format(&mut r);
        let site_root = r
            .get("LEPTOS_SITE_ROOT")
            .unwrap_or_else(|| "target/site".into());
        let site_pkg_dir = r.get("LEPTOS_SITE_PKG_DIR").unwrap_or_else(|| "pkg".into());
        let output_name = r
            .get("LEPTOS_OUTPUT_NAME")
            .unwrap_or_else(|| "leptos-scalekit".into());
        let metrics_addr = operations::read_metrics_addr(&mut r, site_addr);
        let shutdown_grace = operations::read_shutdown_grace(&mut r);
        let provider_roots = operations::read_provider_roots(&mut r);
        let on_dev_idp = provider.as_ref().is_some_and(ProviderConfig::is_dev_idp);
        let webhook = webhooks::read_webhook_secret(&mut r, on_dev_idp);
        let webhook_verifier = webhook
            .as_ref()
            .map(|w| w.as_ref().map(|w| w.verifier.clone()));

        // Every reader that returned `None` recorded a problem, so `built` is `Some` exactly when
        // the problem list is empty.
        let built = (|| {
            Some(Config {
                mode,
                site_addr: site_addr?,
                app_url: app_url?,
                provider: provider?,
                redirect_uri: redirect_uri?,
                callback_path: callback_path?,
                post_logout_redirect_uri: post_logout_redirect_uri?,
                scopes: scopes?,
                api_audience: api_audience?,
                mcp_resource_id: mcp_resource_id?,
                session_idle_timeout_secs: session_idle_timeout_secs?,
                session_absolute_timeout_secs: session_absolute_timeout_secs?,
                cookie_secret: cookie_secret?,
                dev_state_dir,
                dev_idp_config,
                dev_idp_allow_remote,
                redis: redis?,
                log_filter: log_filter?,
                log_format,
                site_root,
                site_pkg_dir,
                output_name,
                metrics_addr: metrics_addr?,
                shutdown_grace: shutdown_grace?,
                provider_roots: provider_roots?,
                webhook_verifier: webhook_verifier?,
                webhook_secret: webhook?,
            })
        })();
        match built {
            Some(config) if r.problems.is_empty() => Ok(config),
            _ => Err(ConfigErrors(r.problems)),
        }
    }

    /// The effective configuration as `(name, value)` lines, secrets masked. Used by `doctor` and
    /// the start-up log.
    pub fn describe(&self) -> Vec<(&'static str, String)> {
        let (provider, env_source) = match &self.provider {
            ProviderConfig::Scalekit { source_var, .. } => ("Scalekit environment", *source_var),
            ProviderConfig::DevIdp { .. } => {
                ("built-in development identity provider", "(none set)")
            }
        };
        let cookie_key = match &self.cookie_secret {
            CookieSecret::Configured(secret) => format!("SECRET_KEY {}", secret.masked()),
            CookieSecret::DevPersisted(path) => format!("generated, kept in {}", path.display()),
        };
        vec![
            ("mode", format!("{:?}", self.mode).to_lowercase()),
            ("identity provider", provider.into()),
            ("environment URL", self.provider.environment_url().into()),
            ("environment URL from", env_source.into()),
            ("client id", self.provider.client_id().into()),
            ("client secret", self.provider.client_secret().masked()),
            (
                "extra root certificates",
                match self.provider_roots.len() {
                    0 => "none (the public ones only)".to_string(),
                    n => format!("{n} from SCALEKIT_CA_FILE"),
                },
            ),
            ("app URL", self.app_url.clone()),
            ("listen address", self.site_addr.to_string()),
            (
                "dev IdP remote access",
                self.describe_dev_idp_reach().into(),
            ),
            ("redirect URI", self.redirect_uri.clone()),
            (
                "post-logout redirect URI",
                self.post_logout_redirect_uri.clone(),
            ),
            ("scopes", self.scopes.join(" ")),
            ("API audience", self.api_audience.clone()),
            (
                "MCP resource",
                self.mcp_resource_id
                    .clone()
                    .unwrap_or_else(|| "(none: /mcp is off; set SCALEKIT_RESOURCE_ID)".into()),
            ),
            (
                "session timeouts",
                format!(
                    "idle {} s, absolute {} s",
                    self.session_idle_timeout_secs, self.session_absolute_timeout_secs
                ),
            ),
            ("cookie key", cookie_key),
            ("session store", self.describe_store()),
            ("log filter", self.log_filter.clone()),
            (
                "metrics",
                match self.metrics_addr {
                    Some(addr) => format!("http://{addr}/metrics"),
                    None => "off (set METRICS_ADDR to serve them)".into(),
                },
            ),
            (
                "webhooks",
                match &self.webhook_secret {
                    Some(webhook) => webhook.describe().into(),
                    None => "off (set SCALEKIT_WEBHOOK_SECRET to receive them)".into(),
                },
            ),
            (
                "shutdown grace",
                format!("{} s", self.shutdown_grace.as_secs()),
            ),
        ]
    }

    /// Where the session records live; the Redis URL's host only (it may carry a password).
    fn describe_store(&self) -> String {
        match &self.redis {
            None => "in process (one instance; set REDIS_URL for several)".into(),
            Some(redis) => {
                let host = Url::parse(redis.url.expose())
                    .ok()
                    .and_then(|url| {
                        url.host_str().map(|host| {
                            format!("{}://{host}:{}", url.scheme(), url.port().unwrap_or(6379))
                        })
                    })
                    .unwrap_or_default();
                format!("Redis at {host}, keys under `{}`", redis.key_prefix)
            }
        }
    }

    fn describe_dev_idp_reach(&self) -> &'static str {
        match (self.provider.is_dev_idp(), self.dev_idp_allow_remote) {
            (false, _) => "(not used: Scalekit environment)",
            (true, false) => "off: loopback only",
            (true, true) => "ALLOWED by DEV_IDP_ALLOW_REMOTE=true",
        }
    }

    pub fn is_production(&self) -> bool {
        self.mode == Mode::Production
    }

    /// Whether cookies can carry `Secure` and the `__Host-` prefix: the app is served over https,
    /// or on a loopback host, which browsers treat as a secure context.
    pub fn cookies_secure(&self) -> bool {
        scalekit_auth::settings::secure_cookies_for(&self.app_url)
    }
}

fn read_api_audience(r: &mut Reader, app_url: Option<&str>) -> Option<String> {
    match r.get("API_AUDIENCE") {
        None => app_url.map(str::to_string),
        Some(raw) if raw.len() <= 512 && raw.bytes().all(|b| b.is_ascii_graphic()) => Some(raw),
        Some(_) => {
            r.problem(
                "API_AUDIENCE",
                "must be one identifier: printable characters, no spaces",
                "https://app.example.com",
            );
            None
        }
    }
}

/// Every signed-in user's ID and access tokens carry the app's client id in `aud`: as the API's
/// audience it would turn each of them into an API credential.
fn check_api_audience_is_not_the_client_id(
    r: &mut Reader,
    audience: &str,
    provider: &ProviderConfig,
) {
    if audience == provider.client_id() {
        r.problem(
            "API_AUDIENCE",
            format!(
                "must differ from the app's client id `{audience}`: every signed-in user's tokens carry it in `aud`, so each would open the API"
            ),
            "https://app.example.com",
        );
    }
}

/// `SCALEKIT_RESOURCE_ID`; on the development provider its resource unless set. Outer None: a
/// problem was recorded; inner None: MCP is off.
fn read_resource_id(r: &mut Reader, provider: Option<&ProviderConfig>) -> Option<Option<String>> {
    match r.get("SCALEKIT_RESOURCE_ID") {
        None => Some(
            provider
                .is_some_and(ProviderConfig::is_dev_idp)
                .then(|| DEV_RESOURCE_ID.to_string()),
        ),
        Some(raw)
            if raw.len() <= 128
                && raw.strip_prefix("res_").is_some_and(|rest| {
                    !rest.is_empty()
                        && rest
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
                }) =>
        {
            Some(Some(raw))
        }
        Some(_) => {
            r.problem(
                "SCALEKIT_RESOURCE_ID",
                "must be the MCP server's resource id from the Scalekit dashboard (MCP servers), starting with res_",
                "res_1234567890123456",
            );
            None
        }
    }
}

/// Default `REDIS_KEY_PREFIX`.
pub const DEFAULT_REDIS_KEY_PREFIX: &str = "leptos-scalekit:";

/// `REDIS_URL` and `REDIS_KEY_PREFIX`. Outer None: a problem was recorded; inner None: no Redis.
fn read_redis(r: &mut Reader) -> Option<Option<scalekit_auth::store::RedisSettings>> {
    let prefix = r
        .get("REDIS_KEY_PREFIX")
        .unwrap_or_else(|| DEFAULT_REDIS_KEY_PREFIX.into());
    let prefix_ok = prefix.len() <= 64
        && prefix
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b));
    if !prefix_ok {
        r.problem(
            "REDIS_KEY_PREFIX",
            "must be at most 64 letters, digits or - _ . :",
            "myapp:",
        );
    }
    let Some(raw) = r.get("REDIS_URL") else {
        return prefix_ok.then_some(None);
    };
    // Not echoed: the URL may hold a password.
    let url_ok = Url::parse(&raw).is_ok_and(|url| {
        matches!(url.scheme(), "redis" | "rediss" | "valkey" | "valkeys") && url.host().is_some()
    });
    if !url_ok {
        r.problem(
            "REDIS_URL",
            "must be a redis:// or rediss:// (TLS) URL with a host",
            "redis://127.0.0.1:6379/0",
        );
        return None;
    }
    prefix_ok.then(|| {
        Some(scalekit_auth::store::RedisSettings {
            url: Secret::new(raw),
            key_prefix: prefix,
        })
    })
}

fn read_session_timeouts(r: &mut Reader) -> (Option<u64>, Option<u64>) {
    let mut seconds = |name: &'static str, default: u64, example: &'static str| match r.get(name) {
        None => Some(default),
        Some(raw) => match raw.parse::<u64>() {
            Ok(value) if (60..=30 * 24 * 3600).contains(&value) => Some(value),
            _ => {
                r.problem(
                    name,
                    format!("`{raw}` must be a number of seconds from 60 to 2592000 (30 days)"),
                    example,
                );
                None
            }
        },
    };
    let idle = seconds(
        "SESSION_IDLE_TIMEOUT_SECS",
        DEFAULT_SESSION_IDLE_TIMEOUT_SECS,
        "1800",
    );
    let absolute = seconds(
        "SESSION_ABSOLUTE_TIMEOUT_SECS",
        DEFAULT_SESSION_ABSOLUTE_TIMEOUT_SECS,
        "28800",
    );
    if let (Some(idle), Some(absolute)) = (idle, absolute) {
        if idle > absolute {
            r.problem(
                "SESSION_IDLE_TIMEOUT_SECS",
                format!("{idle} s is longer than SESSION_ABSOLUTE_TIMEOUT_SECS ({absolute} s)"),
                "1800",
            );
            return (None, None);
        }
    }
    (idle, absolute)
}

/// An `APP_ENV` value, case-insensitive; None when it names no mode.
pub(crate) fn parse_mode(raw: &str) -> Option<Mode> {
    match raw.to_ascii_lowercase().as_str() {
        "development" | "dev" => Some(Mode::Development),
        "production" | "prod" => Some(Mode::Production),
        _ => None,
    }
}

fn read_mode(r: &mut Reader) -> Mode {
    let Some(raw) = r.get("APP_ENV") else {
        return Mode::Development;
    };
    parse_mode(&raw).unwrap_or_else(|| {
        r.problem(
            "APP_ENV",
            format!(
                "must be `development` or `production`, got `{}`",
                raw.to_ascii_lowercase()
            ),
            "production",
        );
        Mode::Development
    })
}

fn read_site_addr(r: &mut Reader) -> Option<SocketAddr> {
    let raw = r
        .get("LEPTOS_SITE_ADDR")
        .unwrap_or_else(|| "127.0.0.1:3000".into());
    match raw.parse::<SocketAddr>() {
        Ok(addr) => Some(addr),
        Err(_) => {
            r.problem(
                "LEPTOS_SITE_ADDR",
                format!("`{raw}` is not an IP address and port"),
                "127.0.0.1:3000",
            );
            None
        }
    }
}

/// True for a listen address only this machine can reach (127.0.0.0/8, ::1). The wildcard
/// addresses 0.0.0.0 and :: listen on every interface, so they are not.
pub(crate) fn is_loopback_addr(addr: &SocketAddr) -> bool {
    addr.ip().is_loopback()
}

/// Checks the parts every absolute URL we are given must get right. Returns the problem text.
fn check_absolute_url(raw: &str, mode: Mode) -> Result<Url, String> {
    let url = Url::parse(raw).map_err(|e| format!("`{raw}` is not an absolute URL ({e})"))?;
    match url.scheme() {
        "https" => {}
        "http" if mode == Mode::Development && scalekit_auth::settings::is_loopback_url(&url) => {}
        "http" if mode == Mode::Development => {
            return Err(format!(
                "`{raw}` uses http on a host other than localhost; use https"
            ))
        }
        "http" => return Err(format!("`{raw}` must use https in production")),
        other => return Err(format!("`{raw}` has scheme `{other}`; use https")),
    }
    if url.host().is_none() {
        return Err(format!("`{raw}` has no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        // Not echoed: the value holds a password.
        return Err("must not contain credentials (user:password@)".into());
    }
    if url.fragment().is_some() {
        return Err(format!("`{raw}` must not contain a #fragment"));
    }
    Ok(url)
}

/// `Url` renders a bare origin with a trailing `/`; the app and Scalekit's SDKs join paths with
/// `/`, so keep the stored form without it.
fn without_trailing_slash(url: &Url) -> String {
    url.as_str().trim_end_matches('/').to_string()
}

fn read_app_url(r: &mut Reader, mode: Mode, site_addr: Option<SocketAddr>) -> Option<String> {
    let raw = match r.get("APP_URL") {
        Some(raw) => raw,
        None => {
            let addr = site_addr?;
            // A wildcard listen address is not somewhere a browser can go: use loopback.
            let host = if addr.ip().is_unspecified() {
                "127.0.0.1".to_string()
            } else if addr.is_ipv6() {
                format!("[{}]", addr.ip())
            } else {
                addr.ip().to_string()
            };
            format!("http://{host}:{}", addr.port())
        }
    };
    match check_absolute_url(&raw, mode) {
        Ok(url) if url.path() != "/" || url.query().is_some() => {
            r.problem(
                "APP_URL",
                format!("`{raw}` must be an origin only (no path or query)"),
                "https://app.example.com",
            );
            None
        }
        Ok(url) => Some(without_trailing_slash(&url)),
        Err(problem) => {
            r.problem("APP_URL", problem, "https://app.example.com");
            None
        }
    }
}

fn read_provider(
    r: &mut Reader,
    mode: Mode,
    site_addr: Option<SocketAddr>,
    app_url: Option<&str>,
    dev_idp_allow_remote: bool,
) -> Option<ProviderConfig> {
    const URL_EXAMPLE: &str = "https://yourapp.scalekit.dev";
    let chosen = ENVIRONMENT_URL_VARS
        .iter()
        .find_map(|&var| r.get(var).map(|value| (var, value)));
    let client_id = r.get("SCALEKIT_CLIENT_ID");
    let client_secret = r.get("SCALEKIT_CLIENT_SECRET");

    let Some((source_var, raw)) = chosen else {
        // No environment configured: the built-in provider, in development only.
        if mode == Mode::Production {
            r.problem(
                "SCALEKIT_ENVIRONMENT_URL",
                "missing: production needs a Scalekit environment (the built-in development identity provider is never used in production)",
                URL_EXAMPLE,
            );
            return None;
        }
        if !cfg!(feature = "dev-idp") {
            r.problem(
                "SCALEKIT_ENVIRONMENT_URL",
                "missing: this build has no development identity provider (built without the `dev-idp` feature), so it needs a Scalekit environment",
                URL_EXAMPLE,
            );
            return None;
        }
        // It signs anyone in as any persona: this machine only, unless explicitly opted in.
        let mut complete = dev_idp_allow_remote || dev_idp_stays_local(r, site_addr, app_url);
        for (var, value) in [
            ("SCALEKIT_CLIENT_ID", &client_id),
            ("SCALEKIT_CLIENT_SECRET", &client_secret),
        ] {
            if value.is_some() {
                r.problem(
                    var,
                    "is set but no environment URL is: set SCALEKIT_ENVIRONMENT_URL too, or unset it to use the built-in development identity provider",
                    "",
                );
                complete = false;
            }
        }
        return match (complete, app_url) {
            (true, Some(app_url)) => Some(ProviderConfig::DevIdp {
                environment_url: format!("{app_url}{DEV_IDP_MOUNT_PATH}"),
            }),
            _ => None,
        };
    };

    // The legacy SCALEKIT_DOMAIN is often a bare host name.
    let raw = if source_var == "SCALEKIT_DOMAIN" && !raw.contains("://") {
        format!("https://{raw}")
    } else {
        raw
    };
    let environment_url = match check_absolute_url(&raw, mode) {
        Ok(url) if url.query().is_some() => {
            r.problem(
                source_var,
                format!("`{raw}` must not contain a query"),
                URL_EXAMPLE,
            );
            None
        }
        Ok(url) => Some(without_trailing_slash(&url)),
        Err(problem) => {
            r.problem(source_var, problem, URL_EXAMPLE);
            None
        }
    };
    if client_id.is_none() {
        r.problem(
            "SCALEKIT_CLIENT_ID",
            format!("missing: required when {source_var} is set (Scalekit dashboard > Developers > API credentials)"),
            "skc_1234567890123456",
        );
    }
    if client_secret.is_none() {
        r.problem(
            "SCALEKIT_CLIENT_SECRET",
            format!("missing: required when {source_var} is set (Scalekit dashboard > Developers > API credentials)"),
            "test_abcdefghijklmnopqrstuvwxyz0123456789",
        );
    }
    Some(ProviderConfig::Scalekit {
        environment_url: environment_url?,
        source_var,
        client_id: client_id?,
        client_secret: Secret::new(client_secret?),
    })
}

/// `DEV_IDP_ALLOW_REMOTE`; refused in production, which never runs the development provider.
fn read_dev_idp_allow_remote(r: &mut Reader, mode: Mode) -> bool {
    let Some(raw) = r.get("DEV_IDP_ALLOW_REMOTE") else {
        return false;
    };
    match parse_bool(&raw) {
        Some(true) if mode == Mode::Production => {
            r.problem(
                "DEV_IDP_ALLOW_REMOTE",
                "is a development setting: production never runs the built-in development identity provider; unset it",
                "false",
            );
            false
        }
        Some(allow) => allow,
        None => {
            r.problem(
                "DEV_IDP_ALLOW_REMOTE",
                format!("must be true or false, got `{raw}`"),
                "false",
            );
            false
        }
    }
}

/// The built-in provider signs anyone in as any persona, so it must not be reachable from other
/// machines unless `DEV_IDP_ALLOW_REMOTE=true` says so. Checks what is known (a value that failed
/// to parse already has its problem) and returns whether no problem was found.
fn dev_idp_stays_local(
    r: &mut Reader,
    site_addr: Option<SocketAddr>,
    app_url: Option<&str>,
) -> bool {
    let before = r.problems.len();
    const WHY: &str = "with no Scalekit environment set, the built-in development identity provider (which signs anyone in) would be reachable from other machines";
    const REMEDY: &str =
        "set a Scalekit environment, or DEV_IDP_ALLOW_REMOTE=true on a development box";
    if let Some(addr) = site_addr.filter(|addr| !is_loopback_addr(addr)) {
        r.problem(
            "LEPTOS_SITE_ADDR",
            format!("`{addr}` is not a loopback address: {WHY}; listen on 127.0.0.1 or ::1, or {REMEDY}"),
            "127.0.0.1:3000",
        );
    }
    let remote_url = app_url.filter(|raw| {
        !Url::parse(raw).is_ok_and(|url| scalekit_auth::settings::is_loopback_url(&url))
    });
    if let Some(raw) = remote_url {
        r.problem(
            "APP_URL",
            format!("`{raw}` is not on a loopback host: {WHY}; use http://127.0.0.1 or http://localhost, or {REMEDY}"),
            "http://127.0.0.1:3000",
        );
    }
    r.problems.len() == before
}

fn read_redirect_uri(
    r: &mut Reader,
    mode: Mode,
    app_url: Option<&str>,
) -> (Option<String>, Option<String>) {
    const EXAMPLE: &str = "http://127.0.0.1:3000/auth/callback";
    let raw = match (r.get("SCALEKIT_REDIRECT_URI"), app_url) {
        (Some(raw), _) => raw,
        (None, Some(app_url)) => format!("{app_url}{DEFAULT_CALLBACK_PATH}"),
        (None, None) => return (None, None),
    };
    let url = match check_absolute_url(&raw, mode) {
        Ok(url) => url,
        Err(problem) => {
            r.problem("SCALEKIT_REDIRECT_URI", problem, EXAMPLE);
            return (None, None);
        }
    };
    let mut problems = Vec::new();
    if url.path() == "/" {
        problems.push(format!(
            "`{raw}` needs a path for the callback, such as /auth/callback"
        ));
    } else if url.path().ends_with('/') {
        problems.push(format!(
            "`{raw}` ends with a slash; Scalekit compares redirect URIs exactly, so register and use it without one"
        ));
    }
    if url.query().is_some() {
        problems.push(format!("`{raw}` must not contain a query"));
    }
    if let Some(app_url) = app_url {
        if url.origin().ascii_serialization() != app_url {
            problems.push(format!(
                "`{raw}` is not on the app's own origin {app_url}: the callback must come back to this app (set APP_URL if the app is served elsewhere)"
            ));
        }
    }
    if !problems.is_empty() {
        for problem in problems {
            r.problem("SCALEKIT_REDIRECT_URI", problem, EXAMPLE);
        }
        return (None, None);
    }
    (Some(url.as_str().to_string()), Some(url.path().to_string()))
}

fn read_post_logout_uri(r: &mut Reader, mode: Mode, app_url: Option<&str>) -> Option<String> {
    let raw = match r.get("SCALEKIT_POST_LOGOUT_REDIRECT_URI") {
        Some(raw) => raw,
        None => return app_url.map(str::to_string),
    };
    match check_absolute_url(&raw, mode) {
        Ok(url) => Some(without_trailing_slash(&url)),
        Err(problem) => {
            r.problem(
                "SCALEKIT_POST_LOGOUT_REDIRECT_URI",
                problem,
                "http://127.0.0.1:3000",
            );
            None
        }
    }
}

/// RFC 6749 §3.3: scope tokens are printable ASCII without space, `"` or `\`.
fn is_scope_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b))
}

fn read_scopes(r: &mut Reader) -> Option<Vec<String>> {
    let raw = r
        .get("SCALEKIT_SCOPES")
        .unwrap_or_else(|| DEFAULT_SCOPES.into());
    let mut scopes: Vec<String> = Vec::new();
    for scope in raw.split([' ', ',']).filter(|s| !s.is_empty()) {
        if !is_scope_token(scope) {
            r.problem(
                "SCALEKIT_SCOPES",
                format!("`{scope}` is not a valid scope (printable ASCII without quotes or backslashes)"),
                DEFAULT_SCOPES,
            );
            return None;
        }
        if !scopes.iter().any(|s| s == scope) {
            scopes.push(scope.to_string());
        }
    }
    if !scopes.iter().any(|s| s == "openid") {
        r.problem(
            "SCALEKIT_SCOPES",
            "must include `openid` (this app signs people in with OpenID Connect)",
            DEFAULT_SCOPES,
        );
        return None;
    }
    Some(scopes)
}

/// Values copied from documentation that must never protect a real deployment.
const PLACEHOLDER_SECRETS: [&str; 3] = [
    "change-me",
    "changeme",
    "replace-with-output-of-openssl-rand-hex-32",
];

fn read_cookie_secret(
    r: &mut Reader,
    mode: Mode,
    dev_state_dir: &std::path::Path,
) -> Option<CookieSecret> {
    const EXAMPLE: &str = "<output of: openssl rand -hex 32>";
    match r.get("SECRET_KEY") {
        Some(key) if key.len() < MIN_SECRET_KEY_LEN => {
            r.problem(
                "SECRET_KEY",
                format!(
                    "is {} characters; it needs at least {MIN_SECRET_KEY_LEN} random characters",
                    key.len()
                ),
                EXAMPLE,
            );
            None
        }
        Some(key)
            if PLACEHOLDER_SECRETS
                .iter()
                .any(|p| key.to_ascii_lowercase().contains(p)) =>
        {
            r.problem(
                "SECRET_KEY",
                "is a placeholder value; generate a random key",
                EXAMPLE,
            );
            None
        }
        Some(key) if key.chars().all(|c| key.starts_with(c)) => {
            r.problem(
                "SECRET_KEY",
                "repeats one character; generate a random key",
                EXAMPLE,
            );
            None
        }
        Some(key) => Some(CookieSecret::Configured(Secret::new(key))),
        None if mode == Mode::Production => {
            r.problem(
                "SECRET_KEY",
                "missing: production needs a fixed key so session cookies stay readable across restarts and instances",
                EXAMPLE,
            );
            None
        }
        None => Some(CookieSecret::DevPersisted(
            dev_state_dir.join("cookie-secret"),
        )),
    }
}

pub(crate) fn parse_bool(raw: &str) -> Option<bool> {
    match raw.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Some(true),
        "0" | "false" | "no" | "off" => Some(false),
        _ => None,
    }
}

fn read_log_filter(r: &mut Reader) -> Option<String> {
    let debug = match r.get("DEBUG") {
        None => false,
        Some(raw) => match parse_bool(&raw) {
            Some(b) => b,
            None => {
                r.problem(
                    "DEBUG",
                    format!("must be true or false, got `{raw}`"),
                    "true",
                );
                false
            }
        },
    };
    match r.get("RUST_LOG") {
        // RUST_LOG wins over DEBUG: it is the more specific of the two.
        Some(filter) => match tracing_subscriber::EnvFilter::try_new(&filter) {
            Ok(_) => Some(filter),
            Err(e) => {
                r.problem(
                    "RUST_LOG",
                    format!("`{filter}` is not a valid log filter ({e})"),
                    "info,leptos_scalekit=debug",
                );
                None
            }
        },
        None if debug => Some("info,leptos_scalekit=debug,tower_http=debug".into()),
        None => Some("info".into()),
    }
}

fn read_log_format(r: &mut Reader) -> LogFormat {
    match r
        .get("LOG_FORMAT")
        .map(|v| v.to_ascii_lowercase())
        .as_deref()
    {
        None | Some("text") => LogFormat::Text,
        Some("json") => LogFormat::Json,
        Some(other) => {
            r.problem(
                "LOG_FORMAT",
                format!("must be `text` or `json`, got `{other}`"),
                "json",
            );
            LogFormat::Text
        }
    }
}

#[cfg(test)]
mod tests;

pub mod cookie_key;
pub mod operations;
pub mod webhooks;
