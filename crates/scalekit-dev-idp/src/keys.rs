//! The development provider's RSA signing keys.
//!
//! Keys persist in a file so tokens and Scalekit SDK caches (which never refetch the JWKS) stay
//! valid across restarts. A rotation adds a new signing key and keeps publishing the previous one
//! for the overlap, as Scalekit does.

use std::path::{Path, PathBuf};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header};
use rand::Rng;
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use rsa::traits::PublicKeyParts;
use rsa::RsaPrivateKey;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

const RSA_BITS: usize = 2048;
/// How many keys are published: the signing key and the one before it.
const PUBLISHED_KEYS: usize = 2;

#[derive(Serialize, Deserialize)]
struct StoredKey {
    kid: String,
    private_key_pem: String,
}

struct SigningKey {
    kid: String,
    encoding: EncodingKey,
    decoding: DecodingKey,
    jwk: Value,
}

impl SigningKey {
    fn from_stored(stored: &StoredKey) -> Result<SigningKey, String> {
        let private =
            RsaPrivateKey::from_pkcs8_pem(&stored.private_key_pem).map_err(|e| e.to_string())?;
        let n = URL_SAFE_NO_PAD.encode(private.n().to_bytes_be());
        let e = URL_SAFE_NO_PAD.encode(private.e().to_bytes_be());
        Ok(SigningKey {
            kid: stored.kid.clone(),
            encoding: EncodingKey::from_rsa_pem(stored.private_key_pem.as_bytes())
                .map_err(|e| e.to_string())?,
            decoding: DecodingKey::from_rsa_components(&n, &e).map_err(|e| e.to_string())?,
            jwk: json!({ "kty": "RSA", "use": "sig", "alg": "RS256", "kid": stored.kid, "n": n, "e": e }),
        })
    }
}

fn generate() -> Result<StoredKey, String> {
    let private =
        RsaPrivateKey::new(&mut rsa::rand_core::OsRng, RSA_BITS).map_err(|e| e.to_string())?;
    let pem = private
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|e| e.to_string())?;
    // Scalekit key ids look like `snk_` followed by digits.
    let kid = format!(
        "snk_{}",
        rand::rng().random_range(10u64.pow(16)..10u64.pow(17))
    );
    Ok(StoredKey {
        kid,
        private_key_pem: pem.to_string(),
    })
}

/// The key file could not be read, parsed or written.
#[derive(Debug, thiserror::Error)]
#[error(
    "development identity provider keys in {path}: {reason} (delete the file to generate new keys)"
)]
pub struct KeyError {
    path: PathBuf,
    reason: String,
}

/// A freshly generated key, not yet published. Generating an RSA key takes a while, so callers
/// make one outside any lock and then `install` it.
pub struct NewKey {
    stored: StoredKey,
    key: SigningKey,
}

impl NewKey {
    pub fn generate() -> Result<NewKey, String> {
        let stored = generate()?;
        let key = SigningKey::from_stored(&stored)?;
        Ok(NewKey { stored, key })
    }
}

/// The published keys, newest (the signing key) last.
pub struct KeyRing {
    path: PathBuf,
    stored: Vec<StoredKey>,
    keys: Vec<SigningKey>,
}

impl KeyRing {
    /// Loads the keys from `path`, creating a first key when the file does not exist.
    pub fn load_or_create(path: &Path) -> Result<KeyRing, KeyError> {
        let error = |reason: String| KeyError {
            path: path.into(),
            reason,
        };
        let stored: Vec<StoredKey> = match std::fs::read_to_string(path) {
            Ok(text) => serde_json::from_str(&text).map_err(|e| error(e.to_string()))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(error(e.to_string())),
        };
        let mut ring = KeyRing {
            path: path.into(),
            keys: stored
                .iter()
                .map(SigningKey::from_stored)
                .collect::<Result<_, _>>()
                .map_err(error)?,
            stored,
        };
        if ring.keys.is_empty() {
            ring.rotate()?;
        }
        Ok(ring)
    }

    /// Adds a new signing key; the previous one stays published for the overlap.
    pub fn rotate(&mut self) -> Result<(), KeyError> {
        let key = NewKey::generate().map_err(|reason| KeyError {
            path: self.path.clone(),
            reason,
        })?;
        self.install(key)
    }

    /// Adds a key made beforehand (see `NewKey`), drops keys beyond the overlap, and saves.
    pub fn install(&mut self, key: NewKey) -> Result<(), KeyError> {
        self.stored.push(key.stored);
        self.keys.push(key.key);
        if self.stored.len() > PUBLISHED_KEYS {
            let drop = self.stored.len() - PUBLISHED_KEYS;
            self.stored.drain(..drop);
            self.keys.drain(..drop);
        }
        let error = |reason: String| KeyError {
            path: self.path.clone(),
            reason,
        };
        let text = serde_json::to_string_pretty(&self.stored).map_err(|e| error(e.to_string()))?;
        write_private_file(&self.path, &text).map_err(|e| error(e.to_string()))
    }

    fn signing_key(&self) -> &SigningKey {
        // `load_or_create` and `rotate` leave at least one key.
        &self.keys[self.keys.len() - 1]
    }

    /// The `kid` new tokens are signed with (`snk_…`).
    pub fn signing_kid(&self) -> &str {
        &self.signing_key().kid
    }

    /// Signs `claims` as a compact JWS: RS256, `typ: JWT`, `kid` of the signing key.
    pub fn sign(&self, claims: &Value) -> Result<String, jsonwebtoken::errors::Error> {
        self.sign_typed(claims, "JWT")
    }

    /// Signs with another `typ` (explicit typing, so one kind of token cannot pass for another:
    /// `logout+jwt` for back-channel logout tokens).
    pub fn sign_typed(
        &self,
        claims: &Value,
        typ: &str,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        let key = self.signing_key();
        let mut header = Header::new(Algorithm::RS256);
        header.typ = Some(typ.to_string());
        header.kid = Some(key.kid.clone());
        jsonwebtoken::encode(&header, claims, &key.encoding)
    }

    /// Verifies a token this provider issued: signature with a published key, `iss`, and, when
    /// `check_exp`, expiry. Returns its claims. Only plain JWTs: a logout token (which carries a
    /// user's `sub` and `sid`) is never accepted where access or ID tokens are.
    pub fn verify(&self, token: &str, issuer: &str, check_exp: bool) -> Option<Value> {
        let header = jsonwebtoken::decode_header(token).ok()?;
        if header.typ.as_deref().is_some_and(|typ| typ != "JWT") {
            return None;
        }
        let key = self
            .keys
            .iter()
            .find(|k| Some(&k.kid) == header.kid.as_ref())?;
        let mut validation = jsonwebtoken::Validation::new(Algorithm::RS256);
        validation.set_issuer(&[issuer]);
        validation.validate_aud = false;
        validation.validate_exp = check_exp;
        validation.leeway = 0;
        validation.set_required_spec_claims(&["iss", "sub"]);
        jsonwebtoken::decode::<Value>(token, &key.decoding, &validation)
            .ok()
            .map(|data| data.claims)
    }

    /// The JWKS document.
    pub fn jwks(&self) -> Value {
        json!({ "keys": self.keys.iter().rev().map(|k| k.jwk.clone()).collect::<Vec<_>>() })
    }
}

/// Writes `contents` readable by the owner only (tempfile creates 0600 files), through a
/// temporary file in the same directory and a rename, so a crash never leaves half a key.
fn write_private_file(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut file = tempfile::NamedTempFile::new_in(dir)?;
    file.write_all(contents.as_bytes())?;
    file.as_file().sync_all()?;
    file.persist(path).map(drop).map_err(|e| e.error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_persist_and_rotation_keeps_the_previous_key_published() {
        let dir =
            std::env::temp_dir().join(format!("leptos-scalekit-idp-keys-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = dir.join("keys.json");

        let mut ring = KeyRing::load_or_create(&path).unwrap();
        let first = ring.signing_kid().to_string();
        assert!(first.starts_with("snk_"));
        let token = ring
            .sign(&json!({"iss": "http://idp", "sub": "usr_1", "exp": 4_000_000_000u64}))
            .unwrap();

        let reloaded = KeyRing::load_or_create(&path).unwrap();
        assert_eq!(reloaded.signing_kid(), first, "the key survives a restart");
        assert!(reloaded.verify(&token, "http://idp", true).is_some());
        assert!(reloaded.verify(&token, "http://other", true).is_none());

        ring.rotate().unwrap();
        assert_ne!(ring.signing_kid(), first);
        let kids: Vec<String> = ring.jwks()["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kid"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(kids.len(), 2);
        assert!(
            kids.contains(&first),
            "old key still published during the overlap"
        );
        assert!(ring.verify(&token, "http://idp", true).is_some());

        let logout_token = ring
            .sign_typed(
                &json!({"iss": "http://idp", "sub": "usr_1", "exp": 4_000_000_000u64}),
                "logout+jwt",
            )
            .unwrap();
        let header = jsonwebtoken::decode_header(&logout_token).unwrap();
        assert_eq!(header.typ.as_deref(), Some("logout+jwt"));
        assert_eq!(header.kid.as_deref(), Some(ring.signing_kid()));
        assert!(
            ring.verify(&logout_token, "http://idp", true).is_none(),
            "a logout token never passes for an access or ID token"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }
}
