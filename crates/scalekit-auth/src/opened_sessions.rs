//! Sessions opened recently, by their sealed cookie value: a browser sends the same cookie with
//! every request until the session is next written (touched, refreshed), and opening it (AES-GCM
//! over about 2.5 KB, then the JSON) was a tenth of a page's instructions.
//!
//! Safe to reuse because opening is a pure function of the cookie's bytes under this process's
//! key: an entry answers only a request whose value is byte for byte the one that opened it, and
//! only values that opened are kept, so nothing an outsider sends gets in. What the cookie alone
//! cannot say is checked on every request as before: the timeouts, and whether the session was
//! ended (the store, shared by every instance). At most `capacity` entries; the memory holds
//! nothing the server does not hold while it serves those requests anyway, and never leaves it.

use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};

use crate::session::Session;

/// How many bytes at the end of a sealed value the map hashes: the authentication tag is there,
/// which differs for every value sealed (each has a fresh random nonce). Equality still compares
/// the whole value, so two values sharing an end only share a slot.
const HASHED_TAIL: usize = 32;

/// A sealed value and what it opened to.
type Opened = (Box<str>, Arc<Session>);

pub(crate) struct OpenedSessions {
    capacity: usize,
    entries: Mutex<HashMap<u64, Opened>>,
}

fn slot(sealed: &str) -> u64 {
    let tail = &sealed.as_bytes()[sealed.len().saturating_sub(HASHED_TAIL)..];
    let mut hasher = DefaultHasher::new();
    tail.hash(&mut hasher);
    hasher.finish()
}

impl OpenedSessions {
    /// An empty cache of at most `capacity` sessions (at least one).
    pub(crate) fn new(capacity: usize) -> OpenedSessions {
        OpenedSessions {
            capacity: capacity.max(1),
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The session `sealed` opened to, if it was opened here recently.
    pub(crate) fn get(&self, sealed: &str) -> Option<Arc<Session>> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        match entries.get(&slot(sealed)) {
            Some((value, session)) if **value == *sealed => Some(Arc::clone(session)),
            _ => None,
        }
    }

    /// Remembers what `sealed` opened to.
    pub(crate) fn insert(&self, sealed: &str, session: Arc<Session>) {
        let key = slot(sealed);
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= self.capacity && !entries.contains_key(&key) {
            // Full: drop one arbitrary entry (its next request only opens its cookie again).
            if let Some(victim) = entries.keys().next().copied() {
                entries.remove(&victim);
            }
        }
        entries.insert(key, (sealed.into(), session));
    }

    /// Sessions held.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_session(sub: &str) -> Session {
        crate::session::test_session(&format!("session-of-{sub}"), sub, 1_000)
    }

    #[test]
    fn c7_only_the_same_bytes_find_an_opened_session() {
        let cache = OpenedSessions::new(8);
        let session = Arc::new(sample_session("usr_1"));
        let sealed = format!("{}{}", "a".repeat(100), "tag-of-the-first-value-0123456789");
        cache.insert(&sealed, Arc::clone(&session));
        assert_eq!(cache.get(&sealed).as_deref(), Some(&*session));
        // The same end (and so the same slot) with a different beginning is another value.
        let forged = format!("{}{}", "b".repeat(100), "tag-of-the-first-value-0123456789");
        assert_eq!(slot(&forged), slot(&sealed));
        assert!(cache.get(&forged).is_none());
        assert!(cache.get(&sealed[1..]).is_none());
        assert!(cache.get("").is_none());
    }

    #[test]
    fn c7_the_opened_sessions_stay_within_their_capacity() {
        let cache = OpenedSessions::new(3);
        for i in 0..10 {
            let sealed = format!("sealed-session-value-number-{i:04}-with-its-tag");
            cache.insert(&sealed, Arc::new(sample_session(&format!("usr_{i}"))));
            assert!(cache.len() <= 3);
            assert!(cache.get(&sealed).is_some(), "the newest is kept");
        }
    }
}
