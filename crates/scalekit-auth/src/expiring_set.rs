//! A bounded map (and set) of keys that each expire at a given time, for the in-process records
//! that decide security: ended sessions, users and provider sessions, consumed one-time values. Lookups are one hash probe; an
//! insert first drops what has expired, oldest first from a heap, so no request ever scans the
//! whole set under the lock every other request waits on (review: ended-session list).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::Mutex;

/// What an insert did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Inserted {
    /// The key is new (or its earlier entry had expired).
    New,
    /// The key was already present and unexpired; its expiry is now the later of the two.
    AlreadyPresent,
    /// The set was full of unexpired keys: the key was added in place of the one closest to its
    /// expiry ([`WhenFull::EvictSoonest`]).
    NewInPlaceOfAnother,
    /// The set is full of unexpired keys and the key was not added ([`WhenFull::Refuse`]).
    Full,
}

/// When the set is full of unexpired keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WhenFull {
    /// Drop the key closest to its expiry to make room (a list that must keep accepting).
    EvictSoonest,
    /// Refuse the new key (a list whose callers can refuse the request instead).
    Refuse,
}

/// A map from string keys to values, each kept until its own expiry (seconds since the epoch), with
/// at most `capacity` keys; what an insert into a full map does is its [`WhenFull`]. One mutex
/// guards it all; expired keys are dropped by the next insert.
pub struct ExpiringMap<V> {
    inner: Mutex<Inner<V>>,
    capacity: usize,
    when_full: WhenFull,
}

struct Inner<V> {
    /// Key → (value, expiry in Unix seconds).
    expiries: HashMap<String, (V, u64)>,
    /// (expiry, key), soonest first. May hold stale pairs for keys whose expiry was extended;
    /// those are skipped when popped.
    queue: BinaryHeap<Reverse<(u64, String)>>,
}

impl<V> Default for Inner<V> {
    fn default() -> Self {
        Inner {
            expiries: HashMap::new(),
            queue: BinaryHeap::new(),
        }
    }
}

impl<V: Clone> Inner<V> {
    fn prune(&mut self, now: u64) {
        while let Some(Reverse((expiry, _))) = self.queue.peek() {
            if *expiry > now {
                break;
            }
            if let Some(Reverse((expiry, key))) = self.queue.pop() {
                self.remove_if_expiry(&key, expiry);
            }
        }
    }

    /// Removes `key` if `expiry` is still its current expiry (not a stale heap pair).
    fn remove_if_expiry(&mut self, key: &str, expiry: u64) -> bool {
        if self.expiries.get(key).map(|(_, at)| *at) == Some(expiry) {
            self.expiries.remove(key);
            return true;
        }
        false
    }

    /// Extending a key leaves its old heap pair behind: rebuild the heap when such stale pairs
    /// outnumber the live keys, so the heap stays within a constant factor of the set.
    fn compact(&mut self) {
        if self.queue.len() > 2 * self.expiries.len() + 64 {
            self.queue = self
                .expiries
                .iter()
                .map(|(key, (_, expiry))| Reverse((*expiry, key.clone())))
                .collect();
        }
    }

    fn evict_soonest(&mut self) {
        while let Some(Reverse((expiry, key))) = self.queue.pop() {
            if self.remove_if_expiry(&key, expiry) {
                return;
            }
        }
    }
}

impl<V: Clone> ExpiringMap<V> {
    /// An empty map of at most `capacity` keys (at least one).
    pub fn new(capacity: usize, when_full: WhenFull) -> ExpiringMap<V> {
        ExpiringMap {
            inner: Mutex::new(Inner::default()),
            capacity: capacity.max(1),
            when_full,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner<V>> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Sets `key` to `value` until `expires_at`. A key already present takes the new value and
    /// keeps the later of the two expiries.
    pub fn insert(&self, key: &str, value: V, expires_at: u64, now: u64) -> Inserted {
        self.insert_merged(key, value, expires_at, now, |_, new| new)
    }

    /// Like [`ExpiringMap::insert`], but a key already present keeps the larger of the two values:
    /// a record that may only grow (a user's sign-in cutoff) cannot be lowered by a later,
    /// older one.
    pub fn insert_max(&self, key: &str, value: V, expires_at: u64, now: u64) -> Inserted
    where
        V: Ord,
    {
        self.insert_merged(key, value, expires_at, now, Ord::max)
    }

    /// Sets `key` until `expires_at`, to `merge(current, value)` when already present (under one
    /// lock, so concurrent writers cannot lose a merge).
    fn insert_merged(
        &self,
        key: &str,
        value: V,
        expires_at: u64,
        now: u64,
        merge: impl FnOnce(V, V) -> V,
    ) -> Inserted {
        let mut inner = self.lock();
        inner.prune(now);
        if let Some((current_value, current)) = inner.expiries.get(key).cloned() {
            let expiry = current.max(expires_at);
            inner
                .expiries
                .insert(key.to_string(), (merge(current_value, value), expiry));
            if expiry > current {
                inner.queue.push(Reverse((expiry, key.to_string())));
                inner.compact();
            }
            return Inserted::AlreadyPresent;
        }
        if expires_at <= now {
            return Inserted::New; // already past: nothing to remember
        }
        let mut outcome = Inserted::New;
        if inner.expiries.len() >= self.capacity {
            match self.when_full {
                WhenFull::Refuse => return Inserted::Full,
                WhenFull::EvictSoonest => {
                    inner.evict_soonest();
                    outcome = Inserted::NewInPlaceOfAnother;
                }
            }
        }
        inner.expiries.insert(key.to_string(), (value, expires_at));
        inner.queue.push(Reverse((expires_at, key.to_string())));
        outcome
    }

    /// The value of `key` if present and unexpired.
    pub fn get(&self, key: &str, now: u64) -> Option<V> {
        self.lock()
            .expiries
            .get(key)
            .filter(|(_, expiry)| *expiry > now)
            .map(|(value, _)| value.clone())
    }

    /// Keys held, counting expired keys not yet pruned (pruning happens on insert).
    pub fn len(&self) -> usize {
        self.lock().expiries.len()
    }
}

/// Keys without values.
pub struct ExpiringSet(ExpiringMap<()>);

impl ExpiringSet {
    /// An empty set of at most `capacity` keys (at least one).
    pub fn new(capacity: usize, when_full: WhenFull) -> ExpiringSet {
        ExpiringSet(ExpiringMap::new(capacity, when_full))
    }

    /// Adds `key` until `expires_at` (a key already present keeps the later expiry).
    pub fn insert(&self, key: &str, expires_at: u64, now: u64) -> Inserted {
        self.0.insert(key, (), expires_at, now)
    }

    /// Whether `key` is present and unexpired.
    #[cfg(test)]
    pub fn contains(&self, key: &str, now: u64) -> bool {
        self.0.get(key, now).is_some()
    }

    /// Keys held, counting expired keys not yet pruned (see [`ExpiringMap::len`]).
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.0.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_expire_and_are_pruned_on_insert() {
        let set = ExpiringSet::new(10, WhenFull::Refuse);
        assert_eq!(set.insert("a", 100, 10), Inserted::New);
        assert!(set.contains("a", 99));
        assert!(!set.contains("a", 100), "expired at its expiry");
        assert_eq!(set.insert("b", 300, 200), Inserted::New);
        assert_eq!(set.len(), 1, "`a` was pruned");
        assert_eq!(set.insert("b", 400, 200), Inserted::AlreadyPresent);
        assert!(set.contains("b", 350), "a second insert extends");
        assert_eq!(set.insert("b", 250, 200), Inserted::AlreadyPresent);
        assert!(set.contains("b", 350), "and never shortens");
        assert_eq!(set.insert("old", 5, 10), Inserted::New);
        assert!(!set.contains("old", 10));
    }

    #[test]
    fn a_full_set_refuses_or_evicts_the_soonest() {
        let refusing = ExpiringSet::new(2, WhenFull::Refuse);
        refusing.insert("a", 100, 0);
        refusing.insert("b", 200, 0);
        assert_eq!(refusing.insert("c", 300, 0), Inserted::Full);
        assert!(!refusing.contains("c", 0));
        assert_eq!(
            refusing.insert("c", 300, 150),
            Inserted::New,
            "room after `a` expired"
        );

        let evicting = ExpiringSet::new(2, WhenFull::EvictSoonest);
        evicting.insert("a", 100, 0);
        evicting.insert("b", 200, 0);
        assert_eq!(evicting.insert("c", 300, 0), Inserted::NewInPlaceOfAnother);
        assert!(!evicting.contains("a", 0) && evicting.contains("b", 0));
        assert_eq!(evicting.len(), 2);
    }

    #[test]
    fn extending_keys_does_not_grow_the_queue_without_bound() {
        let set = ExpiringSet::new(4, WhenFull::Refuse);
        for expiry in 1..10_000 {
            set.insert("k", 1_000 + expiry, 0);
        }
        assert!(
            set.0.lock().queue.len() <= 2 + 64 + 1,
            "one live key, few stale pairs"
        );
        assert!(set.contains("k", 10_000));
    }
}

#[cfg(test)]
mod map_tests {
    use super::*;

    #[test]
    fn a_map_keeps_the_latest_value_and_the_later_expiry() {
        let map = ExpiringMap::new(4, WhenFull::Refuse);
        map.insert("usr_1", 100u64, 1_000, 0);
        map.insert("usr_1", 200u64, 500, 0);
        assert_eq!(map.get("usr_1", 900), Some(200));
        assert_eq!(map.get("usr_1", 1_000), None);
    }
}
