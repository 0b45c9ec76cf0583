//! Bearer tokens presented to the API by machine clients (Scalekit client-credentials JWTs) and to
//! the MCP server by machines or users: RS256 from the provider's keys, an accepted issuer, our
//! audience, not expired, a subject (checklist A4, A6, A8). Scopes come from Scalekit's `scopes`
//! array or the RFC 9068 `scope` string, whichever is present. A user's token also carries the
//! `permissions` of their roles, which the MCP tools check besides the scopes.

use serde_json::{Map, Value};

use super::jwt::{check_rs256, string_array, JwtError};
use super::keys::KeySet;

/// Why a bearer token was refused. The API answers all of these with the same generic
/// `invalid_token` text; the variant goes to the log.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ApiTokenError {
    /// The token failed the checks every provider JWT goes through (algorithm, key, signature,
    /// issuer, audience, `exp`, `nbf`, `sub`): checklist A4.
    #[error(transparent)]
    Jwt(#[from] JwtError),
    /// The token carries `nonce` or `at_hash`: an ID token, proof of a sign-in for a client and
    /// never an API credential, even when its audience matches (checklist A6).
    #[error("an ID token, not an access token")]
    IdToken,
}

/// Counts a refused bearer token (`scalekit_tokens_refused_total{token="bearer"}`): call it once
/// per refused request, with the refusal the validation ended on.
pub fn record_refusal(error: &ApiTokenError) {
    crate::telemetry::token_refused("bearer", error.reason());
}

impl ApiTokenError {
    /// A short, stable name for this refusal, for metrics and logs.
    pub fn reason(&self) -> &'static str {
        match self {
            ApiTokenError::Jwt(e) => e.reason(),
            ApiTokenError::IdToken => "id_token",
        }
    }
}

/// What a bearer token must match, for [`validate_api_token`].
pub struct ApiExpected<'a> {
    /// Any of these issuers (Scalekit is moving to `{env}/resources/{id}` for resource tokens).
    pub issuers: &'a [String],
    /// The protected resource's audience; it must be among the token's `aud` (checklist A6).
    pub audience: &'a str,
    /// Seconds since the epoch: the clock for `exp` and `nbf`.
    pub now: u64,
}

/// The caller, as the token describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiCaller {
    /// The machine client (`client_id`, else `azp`, else `sub`).
    pub client_id: String,
    /// The token's `sub`: the machine client itself, or the user.
    pub subject: String,
    /// The organization the token is for (`oid`), when it names one: what tenants are told apart
    /// by.
    pub organization_id: Option<String>,
    /// The granted scopes: Scalekit's `scopes` array, else the space-separated `scope` string.
    pub scopes: Vec<String>,
    /// A person's token (authorization code), not a machine's (client credentials).
    pub is_user: bool,
    /// The `permissions` claim (a user's, from their roles); None when the token has none.
    pub permissions: Option<Vec<String>>,
    /// The token's `exp`: how long a verified-token cache may keep this answer.
    pub expires_at: u64,
}

impl ApiCaller {
    /// Whether `scope` is among the token's scopes (exact match).
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }

    /// False when the token carries no `permissions` claim at all.
    pub fn has_permission(&self, permission: &str) -> bool {
        self.permissions
            .as_ref()
            .is_some_and(|granted| granted.iter().any(|p| p == permission))
    }
}

/// Whether a person signed in for this token. A machine's client-credentials token names itself
/// as subject (`sub` = `client_id`, `m2morg_…`), a user's names the user (`usr_…`); a Scalekit
/// engineer's mcp-use provider uses the same test (`sub` equal to `client_id` or `azp`). A token
/// naming no client at all counts as a user's, so it gets the stricter checks.
fn is_user_token(claims: &Map<String, Value>, sub: &str) -> bool {
    let names_itself = |name| text(claims, name).is_some_and(|client| client == sub);
    sub.starts_with("usr_") || !(names_itself("client_id") || names_itself("azp"))
}

/// The `permissions` array; anything else (absent, not an array) is None, i.e. no permissions.
fn permissions_of(claims: &Map<String, Value>) -> Option<Vec<String>> {
    claims.get("permissions").and_then(string_array)
}

fn text(claims: &Map<String, Value>, name: &str) -> Option<String> {
    claims
        .get(name)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// Scalekit's `scopes` array, else the space-separated `scope` string.
pub fn scopes_of(claims: &Map<String, Value>) -> Vec<String> {
    if let Some(scopes) = claims.get("scopes").and_then(string_array) {
        return scopes;
    }
    match claims.get("scope") {
        Some(Value::String(scope)) => scope.split_whitespace().map(str::to_string).collect(),
        _ => Vec::new(),
    }
}

/// Checks a bearer token with `keys` (checklist A4, A6, A8): the RS256 checks of
/// [`check_rs256`] against any of the accepted issuers and the expected
/// audience, then refuses ID tokens (a `nonce` or `at_hash` claim), and describes the caller. Pure:
/// on an unknown `kid` the caller refetches the keys and tries once more.
pub fn validate_api_token(
    token: &str,
    keys: &KeySet,
    expected: &ApiExpected,
) -> Result<ApiCaller, ApiTokenError> {
    let issuers: Vec<&str> = expected.issuers.iter().map(String::as_str).collect();
    let checked = check_rs256(token, keys, &issuers, expected.audience, expected.now)?;
    let claims = checked.claims;
    // An ID token is proof of a sign-in for a client, never an API credential (A6).
    if claims.contains_key("nonce") || claims.contains_key("at_hash") {
        return Err(ApiTokenError::IdToken);
    }
    Ok(ApiCaller {
        client_id: text(&claims, "client_id")
            .or_else(|| text(&claims, "azp"))
            .unwrap_or_else(|| checked.sub.clone()),
        organization_id: text(&claims, "oid"),
        scopes: scopes_of(&claims),
        is_user: is_user_token(&claims, &checked.sub),
        permissions: permissions_of(&claims),
        subject: checked.sub,
        expires_at: checked.exp,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::test_keys::{keys, provider_keys, sign, sign_with};

    const ISSUER: &str = "https://acme.scalekit.dev";
    const AUDIENCE: &str = "https://app.example.com";
    const NOW: u64 = 1_800_000_000;

    fn claims() -> Value {
        json!({
            "iss": ISSUER, "aud": [AUDIENCE], "sub": "m2morg_1", "client_id": "m2morg_1",
            "oid": "org_1", "iat": NOW, "exp": NOW + 3600,
            "scopes": ["read:deployments"], "scope": "read:deployments"
        })
    }

    fn check(token: &str) -> Result<ApiCaller, ApiTokenError> {
        let issuers = [ISSUER.to_string(), format!("{ISSUER}/resources/res_1")];
        validate_api_token(
            token,
            &provider_keys(),
            &ApiExpected {
                issuers: &issuers,
                audience: AUDIENCE,
                now: NOW,
            },
        )
    }

    fn with(change: impl FnOnce(&mut Value)) -> String {
        let mut c = claims();
        change(&mut c);
        sign(&c)
    }

    #[test]
    fn a8_scopes_come_from_the_array_or_the_string() {
        let caller = check(&sign(&claims())).unwrap();
        assert_eq!(caller.client_id, "m2morg_1");
        assert_eq!(caller.organization_id.as_deref(), Some("org_1"));
        assert!(caller.has_scope("read:deployments"));
        let string_only = with(|c| {
            c.as_object_mut().unwrap().remove("scopes");
            c["scope"] = json!("read:deployments deploy:applications");
        });
        assert!(check(&string_only)
            .unwrap()
            .has_scope("deploy:applications"));
        let resource_issuer = with(|c| c["iss"] = json!(format!("{ISSUER}/resources/res_1")));
        assert!(check(&resource_issuer).is_ok());
    }

    #[test]
    fn a8_user_tokens_are_told_apart_and_carry_their_permissions() {
        let machine = check(&sign(&claims())).unwrap();
        assert!(!machine.is_user, "sub = client_id: client credentials");
        assert_eq!(machine.permissions, None);
        let by_azp = with(|c| {
            c.as_object_mut().unwrap().remove("client_id");
            c["azp"] = json!("m2morg_1");
        });
        assert!(!check(&by_azp).unwrap().is_user, "sub = azp");

        let user = with(|c| {
            c["sub"] = json!("usr_1");
            c["client_id"] = json!("m2m_1");
            c["permissions"] = json!(["read:deployments", 7]);
        });
        let user = check(&user).unwrap();
        assert!(user.is_user);
        assert_eq!(user.permissions, Some(vec!["read:deployments".to_string()]));
        assert!(user.has_permission("read:deployments"));
        assert!(!user.has_permission("deploy:applications"));

        let nameless = with(|c| {
            c.as_object_mut().unwrap().remove("client_id");
            c["permissions"] = json!("read:deployments");
        });
        let nameless = check(&nameless).unwrap();
        assert!(nameless.is_user, "no client named: treated as a user's");
        assert_eq!(nameless.permissions, None, "only an array counts");
        let usr_as_client = with(|c| {
            c["sub"] = json!("usr_1");
            c["client_id"] = json!("usr_1");
        });
        assert!(check(&usr_as_client).unwrap().is_user);
    }

    #[test]
    fn a4_a6_bad_tokens_are_refused() {
        let cases: Vec<(String, ApiTokenError)> = vec![
            (
                sign_with(&keys().1, Some(keys().0.kid), &claims()),
                ApiTokenError::Jwt(JwtError::BadSignature),
            ),
            (
                with(|c| c["exp"] = json!(NOW - 61)),
                ApiTokenError::Jwt(JwtError::Expired),
            ),
            (
                with(|c| c["iss"] = json!("https://evil.example")),
                ApiTokenError::Jwt(JwtError::WrongIssuer),
            ),
            (
                with(|c| c["aud"] = json!(["skc_app_client"])),
                ApiTokenError::Jwt(JwtError::WrongAudience),
            ),
            (
                with(|c| {
                    c.as_object_mut().unwrap().remove("aud");
                }),
                ApiTokenError::Jwt(JwtError::MissingClaim("aud".into())),
            ),
            (with(|c| c["nonce"] = json!("n")), ApiTokenError::IdToken),
            (
                with(|c| c["nbf"] = json!(NOW + 3600)),
                ApiTokenError::Jwt(JwtError::NotYetValid),
            ),
            (
                with(|c| c["nbf"] = json!("soon")),
                ApiTokenError::Jwt(JwtError::Malformed),
            ),
            ("a.b".into(), ApiTokenError::Jwt(JwtError::Malformed)),
        ];
        for (token, error) in cases {
            assert_eq!(check(&token).unwrap_err(), error);
        }
    }
}
