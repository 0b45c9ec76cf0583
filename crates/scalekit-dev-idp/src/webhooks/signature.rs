//! The Standard Webhooks signature Scalekit puts on every delivery, as its SDKs check it
//! (`verify_webhook_payload`, `verifyWebhookPayload`): HMAC-SHA256 over
//! `{webhook-id}.{webhook-timestamp}.{body}`, keyed with the base64 part of the `whsec_` secret,
//! sent as `v1,<base64>`.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Shortest key accepted: what the app's verifier asks for, so a target's secret works there.
pub const MIN_KEY_LEN: usize = 16;

/// The HMAC key of a `whsec_…` secret. The error never contains the secret.
pub fn key_of(secret: &str) -> Result<Vec<u8>, &'static str> {
    let encoded = secret.trim();
    let encoded = encoded.strip_prefix("whsec_").unwrap_or(encoded);
    let key = STANDARD
        .decode(encoded)
        .map_err(|_| "the secret must be whsec_ followed by base64")?;
    if key.len() < MIN_KEY_LEN {
        return Err("the secret's key must be at least 16 bytes");
    }
    Ok(key)
}

/// The `webhook-signature` header value for one delivery attempt.
pub fn sign(key: &[u8], id: &str, timestamp: u64, body: &[u8]) -> String {
    // HMAC takes keys of any length, so this never falls back.
    let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(key) else {
        return String::new();
    };
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body);
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The vector Scalekit's SDKs test `verify_webhook_payload` with.
    #[test]
    fn w1_the_signature_matches_scalekits_test_vector() {
        // "testsecret" is shorter than the minimum we accept for targets, so decode it directly.
        let key = STANDARD.decode("dGVzdHNlY3JldA==").unwrap();
        let body = br#"{"event": "user.created", "data": {"id": "123"}}"#;
        assert_eq!(
            sign(&key, "webhook_123", 1_730_000_000, body),
            "v1,cy0ze+P4SHr+y5a9Z4B4CyRVUx+nFz07bUjuDVdt9Ts="
        );
    }

    #[test]
    fn w1_secrets_are_whsec_base64_of_a_long_enough_key() {
        assert!(key_of(crate::settings::DEV_WEBHOOK_SECRET).is_ok());
        assert_eq!(
            key_of("whsec_dGVzdHNlY3JldA=="),
            Err("the secret's key must be at least 16 bytes")
        );
        let refused = key_of("whsec_not base64!").unwrap_err();
        assert!(!refused.contains("not base64!"), "the secret is not echoed");
    }
}
