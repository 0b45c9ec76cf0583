//! The store for one instance: bounded maps in process memory.

use super::StoreUnavailable;
use crate::expiring_set::{ExpiringMap, ExpiringSet, Inserted, WhenFull};

/// Most "ended" records held. Each is a digest and two numbers (about 100 bytes), and only a
/// sign-out, a new sign-in or a logout adds one, so this is far above any real rate within an
/// absolute timeout; past it the record closest to expiring goes first (logged).
pub const MAX_ENDED: usize = 1_000_000;
/// Most one-time values held: sign-ins within one transaction lifetime, logout tokens within
/// their maximum age. Past it new ones are refused (503) rather than a value accepted twice.
pub const MAX_ONE_TIME: usize = 200_000;

/// The in-process store: ended-session records, which evict the one closest to expiry when full,
/// and one-time values, refused (503) when full rather than accepted twice.
pub struct MemoryStore {
    /// Digest → a number (the sign-in cutoff for a user; 0 otherwise).
    ended: ExpiringMap<u64>,
    once: ExpiringSet,
    /// Short lists of recent entries (`recent.rs`).
    pub(super) recent: super::recent::RecentLists,
}

impl Default for MemoryStore {
    fn default() -> Self {
        MemoryStore::with_capacity(MAX_ENDED, MAX_ONE_TIME)
    }
}

impl MemoryStore {
    /// A store of at most `ended` ended-session records and `once` one-time values.
    pub fn with_capacity(ended: usize, once: usize) -> MemoryStore {
        MemoryStore {
            ended: ExpiringMap::new(ended, WhenFull::EvictSoonest),
            once: ExpiringSet::new(once, WhenFull::Refuse),
            recent: Default::default(),
        }
    }

    pub(super) fn mark(
        &self,
        key: &str,
        value: u64,
        until: u64,
        now: u64,
    ) -> Result<(), StoreUnavailable> {
        if self.ended.insert_max(key, value, until, now) == Inserted::NewInPlaceOfAnother {
            tracing::warn!(
                capacity = self.ended.len(),
                "the ended-session records are full; forgot the one closest to its timeout"
            );
        }
        Ok(())
    }

    pub(super) fn value(&self, key: &str, now: u64) -> Option<u64> {
        self.ended.get(key, now)
    }

    pub(super) fn first_use(
        &self,
        key: &str,
        until: u64,
        now: u64,
    ) -> Result<bool, StoreUnavailable> {
        match self.once.insert(key, until, now) {
            Inserted::New => Ok(true),
            Inserted::AlreadyPresent => Ok(false),
            Inserted::Full | Inserted::NewInPlaceOfAnother => Err(StoreUnavailable(
                "too many sign-ins or logout tokens in progress to record another".into(),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{OneTime, SessionKeys, Store};
    use super::*;

    fn keys<'a>(id: &'a str, sid: Option<&'a str>, signed_in_at: u64) -> SessionKeys<'a> {
        SessionKeys {
            id,
            provider_sid: sid,
            sub: "usr_1",
            signed_in_at,
            member: None,
        }
    }

    #[tokio::test]
    async fn o6_sessions_end_by_id_by_provider_session_and_by_user() {
        let store = Store::default();
        let a = keys("a", Some("ses_1"), 100);
        assert!(!store.is_ended(a, 150).await.unwrap());
        store.end_session("a", 1_000, 150).await.unwrap();
        assert!(store.is_ended(a, 150).await.unwrap());
        assert!(
            !store.is_ended(a, 1_000).await.unwrap(),
            "forgotten once dead anyway"
        );

        let b = keys("b", Some("ses_2"), 100);
        store
            .end_provider_session("ses_2", 1_000, 150)
            .await
            .unwrap();
        assert!(store.is_ended(b, 150).await.unwrap());
        assert!(!store.is_ended(keys("c", None, 100), 150).await.unwrap());

        store
            .end_user_sessions("usr_1", 200, 1_000, 200)
            .await
            .unwrap();
        assert!(store.is_ended(keys("d", None, 200), 250).await.unwrap());
        assert!(
            !store.is_ended(keys("e", None, 201), 250).await.unwrap(),
            "a sign-in after 'sign out everywhere' stands"
        );
    }

    #[tokio::test]
    async fn l6_one_time_values_are_used_once_and_a_full_store_refuses() {
        let store = Store::Memory(std::sync::Arc::new(MemoryStore::with_capacity(10, 1)));
        let first = store.first_use(OneTime::Transaction, "s1", 600, 0).await;
        assert_eq!(first, Ok(true));
        assert_eq!(
            store.first_use(OneTime::Transaction, "s1", 600, 1).await,
            Ok(false)
        );
        assert!(store
            .first_use(OneTime::LogoutToken, "j1", 600, 1)
            .await
            .is_err());
    }
}
