//! The core's own typed settings: what the app knows (its Scalekit environment, client, public
//! URL and cookie key), with the defaults a Scalekit app wants for the rest. The core reads no
//! environment variable: the app decides where each value comes from.

use std::sync::Arc;

use tower_cookies::Key;

use crate::auth::Auth;
use crate::http_client::{provider_http_client_trusting, ExtraRoots};
use crate::opened_sessions::OpenedSessions;
use crate::provider::Provider;
use crate::relying_party::{RelyingParty, RelyingPartySettings};
use crate::secret::Secret;
use crate::session::SessionPolicy;
use crate::session_cookies::CookieSettings;
use crate::sign_in::SignInPages;
use crate::store::Store;
use crate::token_client::ClientCredentials;

/// The scopes asked for unless the app says otherwise: `offline_access` brings the refresh token.
pub const DEFAULT_SCOPES: [&str; 4] = ["openid", "profile", "email", "offline_access"];

/// Thirty minutes without a request end a session; eight hours end it whatever happens.
pub const DEFAULT_POLICY: SessionPolicy = SessionPolicy {
    idle_timeout_secs: 30 * 60,
    absolute_timeout_secs: 8 * 3600,
};

/// Everything [`Auth::new`] needs. Made with [`AuthSettings::new`]; each `with_…` replaces a
/// default.
#[derive(Clone)]
pub struct AuthSettings {
    environment_url: String,
    credentials: ClientCredentials,
    redirect_uri: String,
    post_logout_redirect_uri: String,
    scopes: Vec<String>,
    policy: SessionPolicy,
    cookie_key: Key,
    secure_cookies: bool,
    store: Store,
    pages: SignInPages,
    extra_roots: ExtraRoots,
}

impl AuthSettings {
    /// For the Scalekit environment at `environment_url` and the app's client, with the app
    /// served at `app_url` (its public origin, no path): the redirect URI is
    /// `<app_url>/auth/callback`, the post-logout URI `<app_url>/`, sessions are kept in
    /// process, and cookies are `Secure` with the `__Host-` prefix unless the app is on plain
    /// http away from loopback. `cookie_key` seals the cookies (keep it across restarts and
    /// instances).
    pub fn new(
        environment_url: &str,
        client_id: &str,
        client_secret: Secret,
        app_url: &str,
        cookie_key: Key,
    ) -> AuthSettings {
        let app_url = app_url.trim_end_matches('/');
        AuthSettings {
            environment_url: environment_url.trim_end_matches('/').to_string(),
            credentials: ClientCredentials {
                client_id: client_id.to_string(),
                client_secret,
            },
            redirect_uri: format!("{app_url}/auth/callback"),
            post_logout_redirect_uri: format!("{app_url}/"),
            scopes: DEFAULT_SCOPES.iter().map(|s| s.to_string()).collect(),
            policy: DEFAULT_POLICY,
            cookie_key,
            secure_cookies: secure_cookies_for(app_url),
            store: Store::default(),
            extra_roots: ExtraRoots::default(),
            pages: SignInPages {
                default_return_to: "/".into(),
                login_path: "/login".into(),
                site_name: "Sign in".into(),
                stylesheet: String::new(),
            },
        }
    }

    /// The redirect URI registered at Scalekit (its path is where the callback is served).
    pub fn with_redirect_uri(mut self, uri: &str) -> AuthSettings {
        self.redirect_uri = uri.to_string();
        self
    }

    /// Where the provider sends the browser after sign-out (registered at Scalekit too).
    pub fn with_post_logout_redirect_uri(mut self, uri: &str) -> AuthSettings {
        self.post_logout_redirect_uri = uri.to_string();
        self
    }

    /// The scopes to ask for; `openid` is required.
    pub fn with_scopes(mut self, scopes: Vec<String>) -> AuthSettings {
        self.scopes = scopes;
        self
    }

    /// The idle and absolute session timeouts.
    pub fn with_policy(mut self, policy: SessionPolicy) -> AuthSettings {
        self.policy = policy;
        self
    }

    /// Whether cookies get `Secure` and the `__Host-` prefix (see [`AuthSettings::new`]).
    pub fn with_secure_cookies(mut self, secure: bool) -> AuthSettings {
        self.secure_cookies = secure;
        self
    }

    /// Where ended sessions, single-use values and refresh locks live: [`Store::Redis`] when the
    /// app runs on several instances.
    pub fn with_store(mut self, store: Store) -> AuthSettings {
        self.store = store;
        self
    }

    /// The app's paths and names the sign-in callback's own pages use.
    pub fn with_pages(mut self, pages: SignInPages) -> AuthSettings {
        self.pages = pages;
        self
    }

    /// Root certificates to trust for the provider beside the public ones (a TLS-inspecting
    /// proxy, a private certificate authority).
    pub fn with_extra_roots(mut self, roots: ExtraRoots) -> AuthSettings {
        self.extra_roots = roots;
        self
    }

    /// The redirect URI.
    pub fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    /// The post-logout redirect URI.
    pub fn post_logout_redirect_uri(&self) -> &str {
        &self.post_logout_redirect_uri
    }
}

/// Whether an app at `app_url` can have `Secure` (and `__Host-`) cookies: https, or loopback,
/// where browsers accept them over http.
pub fn secure_cookies_for(app_url: &str) -> bool {
    url::Url::parse(app_url).is_ok_and(|url| url.scheme() == "https" || is_loopback_url(&url))
}

/// A host only this machine reaches: `localhost`, `*.localhost`, `127.0.0.0/8` or `::1`.
pub fn is_loopback_url(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(domain)) => {
            let domain = domain.to_ascii_lowercase();
            domain == "localhost" || domain.ends_with(".localhost")
        }
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// How many opened session cookies a process keeps (see `opened_sessions`): about 5 KB each.
const OPENED_SESSIONS: usize = 1024;

impl Auth {
    /// The relying party and the cookie settings, ready for the session middleware, the callback
    /// and the server functions. Fails only if the HTTP client cannot be built (no TLS roots).
    pub fn new(settings: AuthSettings) -> Result<Auth, String> {
        let http = provider_http_client_trusting(&settings.extra_roots)
            .map_err(|e| format!("cannot build the HTTP client for the provider: {e}"))?;
        let provider = Arc::new(Provider::new(
            http,
            settings.environment_url,
            settings.credentials,
        ));
        let rp = RelyingParty::new(
            provider,
            RelyingPartySettings {
                redirect_uri: settings.redirect_uri,
                post_logout_redirect_uri: settings.post_logout_redirect_uri,
                scopes: settings.scopes,
                policy: settings.policy,
            },
            settings.store,
            settings.cookie_key.clone(),
        );
        Ok(Auth {
            rp: Arc::new(rp),
            key: settings.cookie_key,
            cookies: CookieSettings {
                secure: settings.secure_cookies,
            },
            pages: Arc::new(settings.pages),
            opened: Arc::new(OpenedSessions::new(OPENED_SESSIONS)),
        })
    }
}

/// Settings for the crate's tests: an environment and an app at `example` names, a new key.
#[cfg(test)]
pub(crate) fn test_settings() -> AuthSettings {
    AuthSettings::new(
        "https://env.example",
        "skc_1",
        Secret::new("s"),
        "https://app.example",
        Key::generate(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(app_url: &str) -> AuthSettings {
        AuthSettings::new(
            "https://env.scalekit.dev/",
            "skc_1",
            Secret::new("s"),
            app_url,
            Key::generate(),
        )
    }

    #[test]
    fn c1_defaults_follow_the_app_url() {
        let s = settings("https://app.example.com/");
        assert_eq!(s.redirect_uri(), "https://app.example.com/auth/callback");
        assert_eq!(s.post_logout_redirect_uri(), "https://app.example.com/");
        assert_eq!(s.environment_url, "https://env.scalekit.dev");
        assert!(s.secure_cookies);
        assert!(s.scopes.iter().any(|s| s == "offline_access"));
        assert!(settings("http://127.0.0.1:3000").secure_cookies);
        assert!(settings("http://[::1]:3000").secure_cookies);
        assert!(settings("http://localhost:3000").secure_cookies);
        assert!(!settings("http://app.internal:3000").secure_cookies);
        assert!(!settings("not a url").secure_cookies);
    }

    #[tokio::test]
    async fn an_auth_is_built_from_settings() {
        let auth = Auth::new(
            settings("https://app.example.com").with_policy(SessionPolicy {
                idle_timeout_secs: 60,
                absolute_timeout_secs: 120,
            }),
        )
        .expect("builds");
        assert_eq!(auth.rp.policy().idle_timeout_secs, 60);
        assert_eq!(auth.rp.client_id(), "skc_1");
        assert_eq!(auth.rp.environment_url(), "https://env.scalekit.dev");
        assert!(auth.cookies.secure);
    }
}
