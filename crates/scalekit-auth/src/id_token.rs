//! ID-token validation, OIDC Core §3.1.3.7 step by step (checklist I1–I12). One function, table-
//! tested below under the OpenID conformance suite's RP module names.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, Validation};
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::keys::{KeyChoiceError, KeySet};
use crate::log_text::untrusted;

/// Signature algorithms accepted: Scalekit signs with RS256. `none` and HS* are never accepted
/// (an HS256 token "signed" with the provider's public key is the classic confusion attack).
pub const ALLOWED_ALGORITHMS: [Algorithm; 1] = [Algorithm::RS256];

/// Whether a header's `alg` names one of [`ALLOWED_ALGORITHMS`], by the library's own parse of
/// the JOSE name (exact, case-sensitive), not by comparing with how an enum prints.
pub fn is_allowed_algorithm(alg: &str) -> bool {
    alg.parse::<Algorithm>()
        .is_ok_and(|parsed| ALLOWED_ALGORITHMS.contains(&parsed))
}
/// Clock skew tolerated on `exp` (checklist I8: at most 60 s).
pub const LEEWAY_SECS: u64 = 60;
/// How far `iat` may be from now, either way (checklist I9).
pub const IAT_WINDOW_SECS: u64 = 300;

/// The claims this app reads; everything else stays in `other` (email, name, oid, ...).
#[derive(Clone, Debug, Deserialize)]
pub struct IdTokenClaims {
    /// The issuer (`iss`), exactly the expected one.
    pub iss: String,
    /// The subject (`sub`), never empty: the provider's id for the user.
    pub sub: String,
    /// The audiences (`aud`), a string or an array in the token; every one is our client id.
    #[serde(deserialize_with = "string_or_array")]
    pub aud: Vec<String>,
    /// Expiry (`exp`), in seconds since the epoch.
    pub exp: u64,
    /// Issue time (`iat`), in seconds since the epoch; within `IAT_WINDOW_SECS` of now.
    pub iat: u64,
    /// The authorized party (`azp`); when present, our client id.
    #[serde(default)]
    pub azp: Option<String>,
    /// The `nonce` sent with the authorization request; when one is expected, equal to it.
    #[serde(default)]
    pub nonce: Option<String>,
    /// The access-token hash (`at_hash`); when present, it matches the access token of the same
    /// response.
    #[serde(default)]
    pub at_hash: Option<String>,
    /// Every other claim (`email`, `name`, `oid`, `sid`, …).
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// `aud` may be one string or an array (Scalekit sends an array).
fn string_or_array<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(deserializer)? {
        OneOrMany::One(one) => vec![one],
        OneOrMany::Many(many) => many,
    })
}

/// What the token must match.
pub struct Expected<'a> {
    /// The discovered issuer, compared exactly.
    pub issuer: &'a str,
    /// Our client id: every audience must be it, and so must `azp` when present.
    pub client_id: &'a str,
    /// The transaction's nonce; `None` only for an ID token from a refresh (no nonce there).
    pub nonce: Option<&'a str>,
    /// The access token from the same response, to check `at_hash` against.
    pub access_token: Option<&'a str>,
    /// Seconds since the epoch.
    pub now: u64,
}

/// Why an ID token was refused, one variant per check (checklist I1–I12). Text taken from the token
/// is in its loggable form (`untrusted`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum IdTokenError {
    /// Not a parseable JWT (three base64url parts, a JSON header naming `alg`, JSON claims), or a
    /// claim of the wrong type.
    #[error("the ID token is not a well-formed JWT")]
    Malformed,
    /// The header's `alg` is not RS256: `none`, HS256 and every other algorithm are refused (I2).
    #[error("the ID token uses algorithm `{0}`, which is not allowed")]
    AlgorithmNotAllowed(String),
    /// The header's `kid` names no key of the set; the caller refetches the keys once (I4).
    #[error("the ID token names key `{0}`, which the provider does not publish")]
    UnknownKey(String),
    /// The token has no `kid` and the set holds several keys (I3).
    #[error("the ID token has no key id and the provider publishes several keys")]
    AmbiguousKey,
    /// The key set holds no usable key.
    #[error("the provider publishes no usable signing key")]
    NoKeys,
    /// The signature does not verify with the chosen key (I1).
    #[error("the ID token's signature is invalid")]
    BadSignature,
    /// A required claim (`exp`, `iat`, `iss`, `aud`, `sub`) is absent, or `sub` is empty (I10).
    #[error("the ID token lacks the `{0}` claim")]
    MissingClaim(String),
    /// `iss` is not exactly the expected issuer (I5).
    #[error("the ID token was issued by someone else")]
    WrongIssuer,
    /// Our client id is not among the audiences (I6).
    #[error("the ID token is not meant for this application")]
    WrongAudience,
    /// Besides our client id, the audiences name someone else (I6).
    #[error("the ID token is also meant for an untrusted audience")]
    UntrustedAudience,
    /// `azp` is present and not our client id, or absent while `aud` has several entries (I7).
    #[error("the ID token's authorized party is wrong or missing")]
    WrongAuthorizedParty,
    /// `exp` passed more than `LEEWAY_SECS` ago (I8).
    #[error("the ID token has expired")]
    Expired,
    /// `iat` is more than `IAT_WINDOW_SECS` away from now, either way (I9).
    #[error("the ID token's issue time is out of range")]
    IssuedAtOutOfRange,
    /// A nonce was expected and `nonce` is absent or different (I11).
    #[error("the ID token's nonce does not match this sign-in")]
    NonceMismatch,
    /// `at_hash` is present and does not match the access token (I12).
    #[error("the ID token's at_hash does not match the access token")]
    AccessTokenHashMismatch,
}

impl IdTokenError {
    /// A short, stable name for this refusal (`expired`, `bad_signature`…), for metrics and
    /// logs: never anything from the token.
    pub fn reason(&self) -> &'static str {
        match self {
            IdTokenError::Malformed => "malformed",
            IdTokenError::AlgorithmNotAllowed(_) => "algorithm_not_allowed",
            IdTokenError::UnknownKey(_) => "unknown_key",
            IdTokenError::AmbiguousKey => "ambiguous_key",
            IdTokenError::NoKeys => "no_keys",
            IdTokenError::BadSignature => "bad_signature",
            IdTokenError::MissingClaim(_) => "missing_claim",
            IdTokenError::WrongIssuer => "wrong_issuer",
            IdTokenError::WrongAudience => "wrong_audience",
            IdTokenError::UntrustedAudience => "untrusted_audience",
            IdTokenError::WrongAuthorizedParty => "wrong_authorized_party",
            IdTokenError::Expired => "expired",
            IdTokenError::IssuedAtOutOfRange => "issued_at_out_of_range",
            IdTokenError::NonceMismatch => "nonce_mismatch",
            IdTokenError::AccessTokenHashMismatch => "access_token_hash_mismatch",
        }
    }
}

/// OIDC Core §3.1.3.6: base64url of the left half of SHA-256 (`at_hash`, `c_hash`).
pub fn half_hash(value: &str) -> String {
    URL_SAFE_NO_PAD.encode(&Sha256::digest(value.as_bytes())[..16])
}

/// The header fields read before choosing a key. Parsed by hand so an unknown or `none` algorithm
/// is reported as such rather than as a parse failure.
pub(crate) fn header_alg_and_kid(token: &str) -> Result<(String, Option<String>), IdTokenError> {
    let header = token.split('.').next().ok_or(IdTokenError::Malformed)?;
    let bytes = URL_SAFE_NO_PAD
        .decode(header)
        .map_err(|_| IdTokenError::Malformed)?;
    let header: Value = serde_json::from_slice(&bytes).map_err(|_| IdTokenError::Malformed)?;
    let alg = header["alg"]
        .as_str()
        .ok_or(IdTokenError::Malformed)?
        .to_string();
    let kid = header["kid"].as_str().map(str::to_string);
    Ok((alg, kid))
}

/// The claim named in serde's "missing field `x`" message.
fn missing_field(message: &str) -> Option<String> {
    let rest = message.strip_prefix("missing field `")?;
    Some(rest[..rest.find('`')?].to_string())
}

/// Validates an ID token per OIDC Core §3.1.3.7 (checklist I1–I12), in this order: `alg` from our
/// allow-list, the key by `kid`, the signature, `iss`, `aud` and the required claims (`exp`, `iat`,
/// `iss`, `aud`, `sub`) in one step, a non-empty `sub`, `exp` within [`LEEWAY_SECS`], every
/// audience ours and `azp`, `iat` within [`IAT_WINDOW_SECS`], the nonce when one is expected, and
/// `at_hash` when both it and the access token are there. All time checks use `expected.now`.
///
/// Pure: on [`IdTokenError::UnknownKey`] the caller refetches the keys and tries once more
/// ([`JwksCache::validate_id_token`](crate::jwks_cache::JwksCache::validate_id_token)).
pub fn validate_id_token(
    token: &str,
    keys: &KeySet,
    expected: &Expected,
) -> Result<IdTokenClaims, IdTokenError> {
    // I2: the algorithm comes from our allow-list, never from the token.
    let (alg, kid) = header_alg_and_kid(token)?;
    if !is_allowed_algorithm(&alg) {
        return Err(IdTokenError::AlgorithmNotAllowed(
            untrusted(&alg).into_owned(),
        ));
    }
    // I3/I4: the key by kid (the caller refetches once on UnknownKey).
    let key = keys.choose(kid.as_deref()).map_err(|e| match e {
        KeyChoiceError::UnknownKid(kid) => IdTokenError::UnknownKey(kid),
        KeyChoiceError::AmbiguousWithoutKid => IdTokenError::AmbiguousKey,
        KeyChoiceError::Empty => IdTokenError::NoKeys,
    })?;

    // I1, I5, I6 (ours among the audiences), I10: signature, iss, aud, required claims.
    let mut validation = Validation::new(Algorithm::RS256);
    validation.algorithms = ALLOWED_ALGORITHMS.to_vec();
    validation.set_issuer(&[expected.issuer]);
    validation.set_audience(&[expected.client_id]);
    validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
    // Expiry is checked below against `expected.now`, so one clock rules every time check.
    validation.validate_exp = false;
    let claims: IdTokenClaims = jsonwebtoken::decode::<IdTokenClaims>(token, key, &validation)
        .map_err(|e| {
            use jsonwebtoken::errors::ErrorKind;
            match e.kind() {
                ErrorKind::InvalidSignature => IdTokenError::BadSignature,
                ErrorKind::InvalidIssuer => IdTokenError::WrongIssuer,
                ErrorKind::InvalidAudience => IdTokenError::WrongAudience,
                ErrorKind::MissingRequiredClaim(claim) => IdTokenError::MissingClaim(claim.clone()),
                ErrorKind::InvalidAlgorithm => {
                    IdTokenError::AlgorithmNotAllowed(untrusted(&alg).into_owned())
                }
                // serde failures: a required claim of ours missing, or of the wrong type.
                ErrorKind::Json(e) => missing_field(&e.to_string())
                    .map(IdTokenError::MissingClaim)
                    .unwrap_or(IdTokenError::Malformed),
                _ => IdTokenError::Malformed,
            }
        })?
        .claims;
    // The library treats an empty `sub` as present; we do not.
    if claims.sub.is_empty() {
        return Err(IdTokenError::MissingClaim("sub".into()));
    }

    // I8: not expired, with at most a minute of clock skew.
    if claims.exp.saturating_add(LEEWAY_SECS) < expected.now {
        return Err(IdTokenError::Expired);
    }

    // I6: every audience must be us; I7: several audiences need azp, and azp must be us.
    if claims.aud.iter().any(|aud| aud != expected.client_id) {
        return Err(IdTokenError::UntrustedAudience);
    }
    let azp_ok = match &claims.azp {
        Some(azp) => azp == expected.client_id,
        None => claims.aud.len() == 1,
    };
    if !azp_ok {
        return Err(IdTokenError::WrongAuthorizedParty);
    }

    // I9: iat near now.
    if claims.iat > expected.now.saturating_add(IAT_WINDOW_SECS)
        || claims.iat.saturating_add(IAT_WINDOW_SECS) < expected.now
    {
        return Err(IdTokenError::IssuedAtOutOfRange);
    }

    // I11: the nonce of this transaction.
    if let Some(nonce) = expected.nonce {
        if claims.nonce.as_deref() != Some(nonce) {
            return Err(IdTokenError::NonceMismatch);
        }
    }

    // I12: at_hash, when present, binds the access token to this ID token.
    if let (Some(at_hash), Some(access_token)) = (&claims.at_hash, expected.access_token) {
        if *at_hash != half_hash(access_token) {
            return Err(IdTokenError::AccessTokenHashMismatch);
        }
    }
    Ok(claims)
}

#[cfg(test)]
mod tests;
