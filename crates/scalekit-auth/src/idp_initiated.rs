//! IdP-initiated login: a person starts at their identity provider's dashboard, Scalekit sends the
//! browser to the app's initiate-login URL with `?idp_initiated_login=<JWT>`, and the app answers
//! with an ordinary SP-initiated sign-in carrying the token's hints (docs: sso/guides/idp-init-sso;
//! SDKs: `get_idp_initiated_login_claims`, `getIdpInitiatedLoginClaims`). The token never signs
//! anyone in: it only says where to send them, and the sign-in that follows gets its own state,
//! nonce and PKCE.
//!
//! The SDKs verify the token's RS256 signature against the environment's keys and its `exp`, and
//! read `connection_id`, `organization_id`, `login_hint` and `relay_state`. We also require the
//! environment as `iss` and, when the token has an `aud`, our client among it (Scalekit does not
//! document one, so its absence is accepted), a lifetime of at most ten minutes, and a single use
//! ([`IdpInitiatedClaims::replay_key`], recorded by the caller).

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::authorization_hints::{is_identifier, is_login_hint};
use super::id_token::LEEWAY_SECS;
use super::jwt::{check_not_before, verify_rs256_for, JwtError};
use super::keys::KeySet;

/// The largest token read. Scalekit's are well under 2 KB.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;
/// The longest lifetime accepted (`exp` − `iat`): Scalekit's live about five minutes.
pub const MAX_LIFETIME_SECS: u64 = 600;
/// The longest `relay_state` read; anything longer is ignored, like a foreign one.
pub const MAX_RELAY_STATE_BYTES: usize = 2048;

/// What a valid token says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdpInitiatedClaims {
    /// The SSO connection the person came from (`conn_…`).
    pub connection_id: Option<String>,
    /// Its organization (`org_…`).
    pub organization_id: Option<String>,
    /// Who, usually an email.
    pub login_hint: Option<String>,
    /// What the identity provider passed along; used only as a local return path.
    pub relay_state: Option<String>,
    /// The key of the single-use record: the `jti`, else a digest of the token.
    pub replay_key: String,
    /// When the record may be forgotten: after this the token fails its time checks anyway.
    pub remember_until: u64,
}

/// Why a token was refused. Nothing from the token is in the text.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum IdpInitiatedError {
    /// Larger than the cap (8 KiB).
    #[error("the IdP-initiated login token is too large")]
    TooLarge,
    /// The signature, algorithm, key or issuer check failed, or the token is not a JWT.
    #[error("the IdP-initiated login token is invalid: {0}")]
    Invalid(JwtError),
    /// It has an `aud` without our client in it.
    #[error("the IdP-initiated login token is meant for another application")]
    WrongAudience,
    /// `exp` is missing or passed, `iat` is in the future, or it lives longer than allowed.
    #[error("the IdP-initiated login token has expired or its times are wrong")]
    Expired,
    /// A hint has the wrong shape, or neither a connection nor an organization is named.
    #[error("the IdP-initiated login token's `{0}` claim is not valid")]
    BadClaim(&'static str),
}

impl IdpInitiatedError {
    /// A stable name for metrics and logs.
    pub fn reason(&self) -> &'static str {
        match self {
            IdpInitiatedError::TooLarge => "too_large",
            IdpInitiatedError::Invalid(e) => e.reason(),
            IdpInitiatedError::WrongAudience => "wrong_audience",
            IdpInitiatedError::Expired => "expired",
            IdpInitiatedError::BadClaim(_) => "bad_claim",
        }
    }
}

impl From<JwtError> for IdpInitiatedError {
    fn from(e: JwtError) -> IdpInitiatedError {
        match e {
            JwtError::Expired | JwtError::NotYetValid => IdpInitiatedError::Expired,
            JwtError::WrongAudience => IdpInitiatedError::WrongAudience,
            other => IdpInitiatedError::Invalid(other),
        }
    }
}

/// Validates an `idp_initiated_login` token from `issuer` for `client_id`.
pub fn validate_idp_initiated_token(
    token: &str,
    keys: &KeySet,
    issuer: &str,
    client_id: &str,
    now: u64,
) -> Result<IdpInitiatedClaims, IdpInitiatedError> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(IdpInitiatedError::TooLarge);
    }
    let claims = verify_rs256_for(token, keys, &[issuer], None, &["exp"])?;
    // The library accepts an `iss` array containing ours; the issuer is one exact string.
    if claims.get("iss").and_then(Value::as_str) != Some(issuer) {
        return Err(IdpInitiatedError::Invalid(JwtError::WrongIssuer));
    }
    if !audience_allows(claims.get("aud"), client_id) {
        return Err(IdpInitiatedError::WrongAudience);
    }
    let exp = claims
        .get("exp")
        .and_then(Value::as_u64)
        .ok_or(IdpInitiatedError::Expired)?;
    if exp.saturating_add(LEEWAY_SECS) < now {
        return Err(IdpInitiatedError::Expired);
    }
    let iat = match claims.get("iat") {
        None => None,
        Some(iat) => Some(iat.as_u64().ok_or(IdpInitiatedError::Expired)?),
    };
    // Without `iat`, `exp` itself bounds how far ahead the token may reach.
    let issued = iat.unwrap_or(now);
    if issued > now.saturating_add(LEEWAY_SECS)
        || exp.saturating_sub(issued.min(now)) > MAX_LIFETIME_SECS
    {
        return Err(IdpInitiatedError::Expired);
    }
    check_not_before(&claims, now)?;

    let connection_id = text(&claims, "connection_id", is_identifier)?;
    let organization_id = text(&claims, "organization_id", is_identifier)?;
    if connection_id.is_none() && organization_id.is_none() {
        return Err(IdpInitiatedError::BadClaim("connection_id"));
    }
    let login_hint = text(&claims, "login_hint", is_login_hint)?;
    let relay_state = claims
        .get("relay_state")
        .and_then(Value::as_str)
        .filter(|r| !r.is_empty() && r.len() <= MAX_RELAY_STATE_BYTES)
        .map(str::to_string);
    let replay_key = match claims.get("jti").and_then(Value::as_str) {
        Some(jti) if !jti.is_empty() && jti.len() <= 256 => format!("jti:{jti}"),
        _ => format!("sha256:{:x}", Sha256::digest(token.as_bytes())),
    };
    Ok(IdpInitiatedClaims {
        connection_id,
        organization_id,
        login_hint,
        relay_state,
        replay_key,
        remember_until: exp.saturating_add(LEEWAY_SECS) + 1,
    })
}

/// No `aud`, or ours among it (a string or an array).
fn audience_allows(aud: Option<&Value>, client_id: &str) -> bool {
    match aud {
        None | Some(Value::Null) => true,
        Some(Value::String(one)) => one == client_id,
        Some(Value::Array(many)) => many.iter().any(|a| a.as_str() == Some(client_id)),
        Some(_) => false,
    }
}

/// An optional string claim that must pass `valid` when present (an empty one counts as absent,
/// as the SDKs' types declare every field a string).
fn text(
    claims: &Map<String, Value>,
    name: &'static str,
    valid: fn(&str) -> bool,
) -> Result<Option<String>, IdpInitiatedError> {
    match claims.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(value)) if value.is_empty() => Ok(None),
        Some(Value::String(value)) if valid(value) => Ok(Some(value.clone())),
        Some(_) => Err(IdpInitiatedError::BadClaim(name)),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::test_keys::{keys, make_key, provider_keys, sign_with};

    const ISSUER: &str = "https://acme.scalekit.dev";
    const CLIENT: &str = "skc_123";
    const NOW: u64 = 1_800_000_000;

    fn good() -> Value {
        json!({
            "iss": ISSUER,
            "aud": [CLIENT],
            "iat": NOW,
            "exp": NOW + 300,
            "jti": "idp_1",
            "connection_id": "conn_1",
            "organization_id": "org_1",
            "login_hint": "ada@acme.com",
            "relay_state": "/sessions",
        })
    }

    fn signed(claims: &Value) -> String {
        sign_with(&keys().0, Some(keys().0.kid), claims)
    }

    fn with(change: impl FnOnce(&mut Map<String, Value>)) -> String {
        let mut claims = good();
        change(claims.as_object_mut().unwrap());
        signed(&claims)
    }

    fn check(token: &str) -> Result<IdpInitiatedClaims, IdpInitiatedError> {
        validate_idp_initiated_token(token, &provider_keys(), ISSUER, CLIENT, NOW)
    }

    #[test]
    fn idp_initiated_a_valid_token_gives_its_hints() {
        let claims = check(&signed(&good())).unwrap();
        assert_eq!(claims.connection_id.as_deref(), Some("conn_1"));
        assert_eq!(claims.organization_id.as_deref(), Some("org_1"));
        assert_eq!(claims.login_hint.as_deref(), Some("ada@acme.com"));
        assert_eq!(claims.relay_state.as_deref(), Some("/sessions"));
        assert_eq!(claims.replay_key, "jti:idp_1");
        assert!(claims.remember_until > NOW + 300);
        let no_aud = check(&with(|c| {
            c.remove("aud");
            c.remove("jti");
        }))
        .unwrap();
        assert!(no_aud.replay_key.starts_with("sha256:"));
    }

    #[test]
    fn idp_initiated_bad_tokens_are_refused() {
        let other_key = make_key("other");
        let forged = sign_with(&other_key, Some(keys().0.kid), &good());
        assert!(matches!(
            check(&forged),
            Err(IdpInitiatedError::Invalid(JwtError::BadSignature))
        ));
        assert!(matches!(
            check(&with(|c| {
                c.insert("iss".into(), json!("https://evil.scalekit.dev"));
            })),
            Err(IdpInitiatedError::Invalid(JwtError::WrongIssuer))
        ));
        assert_eq!(
            check(&with(|c| {
                c.insert("aud".into(), json!(["skc_other"]));
            })),
            Err(IdpInitiatedError::WrongAudience)
        );
        for expired in [
            with(|c| {
                c.insert("exp".into(), json!(NOW - LEEWAY_SECS - 1));
            }),
            with(|c| {
                c.remove("exp");
            }),
            with(|c| {
                c.insert("exp".into(), json!(NOW + MAX_LIFETIME_SECS + 5));
            }),
            with(|c| {
                c.insert("iat".into(), json!(NOW + LEEWAY_SECS + 5));
            }),
        ] {
            assert!(check(&expired).is_err(), "{expired}");
        }
        assert_eq!(
            check(&with(|c| {
                c.remove("connection_id");
                c.remove("organization_id");
            })),
            Err(IdpInitiatedError::BadClaim("connection_id"))
        );
        assert_eq!(
            check(&with(|c| {
                c.insert("connection_id".into(), json!("conn_1?x=y"));
            })),
            Err(IdpInitiatedError::BadClaim("connection_id"))
        );
        assert_eq!(
            check(&"a".repeat(MAX_TOKEN_BYTES + 1)),
            Err(IdpInitiatedError::TooLarge)
        );
        assert!(check("not-a-jwt").is_err());
    }
}
