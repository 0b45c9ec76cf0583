//! Scalekit's routing parameters of the authorization request, which decide how a person signs
//! in: through one SSO connection (`connection_id`), an organization's (`organization_id`), the
//! one of an email domain (`domain_hint`), a social provider (`provider`), and `login_hint` and
//! `prompt`. Scalekit applies them in that order (connection, organization, domain). They come
//! from the login request, so each is checked before it is sent: known values, sane lengths.

/// Optional authorization parameters passed through from the login request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuthorizationHints {
    /// `connection_id`: sign in through this SSO connection (`conn_…`).
    pub connection_id: Option<String>,
    /// `organization_id`: sign in through this organization (`org_…`); with `prompt` =
    /// `select_account`, straight into it.
    pub organization_id: Option<String>,
    /// `domain_hint`: an email domain registered to an organization, which routes to its
    /// connection.
    pub domain_hint: Option<String>,
    /// `login_hint`: who is signing in, such as an email address.
    pub login_hint: Option<String>,
    /// `provider`: a social provider (`google`, `microsoft`, `github`, `gitlab`, `linkedin`,
    /// `salesforce`).
    pub provider: Option<String>,
    /// `prompt`: `login`, `none`, `consent`, `select_account` or `create`.
    pub prompt: Option<String>,
}

/// A hint that is not worth sending: its parameter's name, for the error shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the sign-in parameter `{0}` is not valid")]
pub struct InvalidHint(pub &'static str);

/// Social providers Scalekit's `provider` parameter names.
pub const PROVIDERS: [&str; 6] = [
    "google",
    "microsoft",
    "github",
    "gitlab",
    "linkedin",
    "salesforce",
];
/// The `prompt` values Scalekit documents, and OpenID Connect's `consent`.
pub const PROMPTS: [&str; 5] = ["login", "none", "consent", "select_account", "create"];

/// Scalekit ids: letters, digits, `_` and `-`, at most 64.
pub fn is_identifier(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= 64
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// A `login_hint` worth passing on: an email or a name, not control characters or a novel.
pub fn is_login_hint(value: &str) -> bool {
    !value.is_empty() && value.len() <= 254 && !value.chars().any(char::is_control)
}

/// A DNS name of at least two labels, as email domains are: lower case is not required here
/// ([`normalize_domain`] makes it so).
pub fn is_domain(value: &str) -> bool {
    let labels: Vec<&str> = value.split('.').collect();
    value.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|label| {
            (1..=63).contains(&label.len())
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// A domain as typed (`@Acme.com `) in the form Scalekit matches (`acme.com`), if it is one.
pub fn normalize_domain(raw: &str) -> Option<String> {
    let domain = raw.trim().trim_start_matches('@').to_ascii_lowercase();
    is_domain(&domain).then_some(domain)
}

/// A shape check for one parameter's value.
type Rule = fn(&str) -> bool;

impl AuthorizationHints {
    /// Hints for "sign in with SSO" from what a person typed: an email routes by its domain and
    /// is also the login hint; anything else must be a domain.
    pub fn for_sso(typed: &str) -> Result<AuthorizationHints, InvalidHint> {
        let typed = typed.trim();
        let (login_hint, domain) = match typed.rsplit_once('@') {
            Some((local, domain)) if !local.is_empty() => (Some(typed.to_string()), domain),
            _ => (None, typed),
        };
        let domain_hint = normalize_domain(domain).ok_or(InvalidHint("domain_hint"))?;
        let hints = AuthorizationHints {
            domain_hint: Some(domain_hint),
            login_hint,
            ..AuthorizationHints::default()
        };
        hints.check()?;
        Ok(hints)
    }

    /// Every value set is one Scalekit would accept in shape.
    pub fn check(&self) -> Result<(), InvalidHint> {
        let rules: [(&'static str, &Option<String>, Rule); 6] = [
            ("connection_id", &self.connection_id, is_identifier),
            ("organization_id", &self.organization_id, is_identifier),
            ("domain_hint", &self.domain_hint, is_domain),
            ("login_hint", &self.login_hint, is_login_hint),
            ("provider", &self.provider, |v| PROVIDERS.contains(&v)),
            ("prompt", &self.prompt, |v| PROMPTS.contains(&v)),
        ];
        for (name, value, valid) in rules {
            if value.as_deref().is_some_and(|v| !valid(v)) {
                return Err(InvalidHint(name));
            }
        }
        Ok(())
    }

    /// The parameters to append, in Scalekit's order of precedence.
    pub(crate) fn pairs(&self) -> impl Iterator<Item = (&'static str, &str)> {
        [
            ("connection_id", &self.connection_id),
            ("organization_id", &self.organization_id),
            ("domain_hint", &self.domain_hint),
            ("login_hint", &self.login_hint),
            ("provider", &self.provider),
            ("prompt", &self.prompt),
        ]
        .into_iter()
        .filter_map(|(name, value)| value.as_deref().map(|v| (name, v)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn l2_routing_hints_are_checked() {
        let good = AuthorizationHints {
            connection_id: Some("conn_1".into()),
            organization_id: Some("org_1".into()),
            domain_hint: Some("acme.com".into()),
            login_hint: Some("ada@acme.com".into()),
            provider: Some("google".into()),
            prompt: Some("select_account".into()),
        };
        assert_eq!(good.check(), Ok(()));
        let bad = |hints: AuthorizationHints| hints.check().unwrap_err().0;
        let with = |f: fn(&mut AuthorizationHints)| {
            let mut hints = good.clone();
            f(&mut hints);
            hints
        };
        assert_eq!(
            bad(with(|h| h.connection_id = Some("conn/1".into()))),
            "connection_id"
        );
        assert_eq!(
            bad(with(|h| h.organization_id = Some("x".repeat(65)))),
            "organization_id"
        );
        assert_eq!(
            bad(with(|h| h.domain_hint = Some("acme".into()))),
            "domain_hint"
        );
        assert_eq!(
            bad(with(|h| h.login_hint = Some("a\nb".into()))),
            "login_hint"
        );
        assert_eq!(
            bad(with(|h| h.provider = Some("myspace".into()))),
            "provider"
        );
        assert_eq!(bad(with(|h| h.prompt = Some("always".into()))), "prompt");
    }

    #[test]
    fn l2_sso_routes_an_email_by_its_domain_or_a_bare_domain() {
        let by_email = AuthorizationHints::for_sso(" ada@Acme.COM ").unwrap();
        assert_eq!(by_email.domain_hint.as_deref(), Some("acme.com"));
        assert_eq!(by_email.login_hint.as_deref(), Some("ada@Acme.COM"));
        let by_domain = AuthorizationHints::for_sso("@globex.test").unwrap();
        assert_eq!(by_domain.domain_hint.as_deref(), Some("globex.test"));
        assert_eq!(by_domain.login_hint, None);
        for bad in ["", "ada@", "nodomain", "a@b", "acme .com"] {
            assert!(AuthorizationHints::for_sso(bad).is_err(), "{bad}");
        }
    }
}
