//! Short lists of recent entries every instance shares, newest first, each kept for a while
//! (the webhook events an organization's admins see). In Redis, one list per key, trimmed and
//! given its lifetime in the same atomic step; in memory, a bounded map of lists. The caller
//! seals what it stores (see `Auth::keep_recent`): the store holds digests and ciphertext only.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

/// Lists kept in memory at most; past that the one written longest ago goes.
pub const MAX_LISTS: usize = 10_000;

/// `LPUSH`, `LTRIM` to `ARGV[2]` entries and `EXPIRE` `ARGV[3]`, atomically.
pub(super) const PUSH_SCRIPT: &str = "redis.call('LPUSH', KEYS[1], ARGV[1]) \
    redis.call('LTRIM', KEYS[1], 0, tonumber(ARGV[2]) - 1) \
    redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3])) \
    return 1";

struct List {
    entries: VecDeque<String>,
    expires_at: u64,
    written: u64,
}

/// The in-memory lists.
#[derive(Default)]
pub struct RecentLists {
    lists: Mutex<(HashMap<String, List>, u64)>,
}

impl RecentLists {
    pub(super) fn push(&self, key: &str, entry: &str, keep: usize, until: u64, now: u64) {
        let mut guard = self.lists.lock().unwrap_or_else(|p| p.into_inner());
        let (lists, counter) = &mut *guard;
        *counter += 1;
        let written = *counter;
        lists.retain(|_, list| list.expires_at > now);
        if !lists.contains_key(key) && lists.len() >= MAX_LISTS {
            if let Some(oldest) = lists
                .iter()
                .min_by_key(|(_, list)| list.written)
                .map(|(key, _)| key.clone())
            {
                lists.remove(&oldest);
            }
        }
        let list = lists.entry(key.to_string()).or_insert_with(|| List {
            entries: VecDeque::new(),
            expires_at: until,
            written,
        });
        list.entries.push_front(entry.to_string());
        list.entries.truncate(keep);
        list.expires_at = until;
        list.written = written;
    }

    pub(super) fn get(&self, key: &str, keep: usize, now: u64) -> Vec<String> {
        let guard = self.lists.lock().unwrap_or_else(|p| p.into_inner());
        guard
            .0
            .get(key)
            .filter(|list| list.expires_at > now)
            .map(|list| list.entries.iter().take(keep).cloned().collect())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_newest_first_bounded_and_expire() {
        let lists = RecentLists::default();
        for n in 0..5 {
            lists.push("a", &format!("e{n}"), 3, 100, 10);
        }
        assert_eq!(lists.get("a", 10, 20), vec!["e4", "e3", "e2"]);
        assert_eq!(lists.get("a", 2, 20), vec!["e4", "e3"]);
        assert!(lists.get("a", 10, 100).is_empty(), "expired");
        assert!(lists.get("b", 10, 20).is_empty());
        for n in 0..(MAX_LISTS + 3) {
            lists.push(&format!("l{n}"), "x", 1, 1_000, 200);
        }
        assert!(lists.get("l0", 1, 200).is_empty(), "the oldest list went");
        assert_eq!(lists.get(&format!("l{}", MAX_LISTS + 2), 1, 200), vec!["x"]);
    }
}
