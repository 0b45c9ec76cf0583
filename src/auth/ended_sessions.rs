//! Sessions ended by sign-out (or replaced by a new sign-in) before their cookies expire. The
//! cookies are self-contained, so without this list a copied cookie would stay usable until its
//! timeouts (checklist O6, L11). Kept in memory per process: with several instances it belongs in
//! a shared store (README, "Running more than one instance").

use super::expiring_set::{ExpiringSet, Inserted, WhenFull};

/// Most ended sessions remembered at once. Each entry is a session id and a time (about 100
/// bytes), and only a completed sign-in adds one, so this is far above any real sign-out rate
/// within an absolute timeout; past it the entry closest to expiring goes first (logged).
pub const MAX_ENDED_SESSIONS: usize = 1_000_000;

pub struct EndedSessions {
    /// Session id → when it may be forgotten (its absolute timeout: after that it is dead anyway).
    ended: ExpiringSet,
}

impl Default for EndedSessions {
    fn default() -> Self {
        EndedSessions::with_capacity(MAX_ENDED_SESSIONS)
    }
}

impl EndedSessions {
    pub fn with_capacity(capacity: usize) -> EndedSessions {
        EndedSessions {
            ended: ExpiringSet::new(capacity, WhenFull::EvictSoonest),
        }
    }

    pub fn end(&self, session_id: &str, forget_after: u64, now: u64) {
        if self.ended.insert(session_id, forget_after, now) == Inserted::NewInPlaceOfAnother {
            tracing::warn!(
                capacity = self.ended.len(),
                "the ended-session list is full; forgot the ended session closest to its timeout"
            );
        }
    }

    pub fn is_ended(&self, session_id: &str, now: u64) -> bool {
        self.ended.contains(session_id, now)
    }

    pub fn len(&self) -> usize {
        self.ended.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn o6_ended_sessions_are_remembered_until_they_would_have_expired() {
        let ended = EndedSessions::default();
        ended.end("a", 100, 10);
        assert!(ended.is_ended("a", 10));
        assert!(!ended.is_ended("b", 10));
        ended.end("b", 300, 200); // prunes `a`, whose cookies are dead by now
        assert!(!ended.is_ended("a", 200));
        assert_eq!(ended.len(), 1);
    }

    #[test]
    fn o6_the_ended_session_list_is_bounded() {
        let ended = EndedSessions::with_capacity(3);
        for (i, id) in ["a", "b", "c", "d"].iter().enumerate() {
            ended.end(id, 1_000 + i as u64, 0);
        }
        assert_eq!(ended.len(), 3);
        assert!(
            !ended.is_ended("a", 0),
            "the one closest to its timeout went first"
        );
        assert!(ended.is_ended("d", 0));
    }
}
