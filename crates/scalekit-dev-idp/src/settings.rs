//! Who can sign in at the development identity provider, and which clients may ask.
//!
//! Built-in defaults cover the app out of the box: an admin and a member of one organization, and
//! the app's own client registered for the default addresses. A JSON file (`DEV_IDP_CONFIG`) can
//! replace any of the three lists.

use std::path::Path;

use serde::{Deserialize, Serialize};

/// The app's own client, registered by default: a confidential client with management rights.
pub const DEV_CLIENT_ID: &str = "skc_dev_leptos_scalekit";
/// Its secret: public by design, it only works with this provider.
pub const DEV_CLIENT_SECRET: &str = "dev-only-secret-never-used-with-scalekit";
/// The MCP resource registered by default (the app's `/mcp`).
pub const DEV_RESOURCE_ID: &str = "res_100000000000000001";

/// Permission that opens the organization settings page.
pub const SETTINGS_PERMISSION: &str = "organization:settings";
/// Permission that allows managing the organization's API clients.
pub const API_CLIENTS_PERMISSION: &str = "api_clients:manage";
/// Permissions named like the MCP resource's scopes: a user's token opens a tool only with both
/// (Scalekit's scopes-intersected-with-user-permissions).
pub const READ_DEPLOYMENTS_PERMISSION: &str = "read:deployments";
/// See [`READ_DEPLOYMENTS_PERMISSION`].
pub const DEPLOY_APPLICATIONS_PERMISSION: &str = "deploy:applications";

/// Someone who can sign in: one user in one organization, with the claims the tokens carry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Persona {
    /// Short name used by `login_hint` and the picker form (`admin`, `member`).
    pub key: String,
    /// Scalekit user id, `usr_…`.
    pub sub: String,
    /// The `name` claim (`Ada Admin`).
    pub name: String,
    /// The `given_name` claim.
    pub given_name: String,
    /// The `family_name` claim.
    pub family_name: String,
    /// The `email` claim; `login_hint` matches it too.
    pub email: String,
    /// The `email_verified` claim (default true).
    #[serde(default = "yes")]
    pub email_verified: bool,
    /// Organization id, `org_…`.
    pub organization_id: String,
    /// The `roles` claim.
    #[serde(default)]
    pub roles: Vec<String>,
    /// The `permissions` claim; resource scopes are granted only where a permission names them.
    #[serde(default)]
    pub permissions: Vec<String>,
    /// Further organizations the user belongs to, each with its own roles and permissions
    /// (Scalekit users may be members of several). A sign-in is for one of them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub other_memberships: Vec<Membership>,
}

/// A user's membership of one more organization.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Membership {
    /// `org_…`.
    pub organization_id: String,
    /// The `roles` claim in that organization.
    #[serde(default)]
    pub roles: Vec<String>,
    /// The `permissions` claim in that organization.
    #[serde(default)]
    pub permissions: Vec<String>,
}

fn yes() -> bool {
    true
}

impl Persona {
    /// `login_hint` matches the key or the email, ignoring case.
    pub fn matches_hint(&self, hint: &str) -> bool {
        self.key.eq_ignore_ascii_case(hint) || self.email.eq_ignore_ascii_case(hint)
    }
}

/// An organization personas belong to (Scalekit's tenant).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Organization {
    /// `org_…`, the `oid` claim.
    pub id: String,
    /// Its display name.
    pub name: String,
}

/// A client registered ahead of time (the environment's own client, a public MCP client, ...).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientSettings {
    /// `skc_…`.
    pub client_id: String,
    /// None for a public client (PKCE, no secret).
    #[serde(default)]
    pub client_secret: Option<String>,
    /// Where the authorization endpoint may send codes, compared exactly.
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    /// Where the logout endpoint may send the browser afterwards, compared exactly.
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    /// The environment's own client may use client_credentials to call the management API.
    #[serde(default)]
    pub management: bool,
    /// Where the provider POSTs a logout token when a session this client got tokens in ends
    /// (OpenID Connect Back-Channel Logout 1.0). Same scheme, host and port as a redirect URI.
    #[serde(default)]
    pub backchannel_logout_uri: Option<String>,
    /// The app's "Initiate login URL": where IdP-initiated login sends the browser with
    /// `?idp_initiated_login=<token>`. Same scheme, host and port as a redirect URI.
    #[serde(default)]
    pub initiate_login_uri: Option<String>,
}

impl ClientSettings {
    /// Back-Channel Logout §2.2: an absolute http(s) URL without a fragment, whose scheme, host
    /// and port are those of one of the client's redirect URIs.
    fn check_backchannel_logout_uri(&self, uri: &str) -> Result<(), String> {
        self.check_app_uri("backchannel_logout_uri", uri)
    }

    /// An http(s) URL of the app's own: no fragment or credentials, on a redirect URI's origin.
    fn check_app_uri(&self, field: &str, uri: &str) -> Result<(), String> {
        let refuse = |why: &str| {
            Err(format!(
                "client `{}`: {field} `{uri}` {why}",
                self.client_id
            ))
        };
        let Ok(url) = url::Url::parse(uri) else {
            return refuse("is not an absolute URL");
        };
        if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
            return refuse("must be an http or https URL");
        }
        if url.fragment().is_some() || uri.len() > 2000 {
            return refuse("must have no fragment and at most 2000 characters");
        }
        if !url.username().is_empty() || url.password().is_some() {
            return refuse("must not carry credentials");
        }
        let origin = url.origin();
        let same_origin = self
            .redirect_uris
            .iter()
            .filter_map(|r| url::Url::parse(r).ok())
            .any(|r| r.origin() == origin);
        if !same_origin {
            return refuse(
                "must have the scheme, host and port of one of the client's redirect URIs",
            );
        }
        Ok(())
    }
}

/// A protected resource registered at the provider (Scalekit dashboard > MCP servers): MCP
/// clients register for it dynamically and get tokens whose `aud` names it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceSettings {
    /// `res_…`
    pub id: String,
    /// Its display name, on the consent page.
    pub name: String,
    /// Scopes clients may ask for, besides `offline_access`.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// The server's URLs (the RFC 8707 `resource` values clients send); they join the id in `aud`.
    #[serde(default)]
    pub server_urls: Vec<String>,
}

/// Everything the provider knows before it starts: the JSON settings file's shape. Each list left
/// out of the file keeps its built-in default.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdpSettings {
    /// Who can sign in (default: Ada Admin and Max Member of one organization).
    #[serde(default = "default_personas")]
    pub personas: Vec<Persona>,
    /// The organizations personas belong to.
    #[serde(default = "default_organizations")]
    pub organizations: Vec<Organization>,
    /// SSO connections per organization, with the email domains that route to them (default:
    /// one for each built-in organization). The admin portal edits them in memory.
    #[serde(default = "super::connections::default_connections")]
    pub connections: Vec<super::connections::Connection>,
    /// Clients registered ahead of time (default: the environment's own client).
    #[serde(default = "default_clients")]
    pub clients: Vec<ClientSettings>,
    /// Protected resources (default: one MCP server).
    #[serde(default = "default_resources")]
    pub resources: Vec<ResourceSettings>,
    /// Lifetime of user access tokens, seconds (Scalekit's default is five minutes: 299).
    #[serde(default = "default_access_token_ttl")]
    pub access_token_ttl: u64,
    /// Lifetime of ID tokens, seconds.
    #[serde(default = "default_id_token_ttl")]
    pub id_token_ttl: u64,
    /// Endpoints sent Scalekit's signed webhooks (default: none; the app registers its own).
    #[serde(default)]
    pub webhooks: Vec<WebhookTarget>,
}

pub use super::webhooks::{WebhookTarget, DEV_WEBHOOK_SECRET};

/// The built-in organization.
pub const DEFAULT_ORG_ID: &str = "org_100000000000000001";

fn default_personas() -> Vec<Persona> {
    vec![
        Persona {
            key: "admin".into(),
            sub: "usr_100000000000000001".into(),
            name: "Ada Admin".into(),
            given_name: "Ada".into(),
            family_name: "Admin".into(),
            email: "ada.admin@example.com".into(),
            email_verified: true,
            organization_id: DEFAULT_ORG_ID.into(),
            roles: vec!["admin".into()],
            permissions: vec![
                SETTINGS_PERMISSION.into(),
                API_CLIENTS_PERMISSION.into(),
                "organization:read".into(),
                READ_DEPLOYMENTS_PERMISSION.into(),
                DEPLOY_APPLICATIONS_PERMISSION.into(),
            ],
            // A member, not an admin, of the second organization: switching to it changes what
            // she may open.
            other_memberships: vec![Membership {
                organization_id: SECOND_ORG_ID.into(),
                roles: vec!["member".into()],
                permissions: vec!["organization:read".into()],
            }],
        },
        Persona {
            key: "member".into(),
            sub: "usr_100000000000000002".into(),
            name: "Max Member".into(),
            given_name: "Max".into(),
            family_name: "Member".into(),
            email: "max.member@example.com".into(),
            email_verified: true,
            organization_id: DEFAULT_ORG_ID.into(),
            roles: vec!["member".into()],
            // Can list deployments, not create them (MCP tools need the permission too).
            permissions: vec![
                "organization:read".into(),
                READ_DEPLOYMENTS_PERMISSION.into(),
            ],
            other_memberships: Vec::new(),
        },
    ]
}

/// A second organization with no personas, so tenant isolation can be shown and tested.
pub const SECOND_ORG_ID: &str = "org_100000000000000002";

fn default_organizations() -> Vec<Organization> {
    vec![
        Organization {
            id: DEFAULT_ORG_ID.into(),
            name: "Acme Development".into(),
        },
        Organization {
            id: SECOND_ORG_ID.into(),
            name: "Globex Testing".into(),
        },
    ]
}

/// The app's own client, registered for the default addresses on both loopback spellings.
fn default_clients() -> Vec<ClientSettings> {
    let origins = ["http://127.0.0.1:3000", "http://localhost:3000"];
    vec![ClientSettings {
        client_id: DEV_CLIENT_ID.into(),
        client_secret: Some(DEV_CLIENT_SECRET.into()),
        redirect_uris: origins
            .iter()
            .map(|o| format!("{o}/auth/callback"))
            .collect(),
        post_logout_redirect_uris: origins.iter().map(|o| o.to_string()).collect(),
        management: true,
        // The app registers its own when it mounts the provider (`register_app_backchannel_logout_uri`).
        backchannel_logout_uri: None,
        // Likewise (`register_app_initiate_login_uri`).
        initiate_login_uri: None,
    }]
}

/// The example MCP server's resource, with the example API's scopes.
fn default_resources() -> Vec<ResourceSettings> {
    vec![ResourceSettings {
        id: DEV_RESOURCE_ID.into(),
        name: "leptos-scalekit MCP server".into(),
        scopes: vec!["read:deployments".into(), "deploy:applications".into()],
        server_urls: vec![
            "http://127.0.0.1:3000/mcp".into(),
            "http://localhost:3000/mcp".into(),
        ],
    }]
}

fn default_access_token_ttl() -> u64 {
    299
}

fn default_id_token_ttl() -> u64 {
    1800
}

impl Default for IdpSettings {
    fn default() -> Self {
        IdpSettings {
            personas: default_personas(),
            organizations: default_organizations(),
            connections: super::connections::default_connections(),
            clients: default_clients(),
            resources: default_resources(),
            access_token_ttl: default_access_token_ttl(),
            id_token_ttl: default_id_token_ttl(),
            webhooks: Vec::new(),
        }
    }
}

/// Why a settings file was refused.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// The file could not be read.
    #[error("DEV_IDP_CONFIG: cannot read {path}: {reason}")]
    Unreadable {
        /// The file.
        path: String,
        /// The I/O error.
        reason: String,
    },
    /// The file is not valid JSON of this shape, or its values are inconsistent.
    #[error("DEV_IDP_CONFIG: {path} is not valid: {reason}")]
    Invalid {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
}

impl IdpSettings {
    /// Reads the settings file, or the defaults when `path` is None.
    pub fn load(path: Option<&Path>) -> Result<IdpSettings, SettingsError> {
        let Some(path) = path else {
            return Ok(IdpSettings::default());
        };
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| SettingsError::Unreadable {
            path: shown.clone(),
            reason: e.to_string(),
        })?;
        let mut settings: IdpSettings =
            serde_json::from_str(&text).map_err(|e| SettingsError::Invalid {
                path: shown.clone(),
                reason: e.to_string(),
            })?;
        // A file that names its own organizations but no connections keeps the built-in
        // connections of those organizations only.
        let names_connections = serde_json::from_str::<serde_json::Value>(&text)
            .is_ok_and(|v| v.get("connections").is_some());
        if !names_connections {
            let organizations = settings.organizations.clone();
            settings
                .connections
                .retain(|c| organizations.iter().any(|o| o.id == c.organization_id));
        }
        settings.check().map_err(|reason| SettingsError::Invalid {
            path: shown,
            reason,
        })?;
        Ok(settings)
    }

    /// Cross-checks: every persona's organization exists, keys are unique.
    fn check(&self) -> Result<(), String> {
        for persona in &self.personas {
            if !self
                .organizations
                .iter()
                .any(|o| o.id == persona.organization_id)
            {
                return Err(format!(
                    "persona `{}` belongs to unknown organization `{}`",
                    persona.key, persona.organization_id
                ));
            }
            for membership in &persona.other_memberships {
                if self.organization(&membership.organization_id).is_none()
                    || membership.organization_id == persona.organization_id
                {
                    return Err(format!(
                        "persona `{}`: other membership of `{}` must name another known organization",
                        persona.key, membership.organization_id
                    ));
                }
            }
            if self
                .personas
                .iter()
                .filter(|p| p.key == persona.key)
                .count()
                > 1
            {
                return Err(format!("persona key `{}` is used twice", persona.key));
            }
        }
        if self.personas.is_empty() {
            return Err("at least one persona is needed".into());
        }
        self.check_connections()?;
        for client in &self.clients {
            if let Some(uri) = &client.backchannel_logout_uri {
                client.check_backchannel_logout_uri(uri)?;
            }
            if let Some(uri) = &client.initiate_login_uri {
                client.check_app_uri("initiate_login_uri", uri)?;
            }
        }
        for target in &self.webhooks {
            target.check()?;
        }
        Ok(())
    }

    /// Every connection's organization exists, ids are `conn_…` and unique, and a domain belongs to
    /// one organization.
    fn check_connections(&self) -> Result<(), String> {
        for (index, connection) in self.connections.iter().enumerate() {
            if !connection.id.starts_with("conn_")
                || self.connections[..index]
                    .iter()
                    .any(|c| c.id == connection.id)
            {
                return Err(format!(
                    "connection id `{}` must start with conn_ and be unique",
                    connection.id
                ));
            }
            if self.organization(&connection.organization_id).is_none() {
                return Err(format!(
                    "connection `{}` belongs to unknown organization `{}`",
                    connection.id, connection.organization_id
                ));
            }
            for domain in &connection.domains {
                if super::connections::normalize_domain(domain).as_deref() != Some(domain) {
                    return Err(format!(
                        "connection `{}`: `{domain}` is not a lower-case domain name",
                        connection.id
                    ));
                }
                let elsewhere = self.connections.iter().any(|c| {
                    c.organization_id != connection.organization_id && c.domains.contains(domain)
                });
                if elsewhere {
                    return Err(format!(
                        "domain `{domain}` belongs to connections of two organizations"
                    ));
                }
            }
        }
        Ok(())
    }

    /// Registers an extra redirect URI and post-logout URI for a client (the app's configured ones
    /// when the provider runs inside the app).
    pub fn register_app_uris(
        &mut self,
        client_id: &str,
        redirect_uri: &str,
        post_logout_uri: &str,
    ) {
        if let Some(client) = self.clients.iter_mut().find(|c| c.client_id == client_id) {
            if !client.redirect_uris.iter().any(|u| u == redirect_uri) {
                client.redirect_uris.push(redirect_uri.into());
            }
            if !client
                .post_logout_redirect_uris
                .iter()
                .any(|u| u == post_logout_uri)
            {
                client
                    .post_logout_redirect_uris
                    .push(post_logout_uri.into());
            }
        }
    }

    /// Registers the app's back-channel logout URI for its client, when the provider runs inside
    /// the app. A URI named in the settings file is kept; an invalid one (see
    /// `check_backchannel_logout_uri`) is refused.
    pub fn register_app_backchannel_logout_uri(
        &mut self,
        client_id: &str,
        uri: &str,
    ) -> Result<(), String> {
        self.register_app_uri(client_id, "backchannel_logout_uri", uri, |c| {
            &mut c.backchannel_logout_uri
        })
    }

    /// Registers the app's initiate-login URL for its client, when the provider runs inside the
    /// app; one named in the settings file is kept.
    pub fn register_app_initiate_login_uri(
        &mut self,
        client_id: &str,
        uri: &str,
    ) -> Result<(), String> {
        self.register_app_uri(client_id, "initiate_login_uri", uri, |c| {
            &mut c.initiate_login_uri
        })
    }

    /// Sends the webhooks to the app's endpoint too, signed with `secret`, when the provider runs
    /// inside the app. An endpoint already listed is kept with its own secret.
    pub fn register_app_webhook(&mut self, url: &str, secret: &str) -> Result<(), String> {
        if self.webhooks.iter().any(|t| t.url == url) {
            return Ok(());
        }
        let target = WebhookTarget {
            url: url.to_string(),
            secret: secret.to_string(),
        };
        target.check()?;
        self.webhooks.push(target);
        Ok(())
    }

    /// Sets the client's `field` (reached by `slot`) to `uri` unless the file set it, after
    /// checking it is the app's own URL.
    fn register_app_uri(
        &mut self,
        client_id: &str,
        field: &str,
        uri: &str,
        slot: fn(&mut ClientSettings) -> &mut Option<String>,
    ) -> Result<(), String> {
        let Some(client) = self.clients.iter_mut().find(|c| c.client_id == client_id) else {
            return Ok(());
        };
        if slot(client).is_some() {
            return Ok(());
        }
        client.check_app_uri(field, uri)?;
        *slot(client) = Some(uri.to_string());
        Ok(())
    }

    /// Makes sure the app's MCP resource exists (with the given scopes) and knows the app's URL
    /// for it, when the provider runs inside the app.
    pub fn register_app_resource(&mut self, id: &str, server_url: &str, scopes: &[&str]) {
        let index = match self.resources.iter().position(|r| r.id == id) {
            Some(index) => index,
            None => {
                self.resources.push(ResourceSettings {
                    id: id.into(),
                    name: "MCP server".into(),
                    scopes: Vec::new(),
                    server_urls: Vec::new(),
                });
                self.resources.len() - 1
            }
        };
        let resource = &mut self.resources[index];
        for scope in scopes {
            if !resource.scopes.iter().any(|s| s == scope) {
                resource.scopes.push(scope.to_string());
            }
        }
        if !resource.server_urls.iter().any(|u| u == server_url) {
            resource.server_urls.push(server_url.into());
        }
    }

    /// The resource with this `res_…` id.
    pub fn resource(&self, id: &str) -> Option<&ResourceSettings> {
        self.resources.iter().find(|r| r.id == id)
    }

    /// The persona with this key (`admin`).
    pub fn persona(&self, key: &str) -> Option<&Persona> {
        self.personas.iter().find(|p| p.key == key)
    }

    /// The organization with this `org_…` id.
    pub fn organization(&self, id: &str) -> Option<&Organization> {
        self.organizations.iter().find(|o| o.id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_have_an_admin_with_settings_permission_and_a_member_without() {
        let s = IdpSettings::default();
        assert!(s
            .persona("admin")
            .unwrap()
            .permissions
            .contains(&SETTINGS_PERMISSION.to_string()));
        assert!(!s
            .persona("member")
            .unwrap()
            .permissions
            .contains(&SETTINGS_PERMISSION.to_string()));
        assert!(s.check().is_ok());
    }

    #[test]
    fn a8_the_admin_may_deploy_and_the_member_only_read() {
        let s = IdpSettings::default();
        let has = |persona, permission: &str| {
            s.persona(persona)
                .unwrap()
                .permissions
                .iter()
                .any(|p| p == permission)
        };
        assert!(has("admin", READ_DEPLOYMENTS_PERMISSION));
        assert!(has("admin", DEPLOY_APPLICATIONS_PERMISSION));
        assert!(has("member", READ_DEPLOYMENTS_PERMISSION));
        assert!(!has("member", DEPLOY_APPLICATIONS_PERMISSION));
    }

    #[test]
    fn persona_in_unknown_organization_is_refused() {
        let mut s = IdpSettings::default();
        s.personas[0].organization_id = "org_missing".into();
        assert!(s.check().unwrap_err().contains("org_missing"));
    }

    #[test]
    fn partial_file_keeps_defaults_for_the_rest() {
        let s: IdpSettings = serde_json::from_str(r#"{"access_token_ttl": 30}"#).unwrap();
        assert_eq!(s.access_token_ttl, 30);
        assert_eq!(s.personas, default_personas());
    }

    #[test]
    fn settings_file_is_read_and_bad_files_name_the_variable() {
        let dir = std::env::temp_dir().join(format!(
            "leptos-scalekit-idp-settings-{}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let good = dir.join("good.json");
        std::fs::write(&good, r#"{"organizations":[{"id":"org_9","name":"Nine"}],"personas":[{"key":"ops","sub":"usr_9","name":"Ops","given_name":"O","family_name":"P","email":"ops@example.com","organization_id":"org_9"}]}"#).unwrap();
        let loaded = IdpSettings::load(Some(&good)).unwrap();
        assert_eq!(loaded.personas.len(), 1);
        assert_eq!(
            loaded.clients,
            default_clients(),
            "unlisted sections keep their defaults"
        );

        let bad = dir.join("bad.json");
        std::fs::write(&bad, "{not json").unwrap();
        assert!(IdpSettings::load(Some(&bad))
            .unwrap_err()
            .to_string()
            .starts_with("DEV_IDP_CONFIG:"));
        assert!(IdpSettings::load(Some(&dir.join("missing.json"))).is_err());
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn o8_backchannel_logout_uris_share_a_redirect_uris_origin() {
        let mut s = IdpSettings::default();
        let app = "http://127.0.0.1:3000/auth/backchannel-logout";
        s.register_app_backchannel_logout_uri(DEV_CLIENT_ID, app)
            .unwrap();
        assert_eq!(s.clients[0].backchannel_logout_uri.as_deref(), Some(app));
        assert!(s.check().is_ok());
        s.register_app_backchannel_logout_uri(DEV_CLIENT_ID, "http://127.0.0.1:3000/other")
            .unwrap();
        assert_eq!(
            s.clients[0].backchannel_logout_uri.as_deref(),
            Some(app),
            "a configured URI is kept"
        );

        for bad in [
            "http://127.0.0.1:4000/auth/backchannel-logout",
            "https://127.0.0.1:3000/auth/backchannel-logout",
            "http://127.0.0.1:3000/auth/backchannel-logout#frag",
            "http://user:pw@127.0.0.1:3000/logout",
            "ftp://127.0.0.1:3000/logout",
            "/auth/backchannel-logout",
        ] {
            let mut s = IdpSettings::default();
            assert!(
                s.register_app_backchannel_logout_uri(DEV_CLIENT_ID, bad)
                    .is_err(),
                "{bad}"
            );
            s.clients[0].backchannel_logout_uri = Some(bad.into());
            assert!(
                s.check().unwrap_err().contains("backchannel_logout_uri"),
                "{bad}"
            );
        }
        let from_file: ClientSettings = serde_json::from_str(r#"{"client_id": "skc_1"}"#).unwrap();
        assert_eq!(from_file.backchannel_logout_uri, None);
    }

    #[test]
    fn login_hint_matches_key_or_email() {
        let s = IdpSettings::default();
        let admin = s.persona("admin").unwrap();
        assert!(admin.matches_hint("ADMIN"));
        assert!(admin.matches_hint("Ada.Admin@example.com"));
        assert!(!admin.matches_hint("member"));
    }
}
