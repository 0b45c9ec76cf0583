//! A snapshot of the provider's signing keys (its JWKS), and the choice of key for a token's
//! header: by `kid` when present; the only key when absent and there is one; refused when absent
//! and there are several (checklist I3).

use jsonwebtoken::jwk::{AlgorithmParameters, JwkSet, PublicKeyUse};
use jsonwebtoken::DecodingKey;

/// One usable key of a JWKS: its key id and the RSA public key to verify with.
pub struct VerificationKey {
    /// The JWK's `kid`, if it has one.
    pub kid: Option<String>,
    /// The public key, ready for `jsonwebtoken`.
    pub key: DecodingKey,
}

/// The usable keys of a JWKS: RSA keys meant for signatures (or with no `use`).
#[derive(Default)]
pub struct KeySet {
    keys: Vec<VerificationKey>,
}

/// Why no key could be chosen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyChoiceError {
    /// The token names a key the set does not have: the provider may have rotated (refetch once).
    UnknownKid(String),
    /// No `kid` in the token and more than one candidate key.
    AmbiguousWithoutKid,
    /// The set has no usable key at all.
    Empty,
}

impl KeySet {
    /// The usable keys of `jwks`: RSA keys whose `use` is `sig` or absent and that parse; every
    /// other key is left out.
    pub fn from_jwks(jwks: &JwkSet) -> KeySet {
        let keys = jwks
            .keys
            .iter()
            .filter(|jwk| matches!(jwk.algorithm, AlgorithmParameters::RSA(_)))
            .filter(|jwk| {
                matches!(
                    jwk.common.public_key_use,
                    None | Some(PublicKeyUse::Signature)
                )
            })
            .filter_map(|jwk| {
                DecodingKey::from_jwk(jwk).ok().map(|key| VerificationKey {
                    kid: jwk.common.key_id.clone(),
                    key,
                })
            })
            .collect();
        KeySet { keys }
    }

    /// How many usable keys the set holds.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the set holds no usable key.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Whether the set holds a key with this `kid`.
    pub fn contains_kid(&self, kid: &str) -> bool {
        self.keys.iter().any(|k| k.kid.as_deref() == Some(kid))
    }

    /// The key for a token whose header names `kid` (checklist I3): the key with that id; with no
    /// `kid`, the only key. Refused when the id is unknown, or without an id when the set holds
    /// none or several.
    pub fn choose(&self, kid: Option<&str>) -> Result<&DecodingKey, KeyChoiceError> {
        match kid {
            Some(kid) => self
                .keys
                .iter()
                .find(|k| k.kid.as_deref() == Some(kid))
                .map(|k| &k.key)
                // The kid came from the token: kept only in its loggable form.
                .ok_or_else(|| {
                    KeyChoiceError::UnknownKid(crate::log_text::untrusted(kid).into_owned())
                }),
            None => match self.keys.as_slice() {
                [] => Err(KeyChoiceError::Empty),
                [only] => Ok(&only.key),
                _ => Err(KeyChoiceError::AmbiguousWithoutKid),
            },
        }
    }
}
