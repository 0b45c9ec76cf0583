//! Sessions ended by sign-out (or replaced by a new sign-in) before their cookies expire. The
//! cookies are self-contained, so without this list a copied cookie would stay usable until its
//! timeouts (checklist O6, L11). Kept in memory per process: with several instances it belongs in
//! a shared store (README, "Running more than one instance").

use std::collections::HashMap;
use std::sync::Mutex;

#[derive(Default)]
pub struct EndedSessions {
    /// Session id → when it may be forgotten (its absolute timeout: after that it is dead anyway).
    ended: Mutex<HashMap<String, u64>>,
}

impl EndedSessions {
    pub fn end(&self, session_id: &str, forget_after: u64, now: u64) {
        let mut ended = self.ended.lock().unwrap_or_else(|p| p.into_inner());
        ended.retain(|_, until| *until > now);
        ended.insert(session_id.to_string(), forget_after);
    }

    pub fn is_ended(&self, session_id: &str) -> bool {
        self.ended
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains_key(session_id)
    }

    pub fn len(&self) -> usize {
        self.ended.lock().unwrap_or_else(|p| p.into_inner()).len()
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
        assert!(ended.is_ended("a"));
        assert!(!ended.is_ended("b"));
        ended.end("b", 300, 200); // prunes `a`, whose cookies are dead by now
        assert!(!ended.is_ended("a"));
        assert_eq!(ended.len(), 1);
    }
}
