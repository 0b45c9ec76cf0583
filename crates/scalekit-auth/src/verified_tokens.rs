//! A bounded cache of bearer tokens that already passed validation, so a client calling many times
//! with the same token costs one RSA verification, not one per request.
//!
//! Safe because a JWT cannot change: the key is the SHA-256 of the whole token, an entry never
//! outlives the token's `exp`, and each protected area (audience, issuers) has its own cache. An
//! entry lives at most [`MAX_AGE`], and one made by [`VerifiedTokens::insert_verified`] no longer
//! than the key set that verified the token is trusted (its max age, see `JwksCache`): past that
//! the token is checked again against freshly fetched keys, so a key the provider withdraws stops
//! being honoured here within the key set's max age, as it does everywhere else.

use std::collections::HashMap;
use std::sync::Mutex;

use sha2::{Digest, Sha256};

/// The longest a verified token is trusted without checking its signature again.
pub const MAX_AGE: u64 = 300;

/// The cache: what each token was verified as, keyed by the SHA-256 of the whole token, with until
/// when that holds; at most `capacity` entries.
pub struct VerifiedTokens<T> {
    capacity: usize,
    entries: Mutex<HashMap<[u8; 32], (T, u64)>>,
}

fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

impl<T: Clone> VerifiedTokens<T> {
    /// An empty cache of at most `capacity` tokens (at least one).
    pub fn new(capacity: usize) -> VerifiedTokens<T> {
        VerifiedTokens {
            capacity: capacity.max(1),
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// What `token` was verified as, if that is still good at `now`.
    pub fn get(&self, token: &str, now: u64) -> Option<T> {
        let key = digest(token);
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        match entries.get(&key) {
            Some((value, valid_until)) if now < *valid_until => Some(value.clone()),
            Some(_) => {
                entries.remove(&key);
                None
            }
            None => None,
        }
    }

    /// Remembers a verified token until `expires_at` (its `exp`), for at most [`MAX_AGE`].
    pub fn insert(&self, token: &str, value: T, expires_at: u64, now: u64) {
        let valid_until = expires_at.min(now + MAX_AGE);
        if valid_until <= now {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= self.capacity {
            entries.retain(|_, (_, until)| *until > now);
        }
        if entries.len() >= self.capacity {
            // Still full of live tokens: drop one arbitrary entry (it is only re-verified).
            if let Some(victim) = entries.keys().next().copied() {
                entries.remove(&victim);
            }
        }
        entries.insert(digest(token), (value, valid_until));
    }

    /// Remembers a token whose signature was checked with keys trusted until
    /// `keys_trusted_until` (from `JwksCache::check_with_keys_until`): until its `exp`, for at
    /// most [`MAX_AGE`], and never past those keys' max age.
    pub fn insert_verified(
        &self,
        token: &str,
        value: T,
        expires_at: u64,
        keys_trusted_until: u64,
        now: u64,
    ) {
        self.insert(token, value, expires_at.min(keys_trusted_until), now);
    }

    /// Entries held, counting expired ones not yet dropped.
    pub fn len(&self) -> usize {
        self.entries.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// Whether no entry is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_end_at_exp_or_max_age_whichever_is_first() {
        let cache = VerifiedTokens::new(10);
        cache.insert("a.b.c", 1, 1_000, 900);
        assert_eq!(cache.get("a.b.c", 999), Some(1));
        assert_eq!(cache.get("a.b.c", 1_000), None, "never past exp");
        cache.insert("long.lived.token", 2, 100_000, 1_000);
        assert_eq!(cache.get("long.lived.token", 1_000 + MAX_AGE - 1), Some(2));
        assert_eq!(cache.get("long.lived.token", 1_000 + MAX_AGE), None);
        cache.insert("expired.already.x", 3, 10, 20);
        assert!(cache.get("expired.already.x", 20).is_none());
        assert_eq!(
            cache.get("a.b.d", 900),
            None,
            "another token is another entry"
        );
    }

    #[test]
    fn a7_verified_entries_end_when_the_keys_that_verified_them_are_due_for_refetch() {
        let cache = VerifiedTokens::new(10);
        cache.insert_verified("signed.with.k1", 1, 100_000, 1_060, 1_000);
        assert_eq!(cache.get("signed.with.k1", 1_059), Some(1));
        assert_eq!(
            cache.get("signed.with.k1", 1_060),
            None,
            "not past the key set's max age"
        );
        cache.insert_verified("keys.already.due", 2, 100_000, 1_000, 1_000);
        assert!(cache.is_empty(), "keys already due: nothing to remember");
        cache.insert_verified("short.lived.token", 3, 1_010, 5_000, 1_000);
        assert_eq!(
            cache.get("short.lived.token", 1_010),
            None,
            "never past exp"
        );
        cache.insert_verified("long.trusted.keys", 4, 100_000, 100_000, 1_000);
        assert_eq!(
            cache.get("long.trusted.keys", 1_000 + MAX_AGE),
            None,
            "never past MAX_AGE"
        );
    }

    #[test]
    fn the_cache_stays_within_its_capacity() {
        let cache = VerifiedTokens::new(3);
        for i in 0..10 {
            cache.insert(&format!("token-{i}"), i, 10_000, 0);
            assert!(cache.len() <= 3);
        }
        assert_eq!(cache.get("token-9", 1), Some(9), "the newest entry is kept");
    }
}
