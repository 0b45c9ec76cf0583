//! Locally minted RSA keys and tokens for the auth core's unit tests.

use std::sync::OnceLock;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
use rsa::traits::PublicKeyParts;
use rsa::RsaPrivateKey;
use serde_json::{json, Value};

use super::keys::KeySet;

pub struct TestKey {
    pub kid: &'static str,
    pub private_pem: String,
    pub public_pem: String,
    pub n: String,
    pub e: String,
}

pub fn make_key(kid: &'static str) -> TestKey {
    let private = RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).unwrap();
    TestKey {
        kid,
        private_pem: private.to_pkcs8_pem(LineEnding::LF).unwrap().to_string(),
        public_pem: private
            .to_public_key()
            .to_public_key_pem(LineEnding::LF)
            .unwrap(),
        n: URL_SAFE_NO_PAD.encode(private.n().to_bytes_be()),
        e: URL_SAFE_NO_PAD.encode(private.e().to_bytes_be()),
    }
}

/// Two keys, generated once per test run: the provider's, and a stranger's.
pub fn keys() -> &'static (TestKey, TestKey) {
    static KEYS: OnceLock<(TestKey, TestKey)> = OnceLock::new();
    KEYS.get_or_init(|| (make_key("snk_provider"), make_key("snk_other")))
}

pub fn jwk(key: &TestKey, with_kid: bool) -> Value {
    let mut jwk = json!({ "kty": "RSA", "use": "sig", "alg": "RS256", "n": key.n, "e": key.e });
    if with_kid {
        jwk["kid"] = json!(key.kid);
    }
    jwk
}

pub fn key_set(jwks: Vec<Value>) -> KeySet {
    let set: JwkSet = serde_json::from_value(json!({ "keys": jwks })).unwrap();
    KeySet::from_jwks(&set)
}

/// The provider publishes only its own key, with its kid.
pub fn provider_keys() -> KeySet {
    key_set(vec![jwk(&keys().0, true)])
}

pub fn sign_with(key: &TestKey, kid: Option<&str>, claims: &Value) -> String {
    sign_typed(key, kid, Some("JWT"), claims)
}

/// Signed by `key`, naming `kid`, with the given `typ` header (none when `typ` is None).
pub fn sign_typed(key: &TestKey, kid: Option<&str>, typ: Option<&str>, claims: &Value) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = kid.map(str::to_string);
    header.typ = typ.map(str::to_string);
    jsonwebtoken::encode(
        &header,
        claims,
        &EncodingKey::from_rsa_pem(key.private_pem.as_bytes()).unwrap(),
    )
    .unwrap()
}

pub fn sign(claims: &Value) -> String {
    sign_with(&keys().0, Some(keys().0.kid), claims)
}
