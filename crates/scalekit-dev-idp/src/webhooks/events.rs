//! The events the provider sends, in Scalekit's envelope (`ScalekitEvent`): `spec_version`, an
//! `evt_…` id, `type`, `occurred_at`, `environment_id`, `object`, `organization_id`, `data` and
//! `display_name`. The data carries what the app reads (`src/webhooks/events.rs` there):
//! `data.user.id` and `.email`, `data.organization`, and `data.user_session.session_id` for a
//! logout.

use serde_json::{json, Value};

use crate::settings::{Organization, Persona};
use crate::{now, rfc3339, scalekit_id};

/// The development environment's id, as Scalekit names its environments.
pub const ENVIRONMENT_ID: &str = "env_100000000000000001";

/// Event types, as Scalekit writes them.
pub const USER_LOGIN: &str = "user.login";
/// A person created their account (`prompt=create`).
pub const USER_SIGNUP: &str = "user.signup";
/// A provider session ended.
pub const USER_LOGOUT: &str = "user.logout";
/// Scalekit's event for a role change.
pub const MEMBERSHIP_UPDATED: &str = "user.organization_membership_updated";
/// The user was removed from the organization.
pub const MEMBERSHIP_DELETED: &str = "user.organization_membership_deleted";

/// One event, serialised once: every target and every attempt gets the same bytes.
#[derive(Clone, Debug)]
pub struct Event {
    /// `evt_…`, also the `webhook-id` header (so a receiver can drop a retried copy).
    pub id: String,
    pub kind: &'static str,
    pub body: String,
}

fn envelope(
    kind: &'static str,
    object: &str,
    organization_id: &str,
    display_name: &str,
    data: Value,
) -> Event {
    let id = scalekit_id("evt_");
    let body = json!({
        "spec_version": "1",
        "id": id,
        "type": kind,
        "occurred_at": rfc3339(now()),
        "environment_id": ENVIRONMENT_ID,
        "object": object,
        "organization_id": organization_id,
        "data": data,
        "display_name": display_name,
    })
    .to_string();
    Event { id, kind, body }
}

fn user(persona: &Persona) -> Value {
    json!({
        "id": persona.sub,
        "email": persona.email,
        "name": persona.name,
        "given_name": persona.given_name,
        "family_name": persona.family_name,
    })
}

fn organization(persona: &Persona, organization: Option<&Organization>) -> Value {
    json!({
        "id": persona.organization_id,
        "name": organization.map(|o| o.name.as_str()).unwrap_or_default(),
    })
}

/// `persona` created their account and joined its organization.
pub fn user_signup(persona: &Persona, org: Option<&Organization>) -> Event {
    envelope(
        USER_SIGNUP,
        "User",
        &persona.organization_id,
        "User signed up",
        json!({
            "user": user(persona),
            "organization": organization(persona, org),
        }),
    )
}

/// `persona` signed in, in provider session `sid`.
pub fn user_login(persona: &Persona, org: Option<&Organization>, sid: &str) -> Event {
    envelope(
        USER_LOGIN,
        "User",
        &persona.organization_id,
        "User logged in",
        json!({
            "user": user(persona),
            "organization": organization(persona, org),
            "user_session": { "session_id": sid },
        }),
    )
}

/// Provider session `sid` of user `user_id` (with its persona, when it is still a member) ended.
pub fn user_logout(
    sid: &str,
    user_id: &str,
    organization_id: &str,
    persona: Option<&Persona>,
) -> Event {
    let user = persona.map_or_else(|| json!({ "id": user_id }), user);
    envelope(
        USER_LOGOUT,
        "UserSession",
        organization_id,
        "User logged out",
        json!({
            "user": user,
            "user_session": { "session_id": sid, "user_id": user_id },
        }),
    )
}

/// `persona`'s roles and permissions in its organization are now the ones it carries.
pub fn membership_updated(persona: &Persona, org: Option<&Organization>) -> Event {
    envelope(
        MEMBERSHIP_UPDATED,
        "OrgMembership",
        &persona.organization_id,
        "Organization membership updated",
        json!({
            "user": user(persona),
            "organization": organization(persona, org),
            "roles": persona.roles.iter().map(|r| json!({ "name": r })).collect::<Vec<_>>(),
            "permissions": persona.permissions,
        }),
    )
}

/// `persona` no longer belongs to its organization.
pub fn membership_deleted(persona: &Persona, org: Option<&Organization>) -> Event {
    envelope(
        MEMBERSHIP_DELETED,
        "OrgMembership",
        &persona.organization_id,
        "Organization membership deleted",
        json!({
            "user": user(persona),
            "organization": organization(persona, org),
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::IdpSettings;

    #[test]
    fn w12_events_carry_scalekits_envelope_and_what_the_app_reads() {
        let settings = IdpSettings::default();
        let ada = settings.persona("admin").unwrap();
        let org = settings.organization(&ada.organization_id);
        let event = membership_deleted(ada, org);
        let body: Value = serde_json::from_str(&event.body).unwrap();
        assert_eq!(body["id"], event.id.as_str());
        assert!(event.id.starts_with("evt_"));
        assert_eq!(body["spec_version"], "1");
        assert_eq!(body["type"], MEMBERSHIP_DELETED);
        assert_eq!(body["environment_id"], ENVIRONMENT_ID);
        assert_eq!(body["organization_id"], ada.organization_id.as_str());
        assert_eq!(body["data"]["user"]["id"], ada.sub.as_str());
        assert_eq!(body["data"]["user"]["email"], ada.email.as_str());
        assert_eq!(body["data"]["organization"]["name"], "Acme Development");
        assert!(body["occurred_at"].as_str().unwrap().ends_with('Z'));

        let logout = user_logout("ses_1", &ada.sub, &ada.organization_id, None);
        let body: Value = serde_json::from_str(&logout.body).unwrap();
        assert_eq!(body["data"]["user_session"]["session_id"], "ses_1");
        assert_eq!(body["data"]["user"]["id"], ada.sub.as_str());

        let updated = membership_updated(ada, org);
        let body: Value = serde_json::from_str(&updated.body).unwrap();
        assert_eq!(body["data"]["roles"][0]["name"], "admin");
    }
}
