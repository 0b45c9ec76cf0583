//! The provider's sessions as the sessions API and back-channel logout see them: who signed in,
//! which clients got tokens, from what browser, and how the session ended. The cookie index
//! (`Store::sessions`) says which browser holds a live session; these records outlive it so that
//! an ended session can still be shown with its status.

use std::sync::Arc;

use super::store::SESSION_TTL;
use super::{backchannel, now, DevIdp};

/// Distinct clients remembered per session (dynamic MCP clients could otherwise grow it).
pub const MAX_CLIENTS_PER_SESSION: usize = 32;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionStatus {
    Active,
    /// The person signed out (RP-initiated logout).
    Logout,
    /// Ended by someone else: the sessions API or the test controls.
    Revoked,
    /// Its day ran out, or it was dropped to keep memory bounded.
    Expired,
}

impl SessionStatus {
    /// As Scalekit writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            SessionStatus::Active => "ACTIVE",
            SessionStatus::Logout => "LOGOUT",
            SessionStatus::Revoked => "REVOKED",
            SessionStatus::Expired => "EXPIRED",
        }
    }

    /// Any case, as a filter value.
    pub fn parse(text: &str) -> Option<SessionStatus> {
        [
            SessionStatus::Active,
            SessionStatus::Logout,
            SessionStatus::Revoked,
            SessionStatus::Expired,
        ]
        .into_iter()
        .find(|status| status.as_str().eq_ignore_ascii_case(text))
    }
}

#[derive(Clone, Debug)]
pub struct SessionRecord {
    /// `ses_…`, the `sid` claim of the session's tokens.
    pub sid: String,
    /// The persona's key and Scalekit user id (`usr_…`).
    pub persona: String,
    pub user_id: String,
    pub organization_id: String,
    /// How the person signed in: an SSO connection's `conn_…`, or the picker's own. First in the
    /// ID token's `amr`, as at Scalekit.
    pub connection_id: String,
    /// Clients that got tokens in this session, first first.
    pub clients: Vec<String>,
    pub created_at: u64,
    pub updated_at: u64,
    /// Last token issued or refreshed in this session.
    pub last_active_at: u64,
    /// From the authorization request that started the session, truncated.
    pub user_agent: String,
    pub status: SessionStatus,
    /// When it stopped being active: `logout_at` for LOGOUT and REVOKED, `expired_at` for EXPIRED.
    pub ended_at: Option<u64>,
}

impl SessionRecord {
    /// The provider forgets a session a day after sign-in (`Store::prune`).
    pub fn absolute_expires_at(&self) -> u64 {
        self.created_at + SESSION_TTL
    }

    pub fn is_active(&self) -> bool {
        self.status == SessionStatus::Active
    }

    /// A token was issued or refreshed for `client_id`.
    pub fn touch(&mut self, client_id: &str, now: u64) {
        self.last_active_at = now;
        self.updated_at = now;
        if !self.clients.iter().any(|c| c == client_id)
            && self.clients.len() < MAX_CLIENTS_PER_SESSION
        {
            self.clients.push(client_id.to_string());
        }
    }

    /// Ends an active session; an ended one keeps how it ended.
    pub fn end(&mut self, status: SessionStatus, now: u64) -> bool {
        if !self.is_active() || status == SessionStatus::Active {
            return false;
        }
        self.status = status;
        self.ended_at = Some(now);
        self.updated_at = now;
        true
    }
}

impl DevIdp {
    /// Ends the given sessions (their cookies and refresh tokens stop working) and, in the
    /// background, tells each client with a back-channel logout URI that had one of them.
    /// Returns the sessions that were active and now are not.
    pub(super) fn end_sessions(
        self: &Arc<Self>,
        sids: impl IntoIterator<Item = String>,
        status: SessionStatus,
    ) -> Vec<SessionRecord> {
        let now = now();
        let ended: Vec<SessionRecord> = {
            let mut store = self.store();
            sids.into_iter()
                .filter_map(|sid| store.end_session(&sid, status, now))
                .collect()
        };
        backchannel::notify(self, &ended);
        self.notify_logouts(&ended);
        ended
    }

    /// The active sessions of the persona `key`, oldest first.
    pub(super) fn active_sessions_of(&self, key: &str) -> Vec<String> {
        let mut sessions: Vec<(u64, String)> = self
            .store()
            .session_records
            .values()
            .filter(|r| r.persona == key && r.is_active())
            .map(|r| (r.created_at, r.sid.clone()))
            .collect();
        sessions.sort();
        sessions.into_iter().map(|(_, sid)| sid).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(sid: &str, created_at: u64) -> SessionRecord {
        SessionRecord {
            sid: sid.into(),
            persona: "admin".into(),
            user_id: "usr_1".into(),
            organization_id: "org_1".into(),
            connection_id: "conn_1".into(),
            clients: Vec::new(),
            created_at,
            updated_at: created_at,
            last_active_at: created_at,
            user_agent: String::new(),
            status: SessionStatus::Active,
            ended_at: None,
        }
    }

    #[test]
    fn o8_statuses_are_written_upper_case_and_read_in_any_case() {
        assert_eq!(SessionStatus::Revoked.as_str(), "REVOKED");
        assert_eq!(SessionStatus::parse("active"), Some(SessionStatus::Active));
        assert_eq!(SessionStatus::parse("LogOut"), Some(SessionStatus::Logout));
        assert_eq!(SessionStatus::parse("gone"), None);
    }

    #[test]
    fn o8_a_session_ends_once_and_remembers_a_bounded_set_of_clients() {
        let mut session = record("ses_1", 100);
        for n in 0..100 {
            session.touch(&format!("skc_{n}"), 200);
        }
        session.touch("skc_0", 300);
        assert_eq!(session.clients.len(), MAX_CLIENTS_PER_SESSION);
        assert_eq!(session.last_active_at, 300);
        assert!(session.end(SessionStatus::Logout, 400));
        assert!(
            !session.end(SessionStatus::Revoked, 500),
            "already ended: keeps its first ending"
        );
        assert_eq!(session.status, SessionStatus::Logout);
        assert_eq!(session.ended_at, Some(400));
    }
}
