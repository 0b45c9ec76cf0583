//! What a verified event does. The decision per type:
//!
//! | event type | what the app does | why |
//! |---|---|---|
//! | `user.organization_membership_deleted`, `organization.directory.user_deleted` | ends every session of the user (or directory member), on every instance | the user no longer belongs: the session's organization and permissions are void at once |
//! | `user.organization_membership_updated`, `organization.directory.user_updated` | ends every session of the user (or directory member), on every instance | Scalekit's event for a role change (it has no separate one): permissions may have changed; the next sign-in carries the new ones. Ending is the conservative choice over waiting for the next refresh, which could be minutes away |
//! | `user.logout` | ends the provider session it names (`data.user_session.session_id`), else every session of the user begun before it | a sign-out at Scalekit |
//! | anything else (`user.signup`, `user.login`, `organization.directory.*` created, group and connection events…) | logged and kept for the admins' list | nothing here depends on it |
//!
//! Names and payloads as in Scalekit's OpenAPI (`ScalekitEvent`: `id`, `type`, `occurred_at`,
//! `organization_id`, `data` with `user`, `organization`, `user_session`). A membership event
//! names the user (`usr_…`). A directory event names a directory user (`data.id` is
//! `diruser_…`, with `data.email` and the organization), which is not a Scalekit user id: its
//! sessions are those for that organization whose user's `email` claim is that email
//! (`Auth::try_end_member_sessions`).
//!
//! Ending a user's sessions is `Auth::try_end_user_sessions`: every session of the user that
//! began at or before the event, recorded in the session store, so every instance refuses them on
//! their next request. Sessions begun after the event (a new sign-in) are untouched.

use scalekit_auth::store::StoreUnavailable;
use scalekit_auth::Auth;
use serde_json::Value;

/// A verified event: the fields the app reads, the rest ignored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    pub id: String,
    /// The event type (`user.organization_membership_deleted`…).
    pub kind: String,
    pub organization_id: Option<String>,
    /// The user it concerns (`usr_…`), when it names one.
    pub user_id: Option<String>,
    /// The email it names (`data.email`, `data.user.email`): how a directory event names its
    /// user.
    pub email: Option<String>,
    /// Whom it concerns as the admins' list shows it: the user id, else an email.
    pub subject: Option<String>,
    /// When it happened at Scalekit (seconds since the epoch), when it says.
    pub occurred_at: Option<u64>,
    /// The provider session it names (`data.user_session.session_id`), for `user.logout`.
    pub session_id: Option<String>,
}

/// What [`act`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The user's (or the directory member's) sessions were ended on every instance.
    SessionsEnded,
    /// Nothing to do but log it.
    Logged,
    /// It should have ended sessions but named no user (nor an organization and an email).
    NoUser,
}

impl Outcome {
    pub fn describe(self) -> &'static str {
        match self {
            Outcome::SessionsEnded => "sessions ended",
            Outcome::Logged => "logged",
            Outcome::NoUser => "no user named",
        }
    }
}

/// A short identifier from the payload: letters, digits, `_` and `-`, at most 64 characters.
fn identifier(value: Option<&Value>) -> Option<String> {
    value
        .and_then(Value::as_str)
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 64
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        })
        .map(str::to_string)
}

impl Event {
    /// The event in a delivery's body: an object with an `id` and a `type`.
    pub fn parse(body: &[u8]) -> Result<Event, String> {
        let json: Value =
            serde_json::from_slice(body).map_err(|_| "the body is not JSON".to_string())?;
        let text = |value: Option<&Value>, max: usize| {
            value
                .and_then(Value::as_str)
                .filter(|v| !v.is_empty() && v.len() <= max && !v.chars().any(char::is_control))
                .map(str::to_string)
        };
        let id = text(json.get("id"), 128).ok_or("the event has no id")?;
        let kind = text(json.get("type"), 128).ok_or("the event has no type")?;
        let data = json.get("data").unwrap_or(&Value::Null);
        let organization_id = identifier(json.get("organization_id"))
            .or_else(|| identifier(data.get("organization_id")))
            .or_else(|| identifier(data.pointer("/organization/id")));
        let user_id = identifier(data.get("user_id"))
            .or_else(|| identifier(data.pointer("/user/id")))
            .or_else(|| identifier(data.get("id")).filter(|id| id.starts_with("usr_")));
        let email = text(data.get("email"), 254).or_else(|| text(data.pointer("/user/email"), 254));
        let occurred_at = json
            .get("occurred_at")
            .and_then(Value::as_str)
            .and_then(scalekit_auth::user_sessions::parse_rfc3339);
        let session_id = identifier(data.pointer("/user_session/session_id"));
        Ok(Event {
            session_id,
            id,
            subject: user_id.clone().or_else(|| email.clone()),
            email,
            kind,
            organization_id,
            user_id,
            occurred_at,
        })
    }
}

/// Whether an event of this type ends the user's sessions.
fn ends_sessions(kind: &str) -> bool {
    matches!(
        kind,
        "user.organization_membership_deleted"
            | "organization.directory.user_deleted"
            | "user.organization_membership_updated"
            | "organization.directory.user_updated"
            | "user.logout"
    )
}

/// Acts on `event` (see the module's table), delivered with the signed timestamp `sent_at` and
/// received at `now`. Idempotent, so a retried delivery may act again: the cutoff is the event's
/// `occurred_at`, which Scalekit sends with every event and every retry repeats. Only an event
/// without one falls back on the delivery's timestamp, which a retry renews, so its retry may
/// also end sessions begun in between. An error when the store could not take what it had to
/// record: the delivery is answered 503, and the sender's retry finishes the job.
pub async fn act(
    auth: &Auth,
    event: &Event,
    sent_at: u64,
    now: u64,
) -> Result<Outcome, StoreUnavailable> {
    if !ends_sessions(&event.kind) {
        return Ok(Outcome::Logged);
    }
    if event.kind == "user.logout" {
        if let Some(session) = &event.session_id {
            auth.try_end_provider_session(session).await?;
            return Ok(Outcome::SessionsEnded);
        }
    }
    // Sessions begun up to the event end; a clock ahead of ours never reaches past `now`.
    let cutoff = event.occurred_at.unwrap_or(sent_at).min(now);
    if let Some(user) = &event.user_id {
        auth.try_end_user_sessions(user, cutoff).await?;
        return Ok(Outcome::SessionsEnded);
    }
    match (&event.organization_id, &event.email) {
        (Some(organization), Some(email))
            if is_directory_event(&event.kind) && !email.trim().is_empty() =>
        {
            auth.try_end_member_sessions(organization, email, cutoff)
                .await?;
            Ok(Outcome::SessionsEnded)
        }
        _ => {
            tracing::warn!(event_type = %event.kind, "a webhook that ends sessions named no user");
            Ok(Outcome::NoUser)
        }
    }
}

/// A directory (SCIM) event, which names its user by email within the organization.
fn is_directory_event(kind: &str) -> bool {
    kind.starts_with("organization.directory.")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_is_read_leniently_and_bounded() {
        let event = Event::parse(
            br#"{"id":"evt_1","type":"user.organization_membership_deleted","organization_id":"org_1",
                "occurred_at":"2026-01-02T03:04:05.678Z","data":{"user_id":"usr_9","email":"a@b.example"}}"#,
        )
        .unwrap();
        assert_eq!(event.user_id.as_deref(), Some("usr_9"));
        assert_eq!(event.organization_id.as_deref(), Some("org_1"));
        assert_eq!(event.subject.as_deref(), Some("usr_9"));
        assert!(event.occurred_at.is_some());
        let nested = Event::parse(
            br#"{"id":"evt_2","type":"x","data":{"user":{"id":"usr_3"},"organization":{"id":"org_2"}}}"#,
        )
        .unwrap();
        assert_eq!(nested.user_id.as_deref(), Some("usr_3"));
        assert_eq!(nested.organization_id.as_deref(), Some("org_2"));
        for bad in [&b"not json"[..], br#"{"type":"x"}"#, br#"{"id":"evt_3"}"#] {
            assert!(Event::parse(bad).is_err());
        }
        let hostile =
            Event::parse(br#"{"id":"evt_4","type":"t","data":{"user_id":"usr_1\"><script>"}}"#)
                .unwrap();
        assert_eq!(hostile.user_id, None, "not an identifier");
    }

    #[test]
    fn the_decision_per_type_is_the_documented_one() {
        for kind in [
            "user.organization_membership_deleted",
            "organization.directory.user_updated",
            "user.logout",
        ] {
            assert!(ends_sessions(kind), "{kind}");
        }
        for kind in [
            "user.signup",
            "user.login",
            "organization.directory.user_created",
            "user.deleted",
        ] {
            assert!(!ends_sessions(kind), "{kind}");
        }
    }
}
