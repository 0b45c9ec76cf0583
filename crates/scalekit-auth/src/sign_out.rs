//! Signing out: this browser's session ([`Auth::sign_out`], then the provider's end-session URL
//! with a sealed `state`, checklist O1–O5), another of the user's sessions or all of them on every
//! instance ([`Auth::end_provider_session`], [`Auth::end_user_sessions`]), and the provider's
//! back-channel logout ([`Auth::accept_logout_token`], checklist O8).
//!
//! The logout `state` is sealed with the cookie key rather than stored in a cookie, because the
//! logout response's `Clear-Site-Data` removes every cookie.

use tower_cookies::Cookies;

use crate::auth::Auth;
use crate::logout_token::{validate_logout_token, LogoutClaims, LogoutExpected, LogoutTokenError};
use crate::sealed::{open, seal};
use crate::session::{now_secs, Session};
use crate::store::{record_with_retries, Member, OneTime, StoreUnavailable};

/// A logout round trip must come back within this time.
pub const LOGOUT_STATE_TTL_SECS: u64 = 600;
/// Associated data that makes a logout state useless as anything else.
const PURPOSE: &str = "logout-state";

/// Why a back-channel logout token was not acted on.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LogoutTokenRefusal {
    /// The token failed validation: answer 400, the provider must not retry.
    #[error("the logout token is invalid: {0}")]
    Invalid(String),
    /// The token was already acted on (its `jti` is recorded): answer 400.
    #[error("the logout token was already used")]
    Replayed,
    /// The provider's keys or the session store could not be reached: answer 503, the provider
    /// retries.
    #[error("back-channel logout is unavailable: {0}")]
    Unavailable(String),
}

impl Auth {
    /// Signs this browser out: revokes the session's refresh token at the provider (best effort),
    /// records the session as ended on every instance (so a copied cookie is refused) and clears
    /// the session and transaction cookies. `session` is the request's, if it had one.
    pub async fn sign_out(&self, cookies: &Cookies, session: Option<&Session>) {
        match session {
            Some(session) => {
                self.rp.revoke(session).await;
                self.end(cookies, session).await;
                tracing::info!(sub = %session.user.sub, "signed out");
            }
            None => self.cookies.clear_session(cookies),
        }
        self.cookies.clear_transaction(cookies);
    }

    /// Where to send the browser to end the provider's session too (RP-initiated logout): the
    /// end-session endpoint with the session's ID token as hint, the post-logout redirect URI and
    /// a fresh sealed `state` ([`Auth::is_our_sign_out_state`] recognises it). `None` when the
    /// provider offers no end-session endpoint or cannot be reached.
    pub async fn end_session_url(&self, session: Option<&Session>, now: u64) -> Option<String> {
        let state = seal(&self.key, PURPOSE, &now.to_string());
        self.rp.end_session_url(session, &state).await
    }

    /// True when `state` is one [`Auth::end_session_url`] issued, less than
    /// `LOGOUT_STATE_TTL_SECS` ago. Nothing records its use: it only decides whether the home
    /// page says "you are signed out".
    pub fn is_our_sign_out_state(&self, state: &str, now: u64) -> bool {
        is_logout_state(&self.key, state, now)
    }

    /// Records the provider session `sid` as ended on every instance (after the app revoked it at
    /// the provider), retrying in the background for a while if the store is unreachable.
    pub async fn end_provider_session(&self, sid: &str) {
        let absolute = self.policy().absolute_timeout_secs;
        let store = self.store().clone();
        let sid = sid.to_string();
        record_with_retries("an ended provider session", move |now| {
            let (store, sid) = (store.clone(), sid.clone());
            async move {
                store
                    .end_provider_session(&sid, ended_until(now, absolute), now)
                    .await
            }
        })
        .await;
    }

    /// Records every session of user `sub` that began at or before `cutoff` (seconds since the
    /// epoch) as ended on every instance, retrying in the background for a while if the store is
    /// unreachable: "sign out everywhere", or a user removed at the provider.
    pub async fn end_user_sessions(&self, sub: &str, cutoff: u64) {
        let absolute = self.policy().absolute_timeout_secs;
        let store = self.store().clone();
        let sub = sub.to_string();
        record_with_retries("a user's ended sessions", move |now| {
            let (store, sub) = (store.clone(), sub.clone());
            async move {
                store
                    .end_user_sessions(&sub, cutoff, ended_until(now, absolute), now)
                    .await
            }
        })
        .await;
    }

    /// [`Auth::end_provider_session`] once, answering whether the store took it, for a caller
    /// that must not acknowledge what it could not record (a webhook: its sender retries).
    pub async fn try_end_provider_session(&self, sid: &str) -> Result<(), StoreUnavailable> {
        let now = now_secs();
        let until = ended_until(now, self.policy().absolute_timeout_secs);
        self.store().end_provider_session(sid, until, now).await
    }

    /// [`Auth::end_user_sessions`] once, answering whether the store took it.
    pub async fn try_end_user_sessions(
        &self,
        sub: &str,
        cutoff: u64,
    ) -> Result<(), StoreUnavailable> {
        let now = now_secs();
        let until = ended_until(now, self.policy().absolute_timeout_secs);
        self.store()
            .end_user_sessions(sub, cutoff, until, now)
            .await
    }

    /// Every session of an organization's member, named by email as a directory (SCIM) names
    /// them, that began at or before `cutoff`, recorded as ended on every instance; answers
    /// whether the store took it. A session matches when its user's `email` claim equals
    /// `email` (ignoring ASCII case) and it is for `organization_id`.
    pub async fn try_end_member_sessions(
        &self,
        organization_id: &str,
        email: &str,
        cutoff: u64,
    ) -> Result<(), StoreUnavailable> {
        let now = now_secs();
        let member = Member {
            organization_id,
            email,
        };
        let until = ended_until(now, self.policy().absolute_timeout_secs);
        self.store()
            .end_member_sessions(member, cutoff, until, now)
            .await
    }

    /// Acts on a back-channel logout token (Back-Channel Logout 1.0): validates it
    /// (`validate_logout_token`), ends the provider session it names (`sid`), or else every
    /// session of the user (`sub`) signed in at or before its `iat`, and only after that records
    /// its `jti`, so a replayed token is refused. Ending is idempotent, so a store failure at
    /// either step is [`LogoutTokenRefusal::Unavailable`] and the provider's retry finishes the job.
    pub async fn accept_logout_token(
        &self,
        token: &str,
        now: u64,
    ) -> Result<LogoutClaims, LogoutTokenRefusal> {
        let unavailable = |StoreUnavailable(reason)| LogoutTokenRefusal::Unavailable(reason);
        let claims = validate(self, token, now).await?;
        end_named_sessions(self, &claims, now)
            .await
            .map_err(unavailable)?;
        let first = self
            .store()
            .first_use(
                OneTime::LogoutToken,
                &claims.jti,
                claims.remember_until,
                now,
            )
            .await
            .map_err(unavailable)?;
        if !first {
            return Err(LogoutTokenRefusal::Replayed);
        }
        Ok(claims)
    }
}

/// Until when an ended-session record made `now` must be kept: sessions that began before now
/// live at most one absolute timeout more.
fn ended_until(now: u64, absolute_timeout_secs: u64) -> u64 {
    now.saturating_add(absolute_timeout_secs)
}

fn is_logout_state(key: &tower_cookies::Key, state: &str, now: u64) -> bool {
    open(key, PURPOSE, state)
        .and_then(|issued| issued.parse::<u64>().ok())
        .is_some_and(|issued| issued <= now && now - issued <= LOGOUT_STATE_TTL_SECS)
}

async fn validate(auth: &Auth, token: &str, now: u64) -> Result<LogoutClaims, LogoutTokenRefusal> {
    let endpoints = auth
        .rp
        .endpoints()
        .await
        .map_err(|e| LogoutTokenRefusal::Unavailable(e.to_string()))?;
    let expected = LogoutExpected {
        issuer: &endpoints.metadata.issuer,
        client_id: auth.rp.client_id(),
        now,
    };
    endpoints
        .jwks
        .check_with_keys(
            |keys| validate_logout_token(token, keys, &expected),
            |e| matches!(e, LogoutTokenError::UnknownKey(_)),
        )
        .await
        .map_err(|e| LogoutTokenRefusal::Unavailable(e.to_string()))?
        .map_err(|e| {
            crate::telemetry::token_refused("logout", e.reason());
            LogoutTokenRefusal::Invalid(e.to_string())
        })
}

/// The provider's session when the token names one (it identifies the session exactly);
/// otherwise every session of the user that began before the token was issued, or before now if
/// it says it was issued later.
async fn end_named_sessions(
    auth: &Auth,
    claims: &LogoutClaims,
    now: u64,
) -> Result<(), StoreUnavailable> {
    let until = ended_until(now, auth.rp.policy().absolute_timeout_secs);
    match (&claims.sid, &claims.sub) {
        (Some(sid), _) => auth.rp.store.end_provider_session(sid, until, now).await,
        // A provider clock ahead of ours (validation allows its leeway) must not reach past now,
        // into sign-ins made after the token.
        (None, Some(sub)) => {
            auth.rp
                .store
                .end_user_sessions(sub, claims.iat.min(now), until, now)
                .await
        }
        (None, None) => Ok(()), // refused by validation already
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tower_cookies::Key;

    #[test]
    fn o4_logout_state_is_ours_and_fresh() {
        let key = Key::generate();
        let state = seal(&key, PURPOSE, "1000");
        assert!(is_logout_state(&key, &state, 1000 + 60));
        assert!(!is_logout_state(
            &key,
            &state,
            1000 + LOGOUT_STATE_TTL_SECS + 1
        ));
        assert!(!is_logout_state(&key, &state, 999), "issued in the future");
        assert!(!is_logout_state(&Key::generate(), &state, 1000));
        assert!(!is_logout_state(&key, "forged", 1000));
        assert!(!is_logout_state(&key, &seal(&key, "other", "1000"), 1000));
    }
}
