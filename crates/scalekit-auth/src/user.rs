//! The user summary, derived from validated claims: Scalekit puts roles and permissions in the
//! access token and the profile in the ID token (docs/scalekit-protocol.md §3).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Claim names that may carry permissions, in order of preference.
const PERMISSION_CLAIMS: [&str; 3] = [
    "permissions",
    "https://scalekit.com/permissions",
    "scalekit:permissions",
];

fn text<'a>(claims: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    claims
        .get(name)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// An array of strings, or one space-separated string.
fn list(value: &Value) -> Option<Vec<String>> {
    match value {
        Value::String(s) => Some(s.split_whitespace().map(str::to_string).collect()),
        other => crate::jwt::string_array(other),
    }
}

/// The first claim found in either token (access token first).
fn first<'a>(tokens: [&'a Map<String, Value>; 2], names: &[&str]) -> Option<&'a Value> {
    names
        .iter()
        .find_map(|name| tokens.iter().find_map(|claims| claims.get(*name)))
}

/// The display name: `name`, else given + family name, else the email, else the subject.
fn display_name(id: &Map<String, Value>, access: &Map<String, Value>, sub: &str) -> String {
    for claims in [id, access] {
        if let Some(name) = text(claims, "name") {
            return name.to_string();
        }
        let parts: Vec<&str> = ["given_name", "family_name"]
            .iter()
            .filter_map(|n| text(claims, n))
            .collect();
        if !parts.is_empty() {
            return parts.join(" ");
        }
    }
    [id, access]
        .iter()
        .find_map(|claims| text(claims, "email"))
        .unwrap_or(sub)
        .to_string()
}

/// Who is signed in, derived from the validated tokens and kept in the session cookie.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// The provider's stable user id (`usr_…` at Scalekit): the key for everything per user.
    pub(crate) sub: String,
    /// A name to show: `name`, else given and family name, else the email, else `sub`.
    pub(crate) name: String,
    /// The `email` claim.
    pub(crate) email: Option<String>,
    /// The organization the session is for (`oid`, or `org_id`).
    pub(crate) organization_id: Option<String>,
    /// The `roles` claim.
    pub(crate) roles: Vec<String>,
    /// The `permissions` claim (or Scalekit's namespaced forms).
    pub(crate) permissions: Vec<String>,
}

impl User {
    /// The provider's stable user id (`usr_…` at Scalekit): the key for everything per user.
    pub fn sub(&self) -> &str {
        &self.sub
    }

    /// A name to show: `name`, else given and family name, else the email, else `sub`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The `email` claim.
    pub fn email(&self) -> Option<&str> {
        self.email.as_deref()
    }

    /// The organization the session is for (`oid`, or `org_id`).
    pub fn organization_id(&self) -> Option<&str> {
        self.organization_id.as_deref()
    }

    /// The `roles` claim.
    pub fn roles(&self) -> &[String] {
        &self.roles
    }

    /// The `permissions` claim (or Scalekit's namespaced forms).
    pub fn permissions(&self) -> &[String] {
        &self.permissions
    }

    /// Whether the user's role grants `permission`.
    pub fn has_permission(&self, permission: &str) -> bool {
        self.permissions.iter().any(|p| p == permission)
    }
}

/// The user the access and ID tokens' claims describe.
pub fn summarize(sub: &str, access: &Map<String, Value>, id: &Map<String, Value>) -> User {
    let tokens = [access, id];
    User {
        sub: sub.to_string(),
        name: display_name(id, access, sub),
        email: [id, access]
            .iter()
            .find_map(|claims| text(claims, "email"))
            .map(str::to_string),
        organization_id: [access, id]
            .iter()
            .find_map(|claims| text(claims, "oid").or_else(|| text(claims, "org_id")))
            .map(str::to_string),
        roles: first(tokens, &["roles"]).and_then(list).unwrap_or_default(),
        permissions: first(tokens, &PERMISSION_CLAIMS)
            .and_then(list)
            .unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap()
    }

    #[test]
    fn summary_reads_scalekit_claims() {
        let access = map(json!({
            "sub": "usr_1", "oid": "org_1", "roles": ["admin"],
            "permissions": ["organization:settings", "organization:read"]
        }));
        let id = map(json!({"sub": "usr_1", "name": "Ada Admin", "email": "ada@example.com"}));
        let user = summarize("usr_1", &access, &id);
        assert_eq!(user.name, "Ada Admin");
        assert_eq!(user.email.as_deref(), Some("ada@example.com"));
        assert_eq!(user.organization_id.as_deref(), Some("org_1"));
        assert_eq!(user.roles, ["admin"]);
        assert!(user.has_permission("organization:settings"));
    }

    #[test]
    fn name_falls_back_to_given_and_family_then_email_then_subject() {
        let empty = Map::new();
        let given = map(json!({"given_name": "Max", "family_name": "Member"}));
        assert_eq!(summarize("usr_2", &empty, &given).name, "Max Member");
        let email = map(json!({"email": "max@example.com"}));
        assert_eq!(summarize("usr_2", &empty, &email).name, "max@example.com");
        assert_eq!(summarize("usr_2", &empty, &empty).name, "usr_2");
    }

    #[test]
    fn permissions_fall_back_through_the_namespaced_claims() {
        let empty = Map::new();
        let namespaced = map(json!({"https://scalekit.com/permissions": ["a:b"]}));
        assert_eq!(summarize("s", &namespaced, &empty).permissions, ["a:b"]);
        let colon = map(json!({"scalekit:permissions": "c:d e:f"}));
        assert_eq!(summarize("s", &colon, &empty).permissions, ["c:d", "e:f"]);
        assert!(summarize("s", &empty, &empty).permissions.is_empty());
    }
}
