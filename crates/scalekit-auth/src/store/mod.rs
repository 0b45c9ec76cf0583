//! The records every instance of the app must agree on, because they decide who is signed in:
//! sessions ended before their cookies expire (by our session id, by the provider's session id,
//! all of a user's, or all of an organization member's by email), one-time values (a sign-in
//! transaction's single token call, a logout token's `jti`), and the refresh single flight across
//! instances. In process memory for one instance (the default, nothing to set up); in Redis
//! (`REDIS_URL`) for several.
//!
//! Every key is a SHA-256 digest of what it names, so neither store holds a state, a token id or
//! a user id in clear, and every entry expires (at the latest when the sessions it concerns would
//! have timed out anyway).

mod memory;
mod recent;
mod redis_store;

use std::sync::Arc;
use std::time::Duration;

use sha2::{Digest, Sha256};

pub use self::memory::MemoryStore;
pub use self::redis_store::{RedisSettings, RedisStore};

/// What identifies a session to the ended-session records.
#[derive(Clone, Copy, Debug)]
pub struct SessionKeys<'a> {
    /// Ours, new at every sign-in.
    pub id: &'a str,
    /// The provider's session (`sid`), when its tokens carry one.
    pub provider_sid: Option<&'a str>,
    /// The user (`sub`): "sign out everywhere" and logout tokens naming only the user end the
    /// sessions signed in by a cutoff.
    pub sub: &'a str,
    /// When the session signed in, in seconds since the epoch, compared with the user's cutoff.
    pub signed_in_at: u64,
    /// The organization the session is for and the user's email, when it has both: a directory
    /// (SCIM) event names a member by email only, and ends the sessions signed in by a cutoff.
    pub member: Option<Member<'a>>,
}

/// An organization's member as a directory names them: the organization id and an email,
/// compared without regard to ASCII case.
#[derive(Clone, Copy, Debug)]
pub struct Member<'a> {
    /// The organization (`org_…`).
    pub organization_id: &'a str,
    /// The member's email.
    pub email: &'a str,
}

impl Member<'_> {
    /// What the member's record is keyed by: one text for the same member however the email is
    /// cased. Empty (never recorded) when either part is.
    fn key_text(&self) -> String {
        let email = self.email.trim();
        if self.organization_id.is_empty() || email.is_empty() {
            return String::new();
        }
        format!("{}\n{}", self.organization_id, email.to_ascii_lowercase())
    }
}

/// The keys of the four records that can end a session: hashes of its id, its provider
/// session, its user and its organization membership. Four SHA-256s, so a session keeps its own
/// once made (`Session::ended_keys`), with the values they were made from, rather than hashing
/// them again on every request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct EndedKeys {
    made_from: [String; 4],
    keys: [String; 4],
}

impl EndedKeys {
    pub(crate) fn new(session: SessionKeys<'_>) -> EndedKeys {
        let sid = session.provider_sid.unwrap_or("");
        let member = member_text(session);
        EndedKeys {
            keys: [
                digest(ENDED_SESSION, session.id),
                digest(ENDED_PROVIDER_SESSION, sid),
                digest(ENDED_USER, session.sub),
                digest(ENDED_MEMBER, &member),
            ],
            made_from: [session.id.into(), sid.into(), session.sub.into(), member],
        }
    }

    /// Whether these are `session`'s keys.
    pub(crate) fn are_for(&self, session: SessionKeys<'_>) -> bool {
        let [id, sid, sub, member] = &self.made_from;
        *id == session.id
            && *sid == session.provider_sid.unwrap_or("")
            && *sub == session.sub
            && *member == member_text(session)
    }
}

fn member_text(session: SessionKeys<'_>) -> String {
    session
        .member
        .map(|member| member.key_text())
        .unwrap_or_default()
}

/// Kinds of one-time values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OneTime {
    /// A sign-in transaction's state: one token-endpoint call per transaction.
    Transaction,
    /// A back-channel logout token's `jti`: each is acted on once.
    LogoutToken,
    /// A webhook delivery's `webhook-id`: each is acted on once.
    WebhookId,
    /// An IdP-initiated login token (its `jti` or digest): each starts one sign-in.
    IdpInitiatedLogin,
}

impl OneTime {
    fn label(self) -> &'static str {
        match self {
            OneTime::Transaction => "once:tx",
            OneTime::LogoutToken => "once:jti",
            OneTime::WebhookId => "once:webhook",
            OneTime::IdpInitiatedLogin => "once:idp",
        }
    }
}

/// The store could not be asked (Redis down or too slow) or cannot record more (memory full).
/// Callers refuse rather than guess: a session that might have been ended is not accepted.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the session store is unavailable: {0}")]
pub struct StoreUnavailable(pub String);

/// The configured store. Cheap to clone.
#[derive(Clone)]
pub enum Store {
    /// In process memory: for a single instance.
    Memory(Arc<MemoryStore>),
    /// Redis or Valkey, shared by every instance.
    Redis(Arc<RedisStore>),
}

impl Default for Store {
    fn default() -> Self {
        Store::Memory(Arc::new(MemoryStore::default()))
    }
}

/// Kinds of "ended" records: by our session id, the provider's session id, user, and
/// organization member.
const ENDED_SESSION: &str = "ended:session";
const ENDED_PROVIDER_SESSION: &str = "ended:sid";
const ENDED_USER: &str = "ended:user";
const ENDED_MEMBER: &str = "ended:member";
/// Kind of the short lists of recent entries (`recent.rs`).
const RECENT: &str = "recent";

/// The key of `value` for records of `kind`: hex of its SHA-256, cut to 128 bits.
pub(crate) fn digest(kind: &str, value: &str) -> String {
    let hash = Sha256::digest(value.as_bytes());
    let mut key = String::with_capacity(kind.len() + 33);
    key.push_str(kind);
    key.push(':');
    crate::hex::push_lower(&mut key, &hash[..16]);
    key
}

/// Seconds from `now` until `until`, at least one (a store TTL of zero means "forever" or "error").
fn ttl_secs(until: u64, now: u64) -> u64 {
    until.saturating_sub(now).max(1)
}

impl Store {
    /// Whether the store answers: always for the in-process one, a `PING` for Redis.
    pub async fn ping(&self) -> Result<(), StoreUnavailable> {
        match self {
            Store::Memory(_) => Ok(()),
            Store::Redis(redis) => redis.ping().await,
        }
    }

    /// Shared with other instances (Redis), so a refresh must also be coordinated there.
    pub fn shared(&self) -> Option<&RedisStore> {
        match self {
            Store::Memory(_) => None,
            Store::Redis(redis) => Some(redis),
        }
    }

    /// Our session `session_id` is over; remembered until `until` (its absolute timeout).
    pub async fn end_session(
        &self,
        session_id: &str,
        until: u64,
        now: u64,
    ) -> Result<(), StoreUnavailable> {
        self.mark(ENDED_SESSION, session_id, 0, until, now).await
    }

    /// Every session in the provider's session `sid` is over.
    pub async fn end_provider_session(
        &self,
        sid: &str,
        until: u64,
        now: u64,
    ) -> Result<(), StoreUnavailable> {
        self.mark(ENDED_PROVIDER_SESSION, sid, 0, until, now).await
    }

    /// Every session of `sub` that signed in at or before `signed_in_by` is over ("sign out
    /// everywhere", a logout token naming only the user).
    pub async fn end_user_sessions(
        &self,
        sub: &str,
        signed_in_by: u64,
        until: u64,
        now: u64,
    ) -> Result<(), StoreUnavailable> {
        self.mark(ENDED_USER, sub, signed_in_by, until, now).await
    }

    /// Every session of `member` that signed in at or before `signed_in_by` is over: a
    /// directory (SCIM) event, which names the member by email, not by user id. A member without
    /// an organization or an email names nobody: nothing is recorded.
    pub async fn end_member_sessions(
        &self,
        member: Member<'_>,
        signed_in_by: u64,
        until: u64,
        now: u64,
    ) -> Result<(), StoreUnavailable> {
        let text = member.key_text();
        if text.is_empty() {
            return Ok(());
        }
        self.mark(ENDED_MEMBER, &text, signed_in_by, until, now)
            .await
    }

    /// Records `number` for `value` among the `kind` records until `until`.
    async fn mark(
        &self,
        kind: &str,
        value: &str,
        number: u64,
        until: u64,
        now: u64,
    ) -> Result<(), StoreUnavailable> {
        let key = digest(kind, value);
        match self {
            Store::Memory(m) => m.mark(&key, number, until, now),
            Store::Redis(r) => r.mark(&key, number, ttl_secs(until, now)).await,
        }
    }

    /// Whether the session was ended by any of the four records. One round trip with Redis.
    pub async fn is_ended(
        &self,
        session: SessionKeys<'_>,
        now: u64,
    ) -> Result<bool, StoreUnavailable> {
        self.is_ended_by(&EndedKeys::new(session), session, now)
            .await
    }

    /// [`Store::is_ended`] with the records' keys made already (`keys`, from `session`).
    pub(crate) async fn is_ended_by(
        &self,
        keys: &EndedKeys,
        session: SessionKeys<'_>,
        now: u64,
    ) -> Result<bool, StoreUnavailable> {
        let keys = &keys.keys;
        let values = match self {
            Store::Memory(m) => keys.iter().map(|k| m.value(k, now)).collect::<Vec<_>>(),
            Store::Redis(r) => r.values(keys).await?,
        };
        let by_id = values.first().copied().flatten().is_some();
        let by_sid = session.provider_sid.is_some() && values.get(1).copied().flatten().is_some();
        let signed_in_by = |index: usize| {
            values
                .get(index)
                .copied()
                .flatten()
                .is_some_and(|cutoff| session.signed_in_at <= cutoff)
        };
        let by_user = signed_in_by(2);
        let by_member = session.member.is_some() && signed_in_by(3);
        Ok(by_id || by_sid || by_user || by_member)
    }

    /// Puts `entry` first in the short list `list`, keeping the newest `keep` entries, until
    /// `until` (each write renews it). For display only; see `recent`.
    pub async fn push_recent(
        &self,
        list: &str,
        entry: &str,
        keep: usize,
        until: u64,
        now: u64,
    ) -> Result<(), StoreUnavailable> {
        let key = digest(RECENT, list);
        match self {
            Store::Memory(m) => {
                m.recent.push(&key, entry, keep, until, now);
                Ok(())
            }
            Store::Redis(r) => r.push_recent(&key, entry, keep, ttl_secs(until, now)).await,
        }
    }

    /// The newest `keep` entries of `list`, newest first.
    pub async fn recent(
        &self,
        list: &str,
        keep: usize,
        now: u64,
    ) -> Result<Vec<String>, StoreUnavailable> {
        let key = digest(RECENT, list);
        match self {
            Store::Memory(m) => Ok(m.recent.get(&key, keep, now)),
            Store::Redis(r) => r.recent(&key, keep).await,
        }
    }

    /// Records a one-time value until `until`: true the first time, false ever after.
    pub async fn first_use(
        &self,
        kind: OneTime,
        value: &str,
        until: u64,
        now: u64,
    ) -> Result<bool, StoreUnavailable> {
        let key = digest(kind.label(), value);
        match self {
            Store::Memory(m) => m.first_use(&key, until, now),
            Store::Redis(r) => r.first_use(&key, ttl_secs(until, now)).await,
        }
    }
}

/// How often, and how long, a record the store could not take is retried in the background.
const RECORD_RETRIES: u64 = 60;
const RECORD_RETRY_INTERVAL: Duration = Duration::from_secs(5);

/// Runs `record` (given the time now) until the store takes it: at once, then, if the store is
/// unreachable, in the background, soon at first and then every few seconds for about five
/// minutes. The caller does not wait: the cookie is cleared, or the provider's back-channel
/// logout covers the same sessions, either way.
pub async fn record_with_retries<F, Fut>(what: &'static str, record: F)
where
    F: Fn(u64) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<(), StoreUnavailable>> + Send,
{
    use crate::session::now_secs;

    if record(now_secs()).await.is_ok() {
        return;
    }
    tokio::spawn(async move {
        for attempt in 1..=RECORD_RETRIES {
            tokio::time::sleep(RECORD_RETRY_INTERVAL.min(Duration::from_secs(attempt))).await;
            if record(now_secs()).await.is_ok() {
                return;
            }
            tracing::warn!(
                attempt,
                what,
                "could not record in the session store yet; retrying"
            );
        }
        tracing::error!(
            what,
            "gave up recording in the session store: a copied cookie stays usable until its timeouts"
        );
    });
}

/// How long one instance may hold the refresh of a session before others may try: longer than
/// the longest the locked section can take, so a slow refresh is not run twice (the provider
/// would take the second redemption of a rotated refresh token for theft and end the session).
/// Discovery and the keys are ready before the lock is taken; the section is the token call and
/// at most three key fetches (a revalidation past the keys' max age, a refetch for the access
/// token's new `kid`, another for the ID token's), each bounded by the provider client's 10 s
/// timeout, one at a time (a refetch queued behind another's does not fetch again). A refresh that
/// fails with nothing to share (an outage) gives the lock up at once.
pub const REFRESH_LOCK: Duration = Duration::from_secs(45);

/// How long an instance waits for another's refresh of the same session before it answers
/// "unavailable" (the lock stays with its holder): within the request's time limit.
pub const REFRESH_WAIT: Duration = Duration::from_secs(15);
