//! The user's access token, checked when it arrives from the token endpoint (at sign-in and at
//! every refresh): RS256 from the provider's keys, our issuer, our client among its audiences, not
//! expired, a subject. Its claims feed the user summary.

use serde_json::{Map, Value};

use super::jwt::check_rs256;
pub use super::jwt::JwtError;
use super::keys::KeySet;

/// Why an access token was refused.
pub type AccessTokenError = JwtError;

/// What an access token must match, for `validate_access_token`.
pub struct AccessExpected<'a> {
    /// The discovered issuer; `iss` must equal it exactly.
    pub issuer: &'a str,
    /// Must be among the token's audiences.
    pub audience: &'a str,
    /// Seconds since the epoch: the clock for `exp` and `nbf`.
    pub now: u64,
}

/// The validated claims, with `sub` and `exp` guaranteed present.
#[derive(Clone, Debug)]
pub struct AccessClaims {
    /// The subject (`sub`), never empty: the user the token was issued for.
    pub sub: String,
    /// When the token expires (`exp`), in seconds since the epoch.
    pub exp: u64,
    /// Every claim of the token, `sub` and `exp` included (`oid`, `sid`, roles, permissions, …).
    pub all: Map<String, Value>,
}

/// Checks an access token with `keys`: RS256 only, the key chosen by `kid`, the signature, `iss`
/// equal to the expected issuer, the expected audience among `aud`, a non-empty `sub`, `exp` not
/// past (with [`LEEWAY_SECS`](crate::id_token::LEEWAY_SECS) of leeway) and `nbf`, when present,
/// reached. Pure: on [`JwtError::UnknownKey`] the caller refetches the keys and tries once more
/// (`JwksCache::validate_access_token` does).
pub fn validate_access_token(
    token: &str,
    keys: &KeySet,
    expected: &AccessExpected,
) -> Result<AccessClaims, AccessTokenError> {
    let checked = check_rs256(
        token,
        keys,
        &[expected.issuer],
        expected.audience,
        expected.now,
    )?;
    Ok(AccessClaims {
        sub: checked.sub,
        exp: checked.exp,
        all: checked.claims,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::test_keys::{keys, provider_keys, sign, sign_with};

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
