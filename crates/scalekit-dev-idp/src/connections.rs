//! Enterprise SSO connections (Scalekit's `conn_…`), one or more per organization, each with the
//! email domains that route to it, and how an authorization request picks one. Scalekit's order
//! (docs: sso/guides/authorization-url): `connection_id`, then `organization_id`, then the
//! domain (`domain_hint`, `domain`, or the domain of an email `login_hint`). The admin portal
//! edits them in memory, so what it changes routes the next sign-in.

use serde::{Deserialize, Serialize};

use super::settings::Organization;

/// An SSO connection of an organization.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Connection {
    /// `conn_…`, first in the ID token's `amr` after a sign-in through it.
    pub id: String,
    /// The organization it signs people into.
    pub organization_id: String,
    /// The identity provider it stands for (`OKTA`, `MICROSOFT_AD`, `GOOGLE`…), as shown.
    #[serde(default = "default_provider")]
    pub provider: String,
    /// Email domains that route here (lower case, no `@`). A domain belongs to one connection.
    #[serde(default)]
    pub domains: Vec<String>,
    /// A disabled connection routes nothing and refuses `connection_id`.
    #[serde(default = "yes")]
    pub enabled: bool,
}

fn default_provider() -> String {
    "OKTA".into()
}

fn yes() -> bool {
    true
}

/// The connection a sign-in through the persona picker counts as (Scalekit names every method,
/// passwordless or social too, by a `conn_…`).
pub const PICKER_CONNECTION_ID: &str = "conn_100000000000000001";
/// The built-in organization's connection.
pub const DEFAULT_CONNECTION_ID: &str = "conn_200000000000000001";
/// The second organization's connection.
pub const SECOND_CONNECTION_ID: &str = "conn_200000000000000002";

pub fn default_connections() -> Vec<Connection> {
    vec![
        Connection {
            id: DEFAULT_CONNECTION_ID.into(),
            organization_id: super::settings::DEFAULT_ORG_ID.into(),
            provider: "OKTA".into(),
            domains: vec!["example.com".into()],
            enabled: true,
        },
        Connection {
            id: SECOND_CONNECTION_ID.into(),
            organization_id: super::settings::SECOND_ORG_ID.into(),
            provider: "MICROSOFT_AD".into(),
            domains: vec!["globex.test".into()],
            enabled: true,
        },
    ]
}

/// A domain as routing compares it: trimmed, lower case, without a leading `@`; None unless it
/// looks like a DNS name (letters, digits, `-` and dots, at most 253 characters, two labels).
pub fn normalize_domain(raw: &str) -> Option<String> {
    let domain = raw.trim().trim_start_matches('@').to_ascii_lowercase();
    let labels: Vec<&str> = domain.split('.').collect();
    let valid = domain.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|label| {
            (1..=63).contains(&label.len())
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    valid.then_some(domain)
}

/// The domain of an email address, normalized.
pub fn email_domain(email: &str) -> Option<String> {
    let (_, domain) = email.rsplit_once('@')?;
    normalize_domain(domain)
}

/// What a request asked for, as sent.
#[derive(Clone, Copy, Debug, Default)]
pub struct Selector<'a> {
    pub connection_id: Option<&'a str>,
    pub organization_id: Option<&'a str>,
    pub domain_hint: Option<&'a str>,
    pub login_hint: Option<&'a str>,
}

/// Where a request goes: a connection (and so its organization), an organization with no
/// connection, or anywhere (`Route::default()`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Route {
    pub connection: Option<Connection>,
    pub organization_id: Option<String>,
    /// A domain was named that no enabled connection has: sign-in goes on without SSO, as
    /// Scalekit's hosted page falls back to the environment's other methods.
    pub unmatched_domain: Option<String>,
}

/// A request that names something that does not exist: sent back as Scalekit's error codes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RouteError {
    UnknownConnection(String),
    DisabledConnection(String),
    UnknownOrganization(String),
    InvalidDomain,
}

impl RouteError {
    /// The `error` code and description for the redirect back to the client.
    pub fn describe(&self) -> (&'static str, String) {
        match self {
            RouteError::UnknownConnection(id) => (
                "invalid_connection_id",
                format!("unknown connection `{id}`"),
            ),
            RouteError::DisabledConnection(id) => (
                "invalid_connection_id",
                format!("connection `{id}` is disabled"),
            ),
            RouteError::UnknownOrganization(id) => (
                "invalid_organization_id",
                format!("unknown organization `{id}`"),
            ),
            RouteError::InvalidDomain => {
                ("invalid_request", "domain_hint is not a domain name".into())
            }
        }
    }
}

/// Picks the route for `selector` among `connections` of `organizations`.
pub fn route(
    connections: &[Connection],
    organizations: &[Organization],
    selector: Selector,
) -> Result<Route, RouteError> {
    if let Some(id) = selector.connection_id {
        let connection = connections
            .iter()
            .find(|c| c.id == id)
            .ok_or_else(|| RouteError::UnknownConnection(id.into()))?;
        if !connection.enabled {
            return Err(RouteError::DisabledConnection(id.into()));
        }
        return Ok(through(connection));
    }
    if let Some(id) = selector.organization_id {
        if !organizations.iter().any(|o| o.id == id) {
            return Err(RouteError::UnknownOrganization(id.into()));
        }
        return Ok(
            match connections
                .iter()
                .find(|c| c.enabled && c.organization_id == id)
            {
                Some(connection) => through(connection),
                None => Route {
                    organization_id: Some(id.into()),
                    ..Route::default()
                },
            },
        );
    }
    let domain = match (selector.domain_hint, selector.login_hint) {
        (Some(hint), _) => Some(normalize_domain(hint).ok_or(RouteError::InvalidDomain)?),
        // A login hint that is no email (a persona key) routes nowhere.
        (None, Some(hint)) => email_domain(hint),
        (None, None) => None,
    };
    let Some(domain) = domain else {
        return Ok(Route::default());
    };
    Ok(
        match connections
            .iter()
            .find(|c| c.enabled && c.domains.contains(&domain))
        {
            Some(connection) => through(connection),
            None => Route {
                unmatched_domain: selector.domain_hint.map(|_| domain),
                ..Route::default()
            },
        },
    )
}

fn through(connection: &Connection) -> Route {
    Route {
        organization_id: Some(connection.organization_id.clone()),
        connection: Some(connection.clone()),
        unmatched_domain: None,
    }
}

/// Replaces the domains of `connection_id`, refusing any another organization's connection
/// already has. Answers the domains kept.
pub fn set_domains(
    connections: &mut [Connection],
    connection_id: &str,
    raw: &str,
    enabled: bool,
) -> Result<Vec<String>, String> {
    let mut domains = Vec::new();
    for part in raw
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|p| !p.is_empty())
    {
        let domain = normalize_domain(part).ok_or_else(|| format!("`{part}` is not a domain"))?;
        if !domains.contains(&domain) {
            domains.push(domain);
        }
    }
    if domains.len() > 20 {
        return Err("at most 20 domains per connection".into());
    }
    let organization = connections
        .iter()
        .find(|c| c.id == connection_id)
        .map(|c| c.organization_id.clone())
        .ok_or_else(|| format!("unknown connection `{connection_id}`"))?;
    if let Some((taken, other)) = domains.iter().find_map(|d| {
        connections
            .iter()
            .find(|c| c.id != connection_id && c.domains.contains(d))
            .map(|c| (d.clone(), c))
    }) {
        if other.organization_id != organization {
            return Err(format!("`{taken}` belongs to another organization"));
        }
    }
    for connection in connections.iter_mut() {
        if connection.id == connection_id {
            connection.domains = domains.clone();
            connection.enabled = enabled;
        } else if connection.organization_id == organization {
            // Within one organization, a domain moves to the connection it is given to.
            connection.domains.retain(|d| !domains.contains(d));
        }
    }
    Ok(domains)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::{DEFAULT_ORG_ID, SECOND_ORG_ID};

    fn organizations() -> Vec<Organization> {
        crate::settings::IdpSettings::default().organizations
    }

    fn routed(selector: Selector) -> Result<Route, RouteError> {
        route(&default_connections(), &organizations(), selector)
    }

    #[test]
    fn connection_then_organization_then_domain() {
        let all = Selector {
            connection_id: Some(SECOND_CONNECTION_ID),
            organization_id: Some(DEFAULT_ORG_ID),
            domain_hint: Some("example.com"),
            login_hint: None,
        };
        let to = |s| routed(s).unwrap().connection.map(|c| c.id);
        assert_eq!(to(all), Some(SECOND_CONNECTION_ID.into()));
        let org_and_domain = Selector {
            connection_id: None,
            ..all
        };
        assert_eq!(to(org_and_domain), Some(DEFAULT_CONNECTION_ID.into()));
        let domain = Selector {
            organization_id: None,
            domain_hint: Some("GLOBEX.test"),
            ..org_and_domain
        };
        assert_eq!(to(domain), Some(SECOND_CONNECTION_ID.into()));
        let email = Selector {
            login_hint: Some("it@Globex.test"),
            domain_hint: None,
            ..domain
        };
        assert_eq!(to(email), Some(SECOND_CONNECTION_ID.into()));
    }

    #[test]
    fn unknown_names_are_refused_and_unknown_domains_fall_back() {
        let unknown = |s| routed(s).unwrap_err().describe().0;
        assert_eq!(
            unknown(Selector {
                connection_id: Some("conn_9"),
                ..Selector::default()
            }),
            "invalid_connection_id"
        );
        assert_eq!(
            unknown(Selector {
                organization_id: Some("org_9"),
                ..Selector::default()
            }),
            "invalid_organization_id"
        );
        assert_eq!(
            unknown(Selector {
                domain_hint: Some("not a domain"),
                ..Selector::default()
            }),
            "invalid_request"
        );
        let fallback = routed(Selector {
            domain_hint: Some("nobody.test"),
            ..Selector::default()
        })
        .unwrap();
        assert_eq!(fallback.connection, None);
        assert_eq!(fallback.unmatched_domain.as_deref(), Some("nobody.test"));
        let persona_key = routed(Selector {
            login_hint: Some("admin"),
            ..Selector::default()
        })
        .unwrap();
        assert_eq!(persona_key, Route::default());
    }

    #[test]
    fn a_disabled_connection_routes_nothing() {
        let mut connections = default_connections();
        set_domains(&mut connections, SECOND_CONNECTION_ID, "globex.test", false).unwrap();
        let by_domain = route(
            &connections,
            &organizations(),
            Selector {
                domain_hint: Some("globex.test"),
                ..Selector::default()
            },
        )
        .unwrap();
        assert_eq!(by_domain.connection, None);
        let by_org = route(
            &connections,
            &organizations(),
            Selector {
                organization_id: Some(SECOND_ORG_ID),
                ..Selector::default()
            },
        )
        .unwrap();
        assert_eq!(by_org.organization_id.as_deref(), Some(SECOND_ORG_ID));
        assert_eq!(by_org.connection, None);
    }

    #[test]
    fn domains_are_checked_and_belong_to_one_organization() {
        let mut connections = default_connections();
        assert_eq!(
            set_domains(
                &mut connections,
                DEFAULT_CONNECTION_ID,
                "Acme.test, @example.com acme.test",
                true
            ),
            Ok(vec!["acme.test".to_string(), "example.com".to_string()])
        );
        assert!(set_domains(&mut connections, DEFAULT_CONNECTION_ID, "globex.test", true).is_err());
        assert!(set_domains(&mut connections, DEFAULT_CONNECTION_ID, "a..b", true).is_err());
        assert!(set_domains(&mut connections, "conn_9", "acme.test", true).is_err());
        assert_eq!(normalize_domain("-bad.test"), None);
        assert_eq!(normalize_domain("localhost"), None);
    }
}
