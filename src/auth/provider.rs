//! The provider as the running app sees it: metadata found by discovery on first use and cached
//! (Scalekit's fixed paths stand in while discovery is unreachable), the cached signing keys and
//! the token endpoint client. Discovery is lazy because the development provider is served by
//! this same process, which is not listening yet when the app starts.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::discovery::{fetch_provider_metadata, FetchError, ProviderMetadata};
use super::jwks_cache::JwksCache;
use super::token_client::{ClientCredentials, TokenClient};

/// How long discovered metadata is trusted before it is fetched again.
const METADATA_TTL: Duration = Duration::from_secs(3600);
/// How soon to try discovery again while the fallback paths are in use.
const FALLBACK_TTL: Duration = Duration::from_secs(30);

/// Metadata with the clients built from it.
pub struct Endpoints {
    pub metadata: ProviderMetadata,
    pub jwks: Arc<JwksCache>,
    pub token: TokenClient,
}

struct Cached {
    endpoints: Arc<Endpoints>,
    fetched_at: Instant,
    ttl: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    /// The provider published metadata this app cannot use (a configuration problem).
    #[error("the provider's metadata is unusable: {0}")]
    BadMetadata(String),
}

pub struct Provider {
    http: reqwest::Client,
    environment_url: String,
    credentials: ClientCredentials,
    cached: tokio::sync::RwLock<Option<Cached>>,
}

impl Provider {
    pub fn new(
        http: reqwest::Client,
        environment_url: String,
        credentials: ClientCredentials,
    ) -> Provider {
        Provider {
            http,
            environment_url,
            credentials,
            cached: tokio::sync::RwLock::new(None),
        }
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    pub fn environment_url(&self) -> &str {
        &self.environment_url
    }

    pub fn client_id(&self) -> &str {
        &self.credentials.client_id
    }

    pub fn credentials(&self) -> &ClientCredentials {
        &self.credentials
    }

    /// The current endpoints, discovering them when the cache is empty or stale.
    pub async fn endpoints(&self) -> Result<Arc<Endpoints>, ProviderError> {
        if let Some(cached) = self.cached.read().await.as_ref() {
            if cached.fetched_at.elapsed() < cached.ttl {
                return Ok(cached.endpoints.clone());
            }
        }
        let mut cached = self.cached.write().await;
        if let Some(current) = cached.as_ref() {
            if current.fetched_at.elapsed() < current.ttl {
                return Ok(current.endpoints.clone()); // another request refreshed it meanwhile
            }
        }
        let (metadata, ttl) = match fetch_provider_metadata(&self.http, &self.environment_url).await
        {
            Ok(metadata) => {
                let problems = metadata.problems(&self.environment_url);
                if !problems.is_empty() {
                    return Err(ProviderError::BadMetadata(problems.join("; ")));
                }
                (metadata, METADATA_TTL)
            }
            Err(error) => {
                log_fallback(&error);
                match cached.as_ref() {
                    // Keep what worked before rather than guessing.
                    Some(previous) => (previous.endpoints.metadata.clone(), FALLBACK_TTL),
                    None => (
                        ProviderMetadata::scalekit_defaults(&self.environment_url),
                        FALLBACK_TTL,
                    ),
                }
            }
        };
        // Keep the key cache when the key URL did not change, so keys survive rediscovery.
        let jwks = match cached.as_ref() {
            Some(previous) if previous.endpoints.metadata.jwks_uri == metadata.jwks_uri => {
                previous.endpoints.jwks.clone()
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
        });
        *cached = Some(Cached {
            endpoints: endpoints.clone(),
            fetched_at: Instant::now(),
            ttl,
        });
        Ok(endpoints)
    }
}

fn log_fallback(error: &FetchError) {
    tracing::warn!(
        error = %error,
        "provider discovery failed; using the last known or Scalekit's standard endpoints for now"
    );
}
