//! The provider's signing keys, cached. A token naming an unknown `kid` triggers one refetch (the
//! provider may have rotated), at most one per interval however many such tokens arrive, so a
//! flood of forged kids cannot turn into a flood of requests to the provider (checklist I4, A7).
//! When the provider is down, the cached keys keep working.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use super::access_token::{validate_access_token, AccessClaims, AccessExpected, AccessTokenError};
use super::discovery::{fetch_jwks, FetchError};
use super::id_token::{validate_id_token, Expected, IdTokenClaims, IdTokenError};
use super::keys::KeySet;

/// Minimum time between two refetches caused by unknown key ids.
pub const MIN_REFETCH_INTERVAL: Duration = Duration::from_secs(30);
/// After a first load fails, requests within this time get the same failure instead of asking the
/// (probably down) provider again each.
pub const LOAD_RETRY_INTERVAL: Duration = Duration::from_secs(5);

pub struct JwksCache {
    client: reqwest::Client,
    jwks_uri: String,
    keys: RwLock<Arc<KeySet>>,
    /// When an unknown kid last caused a refetch. The lock also serialises fetches, so concurrent
    /// callers wait for one fetch instead of each making their own.
    last_refetch: tokio::sync::Mutex<Option<Instant>>,
    min_refetch_interval: Duration,
    /// The last failed first load, handed to callers for `LOAD_RETRY_INTERVAL`.
    last_load_failure: std::sync::Mutex<Option<(Instant, FetchError)>>,
}

/// Why a token could not be checked.
#[derive(Debug, thiserror::Error)]
pub enum KeyedValidationError {
    #[error(transparent)]
    Invalid(#[from] IdTokenError),
    /// The keys could not be fetched and none are cached.
    #[error("the provider's signing keys are unavailable: {0}")]
    KeysUnavailable(FetchError),
}

impl JwksCache {
    /// A cache that fetches on first use.
    pub fn new(client: reqwest::Client, jwks_uri: String) -> JwksCache {
        JwksCache::with_interval(client, jwks_uri, MIN_REFETCH_INTERVAL)
    }

    pub fn with_interval(
        client: reqwest::Client,
        jwks_uri: String,
        min_refetch_interval: Duration,
    ) -> JwksCache {
        JwksCache {
            client,
            jwks_uri,
            keys: RwLock::new(Arc::new(KeySet::default())),
            last_refetch: tokio::sync::Mutex::new(None),
            min_refetch_interval,
            last_load_failure: std::sync::Mutex::new(None),
        }
    }

    fn current(&self) -> Arc<KeySet> {
        self.keys
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    async fn fetch(&self) -> Result<Arc<KeySet>, FetchError> {
        let jwks = fetch_jwks(&self.client, &self.jwks_uri).await?;
        let keys = Arc::new(KeySet::from_jwks(&jwks));
        *self
            .keys
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = keys.clone();
        Ok(keys)
    }

    /// The first fetch, when nothing is cached yet.
    async fn load(&self) -> Result<Arc<KeySet>, FetchError> {
        let _serialised = self.last_refetch.lock().await;
        let keys = self.current();
        if !keys.is_empty() {
            return Ok(keys); // another caller loaded them while we waited
        }
        let recent_failure = self
            .last_load_failure
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .filter(|(at, _)| at.elapsed() < LOAD_RETRY_INTERVAL)
            .map(|(_, error)| error.clone());
        if let Some(error) = recent_failure {
            return Err(error);
        }
        let result = self.fetch().await;
        *self
            .last_load_failure
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = result
            .as_ref()
            .err()
            .map(|error| (Instant::now(), error.clone()));
        result
    }

    /// A refetch for an unknown kid, unless one happened within the interval.
    async fn refetch(&self) -> Result<Arc<KeySet>, FetchError> {
        let mut last_refetch = self.last_refetch.lock().await;
        if last_refetch.is_some_and(|at| at.elapsed() < self.min_refetch_interval) {
            return Ok(self.current());
        }
        // Counted even when it fails: a down provider is not asked again at once either.
        *last_refetch = Some(Instant::now());
        self.fetch().await
    }

    /// Runs `check` with the cached keys, loading them first if none are cached, and once more
    /// after a refetch when `check` reports a key id the cache does not know.
    pub async fn check_with_keys<T, E>(
        &self,
        check: impl Fn(&KeySet) -> Result<T, E>,
        is_unknown_key: impl Fn(&E) -> bool,
    ) -> Result<Result<T, E>, FetchError> {
        let mut keys = self.current();
        if keys.is_empty() {
            keys = self.load().await?;
        }
        match check(&keys) {
            Err(e) if is_unknown_key(&e) => {
                // A failed refetch keeps the cached keys; the token stays refused.
                let keys = self.refetch().await.unwrap_or(keys);
                Ok(check(&keys))
            }
            other => Ok(other),
        }
    }

    /// Validates an ID token, refetching the keys once if it names a key not yet known.
    pub async fn validate_id_token(
        &self,
        token: &str,
        expected: &Expected<'_>,
    ) -> Result<IdTokenClaims, KeyedValidationError> {
        let checked = self
            .check_with_keys(
                |keys| validate_id_token(token, keys, expected),
                |e| matches!(e, IdTokenError::UnknownKey(_)),
            )
            .await
            .map_err(KeyedValidationError::KeysUnavailable)?;
        Ok(checked?)
    }

    /// Validates an access token the same way.
    pub async fn validate_access_token(
        &self,
        token: &str,
        expected: &AccessExpected<'_>,
    ) -> Result<Result<AccessClaims, AccessTokenError>, FetchError> {
        self.check_with_keys(
            |keys| validate_access_token(token, keys, expected),
            |e| matches!(e, AccessTokenError::UnknownKey(_)),
        )
        .await
    }
}
