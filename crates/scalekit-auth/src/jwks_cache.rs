//! The provider's signing keys, cached. A token naming an unknown `kid` triggers one refetch (the
//! provider may have rotated), at most one per interval however many such tokens arrive, so a
//! flood of forged kids cannot turn into a flood of requests to the provider (checklist I4, A7).
//!
//! The key set also has a maximum age, from the JWKS response's caching headers within
//! [`MAX_AGE_FLOOR`] and [`MAX_AGE_CAP`] ([`DEFAULT_MAX_AGE`] without any): past it, the next caller
//! fetches the keys again, so a key the provider withdraws stops validating. One fetch runs at a
//! time; other callers meanwhile keep using the keys they have. When the provider is down, the
//! last good keys keep working and the provider is asked again [`FAILED_REFRESH_RETRY`] later.

use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::access_token::{validate_access_token, AccessClaims, AccessExpected, AccessTokenError};
use super::discovery::{fetch_jwks_with_freshness, FetchError, Freshness};
use super::id_token::{validate_id_token, Expected, IdTokenClaims, IdTokenError};
use super::keys::KeySet;

/// Minimum time between two refetches caused by unknown key ids.
pub const MIN_REFETCH_INTERVAL: Duration = Duration::from_secs(30);
/// The same for the provider's own tokens (sign-in, refresh, the session's token), which
/// nobody else can send: short, so a rotation is picked up at once, yet a burst of them costs
/// at most one fetch a second.
pub const PROVIDER_TOKEN_REFETCH_INTERVAL: Duration = Duration::from_secs(1);
/// After a first load fails, requests within this time get the same failure instead of asking the
/// (probably down) provider again each.
pub const LOAD_RETRY_INTERVAL: Duration = Duration::from_secs(5);
/// The shortest max age honoured, whatever the provider says (`no-store`, `max-age=0`): one
/// instance asks for the keys at most twice a minute, to stay polite.
pub const MAX_AGE_FLOOR: Duration = Duration::from_secs(30);
/// The longest: a withdrawn key stops validating within the hour, however long the provider
/// allows caching.
pub const MAX_AGE_CAP: Duration = Duration::from_secs(3600);
/// The max age when the provider sends no caching headers. Rotation does not depend on it (a new
/// kid triggers a refetch at once); it only bounds how long a *withdrawn* key, typically a
/// compromised one, keeps validating. A quarter of an hour keeps that short while asking the
/// provider just four times an hour per instance.
pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(15 * 60);
/// After a refresh fails, the last good keys stay in use and the provider is asked again this
/// much later, not on every request.
pub const FAILED_REFRESH_RETRY: Duration = Duration::from_secs(30);

/// How long fetched keys are used before they are fetched again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MaxAgePolicy {
    /// The shortest max age honoured, whatever the provider says.
    pub floor: Duration,
    /// The longest max age honoured, however long the provider allows.
    pub cap: Duration,
    /// When the response has no caching headers.
    pub default: Duration,
}

impl Default for MaxAgePolicy {
    fn default() -> MaxAgePolicy {
        MaxAgePolicy {
            floor: MAX_AGE_FLOOR,
            cap: MAX_AGE_CAP,
            default: DEFAULT_MAX_AGE,
        }
    }
}

impl MaxAgePolicy {
    /// The max age for a response with `freshness`: within the cap, and never below the floor
    /// (the floor wins should the two cross).
    pub fn max_age(&self, freshness: Freshness) -> Duration {
        let wanted = match freshness {
            Freshness::Revalidate => Duration::ZERO,
            Freshness::For(lifetime) => lifetime,
            Freshness::Unspecified => self.default,
        };
        wanted.min(self.cap).max(self.floor)
    }
}

/// Floors lowered for particular key URLs, by tests that cannot wait 30 s for a max age to pass.
static LOWERED_FLOORS: Mutex<Vec<(String, Duration)>> = Mutex::new(Vec::new());

/// For tests only: caches created afterwards for `jwks_uri` honour max ages down to `floor`.
/// Keyed by URL so that tests running in parallel against other providers are not affected.
#[doc(hidden)]
pub fn lower_max_age_floor_for_tests(jwks_uri: &str, floor: Duration) {
    let mut floors = LOWERED_FLOORS.lock().unwrap_or_else(|p| p.into_inner());
    floors.retain(|(uri, _)| uri != jwks_uri);
    floors.push((jwks_uri.to_string(), floor));
}

fn policy_for(jwks_uri: &str) -> MaxAgePolicy {
    let floors = LOWERED_FLOORS.lock().unwrap_or_else(|p| p.into_inner());
    let floor = floors
        .iter()
        .find(|(uri, _)| uri == jwks_uri)
        .map_or(MAX_AGE_FLOOR, |(_, floor)| *floor);
    MaxAgePolicy {
        floor,
        ..MaxAgePolicy::default()
    }
}

fn unix_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The keys in use, and until when.
#[derive(Clone)]
struct CachedKeys {
    keys: Arc<KeySet>,
    /// When the next caller fetches them again: their max age, or a retry after a failed refresh.
    refresh_due: Instant,
    /// The same moment in whole seconds since the epoch (rounded down), for caches of tokens
    /// these keys verified.
    trusted_until: u64,
}

impl CachedKeys {
    fn new(keys: Arc<KeySet>, trusted_for: Duration) -> CachedKeys {
        let now = Instant::now();
        CachedKeys {
            keys,
            refresh_due: now.checked_add(trusted_for).unwrap_or(now),
            trusted_until: unix_secs().saturating_add(trusted_for.as_secs()),
        }
    }

    fn is_due(&self) -> bool {
        Instant::now() >= self.refresh_due
    }
}

/// A check that passed, with until when the keys that passed it are trusted (seconds since the
/// epoch): whoever caches the result must not keep it longer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyChecked<T> {
    /// What the check returned.
    pub value: T,
    /// Until when the keys that passed the check are trusted, in seconds since the epoch.
    pub keys_trusted_until: u64,
}

/// The signing keys published at one `jwks_uri`, fetched on first use, refetched for an unknown
/// `kid` at most once per interval, and fetched again past their max age (see the module docs).
/// Sign-in, back-channel logout and the API share one per provider.
pub struct JwksCache {
    client: reqwest::Client,
    jwks_uri: String,
    policy: MaxAgePolicy,
    cached: RwLock<CachedKeys>,
    /// Held while fetching, so fetches run one at a time and concurrent callers share one; holds
    /// when an unknown kid last caused a refetch.
    fetching: tokio::sync::Mutex<Option<Instant>>,
    min_refetch_interval: Duration,
    /// The last failed first load, handed to callers for `LOAD_RETRY_INTERVAL`.
    last_load_failure: Mutex<Option<(Instant, FetchError)>>,
}

/// Why a token could not be checked.
#[derive(Debug, thiserror::Error)]
pub enum KeyedValidationError {
    /// The keys were at hand and the ID token failed validation.
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

    /// A cache whose refetches for unknown key ids are at least `min_refetch_interval` apart, with
    /// the default max-age policy (its floor lowered for this URL if
    /// `lower_max_age_floor_for_tests` said so).
    pub fn with_interval(
        client: reqwest::Client,
        jwks_uri: String,
        min_refetch_interval: Duration,
    ) -> JwksCache {
        let policy = policy_for(&jwks_uri);
        JwksCache::with_policy(client, jwks_uri, min_refetch_interval, policy)
    }

    /// A cache with the given refetch interval and max-age policy.
    pub fn with_policy(
        client: reqwest::Client,
        jwks_uri: String,
        min_refetch_interval: Duration,
        policy: MaxAgePolicy,
    ) -> JwksCache {
        JwksCache {
            client,
            jwks_uri,
            policy,
            cached: RwLock::new(CachedKeys::new(Arc::default(), Duration::ZERO)),
            fetching: tokio::sync::Mutex::new(None),
            min_refetch_interval,
            last_load_failure: Mutex::new(None),
        }
    }

    fn current(&self) -> CachedKeys {
        self.cached
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    fn store(&self, cached: CachedKeys) -> CachedKeys {
        *self
            .cached
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = cached.clone();
        cached
    }

    /// Fetches the keys and caches them for their max age. A JWKS without a usable key counts as
    /// a failure: it would refuse every token, and is far likelier a fault than the provider's
    /// intent.
    async fn fetch(&self) -> Result<CachedKeys, FetchError> {
        let (jwks, freshness) = fetch_jwks_with_freshness(&self.client, &self.jwks_uri).await?;
        let keys = KeySet::from_jwks(&jwks);
        if keys.is_empty() {
            return Err(FetchError::BadBody {
                url: self.jwks_uri.clone(),
                reason: "no usable RSA signing key".into(),
            });
        }
        let max_age = self.policy.max_age(freshness);
        Ok(self.store(CachedKeys::new(Arc::new(keys), max_age)))
    }

    /// The first fetch, when nothing is cached yet.
    async fn load(&self) -> Result<CachedKeys, FetchError> {
        let _serialised = self.fetching.lock().await;
        let cached = self.current();
        if !cached.keys.is_empty() {
            return Ok(cached); // another caller loaded them while we waited
        }
        if let Some(error) = self.recent_load_failure() {
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

    fn recent_load_failure(&self) -> Option<FetchError> {
        self.last_load_failure
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .filter(|(at, _)| at.elapsed() < LOAD_RETRY_INTERVAL)
            .map(|(_, error)| error.clone())
    }

    /// A fetch for keys past their max age. While another fetch runs, the current keys serve.
    async fn revalidate(&self) -> CachedKeys {
        let Ok(_serialised) = self.fetching.try_lock() else {
            return self.current(); // a fetch is under way
        };
        let current = self.current();
        if !current.is_due() {
            return current; // a fetch finished while we looked
        }
        match self.fetch().await {
            Ok(fresh) => fresh,
            Err(error) => {
                tracing::warn!(
                    %error,
                    "could not refresh the provider's signing keys; using the last good ones for now"
                );
                self.store(CachedKeys::new(current.keys, FAILED_REFRESH_RETRY))
            }
        }
    }

    /// A refetch for an unknown kid, unless one finished within `interval`, or the keys changed
    /// from `seen` (those the caller checked with) while it waited for another fetch: then those
    /// are as new as this one would be. So callers queued behind one slow fetch do not fetch one
    /// after another.
    async fn refetch(
        &self,
        interval: Duration,
        seen: &Arc<KeySet>,
    ) -> Result<CachedKeys, FetchError> {
        let mut last_refetch = self.fetching.lock().await;
        let current = self.current();
        if !Arc::ptr_eq(&current.keys, seen)
            || last_refetch.is_some_and(|at| at.elapsed() < interval)
        {
            return Ok(current);
        }
        let fetched = self.fetch().await;
        // Counted even when it fails: a down provider is not asked again at once either.
        *last_refetch = Some(Instant::now());
        fetched
    }

    /// Loads the keys if none are cached yet; the number of usable keys at hand.
    pub async fn ensure_loaded(&self) -> Result<usize, FetchError> {
        Ok(self.usable_keys().await?.keys.len())
    }

    /// The keys to check with: loaded when none are cached, fetched again past their max age.
    async fn usable_keys(&self) -> Result<CachedKeys, FetchError> {
        let cached = self.current();
        if cached.keys.is_empty() {
            return self.load().await;
        }
        if cached.is_due() {
            return Ok(self.revalidate().await);
        }
        Ok(cached)
    }

    /// Runs `check` with the cached keys, loading them first if none are cached (or fetching them
    /// again if past their max age), and once more after a refetch when `check` reports a key id
    /// the cache does not know.
    pub async fn check_with_keys<T, E>(
        &self,
        check: impl Fn(&KeySet) -> Result<T, E>,
        is_unknown_key: impl Fn(&E) -> bool,
    ) -> Result<Result<T, E>, FetchError> {
        let checked = self.check_with_keys_until(check, is_unknown_key).await?;
        Ok(checked.map(|checked| checked.value))
    }

    /// [`check_with_keys`](Self::check_with_keys) for a token the provider issued to us (from
    /// its token endpoint, or kept sealed since): its refetch for an unknown kid is held back
    /// only [`PROVIDER_TOKEN_REFETCH_INTERVAL`], not the interval that guards against tokens
    /// anyone can send. Otherwise a key rotation right after a refetch (which any bearer token
    /// with a made-up kid can cause) refused the provider's own new tokens, and a refresh ended
    /// the session.
    async fn check_provider_token<T, E>(
        &self,
        check: impl Fn(&KeySet) -> Result<T, E>,
        is_unknown_key: impl Fn(&E) -> bool,
    ) -> Result<Result<T, E>, FetchError> {
        let checked = self
            .check_within(check, is_unknown_key, PROVIDER_TOKEN_REFETCH_INTERVAL)
            .await?;
        Ok(checked.map(|checked| checked.value))
    }

    /// [`check_with_keys`](Self::check_with_keys), also saying until when the keys that passed
    /// the check are trusted, for callers that cache the result.
    pub async fn check_with_keys_until<T, E>(
        &self,
        check: impl Fn(&KeySet) -> Result<T, E>,
        is_unknown_key: impl Fn(&E) -> bool,
    ) -> Result<Result<KeyChecked<T>, E>, FetchError> {
        self.check_within(check, is_unknown_key, self.min_refetch_interval)
            .await
    }

    /// The check, with a refetch for an unknown kid unless one happened within
    /// `refetch_interval`.
    async fn check_within<T, E>(
        &self,
        check: impl Fn(&KeySet) -> Result<T, E>,
        is_unknown_key: impl Fn(&E) -> bool,
        refetch_interval: Duration,
    ) -> Result<Result<KeyChecked<T>, E>, FetchError> {
        let before = self.current();
        let mut cached = self.usable_keys().await?;
        // Keys fetched during this call are as new as a refetch would make them.
        let just_fetched = !Arc::ptr_eq(&before.keys, &cached.keys);
        let mut result = check(&cached.keys);
        if !just_fetched && matches!(&result, Err(e) if is_unknown_key(e)) {
            // A failed refetch keeps the cached keys; the token stays refused.
            if let Ok(refetched) = self.refetch(refetch_interval, &cached.keys).await {
                cached = refetched;
                result = check(&cached.keys);
            }
        }
        Ok(result.map(|value| KeyChecked {
            value,
            keys_trusted_until: cached.trusted_until,
        }))
    }

    /// Validates an ID token the provider issued to us, refetching the keys once if it names a
    /// key not yet known: at most once a second, not at the interval
    /// that guards against tokens anyone can send, so a key rotation is picked up at once.
    pub async fn validate_id_token(
        &self,
        token: &str,
        expected: &Expected<'_>,
    ) -> Result<IdTokenClaims, KeyedValidationError> {
        let checked = self
            .check_provider_token(
                |keys| validate_id_token(token, keys, expected),
                |e| matches!(e, IdTokenError::UnknownKey(_)),
            )
            .await
            .map_err(KeyedValidationError::KeysUnavailable)?;
        Ok(checked?)
    }

    /// Validates an access token the provider issued to us the same way. Bearer tokens from
    /// clients go through [`check_with_keys_until`](Self::check_with_keys_until) instead.
    pub async fn validate_access_token(
        &self,
        token: &str,
        expected: &AccessExpected<'_>,
    ) -> Result<Result<AccessClaims, AccessTokenError>, FetchError> {
        self.check_provider_token(
            |keys| validate_access_token(token, keys, expected),
            |e| matches!(e, AccessTokenError::UnknownKey(_)),
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    #[test]
    fn a7_the_max_age_follows_the_provider_within_the_floor_and_the_cap() {
        let policy = MaxAgePolicy::default();
        assert_eq!(policy.max_age(Freshness::For(secs(600))), secs(600));
        assert_eq!(policy.max_age(Freshness::For(secs(1))), MAX_AGE_FLOOR);
        assert_eq!(policy.max_age(Freshness::For(secs(86_400))), MAX_AGE_CAP);
        assert_eq!(policy.max_age(Freshness::For(Duration::MAX)), MAX_AGE_CAP);
        assert_eq!(policy.max_age(Freshness::Revalidate), MAX_AGE_FLOOR);
        assert_eq!(policy.max_age(Freshness::Unspecified), DEFAULT_MAX_AGE);
        assert!(MAX_AGE_FLOOR <= DEFAULT_MAX_AGE && DEFAULT_MAX_AGE <= MAX_AGE_CAP);
    }

    #[test]
    fn a_crossed_floor_and_cap_do_not_panic_and_the_floor_wins() {
        let crossed = MaxAgePolicy {
            floor: secs(60),
            cap: secs(10),
            default: secs(30),
        };
        assert_eq!(crossed.max_age(Freshness::For(secs(5))), secs(60));
        assert_eq!(crossed.max_age(Freshness::Unspecified), secs(60));
    }

    #[test]
    fn lowered_floors_apply_to_their_url_only() {
        let uri = "http://127.0.0.1:1/lowered-floor-test/keys";
        assert_eq!(policy_for(uri), MaxAgePolicy::default());
        lower_max_age_floor_for_tests(uri, secs(1));
        assert_eq!(policy_for(uri).floor, secs(1));
        assert_eq!(
            policy_for("http://127.0.0.1:1/other/keys").floor,
            MAX_AGE_FLOOR
        );
    }
}
