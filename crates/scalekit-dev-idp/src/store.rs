//! The provider's in-memory state: browser sessions, authorization codes, refresh-token families,
//! organization API clients, back-channel deliveries and the test controls. Lost on restart, like
//! a fresh environment (only the signing keys persist).

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

use serde::Serialize;

use super::backchannel::{Delivery, MAX_DELIVERIES};
use super::sessions::{SessionRecord, SessionStatus};

/// A person signed in at the provider (its own cookie), identified by a Scalekit-style `ses_…`.
#[derive(Clone, Debug)]
pub struct BrowserSession {
    pub sid: String,
    pub persona: String,
    pub auth_time: u64,
}

/// The protected resource a grant is for (MCP clients): its id, and the server URL the client
/// named (RFC 8707 `resource`), if any. Both end up in the access token's `aud`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourceGrant {
    pub id: String,
    pub url: Option<String>,
}

/// A public client registered through dynamic client registration for one resource.
#[derive(Clone, Debug)]
pub struct DynamicClient {
    pub client_id: String,
    pub client_name: String,
    pub redirect_uris: Vec<String>,
    pub resource_id: String,
    pub issued_at: u64,
}

/// What an authorization code stands for. Single use, ten minutes.
#[derive(Clone, Debug)]
pub struct CodeGrant {
    pub client_id: String,
    pub redirect_uri: String,
    pub persona: String,
    pub scope: String,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub sid: String,
    pub auth_time: u64,
    pub expires_at: u64,
    pub resource: Option<ResourceGrant>,
}

/// All refresh tokens descending from one sign-in. Only `current` may be redeemed; presenting an
/// earlier one means a token was copied, and the whole family is revoked.
#[derive(Clone, Debug)]
pub struct RefreshFamily {
    pub client_id: String,
    pub persona: String,
    pub sid: String,
    pub scope: String,
    pub auth_time: u64,
    pub current: String,
    /// Earlier tokens of this family, newest last, kept so that a replay revokes the family; only
    /// the last few (a replay is a copy used soon after the original, not months later).
    pub retired: VecDeque<String>,
    /// Last sign-in or refresh, for expiring families nobody uses.
    pub last_used: u64,
    pub revoked: bool,
    pub resource: Option<ResourceGrant>,
}

/// An organization API client created through the management API (`m2morg_…`).
#[derive(Clone, Debug, Serialize)]
pub struct ApiClient {
    pub client_id: String,
    #[serde(skip)]
    pub secret: String,
    pub secret_id: String,
    pub name: String,
    pub description: String,
    pub organization_id: String,
    pub scopes: Vec<String>,
    pub audience: Vec<String>,
    /// Token lifetime in seconds.
    pub expiry: u64,
    pub create_time: String,
}

#[derive(Clone, Debug)]
pub struct UsedCode {
    pub family: Option<String>,
    pub used_at: u64,
}

/// Provider sessions are forgotten a day after sign-in, and at most this many are kept, so
/// scripted sign-ins cannot grow memory without bound.
pub const SESSION_TTL: u64 = 86_400;
pub const MAX_SESSIONS: usize = 10_000;
/// How long a redeemed code is remembered to detect its replay (longer than a code lives).
pub const USED_CODE_MEMORY: u64 = 3_600;
/// Outstanding authorization codes kept at most (each lives a minute).
pub const MAX_CODES: usize = 10_000;
/// Refresh-token families kept at most, and how long an unused one lives.
pub const MAX_FAMILIES: usize = 10_000;
pub const FAMILY_IDLE_TTL: u64 = 14 * 86_400;
/// Retired refresh tokens remembered per family for reuse detection.
pub const RETIRED_KEPT: usize = 16;
/// How long an ended session's id is remembered (longer than any code it could have issued).
pub const ENDED_SID_MEMORY: u64 = 3_600;
/// Session records (for the sessions API) of ended sessions are kept this long after the end,
/// and at most this many records in all; active sessions are never dropped for ended ones.
pub const ENDED_RECORD_MEMORY: u64 = 86_400;
pub const MAX_SESSION_RECORDS: usize = 2 * MAX_SESSIONS;

#[derive(Default)]
pub struct Store {
    /// Keyed by the provider's session cookie value.
    pub sessions: HashMap<String, BrowserSession>,
    /// Every session by its `ses_…` id, active or ended (see `sessions.rs`).
    pub session_records: HashMap<String, SessionRecord>,
    /// Back-channel logout deliveries, oldest first, the last `MAX_DELIVERIES` only.
    pub deliveries: VecDeque<Delivery>,
    /// Sessions ended by logout (their codes and refresh tokens no longer work), and when.
    pub ended_sids: HashMap<String, u64>,
    pub codes: HashMap<String, CodeGrant>,
    /// Redeemed codes, with the refresh family they produced (revoked if the code is replayed),
    /// and when they were redeemed.
    pub used_codes: HashMap<String, UsedCode>,
    /// Every refresh token ever issued, current or rotated, to its family id.
    pub refresh_tokens: HashMap<String, String>,
    pub families: HashMap<String, RefreshFamily>,
    pub api_clients: BTreeMap<String, ApiClient>,
    pub dynamic_clients: HashMap<String, DynamicClient>,
    /// SSO connections, from the settings, as the admin portal has edited them.
    pub connections: Vec<super::connections::Connection>,
    /// Admin portal links and sessions (see `portal.rs`).
    pub portal: super::portal::PortalState,
    pub controls: Controls,
}

/// Switches for tests: shorter tokens, injected failures, and what the token endpoint was asked.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Controls {
    /// Overrides the user access-token lifetime, seconds.
    pub access_token_ttl: Option<u64>,
    /// Endpoint name (`token`, `keys`, `discovery`, `authorize`, `userinfo`, `revoke`, `logout`,
    /// `management`) to the failure it answers with.
    pub faults: BTreeMap<String, Fault>,
    /// Token-endpoint calls by `grant_type` (`missing` when absent), faulted ones included.
    pub token_calls: BTreeMap<String, u64>,
}

/// A failure injected into one endpoint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Fault {
    /// Answer with this HTTP status and a plain-text body.
    Status { status: u16 },
    /// Wait this long, then answer normally (to outlast a client's timeout).
    Delay { millis: u64 },
    /// Answer 200 with a truncated JSON body.
    Malformed,
    /// Answer 400 with this RFC 6749 error code, as a refused grant or client is answered.
    OauthError { error: String },
}

impl Store {
    /// Forgets what can no longer matter, so request-driven maps stay bounded: expired codes,
    /// old redeemed codes, old or excess sessions, and revoked refresh-token families.
    pub fn prune(&mut self, now: u64) {
        self.codes.retain(|_, grant| grant.expires_at > now);
        self.used_codes
            .retain(|_, used| used.used_at + USED_CODE_MEMORY > now);
        self.sessions
            .retain(|_, session| session.auth_time + SESSION_TTL > now);
        if let Some(cutoff) =
            newest_cutoff(self.sessions.values().map(|s| s.auth_time), MAX_SESSIONS)
        {
            self.sessions
                .retain(|_, session| session.auth_time >= cutoff);
        }
        self.prune_session_records(now);
        self.ended_sids
            .retain(|_, ended_at| *ended_at + ENDED_SID_MEMORY > now);
        if let Some(cutoff) = newest_cutoff(self.codes.values().map(|c| c.expires_at), MAX_CODES) {
            self.codes.retain(|_, grant| grant.expires_at >= cutoff);
        }
        let family_cutoff =
            newest_cutoff(self.families.values().map(|f| f.last_used), MAX_FAMILIES);
        for family in self.families.values_mut() {
            if family.last_used + FAMILY_IDLE_TTL <= now
                || family_cutoff.is_some_and(|cutoff| family.last_used < cutoff)
            {
                family.revoked = true;
            }
        }
        let revoked: Vec<String> = self
            .families
            .iter()
            .filter(|(_, f)| f.revoked)
            .map(|(id, _)| id.clone())
            .collect();
        if !revoked.is_empty() {
            self.refresh_tokens
                .retain(|_, family| !revoked.contains(family));
            for id in &revoked {
                self.families.remove(id);
            }
        }
    }

    /// Active records whose cookie session went (its day is over, or too many sessions) expired;
    /// ended records are forgotten after `ENDED_RECORD_MEMORY`, or sooner when there are too many.
    fn prune_session_records(&mut self, now: u64) {
        let live: HashSet<&str> = self.sessions.values().map(|s| s.sid.as_str()).collect();
        for record in self.session_records.values_mut() {
            if record.is_active() && !live.contains(record.sid.as_str()) {
                let expired_at = record.absolute_expires_at().min(now);
                record.end(SessionStatus::Expired, expired_at);
            }
        }
        self.session_records.retain(|_, record| {
            record
                .ended_at
                .is_none_or(|ended_at| ended_at + ENDED_RECORD_MEMORY > now)
        });
        let active = self
            .session_records
            .values()
            .filter(|r| r.is_active())
            .count();
        let ended_room = MAX_SESSION_RECORDS.saturating_sub(active);
        let ended_times = self.session_records.values().filter_map(|r| r.ended_at);
        if ended_room == 0 {
            self.session_records.retain(|_, r| r.is_active());
        } else if let Some(cutoff) = newest_cutoff(ended_times, ended_room) {
            self.session_records
                .retain(|_, r| r.ended_at.is_none_or(|ended_at| ended_at >= cutoff));
        }
    }

    /// Signs a browser in: its cookie value names the session from now on.
    pub fn start_session(
        &mut self,
        cookie_value: String,
        session: BrowserSession,
        record: SessionRecord,
    ) {
        self.session_records.insert(record.sid.clone(), record);
        self.sessions.insert(cookie_value, session);
    }

    /// Tokens were issued or refreshed for `client_id` in session `sid`.
    pub fn touch_session(&mut self, sid: &str, client_id: &str, now: u64) {
        if let Some(record) = self.session_records.get_mut(sid) {
            record.touch(client_id, now);
        }
    }

    /// Remembers a delivery, forgetting the oldest beyond `MAX_DELIVERIES`.
    pub fn record_delivery(&mut self, delivery: Delivery) {
        while self.deliveries.len() >= MAX_DELIVERIES {
            self.deliveries.pop_front();
        }
        self.deliveries.push_back(delivery);
    }

    /// Keeps a new registration, forgetting the oldest beyond `max`.
    pub fn add_dynamic_client(&mut self, client: DynamicClient, max: usize) {
        while self.dynamic_clients.len() >= max {
            let oldest = self
                .dynamic_clients
                .values()
                .min_by_key(|c| c.issued_at)
                .map(|c| c.client_id.clone());
            match oldest {
                Some(id) => self.dynamic_clients.remove(&id),
                None => break,
            };
        }
        self.dynamic_clients
            .insert(client.client_id.clone(), client);
    }

    /// Makes `rotated` the family's current refresh token; the previous one is remembered (for
    /// reuse detection) with at most `RETIRED_KEPT` others.
    pub fn rotate_refresh_token(&mut self, family_id: &str, rotated: String, now: u64) {
        let Some(family) = self.families.get_mut(family_id) else {
            return;
        };
        let previous = std::mem::replace(&mut family.current, rotated.clone());
        family.retired.push_back(previous);
        family.last_used = now;
        let forgotten = (family.retired.len() > RETIRED_KEPT)
            .then(|| family.retired.pop_front())
            .flatten();
        if let Some(forgotten) = forgotten {
            self.refresh_tokens.remove(&forgotten);
        }
        self.refresh_tokens.insert(rotated, family_id.to_string());
    }

    /// Revokes a refresh family (reuse detected, code replayed, session ended, revocation).
    pub fn revoke_family(&mut self, family_id: &str) {
        if let Some(family) = self.families.get_mut(family_id) {
            family.revoked = true;
        }
    }

    /// Ends a provider session: its cookie stops working and its refresh tokens die. Returns its
    /// record when it was active until now (whom to tell by back-channel logout).
    pub fn end_session(
        &mut self,
        sid: &str,
        status: SessionStatus,
        now: u64,
    ) -> Option<SessionRecord> {
        self.sessions.retain(|_, session| session.sid != sid);
        self.ended_sids.insert(sid.to_string(), now);
        let families: Vec<String> = self
            .families
            .iter()
            .filter(|(_, f)| f.sid == sid)
            .map(|(id, _)| id.clone())
            .collect();
        for id in families {
            self.revoke_family(&id);
        }
        let record = self.session_records.get_mut(sid)?;
        record.end(status, now).then(|| record.clone())
    }
}

/// When there are more than `max` values, the smallest value among the `max` largest: entries
/// below it are the oldest and go. `None` when nothing needs to go.
fn newest_cutoff(values: impl Iterator<Item = u64>, max: usize) -> Option<u64> {
    let mut values: Vec<u64> = values.collect();
    if values.len() <= max {
        return None;
    }
    values.sort_unstable();
    Some(values[values.len() - max])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn family(last_used: u64) -> RefreshFamily {
        RefreshFamily {
            client_id: "skc_1".into(),
            persona: "admin".into(),
            sid: "ses_1".into(),
            scope: "openid offline_access".into(),
            auth_time: last_used,
            current: "rt_0".into(),
            retired: VecDeque::new(),
            last_used,
            revoked: false,
            resource: None,
        }
    }

    #[test]
    fn rotation_remembers_only_the_last_retired_tokens() {
        let mut store = Store::default();
        store.families.insert("f".into(), family(100));
        store.refresh_tokens.insert("rt_0".into(), "f".into());
        for n in 1..=100 {
            store.rotate_refresh_token("f", format!("rt_{n}"), 100 + n);
        }
        assert_eq!(store.families["f"].current, "rt_100");
        assert_eq!(store.families["f"].last_used, 200);
        // The current token and RETIRED_KEPT earlier ones are known; older ones are forgotten.
        assert_eq!(store.refresh_tokens.len(), RETIRED_KEPT + 1);
        assert!(store.refresh_tokens.contains_key("rt_99"));
        assert!(!store.refresh_tokens.contains_key("rt_0"));
    }

    #[test]
    fn idle_and_excess_families_are_dropped_with_their_tokens() {
        let mut store = Store::default();
        let now = 10 * FAMILY_IDLE_TTL;
        for n in 0..(MAX_FAMILIES as u64 + 10) {
            let id = format!("f{n}");
            store.families.insert(id.clone(), family(now - n));
            store.refresh_tokens.insert(format!("rt{n}"), id);
        }
        store
            .families
            .insert("idle".into(), family(now - FAMILY_IDLE_TTL));
        store.prune(now);
        assert_eq!(store.families.len(), MAX_FAMILIES);
        assert!(
            store.families.contains_key("f0"),
            "the most recently used stays"
        );
        assert!(!store.families.contains_key("idle"));
        assert_eq!(store.refresh_tokens.len(), MAX_FAMILIES);
    }

    fn signed_in(store: &mut Store, cookie: &str, sid: &str, at: u64) {
        let session = BrowserSession {
            sid: sid.into(),
            persona: "admin".into(),
            auth_time: at,
        };
        let record = SessionRecord {
            sid: sid.into(),
            persona: "admin".into(),
            user_id: "usr_1".into(),
            organization_id: "org_1".into(),
            connection_id: "conn_1".into(),
            clients: Vec::new(),
            created_at: at,
            updated_at: at,
            last_active_at: at,
            user_agent: String::new(),
            status: SessionStatus::Active,
            ended_at: None,
        };
        store.start_session(cookie.into(), session, record);
    }

    #[test]
    fn o8_ending_a_session_returns_it_once_with_its_clients() {
        let mut store = Store::default();
        signed_in(&mut store, "cookie", "ses_1", 100);
        store.touch_session("ses_1", "skc_1", 150);
        store.families.insert("f".into(), family(150));
        let ended = store.end_session("ses_1", SessionStatus::Logout, 200);
        let ended = ended.expect("an active session ends");
        assert_eq!(ended.clients, ["skc_1"]);
        assert_eq!(ended.last_active_at, 150);
        assert!(store.sessions.is_empty(), "the cookie no longer works");
        assert!(store.families["f"].revoked, "its refresh tokens die");
        assert!(store
            .end_session("ses_1", SessionStatus::Revoked, 300)
            .is_none());
        assert_eq!(store.session_records["ses_1"].status, SessionStatus::Logout);
    }

    #[test]
    fn o8_sessions_past_their_day_expire_and_ended_records_are_forgotten() {
        let mut store = Store::default();
        signed_in(&mut store, "old", "ses_old", 0);
        signed_in(&mut store, "new", "ses_new", SESSION_TTL);
        store.prune(SESSION_TTL + 10);
        let old = &store.session_records["ses_old"];
        assert_eq!(old.status, SessionStatus::Expired);
        assert_eq!(
            old.ended_at,
            Some(SESSION_TTL),
            "expired when its day ran out"
        );
        assert!(store.session_records["ses_new"].is_active());

        store.prune(SESSION_TTL + ENDED_RECORD_MEMORY);
        assert!(!store.session_records.contains_key("ses_old"));
        assert!(store.session_records.contains_key("ses_new"));
    }

    #[test]
    fn o8_deliveries_keep_only_the_last_hundred() {
        let mut store = Store::default();
        for n in 0..(MAX_DELIVERIES + 5) {
            store.record_delivery(Delivery {
                client_id: "skc_1".into(),
                session_id: format!("ses_{n}"),
                uri: "http://127.0.0.1/logout".into(),
                attempts: 1,
                status: Some(200),
                error: None,
                at: String::new(),
            });
        }
        assert_eq!(store.deliveries.len(), MAX_DELIVERIES);
        assert_eq!(store.deliveries[0].session_id, "ses_5");
    }

    #[test]
    fn ended_sessions_and_codes_are_bounded() {
        let mut store = Store::default();
        store.ended_sids.insert("ses_old".into(), 0);
        store.ended_sids.insert("ses_new".into(), 5_000);
        for n in 0..(MAX_CODES as u64 + 5) {
            let grant = CodeGrant {
                client_id: "skc_1".into(),
                redirect_uri: "http://127.0.0.1/cb".into(),
                persona: "admin".into(),
                scope: "openid".into(),
                nonce: None,
                code_challenge: None,
                sid: "ses_1".into(),
                auth_time: 0,
                expires_at: 6_000 + n,
                resource: None,
            };
            store.codes.insert(format!("c{n}"), grant);
        }
        store.prune(5_000);
        assert!(!store.ended_sids.contains_key("ses_old"));
        assert!(store.ended_sids.contains_key("ses_new"));
        assert_eq!(store.codes.len(), MAX_CODES);
        assert!(
            !store.codes.contains_key("c0"),
            "the soonest to expire goes first"
        );
    }
}
