//! The signed-in session: the tokens and the facts derived from them when they were validated,
//! kept in sealed cookies between requests (see `session_cookies`). The server enforces the idle
//! and absolute timeouts from the timestamps inside (checklist C8, R7).

use std::borrow::Cow;
use std::fmt;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::secret::random_token;
use crate::store::EndedKeys;
use crate::user::User;
use crate::values::Issuer;

/// Refresh when the access token has less than this left (Scalekit's own examples use a minute).
pub const REFRESH_SKEW_SECS: u64 = 60;
/// `last_seen` is rewritten at most this often, so not every request sets a cookie.
pub const TOUCH_INTERVAL_SECS: u64 = 60;

/// How long a session may live; the server checks both limits against the session's own timestamps
/// (checklist C8).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionPolicy {
    /// Seconds without a request after which the session ends.
    pub idle_timeout_secs: u64,
    /// Seconds after sign-in after which the session ends, whatever happens.
    pub absolute_timeout_secs: u64,
}

/// One signed-in session, as sealed in the session cookie: the validated tokens and what was
/// derived from them. `Debug` shows a fingerprint of the id and no token.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// Random, new at every sign-in: names this session in the ended-session list and logs.
    pub(crate) id: String,
    /// The issuer the tokens were validated against; a refresh under another issuer ends the
    /// session.
    pub(crate) issuer: Issuer,
    /// Who is signed in, derived from the validated tokens.
    pub(crate) user: User,
    /// The current access token, validated when it arrived.
    pub(crate) access_token: String,
    /// The access token's `exp`, in seconds since the epoch.
    pub(crate) access_token_expires_at: u64,
    /// The refresh token, when the provider issued one (scope `offline_access`).
    pub(crate) refresh_token: Option<String>,
    /// The latest ID token, kept as the `id_token_hint` for RP-initiated logout.
    pub(crate) id_token: Option<String>,
    /// When the user signed in, in seconds since the epoch: the absolute timeout counts from here,
    /// and a refresh keeps it (checklist R7).
    pub(crate) signed_in_at: u64,
    /// The last request seen, in seconds since the epoch (rewritten at most every
    /// [`TOUCH_INTERVAL_SECS`]): the idle timeout counts from here.
    pub(crate) last_seen: u64,
    /// The provider's session (`sid` claim), which back-channel logout names. Absent in cookies
    /// written before it was recorded, and with providers that send none.
    #[serde(default)]
    pub(crate) provider_sid: Option<String>,
    /// The tokens' fingerprints, taken when they arrived, so pages that show them do not hash
    /// every token on every request. Absent in cookies written before they were kept: then
    /// [`Session::fingerprints`] computes them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) fingerprints: Option<TokenFingerprints>,
    /// The ended-session records' keys, made on first use; never in the cookie.
    #[serde(skip)]
    pub(crate) ended_keys: EndedKeysCell,
}

/// Where a session keeps its [`EndedKeys`]. Not part of what the session is: two sessions are
/// equal whatever either has made already.
#[derive(Clone, Debug, Default)]
pub(crate) struct EndedKeysCell(OnceLock<EndedKeys>);

impl PartialEq for EndedKeysCell {
    fn eq(&self, _: &EndedKeysCell) -> bool {
        true
    }
}

impl Eq for EndedKeysCell {}

/// Short fingerprints of a session's tokens (see [`fingerprint`]): enough to see that a refresh
/// changed one, nothing usable.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenFingerprints {
    /// The access token's.
    pub access_token: String,
    /// The refresh token's, when the session has one.
    pub refresh_token: Option<String>,
    /// The ID token's, when the session has one.
    pub id_token: Option<String>,
}

impl TokenFingerprints {
    /// The fingerprints of these tokens.
    pub fn of(access_token: &str, refresh_token: Option<&str>, id_token: Option<&str>) -> Self {
        TokenFingerprints {
            access_token: fingerprint(access_token),
            refresh_token: refresh_token.map(fingerprint),
            id_token: id_token.map(fingerprint),
        }
    }
}

/// Never prints a token.
impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("id", &fingerprint(&self.id))
            .field("sub", &self.user.sub)
            .field("access_token_expires_at", &self.access_token_expires_at)
            .field("has_refresh_token", &self.refresh_token.is_some())
            .field("signed_in_at", &self.signed_in_at)
            .field("last_seen", &self.last_seen)
            .finish_non_exhaustive()
    }
}

/// What a request should do with its session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionCheck {
    /// Usable as it is.
    Valid,
    /// Valid, but the access token is about to expire (or has): refresh before use.
    NeedsRefresh,
    /// Over, for the given reason: sign in again.
    Ended(EndReason),
}

/// Why [`Session::check`] ended a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EndReason {
    /// No request within the idle timeout.
    IdleTimeout,
    /// The absolute timeout since sign-in has passed.
    AbsoluteTimeout,
    /// Expired access token and no refresh token to get another.
    TokenExpired,
}

/// Seconds since the epoch.
pub fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// A new random session id (128 bits).
pub fn new_session_id() -> String {
    random_token(16)
}

/// A short, non-reversible name for a secret: enough to tell two tokens apart in the UI or logs.
pub fn fingerprint(secret: &str) -> String {
    crate::hex::lower(&Sha256::digest(secret.as_bytes())[..6])
}

impl Session {
    /// Random, new at every sign-in: names this session in the ended-session list and logs.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The issuer the tokens were validated against.
    pub fn issuer(&self) -> &Issuer {
        &self.issuer
    }

    /// Who is signed in, derived from the validated tokens.
    pub fn user(&self) -> &User {
        &self.user
    }

    /// The current access token, validated when it arrived: for calls to APIs that accept it.
    pub fn access_token(&self) -> &str {
        &self.access_token
    }

    /// The access token's `exp`, in seconds since the epoch.
    pub fn access_token_expires_at(&self) -> u64 {
        self.access_token_expires_at
    }

    /// The refresh token, when the provider issued one (scope `offline_access`).
    pub fn refresh_token(&self) -> Option<&str> {
        self.refresh_token.as_deref()
    }

    /// The latest ID token (the `id_token_hint` for RP-initiated logout).
    pub fn id_token(&self) -> Option<&str> {
        self.id_token.as_deref()
    }

    /// When the user signed in, in seconds since the epoch.
    pub fn signed_in_at(&self) -> u64 {
        self.signed_in_at
    }

    /// The last request seen, in seconds since the epoch.
    pub fn last_seen(&self) -> u64 {
        self.last_seen
    }

    /// The same session with its tokens' fingerprints taken now (where the tokens arrive).
    pub(crate) fn with_fingerprints(mut self) -> Session {
        self.fingerprints = Some(self.fingerprints_now());
        self
    }

    /// The tokens' fingerprints: those kept when the tokens arrived, else computed now.
    pub fn fingerprints(&self) -> std::borrow::Cow<'_, TokenFingerprints> {
        match &self.fingerprints {
            Some(kept) => std::borrow::Cow::Borrowed(kept),
            None => std::borrow::Cow::Owned(self.fingerprints_now()),
        }
    }

    fn fingerprints_now(&self) -> TokenFingerprints {
        TokenFingerprints::of(
            &self.access_token,
            self.refresh_token.as_deref(),
            self.id_token.as_deref(),
        )
    }

    /// The provider's session id (`sid`), when the provider sent one.
    pub fn provider_sid(&self) -> Option<&str> {
        self.provider_sid.as_deref()
    }

    /// What the ended-session records know this session by.
    pub fn keys(&self) -> crate::store::SessionKeys<'_> {
        crate::store::SessionKeys {
            id: &self.id,
            provider_sid: self.provider_sid.as_deref(),
            sub: &self.user.sub,
            signed_in_at: self.signed_in_at,
            member: self
                .user
                .organization_id
                .as_deref()
                .zip(self.user.email.as_deref())
                .map(|(organization_id, email)| crate::store::Member {
                    organization_id,
                    email,
                }),
        }
    }

    /// The keys of the records that can end this session, made once per session value. Checked
    /// against the values they were made from, so a copy whose id, provider session or user was
    /// changed afterwards gets its own.
    pub(crate) fn ended_keys(&self) -> Cow<'_, EndedKeys> {
        let keys = self.keys();
        let made = self.ended_keys.0.get_or_init(|| EndedKeys::new(keys));
        if made.are_for(keys) {
            Cow::Borrowed(made)
        } else {
            Cow::Owned(EndedKeys::new(keys))
        }
    }

    /// When the absolute timeout ends the session: `signed_in_at` plus the absolute timeout, in
    /// seconds since the epoch.
    pub fn absolute_expires_at(&self, policy: &SessionPolicy) -> u64 {
        self.signed_in_at
            .saturating_add(policy.absolute_timeout_secs)
    }

    /// When the idle timeout ends the session unless a request comes first, never later than the
    /// absolute timeout; in seconds since the epoch.
    pub fn idle_expires_at(&self, policy: &SessionPolicy) -> u64 {
        self.last_seen
            .saturating_add(policy.idle_timeout_secs)
            .min(self.absolute_expires_at(policy))
    }

    /// What a request at `now` should do with the session: the absolute timeout is checked first,
    /// then the idle one, then whether the access token is within `REFRESH_SKEW_SECS` of its
    /// expiry (refresh then, or end the session once the token has expired and there is no refresh
    /// token).
    pub fn check(&self, now: u64, policy: &SessionPolicy) -> SessionCheck {
        if now >= self.absolute_expires_at(policy) {
            return SessionCheck::Ended(EndReason::AbsoluteTimeout);
        }
        if now >= self.last_seen.saturating_add(policy.idle_timeout_secs) {
            return SessionCheck::Ended(EndReason::IdleTimeout);
        }
        if now.saturating_add(REFRESH_SKEW_SECS) >= self.access_token_expires_at {
            if self.refresh_token.is_none() {
                return if now >= self.access_token_expires_at {
                    SessionCheck::Ended(EndReason::TokenExpired)
                } else {
                    SessionCheck::Valid
                };
            }
            return SessionCheck::NeedsRefresh;
        }
        SessionCheck::Valid
    }

    /// Whether the access token can still be used as it is.
    pub fn access_token_valid(&self, now: u64) -> bool {
        now < self.access_token_expires_at
    }

    /// True when `last_seen` is old enough to be worth rewriting.
    pub fn wants_touch(&self, now: u64) -> bool {
        now.saturating_sub(self.last_seen) >= TOUCH_INTERVAL_SECS
    }
}

/// A session for the crate's tests: `sub` signed in at `now` under `id`, holding all three
/// tokens (access token `at`, valid for 299 s). Tests change what they are about with struct
/// update syntax.
#[cfg(test)]
pub(crate) fn test_session(id: &str, sub: &str, now: u64) -> Session {
    Session {
        id: id.into(),
        issuer: Issuer::validated("https://env.example"),
        user: User {
            sub: sub.into(),
            ..User::default()
        },
        access_token: "at".into(),
        access_token_expires_at: now + 299,
        refresh_token: Some("rt".into()),
        id_token: Some("id".into()),
        signed_in_at: now,
        last_seen: now,
        provider_sid: None,
        fingerprints: None,
        ended_keys: Default::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: SessionPolicy = SessionPolicy {
        idle_timeout_secs: 1800,
        absolute_timeout_secs: 8 * 3600,
    };

    fn session(now: u64) -> Session {
        Session {
            access_token: "at-secret".into(),
            refresh_token: Some("rt-secret".into()),
            id_token: Some("id-secret".into()),
            ..test_session(&new_session_id(), "usr_1", now)
        }
    }

    #[test]
    fn o6_the_ended_session_keys_are_made_once_and_follow_the_values_they_name() {
        let s = session(1000);
        let made = s.ended_keys();
        assert!(matches!(made, Cow::Borrowed(_)), "kept after the first use");
        assert_eq!(*made, EndedKeys::new(s.keys()));
        // A copy carries the kept keys; once one of the values they name changes, it gets its own.
        let mut moved = s.clone();
        moved.provider_sid = Some("sid_2".into());
        assert_eq!(*moved.ended_keys(), EndedKeys::new(moved.keys()));
        assert_ne!(*moved.ended_keys(), *s.ended_keys());
        assert_eq!(moved, {
            let mut fresh = session(1000);
            fresh.id = s.id.clone();
            fresh.provider_sid = Some("sid_2".into());
            fresh
        });
    }

    #[test]
    fn c8_idle_and_absolute_timeouts_come_from_the_session_timestamps() {
        let s = session(1000);
        assert_eq!(s.check(1000, &POLICY), SessionCheck::Valid);
        assert_eq!(
            s.check(1000 + 1800, &POLICY),
            SessionCheck::Ended(EndReason::IdleTimeout)
        );
        let mut active = session(1000);
        active.last_seen = 1000 + 8 * 3600 - 10;
        assert_eq!(
            active.check(1000 + 8 * 3600, &POLICY),
            SessionCheck::Ended(EndReason::AbsoluteTimeout)
        );
    }

    #[test]
    fn r1_refresh_is_due_inside_the_skew_window() {
        let s = session(1000);
        assert_eq!(s.check(1000 + 299 - 61, &POLICY), SessionCheck::Valid);
        assert_eq!(
            s.check(1000 + 299 - 60, &POLICY),
            SessionCheck::NeedsRefresh
        );
        assert_eq!(s.check(1000 + 400, &POLICY), SessionCheck::NeedsRefresh);
        let mut no_refresh = session(1000);
        no_refresh.refresh_token = None;
        assert_eq!(no_refresh.check(1000 + 250, &POLICY), SessionCheck::Valid);
        assert_eq!(
            no_refresh.check(1000 + 299, &POLICY),
            SessionCheck::Ended(EndReason::TokenExpired)
        );
    }

    #[test]
    fn r7_the_idle_expiry_never_passes_the_absolute_one() {
        let mut s = session(0);
        s.last_seen = 8 * 3600 - 5;
        assert_eq!(s.idle_expires_at(&POLICY), 8 * 3600);
    }

    #[test]
    fn c4_debug_carries_fingerprints_not_tokens() {
        let s = session(0);
        let text = format!("{s:?}");
        for secret in ["at-secret", "rt-secret", "id-secret"] {
            assert!(!text.contains(secret), "{text}");
        }
        assert_eq!(fingerprint("x").len(), 12);
        assert_ne!(fingerprint("at-secret"), "at-secret");
    }

    #[test]
    fn c4_kept_fingerprints_are_those_of_the_tokens() {
        let computed = session(0);
        let kept = TokenFingerprints::of("at-secret", Some("rt-secret"), Some("id-secret"));
        assert_eq!(*computed.fingerprints(), kept);
        assert_eq!(kept.access_token, fingerprint("at-secret"));
        // A cookie written before they were kept reads as before; one with them keeps them.
        let mut json = serde_json::to_value(&computed).expect("serializes");
        assert!(json.get("fingerprints").is_none());
        json["fingerprints"] = serde_json::to_value(&kept).expect("serializes");
        let read: Session = serde_json::from_value(json).expect("parses");
        assert!(matches!(read.fingerprints(), std::borrow::Cow::Borrowed(_)));
        assert_eq!(*read.fingerprints(), kept);
    }
}
