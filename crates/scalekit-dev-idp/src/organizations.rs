//! Users in several organizations: a sign-in is for one of them, and its tokens carry that
//! organization's `oid`, roles and permissions. The organization is chosen by the request
//! (`organization_id`, or routing by connection or domain), or on the organization picker: with
//! `prompt=select_account`, or when a person picked on the persona picker belongs to several.
//! Which one a session is for is kept in its record, so refreshes stay in it.

use super::settings::Persona;
use super::DevIdp;

impl Persona {
    /// The organizations the user belongs to, the first one first.
    pub fn organization_ids(&self) -> Vec<&str> {
        std::iter::once(self.organization_id.as_str())
            .chain(
                self.other_memberships
                    .iter()
                    .map(|m| m.organization_id.as_str()),
            )
            .collect()
    }

    /// The user as a member of `organization_id`: that organization and its roles and
    /// permissions; None when they do not belong to it.
    pub fn in_organization(&self, organization_id: &str) -> Option<Persona> {
        if self.organization_id == organization_id {
            return Some(self.clone());
        }
        let membership = self
            .other_memberships
            .iter()
            .find(|m| m.organization_id == organization_id)?;
        Some(Persona {
            organization_id: membership.organization_id.clone(),
            roles: membership.roles.clone(),
            permissions: membership.permissions.clone(),
            ..self.clone()
        })
    }
}

impl DevIdp {
    /// The persona `key` as the session `sid` has it: in the organization that session signed in
    /// to (its first one when the session is no longer recorded). Locks the store: a caller
    /// holding it uses [`DevIdp::persona_in_session_organization`].
    pub(crate) fn session_persona(&self, key: &str, sid: &str) -> Option<Persona> {
        let organization = self
            .store()
            .session_records
            .get(sid)
            .map(|record| record.organization_id.clone());
        self.persona_in_session_organization(key, organization.as_deref())
    }

    /// The persona `key` in `organization` (the session's), or as configured without one.
    pub(crate) fn persona_in_session_organization(
        &self,
        key: &str,
        organization: Option<&str>,
    ) -> Option<Persona> {
        let persona = self.persona(key)?;
        match organization {
            Some(organization) => persona.in_organization(organization),
            None => Some(persona),
        }
    }

    /// `(id, name)` of each of the persona's organizations, for the organization picker.
    pub(crate) fn organizations_of(&self, persona: &Persona) -> Vec<(String, String)> {
        persona
            .organization_ids()
            .into_iter()
            .map(|id| {
                let name = self
                    .settings
                    .organization(id)
                    .map_or(id.to_string(), |o| o.name.clone());
                (id.to_string(), name)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use crate::settings::{IdpSettings, DEFAULT_ORG_ID, SECOND_ORG_ID, SETTINGS_PERMISSION};

    #[test]
    fn a_member_of_two_organizations_has_each_ones_roles() {
        let settings = IdpSettings::default();
        let ada = settings.persona("admin").unwrap();
        assert_eq!(ada.organization_ids(), vec![DEFAULT_ORG_ID, SECOND_ORG_ID]);
        let at_acme = ada.in_organization(DEFAULT_ORG_ID).unwrap();
        assert!(at_acme
            .permissions
            .contains(&SETTINGS_PERMISSION.to_string()));
        let at_globex = ada.in_organization(SECOND_ORG_ID).unwrap();
        assert_eq!(at_globex.organization_id, SECOND_ORG_ID);
        assert_eq!(at_globex.roles, vec!["member".to_string()]);
        assert!(!at_globex
            .permissions
            .contains(&SETTINGS_PERMISSION.to_string()));
        assert!(ada.in_organization("org_9").is_none());
        let max = settings.persona("member").unwrap();
        assert!(max.in_organization(SECOND_ORG_ID).is_none());
    }
}
