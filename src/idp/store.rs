//! The provider's in-memory state: browser sessions, authorization codes, refresh-token families,
//! organization API clients and the test controls. Lost on restart, like a fresh environment
//! (only the signing keys persist).

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;

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

#[derive(Default)]
pub struct Store {
    /// Keyed by the provider's session cookie value.
    pub sessions: HashMap<String, BrowserSession>,
    /// Sessions ended by logout: their refresh tokens no longer work.
    pub ended_sids: HashSet<String>,
    pub codes: HashMap<String, CodeGrant>,
    /// Redeemed codes, with the refresh family they produced (revoked if the code is replayed),
    /// and when they were redeemed.
    pub used_codes: HashMap<String, UsedCode>,
    /// Every refresh token ever issued, current or rotated, to its family id.
    pub refresh_tokens: HashMap<String, String>,
    pub families: HashMap<String, RefreshFamily>,
    pub api_clients: BTreeMap<String, ApiClient>,
    pub dynamic_clients: HashMap<String, DynamicClient>,
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
        if self.sessions.len() > MAX_SESSIONS {
            let mut times: Vec<u64> = self.sessions.values().map(|s| s.auth_time).collect();
            times.sort_unstable();
            let cutoff = times[self.sessions.len() - MAX_SESSIONS];
            self.sessions
                .retain(|_, session| session.auth_time >= cutoff);
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

    /// Revokes a refresh family (reuse detected, code replayed, session ended, revocation).
    pub fn revoke_family(&mut self, family_id: &str) {
        if let Some(family) = self.families.get_mut(family_id) {
            family.revoked = true;
        }
    }

    /// Ends a provider session: its cookie stops working and its refresh tokens die.
    pub fn end_session(&mut self, sid: &str) {
        self.sessions.retain(|_, session| session.sid != sid);
        self.ended_sids.insert(sid.to_string());
        let families: Vec<String> = self
            .families
            .iter()
            .filter(|(_, f)| f.sid == sid)
            .map(|(id, _)| id.clone())
            .collect();
        for id in families {
            self.revoke_family(&id);
        }
    }
}
