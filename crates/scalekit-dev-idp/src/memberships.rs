//! Membership changes made at the provider through `/_control`, as an administrator makes them in
//! Scalekit: a persona's roles (and permissions) changed, or its membership of the organization
//! removed. Each sends its webhook. In memory, like everything but the keys; `reset=true` forgets
//! them.
//!
//! Every read of a persona goes through [`DevIdp::persona`] or [`DevIdp::personas`], which apply
//! the changes: the next token, refresh and userinfo carry the new roles, and a removed persona
//! cannot sign in or refresh any more.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use super::params::Params;
use super::settings::Persona;
use super::webhooks::events;
use super::DevIdp;

/// Roles or permissions given at once, at most, and the longest name.
const MAX_NAMES: usize = 32;
const MAX_NAME_LEN: usize = 64;

#[derive(Clone, Debug)]
enum Change {
    Roles {
        roles: Vec<String>,
        permissions: Vec<String>,
    },
    Removed,
}

/// The changes, by persona key, and the personas created by sign-up.
#[derive(Default)]
pub struct Memberships {
    changes: Mutex<HashMap<String, Change>>,
    signed_up: Mutex<Vec<Persona>>,
}

/// Accounts created by sign-up, at most (scripted sign-ups cannot grow memory without bound).
pub const MAX_SIGN_UPS: usize = 1_000;

impl Memberships {
    fn changes(&self) -> MutexGuard<'_, HashMap<String, Change>> {
        self.changes
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// `persona` as it is now; None once removed.
    fn effective(&self, persona: &Persona) -> Option<Persona> {
        match self.changes().get(&persona.key) {
            None => Some(persona.clone()),
            Some(Change::Removed) => None,
            Some(Change::Roles { roles, permissions }) => Some(Persona {
                roles: roles.clone(),
                permissions: permissions.clone(),
                ..persona.clone()
            }),
        }
    }

    fn signed_up(&self) -> MutexGuard<'_, Vec<Persona>> {
        self.signed_up
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Every persona back as configured (`reset=true`), sign-ups forgotten.
    pub fn reset(&self) {
        self.changes().clear();
        self.signed_up().clear();
    }
}

/// A list of role or permission names, split on commas or spaces: letters, digits and `:_.-`.
fn names(field: &str, raw: &str) -> Result<Vec<String>, String> {
    let names: Vec<String> = raw
        .split([',', ' '])
        .filter(|n| !n.is_empty())
        .map(str::to_string)
        .collect();
    let valid = |n: &String| {
        n.len() <= MAX_NAME_LEN
            && n.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b":_.-".contains(&b))
    };
    if names.len() > MAX_NAMES || !names.iter().all(valid) {
        return Err(format!(
            "{field} must be at most {MAX_NAMES} names of letters, digits and `:_.-`, separated by commas"
        ));
    }
    Ok(names)
}

impl DevIdp {
    /// Who can sign in now: the configured personas with the changes made since start-up.
    pub fn personas(&self) -> Vec<Persona> {
        let signed_up = self.memberships.signed_up().clone();
        self.settings
            .personas
            .iter()
            .chain(signed_up.iter())
            .filter_map(|p| self.memberships.effective(p))
            .collect()
    }

    /// The persona with this key (`admin`) as it is now; None if unknown or removed.
    pub fn persona(&self, key: &str) -> Option<Persona> {
        let configured = self.settings.persona(key).cloned();
        configured
            .or_else(|| {
                self.memberships
                    .signed_up()
                    .iter()
                    .find(|p| p.key == key)
                    .cloned()
            })
            .and_then(|p| self.memberships.effective(&p))
    }

    /// Creates an account, as Scalekit's sign-up does (`prompt=create`): a new user in
    /// `organization_id` with the `member` role and its permissions, and sends `user.signup`.
    /// Refuses a name or email of the wrong shape and an email someone already has. (Scalekit may
    /// also make a new organization for a new user; the development provider keeps its fixed set.)
    pub(crate) fn sign_up(
        &self,
        name: &str,
        email: &str,
        organization_id: &str,
    ) -> Result<Persona, String> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
            return Err("Enter your name (at most 64 characters).".into());
        }
        let email = email.trim().to_ascii_lowercase();
        let domain_ok = email.rsplit_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && super::connections::normalize_domain(domain).is_some()
        });
        if !domain_ok
            || email.len() > 254
            || email.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return Err("Enter a valid email address.".into());
        }
        if self
            .personas()
            .iter()
            .any(|p| p.email.eq_ignore_ascii_case(&email))
        {
            return Err("An account with this email already exists: sign in instead.".into());
        }
        let organization = self
            .settings
            .organization(organization_id)
            .ok_or_else(|| format!("unknown organization `{organization_id}`"))?;
        let (given_name, family_name) = name.split_once(' ').unwrap_or((name, ""));
        let roles = vec!["member".to_string()];
        let persona = Persona {
            key: super::scalekit_id("new_"),
            sub: super::scalekit_id("usr_"),
            name: name.to_string(),
            given_name: given_name.to_string(),
            family_name: family_name.trim().to_string(),
            email,
            email_verified: true,
            organization_id: organization.id.clone(),
            permissions: self.permissions_of_roles(&roles),
            roles,
            other_memberships: Vec::new(),
        };
        {
            let mut signed_up = self.memberships.signed_up();
            if signed_up.len() >= MAX_SIGN_UPS {
                return Err(
                    "Too many accounts were created: reset the provider's controls.".into(),
                );
            }
            signed_up.push(persona.clone());
        }
        self.webhooks
            .send(events::user_signup(&persona, Some(organization)));
        Ok(persona)
    }

    /// What permissions go with `roles` when none are given: those the configured personas
    /// holding each role have (the built-in `admin` role brings Ada's). These are role
    /// definitions, not anyone's membership, so they are read from the settings.
    fn permissions_of_roles(&self, roles: &[String]) -> Vec<String> {
        let mut permissions: Vec<String> = Vec::new();
        let holders = self
            .settings
            .personas
            .iter()
            .filter(|p| p.roles.iter().any(|r| roles.contains(r)));
        for permission in holders.flat_map(|p| &p.permissions) {
            if !permissions.contains(permission) {
                permissions.push(permission.clone());
            }
        }
        permissions
    }

    /// Gives the persona `key` these roles (and these permissions, else the roles' own), and
    /// sends `user.organization_membership_updated`. The persona as it is now.
    pub(crate) fn change_roles(
        &self,
        key: &str,
        roles: Vec<String>,
        permissions: Option<Vec<String>>,
    ) -> Result<Persona, String> {
        if self.persona(key).is_none() {
            return Err(format!("unknown persona `{key}`"));
        }
        let permissions = permissions.unwrap_or_else(|| self.permissions_of_roles(&roles));
        self.memberships
            .changes()
            .insert(key.to_string(), Change::Roles { roles, permissions });
        let persona = self
            .persona(key)
            .ok_or_else(|| format!("unknown persona `{key}`"))?;
        let org = self.settings.organization(&persona.organization_id);
        self.webhooks
            .send(events::membership_updated(&persona, org));
        Ok(persona)
    }

    /// Removes the persona `key` from its organization: it can no longer sign in or refresh.
    /// Sends `user.organization_membership_deleted`; its relying parties end its sessions on it.
    pub(crate) fn remove_membership(&self, key: &str) -> Result<(), String> {
        let Some(persona) = self.persona(key) else {
            return Err(format!("unknown persona `{key}`"));
        };
        self.memberships
            .changes()
            .insert(key.to_string(), Change::Removed);
        let org = self.settings.organization(&persona.organization_id);
        self.webhooks
            .send(events::membership_deleted(&persona, org));
        Ok(())
    }
}

/// The `/_control` form fields of this module: `set_roles=<persona key>` with `roles=<names>`
/// and optionally `permissions=<names>`; `remove_membership=<persona key>`.
pub(crate) fn apply_controls(idp: &DevIdp, params: &Params) -> Result<(), String> {
    if let Some(key) = params.get("set_roles") {
        let roles = names("roles", params.get("roles").unwrap_or_default())?;
        let permissions = params
            .get("permissions")
            .map(|raw| names("permissions", raw))
            .transpose()?;
        idp.change_roles(key, roles, permissions)?;
    }
    if let Some(key) = params.get("remove_membership") {
        idp.remove_membership(key)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_and_permission_names_are_bounded_identifiers() {
        assert_eq!(
            names("roles", "admin, viewer").unwrap(),
            ["admin", "viewer"]
        );
        assert_eq!(names("roles", "").unwrap(), Vec::<String>::new());
        assert!(names("permissions", "read:deployments deploy:applications").is_ok());
        assert!(names("roles", "<script>").is_err());
        assert!(names("roles", &"r,".repeat(MAX_NAMES + 1)).is_err());
        assert!(names("roles", &"r".repeat(MAX_NAME_LEN + 1)).is_err());
    }
}
