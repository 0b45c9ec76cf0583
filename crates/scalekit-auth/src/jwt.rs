//! The checks every RS256 JWT from the provider goes through before its kind-specific ones:
//! algorithm from our allow-list (never from the token), key by `kid`, signature, issuer,
//! audience, and the registered claims present. Access tokens and API tokens build on this;
//! logout tokens, which may lack `sub` and `exp`, on its lower half ([`verify_rs256`]).

use jsonwebtoken::{Algorithm, Validation};
use serde_json::{Map, Value};

use super::id_token::{header_alg_and_kid, is_allowed_algorithm, ALLOWED_ALGORITHMS, LEEWAY_SECS};
use super::keys::{KeyChoiceError, KeySet};
use crate::log_text::untrusted;

/// Why a provider JWT failed the shared checks of [`check_rs256`] or `verify_rs256`. Text taken
/// from the token is in its loggable form (`untrusted`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    /// Not a parseable JWT, a claim of the wrong type, or an `nbf` that is not a whole number.
    #[error("not a well-formed JWT")]
    Malformed,
    /// The header's `alg` is not RS256.
    #[error("algorithm `{0}` is not allowed")]
    AlgorithmNotAllowed(String),
    /// The header's `kid` names no key of the set; the caller may refetch the keys once.
    #[error("unknown key `{0}`")]
    UnknownKey(String),
    /// No key could be chosen: the set is empty, or the token has no `kid` and the set holds
    /// several.
    #[error("no provider key fits")]
    NoKey,
    /// The signature does not verify with the chosen key.
    #[error("bad signature")]
    BadSignature,
    /// `iss` is none of the accepted issuers.
    #[error("wrong issuer")]
    WrongIssuer,
    /// The expected audience is not among `aud`.
    #[error("wrong audience")]
    WrongAudience,
    /// A required claim is absent, `sub` is empty or not a string, or `exp` is not a whole number.
    #[error("missing claim `{0}`")]
    MissingClaim(String),
    /// `exp` passed more than `LEEWAY_SECS` ago.
    #[error("expired")]
    Expired,
    /// `nbf` is more than `LEEWAY_SECS` ahead of now.
    #[error("not valid yet (nbf)")]
    NotYetValid,
}

impl JwtError {
    /// A short, stable name for this refusal (`expired`, `bad_signature`…), for metrics and
    /// logs: never anything from the token.
    pub fn reason(&self) -> &'static str {
        match self {
            JwtError::Malformed => "malformed",
            JwtError::AlgorithmNotAllowed(_) => "algorithm_not_allowed",
            JwtError::UnknownKey(_) => "unknown_key",
            JwtError::NoKey => "no_key",
            JwtError::BadSignature => "bad_signature",
            JwtError::WrongIssuer => "wrong_issuer",
            JwtError::WrongAudience => "wrong_audience",
            JwtError::MissingClaim(_) => "missing_claim",
            JwtError::Expired => "expired",
            JwtError::NotYetValid => "not_yet_valid",
        }
    }
}

/// A decoded token with `sub` and `exp` guaranteed.
pub struct Checked {
    /// The subject, never empty.
    pub sub: String,
    /// Expiry (`exp`), in seconds since the epoch.
    pub exp: u64,
    /// Every claim of the token.
    pub claims: Map<String, Value>,
}

/// Verifies `token` against `keys`: one of `issuers`, `audience` among its audiences, `exp` (with
/// the usual leeway) after `now`, a non-empty `sub`.
pub fn check_rs256(
    token: &str,
    keys: &KeySet,
    issuers: &[&str],
    audience: &str,
    now: u64,
) -> Result<Checked, JwtError> {
    let claims = verify_rs256(token, keys, issuers, audience, &["exp", "sub"])?;
    let sub = claims
        .get("sub")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| JwtError::MissingClaim("sub".into()))?
        .to_string();
    let exp = claims
        .get("exp")
        .and_then(Value::as_u64)
        .ok_or_else(|| JwtError::MissingClaim("exp".into()))?;
    if exp.saturating_add(LEEWAY_SECS) < now {
        return Err(JwtError::Expired);
    }
    check_not_before(&claims, now)?;
    Ok(Checked { sub, exp, claims })
}

/// The checks below every kind of provider JWT, with no time check and no claim required beyond
/// `iss`, `aud` and `also_required` (of `exp`, `nbf`, `sub`): algorithm from our allow-list, key
/// by `kid`, signature, one of `issuers`, `audience` among its audiences. Time claims are left to
/// the caller, so one clock (`now`) rules all of them. For tokens that lack `sub` or `exp` by
/// design, such as logout tokens; everything else goes through [`check_rs256`].
pub fn verify_rs256(
    token: &str,
    keys: &KeySet,
    issuers: &[&str],
    audience: &str,
    also_required: &[&str],
) -> Result<Map<String, Value>, JwtError> {
    verify_rs256_for(token, keys, issuers, Some(audience), also_required)
}

/// [`verify_rs256`], with the audience check left to the caller when `audience` is None (then
/// `aud` is not required either): for tokens whose audience the provider does not document.
pub fn verify_rs256_for(
    token: &str,
    keys: &KeySet,
    issuers: &[&str],
    audience: Option<&str>,
    also_required: &[&str],
) -> Result<Map<String, Value>, JwtError> {
    let (alg, kid) = header_alg_and_kid(token).map_err(|_| JwtError::Malformed)?;
    if !is_allowed_algorithm(&alg) {
        return Err(JwtError::AlgorithmNotAllowed(untrusted(&alg).into_owned()));
    }
    let key = keys.choose(kid.as_deref()).map_err(|e| match e {
        KeyChoiceError::UnknownKid(kid) => JwtError::UnknownKey(kid),
        _ => JwtError::NoKey,
    })?;
    let mut validation = Validation::new(Algorithm::RS256);
    validation.algorithms = ALLOWED_ALGORITHMS.to_vec();
    validation.set_issuer(issuers);
    let mut required = vec!["iss"];
    match audience {
        Some(audience) => {
            validation.set_audience(&[audience]);
            required.push("aud");
        }
        None => validation.validate_aud = false,
    }
    required.extend_from_slice(also_required);
    validation.set_required_spec_claims(&required);
    validation.validate_exp = false;
    let claims = jsonwebtoken::decode::<Map<String, Value>>(token, key, &validation)
        .map_err(|e| {
            use jsonwebtoken::errors::ErrorKind;
            match e.kind() {
                ErrorKind::InvalidSignature => JwtError::BadSignature,
                ErrorKind::InvalidIssuer => JwtError::WrongIssuer,
                ErrorKind::InvalidAudience => JwtError::WrongAudience,
                ErrorKind::MissingRequiredClaim(c) => JwtError::MissingClaim(c.clone()),
                ErrorKind::InvalidAlgorithm => {
                    JwtError::AlgorithmNotAllowed(untrusted(&alg).into_owned())
                }
                _ => JwtError::Malformed,
            }
        })?
        .claims;
    Ok(claims)
}

/// The strings of a claim that is an array (`permissions`, `roles`, `scopes`, `aud`); items that
/// are not strings are skipped. None when the claim is not an array.
pub fn string_array(value: &Value) -> Option<Vec<String>> {
    match value {
        Value::Array(items) => Some(
            items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect(),
        ),
        _ => None,
    }
}

/// `nbf` is optional, but when present it binds like `exp` (with the same leeway and clock):
/// [`JwtError::NotYetValid`] when it is more than [`LEEWAY_SECS`] after `now`,
/// [`JwtError::Malformed`] when it is not a whole number of seconds since the epoch.
pub fn check_not_before(claims: &Map<String, Value>, now: u64) -> Result<(), JwtError> {
    match claims.get("nbf") {
        None => Ok(()),
        Some(nbf) => match nbf.as_u64() {
            Some(nbf) if nbf > now.saturating_add(LEEWAY_SECS) => Err(JwtError::NotYetValid),
            Some(_) => Ok(()),
            None => Err(JwtError::Malformed),
        },
    }
}
