//! The provider as the running app sees it: metadata found by discovery on first use and cached
//! (Scalekit's fixed paths stand in while discovery is unreachable), the cached signing keys and
//! the token endpoint client. Discovery is lazy because the development provider is served by
//! this same process, which is not listening yet when the app starts.
//!
//! Requests never wait on a rediscovery: stale metadata keeps being served while one background
//! task fetches the new document (stale-while-revalidate). Only when nothing is cached yet do
//! callers wait, all of them on the same single fetch; a failure that leaves nothing usable is
//! remembered briefly so the waiting requests do not each ask again.

use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use super::discovery::{fetch_provider_metadata, FetchError, ProviderMetadata};
use super::jwks_cache::JwksCache;
use super::token_client::{ClientCredentials, TokenClient};

/// How long discovered metadata is trusted before it is fetched again.
const METADATA_TTL: Duration = Duration::from_secs(3600);
/// How soon to try discovery again while the fallback (or last known) endpoints are in use.
const FALLBACK_TTL: Duration = Duration::from_secs(30);
/// How long a discovery that left nothing usable is handed to callers instead of asking again.
const FAILURE_MEMORY: Duration = Duration::from_secs(5);

/// How long discovery results are kept. The defaults suit production; tests shorten them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DiscoveryTimes {
    /// How long discovered metadata is trusted before it is fetched again.
    pub metadata_ttl: Duration,
    /// How soon to try again while the fallback or last known endpoints are in use.
    pub fallback_ttl: Duration,
    /// How long a failure with nothing to fall back on is remembered.
    pub failure_memory: Duration,
}

impl Default for DiscoveryTimes {
    fn default() -> DiscoveryTimes {
        DiscoveryTimes {
            metadata_ttl: METADATA_TTL,
            fallback_ttl: FALLBACK_TTL,
            failure_memory: FAILURE_MEMORY,
        }
    }
}

/// Metadata with the clients built from it.
pub struct Endpoints {
    /// The metadata in use: discovered, the last good document, or Scalekit's fixed paths while
    /// discovery is unreachable.
    pub metadata: ProviderMetadata,
    /// The signing-key cache for `metadata.jwks_uri`, kept across rediscoveries while that URL
    /// stays the same.
    pub jwks: Arc<JwksCache>,
    /// The token-endpoint client for `metadata.token_endpoint`.
    pub token: TokenClient,
    /// Whether `metadata` came from the provider's discovery document (now or earlier), rather
    /// than Scalekit's standard paths while discovery has never answered.
    pub discovered: bool,
}

#[derive(Clone)]
struct Cached {
    endpoints: Arc<Endpoints>,
    fetched_at: Instant,
    ttl: Duration,
}

impl Cached {
    fn is_fresh(&self) -> bool {
        self.fetched_at.elapsed() < self.ttl
    }
}

/// Why the provider's endpoints could not be had.
#[derive(Clone, Debug, thiserror::Error)]
pub enum ProviderError {
    /// The provider published metadata this app cannot use (a configuration problem).
    #[error("the provider's metadata is unusable: {0}")]
    BadMetadata(String),
}

/// The identity provider for one Scalekit environment and client: its HTTP client, the client's
/// credentials, and the endpoints found by lazy discovery (see the module docs).
pub struct Provider {
    discovery: Arc<Discovery>,
}

/// The state a background refresh shares with the requests.
struct Discovery {
    http: reqwest::Client,
    environment_url: String,
    credentials: ClientCredentials,
    times: DiscoveryTimes,
    /// Read by every request; written only once a fetch has finished, never held across one.
    cached: RwLock<Option<Cached>>,
    /// The last discovery that left nothing usable, and when.
    last_failure: Mutex<Option<(Instant, ProviderError)>>,
    /// Held by the one task fetching the metadata.
    fetching: Arc<tokio::sync::Mutex<()>>,
}

impl Provider {
    /// A provider for `environment_url` with the default [`DiscoveryTimes`]; nothing is fetched
    /// before the first call to [`Provider::endpoints`].
    pub fn new(
        http: reqwest::Client,
        environment_url: String,
        credentials: ClientCredentials,
    ) -> Provider {
        Provider::with_times(
            http,
            environment_url,
            credentials,
            DiscoveryTimes::default(),
        )
    }

    /// The same, with other discovery times (tests shorten them).
    pub fn with_times(
        http: reqwest::Client,
        environment_url: String,
        credentials: ClientCredentials,
        times: DiscoveryTimes,
    ) -> Provider {
        Provider {
            discovery: Arc::new(Discovery {
                http,
                environment_url,
                credentials,
                times,
                cached: RwLock::new(None),
                last_failure: Mutex::new(None),
                fetching: Arc::new(tokio::sync::Mutex::new(())),
            }),
        }
    }

    /// The HTTP client for the provider (no redirects, timeouts).
    pub fn http(&self) -> &reqwest::Client {
        &self.discovery.http
    }

    /// The Scalekit environment URL, as configured (discovery requires the issuer to equal it).
    pub fn environment_url(&self) -> &str {
        &self.discovery.environment_url
    }

    /// The app's client id at the provider.
    pub fn client_id(&self) -> &str {
        &self.discovery.credentials.client_id
    }

    /// The app's client id and secret, for the token endpoint, token revocation and the management
    /// API.
    pub fn credentials(&self) -> &ClientCredentials {
        &self.discovery.credentials
    }

    /// The current endpoints. Stale ones are served while a refresh runs in the background; with
    /// none cached, this waits for the one discovery in flight.
    pub async fn endpoints(&self) -> Result<Arc<Endpoints>, ProviderError> {
        match self.discovery.cached() {
            Some(cached) if cached.is_fresh() => Ok(cached.endpoints),
            Some(stale) => {
                self.discovery.refresh_in_background().await;
                Ok(stale.endpoints)
            }
            None => self.discovery.first_discovery().await,
        }
    }
}

impl Discovery {
    fn cached(&self) -> Option<Cached> {
        self.cached
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    fn recent_failure(&self) -> Option<ProviderError> {
        self.last_failure
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .as_ref()
            .filter(|(at, _)| at.elapsed() < self.times.failure_memory)
            .map(|(_, error)| error.clone())
    }

    fn remember_failure(&self, failure: Option<ProviderError>) {
        *self
            .last_failure
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) =
            failure.map(|error| (Instant::now(), error));
    }

    /// With nothing cached: every caller waits for the same fetch, and those that waited take its
    /// result (endpoints, or the remembered failure) instead of fetching again.
    async fn first_discovery(&self) -> Result<Arc<Endpoints>, ProviderError> {
        let _fetching = self.fetching.lock().await;
        if let Some(cached) = self.cached() {
            return Ok(cached.endpoints);
        }
        if let Some(error) = self.recent_failure() {
            return Err(error);
        }
        self.discover().await
    }

    /// Starts a refresh unless one is running. Without a tokio runtime to run it on (never the case
    /// in the server), the caller runs it.
    async fn refresh_in_background(self: &Arc<Self>) {
        let Ok(fetching) = self.fetching.clone().try_lock_owned() else {
            return; // another task is refreshing
        };
        let discovery = self.clone();
        let refresh = async move {
            let _fetching = fetching;
            if discovery.cached().is_some_and(|cached| cached.is_fresh()) {
                return; // a refresh finished between our look and the lock
            }
            // A failure is logged, and the previous endpoints stay, inside.
            let _ = discovery.discover().await;
        };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => drop(runtime.spawn(refresh)),
            Err(_) => refresh.await,
        }
    }

    /// Fetches the metadata and caches what to use next. Called with `fetching` held.
    async fn discover(&self) -> Result<Arc<Endpoints>, ProviderError> {
        let previous = self.cached().map(|cached| cached.endpoints);
        let fetched = fetch_provider_metadata(&self.http, &self.environment_url).await;
        let (metadata, ttl, discovered) = match fetched {
            Ok(metadata) => match metadata.problems(&self.environment_url) {
                problems if problems.is_empty() => (metadata, self.times.metadata_ttl, true),
                problems => {
                    let error = ProviderError::BadMetadata(problems.join("; "));
                    let Some(previous) = &previous else {
                        self.remember_failure(Some(error.clone()));
                        return Err(error);
                    };
                    // Keep what worked before; the provider's change is likely a mistake.
                    tracing::error!(%error, "provider metadata changed to unusable; keeping the last good endpoints");
                    (
                        previous.metadata.clone(),
                        self.times.fallback_ttl,
                        previous.discovered,
                    )
                }
            },
            Err(error) => {
                log_fallback(&error);
                let (metadata, discovered) = match &previous {
                    // Keep what worked before rather than guessing.
                    Some(previous) => (previous.metadata.clone(), previous.discovered),
                    None => (
                        ProviderMetadata::scalekit_defaults(&self.environment_url),
                        false,
                    ),
                };
                (metadata, self.times.fallback_ttl, discovered)
            }
        };
        Ok(self.store(metadata, ttl, discovered, previous.as_deref()))
    }

    /// Caches endpoints built from `metadata`, keeping the key cache when the key URL did not
    /// change, so keys survive rediscovery.
    fn store(
        &self,
        metadata: ProviderMetadata,
        ttl: Duration,
        discovered: bool,
        previous: Option<&Endpoints>,
    ) -> Arc<Endpoints> {
        let jwks = match previous {
            Some(previous) if previous.metadata.jwks_uri == metadata.jwks_uri => {
                previous.jwks.clone()
            }
            _ => Arc::new(JwksCache::new(self.http.clone(), metadata.jwks_uri.clone())),
        };
        let token = TokenClient::new(
            self.http.clone(),
            metadata.token_endpoint.clone(),
            self.credentials.clone(),
        );
        let endpoints = Arc::new(Endpoints {
            metadata,
            jwks,
            token,
            discovered,
        });
        *self
            .cached
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(Cached {
            endpoints: endpoints.clone(),
            fetched_at: Instant::now(),
            ttl,
        });
        self.remember_failure(None);
        endpoints
    }
}

fn log_fallback(error: &FetchError) {
    tracing::warn!(
        error = %error,
        "provider discovery failed; using the last known or Scalekit's standard endpoints for now"
    );
}
