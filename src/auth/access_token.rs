//! The user's access token, checked when it arrives from the token endpoint (at sign-in and at
//! every refresh): RS256 from the provider's keys, our issuer, our client among its audiences, not
//! expired, a subject. Its claims feed the user summary.

use jsonwebtoken::{Algorithm, Validation};
use serde_json::{Map, Value};

use super::id_token::{header_alg_and_kid, ALLOWED_ALGORITHMS, LEEWAY_SECS};
use super::keys::{KeyChoiceError, KeySet};

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AccessTokenError {
    #[error("the access token is not a well-formed JWT")]
    Malformed,
    #[error("the access token uses algorithm `{0}`, which is not allowed")]
    AlgorithmNotAllowed(String),
    #[error("the access token names key `{0}`, which the provider does not publish")]
    UnknownKey(String),
    #[error("no provider key fits the access token")]
    NoKey,
    #[error("the access token's signature is invalid")]
    BadSignature,
    #[error("the access token was issued by someone else")]
    WrongIssuer,
    #[error("the access token is not meant for this application")]
    WrongAudience,
    #[error("the access token has expired")]
    Expired,
    #[error("the access token lacks the `{0}` claim")]
    MissingClaim(String),
}

pub struct AccessExpected<'a> {
    pub issuer: &'a str,
    /// Must be among the token's audiences.
    pub audience: &'a str,
    pub now: u64,
}

/// The validated claims, with `sub` and `exp` guaranteed present.
#[derive(Clone, Debug)]
pub struct AccessClaims {
    pub sub: String,
    pub exp: u64,
    pub all: Map<String, Value>,
}

pub fn validate_access_token(
    token: &str,
    keys: &KeySet,
    expected: &AccessExpected,
) -> Result<AccessClaims, AccessTokenError> {
    let (alg, kid) = header_alg_and_kid(token).map_err(|_| AccessTokenError::Malformed)?;
    if !ALLOWED_ALGORITHMS.iter().any(|a| format!("{a:?}") == alg) {
        return Err(AccessTokenError::AlgorithmNotAllowed(alg));
    }
    let key = keys.choose(kid.as_deref()).map_err(|e| match e {
        KeyChoiceError::UnknownKid(kid) => AccessTokenError::UnknownKey(kid),
        _ => AccessTokenError::NoKey,
    })?;
    let mut validation = Validation::new(Algorithm::RS256);
    validation.algorithms = ALLOWED_ALGORITHMS.to_vec();
    validation.set_issuer(&[expected.issuer]);
    validation.set_audience(&[expected.audience]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    validation.validate_exp = false;
    let all = jsonwebtoken::decode::<Map<String, Value>>(token, key, &validation)
        .map_err(|e| {
            use jsonwebtoken::errors::ErrorKind;
            match e.kind() {
                ErrorKind::InvalidSignature => AccessTokenError::BadSignature,
                ErrorKind::InvalidIssuer => AccessTokenError::WrongIssuer,
                ErrorKind::InvalidAudience => AccessTokenError::WrongAudience,
                ErrorKind::MissingRequiredClaim(c) => AccessTokenError::MissingClaim(c.clone()),
                ErrorKind::InvalidAlgorithm => AccessTokenError::AlgorithmNotAllowed(alg.clone()),
                _ => AccessTokenError::Malformed,
            }
        })?
        .claims;
    let sub = all
        .get("sub")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| AccessTokenError::MissingClaim("sub".into()))?
        .to_string();
    let exp = all
        .get("exp")
        .and_then(Value::as_u64)
        .ok_or_else(|| AccessTokenError::MissingClaim("exp".into()))?;
    if exp.saturating_add(LEEWAY_SECS) < expected.now {
        return Err(AccessTokenError::Expired);
    }
    Ok(AccessClaims { sub, exp, all })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::auth::test_keys::{keys, provider_keys, sign, sign_with};

    const ISSUER: &str = "https://acme.scalekit.dev";
    const CLIENT: &str = "skc_123";
    const NOW: u64 = 1_800_000_000;

    fn claims() -> Value {
        json!({
            "iss": ISSUER, "aud": [CLIENT], "sub": "usr_1", "oid": "org_1",
            "iat": NOW, "exp": NOW + 299, "permissions": ["organization:read"]
        })
    }

    fn check(token: &str) -> Result<AccessClaims, AccessTokenError> {
        validate_access_token(
            token,
            &provider_keys(),
            &AccessExpected {
                issuer: ISSUER,
                audience: CLIENT,
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
    fn a_valid_scalekit_access_token_is_accepted() {
        let checked = check(&sign(&claims())).unwrap();
        assert_eq!(checked.sub, "usr_1");
        assert_eq!(checked.exp, NOW + 299);
        assert_eq!(checked.all["oid"], "org_1");
    }

    #[test]
    fn access_tokens_are_refused_for_each_broken_property() {
        let cases: Vec<(String, AccessTokenError)> = vec![
            (
                with(|c| c["iss"] = json!("https://evil.example")),
                AccessTokenError::WrongIssuer,
            ),
            (
                with(|c| c["aud"] = json!(["skc_other"])),
                AccessTokenError::WrongAudience,
            ),
            (
                with(|c| c["exp"] = json!(NOW - 61)),
                AccessTokenError::Expired,
            ),
            (
                with(|c| {
                    c.as_object_mut().unwrap().remove("sub");
                }),
                AccessTokenError::MissingClaim("sub".into()),
            ),
            (
                sign_with(&keys().1, Some(keys().0.kid), &claims()),
                AccessTokenError::BadSignature,
            ),
            (
                sign_with(&keys().0, Some("snk_unknown"), &claims()),
                AccessTokenError::UnknownKey("snk_unknown".into()),
            ),
            ("not.a.jwt".into(), AccessTokenError::Malformed),
        ];
        for (token, error) in cases {
            assert_eq!(check(&token).unwrap_err(), error);
        }
    }
}
