//! Scalekit's signed webhooks, verified as its SDKs verify them (`verify_webhook_payload`,
//! `verifyWebhookPayload`; the Standard Webhooks scheme): the secret is `whsec_` and the base64
//! of the HMAC key; the signed content is `{webhook-id}.{webhook-timestamp}.{body}`; the
//! `webhook-signature` header holds one or more space-separated `v1,<base64 HMAC-SHA256>`; the
//! timestamp must be within five minutes of now, either way. On top of the SDKs, each
//! `webhook-id` is recorded once it was acted on ([`Auth::record_webhook`]), on every instance
//! when the store is shared, so a delivery is listed and logged once however often it comes.
//!
//! The order matters: verify, act, then record. An id recorded before its action would be
//! acknowledged even if the action failed, and the sender's retry refused as a duplicate: the
//! action would be lost. So a delivery whose action the store could not take is answered 503
//! with nothing recorded, and the sender's retry finishes the job; acting must therefore be
//! idempotent (ending sessions by a cutoff taken from the signed event is). A duplicate of a
//! delivery that was recorded is acknowledged too, so the sender stops.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::auth::Auth;
use crate::secret::Secret;
use crate::store::{OneTime, StoreUnavailable};

/// How far a delivery's timestamp may be from now, either way (the SDKs' tolerance).
pub const WEBHOOK_TOLERANCE_SECS: u64 = 5 * 60;
/// Longest `webhook-id` kept (Scalekit's are `evt_…`, a few dozen characters).
const MAX_ID_LEN: usize = 256;
/// Most signatures looked at in one header (key rotation sends two).
const MAX_SIGNATURES: usize = 8;

/// A webhook delivery that is not verified, and why. The HTTP status for each: 400 for a
/// malformed request, 401 for a signature or timestamp that does not verify.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WebhookRefusal {
    /// A required header is missing or empty.
    #[error("the {0} header is missing")]
    MissingHeader(&'static str),
    /// The timestamp is not a number of seconds, or the id is too long.
    #[error("the {0} header is malformed")]
    MalformedHeader(&'static str),
    /// The timestamp is more than five minutes old.
    #[error("the delivery is too old")]
    TooOld,
    /// The timestamp is more than five minutes in the future.
    #[error("the delivery's timestamp is in the future")]
    FromTheFuture,
    /// No `v1` signature in the header matches the body under the secret.
    #[error("no signature matches")]
    BadSignature,
}

impl WebhookRefusal {
    /// The HTTP status to answer with.
    pub fn status(&self) -> u16 {
        match self {
            WebhookRefusal::MissingHeader(_) | WebhookRefusal::MalformedHeader(_) => 400,
            WebhookRefusal::TooOld
            | WebhookRefusal::FromTheFuture
            | WebhookRefusal::BadSignature => 401,
        }
    }
}

/// The three headers of a delivery, as received.
#[derive(Clone, Copy, Debug, Default)]
pub struct WebhookHeaders<'a> {
    /// `webhook-id`.
    pub id: Option<&'a str>,
    /// `webhook-timestamp`, seconds since the epoch.
    pub timestamp: Option<&'a str>,
    /// `webhook-signature`.
    pub signature: Option<&'a str>,
}

/// The verifier for one endpoint's signing secret.
#[derive(Clone)]
pub struct WebhookVerifier {
    key: Vec<u8>,
}

/// Never prints the key.
impl std::fmt::Debug for WebhookVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookVerifier([redacted])")
    }
}

impl WebhookVerifier {
    /// From the endpoint's secret as Scalekit shows it (`whsec_…`; the part after the prefix is
    /// the base64 HMAC key).
    pub fn new(secret: &Secret) -> Result<WebhookVerifier, String> {
        let encoded = secret.expose().trim();
        let encoded = encoded.strip_prefix("whsec_").unwrap_or(encoded);
        let key = STANDARD
            .decode(encoded)
            .map_err(|_| "the webhook secret must be whsec_ followed by base64".to_string())?;
        if key.len() < 16 {
            return Err("the webhook secret is too short".into());
        }
        Ok(WebhookVerifier { key })
    }

    fn mac(&self) -> Hmac<Sha256> {
        // HMAC takes keys of any length: this cannot fail.
        <Hmac<Sha256> as Mac>::new_from_slice(&self.key).expect("HMAC accepts any key length")
    }

    /// The `v1,<base64>` signature of a delivery, as a sender computes it (for the development
    /// provider and tests).
    pub fn sign(&self, id: &str, timestamp: u64, body: &[u8]) -> String {
        let mut mac = self.mac();
        mac.update(format!("{id}.{timestamp}.").as_bytes());
        mac.update(body);
        format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
    }

    /// Checks the headers and the signature of `body` at `now` (seconds since the epoch); the
    /// delivery's id and its signed timestamp when it verifies. Does not record the id: act on
    /// the delivery, then [`Auth::record_webhook`].
    pub fn verify<'a>(
        &self,
        headers: &WebhookHeaders<'a>,
        body: &[u8],
        now: u64,
    ) -> Result<Delivery<'a>, WebhookRefusal> {
        let present = |value: Option<&'a str>, name| {
            value
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .ok_or(WebhookRefusal::MissingHeader(name))
        };
        let id = present(headers.id, "webhook-id")?;
        let timestamp = present(headers.timestamp, "webhook-timestamp")?;
        let signatures = present(headers.signature, "webhook-signature")?;
        if id.len() > MAX_ID_LEN || id.chars().any(char::is_control) {
            return Err(WebhookRefusal::MalformedHeader("webhook-id"));
        }
        let sent_at: u64 = timestamp
            .parse()
            .map_err(|_| WebhookRefusal::MalformedHeader("webhook-timestamp"))?;
        if now > sent_at.saturating_add(WEBHOOK_TOLERANCE_SECS) {
            return Err(WebhookRefusal::TooOld);
        }
        if sent_at > now.saturating_add(WEBHOOK_TOLERANCE_SECS) {
            return Err(WebhookRefusal::FromTheFuture);
        }
        let matches = signatures
            .split(' ')
            .filter(|s| !s.is_empty())
            .take(MAX_SIGNATURES)
            .filter_map(|s| s.strip_prefix("v1,"))
            .filter_map(|s| STANDARD.decode(s).ok())
            .any(|candidate| {
                let mut mac = self.mac();
                mac.update(format!("{id}.{sent_at}.").as_bytes());
                mac.update(body);
                // Constant-time comparison (hmac's verify_slice).
                mac.verify_slice(&candidate).is_ok()
            });
        if !matches {
            return Err(WebhookRefusal::BadSignature);
        }
        Ok(Delivery { id, sent_at })
    }
}

/// A verified delivery.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Delivery<'a> {
    /// Its `webhook-id`.
    pub id: &'a str,
    /// Its `webhook-timestamp`, seconds since the epoch: signed, so a copy replayed carries the
    /// same; the sender's own retries carry a new one.
    pub sent_at: u64,
}

impl Auth {
    /// Records that the delivery `id` was acted on, on every instance when the store is shared:
    /// true the first time, false for a duplicate. Call it after acting, never before (see the
    /// module's documentation); a store that cannot take it is an error, to answer 503.
    pub async fn record_webhook(&self, id: &str, now: u64) -> Result<bool, StoreUnavailable> {
        // Remembered for as long as a copy could still pass the timestamp check.
        let until = now + 2 * WEBHOOK_TOLERANCE_SECS + 60;
        self.store()
            .first_use(OneTime::WebhookId, id, until, now)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_700_000_000;

    fn verifier() -> WebhookVerifier {
        WebhookVerifier::new(&Secret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")).unwrap()
    }

    fn headers<'a>(id: &'a str, timestamp: &'a str, signature: &'a str) -> WebhookHeaders<'a> {
        WebhookHeaders {
            id: Some(id),
            timestamp: Some(timestamp),
            signature: Some(signature),
        }
    }

    /// The Standard Webhooks reference vector (the scheme Scalekit's SDKs implement).
    #[test]
    fn w1_the_reference_signature_verifies() {
        let body = br#"{"test": 2432232314}"#;
        let v = verifier();
        let expected = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
        assert_eq!(
            v.sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body),
            expected
        );
        let sent = headers("msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", expected);
        assert_eq!(
            v.verify(&sent, body, 1614265330 + 10),
            Ok(Delivery {
                id: "msg_p5jXN8AQM9LWM0D4loKWxJek",
                sent_at: 1614265330
            })
        );
    }

    #[test]
    fn w2_a_bad_signature_or_another_body_is_refused() {
        let v = verifier();
        let good = v.sign("evt_1", NOW, b"{}");
        let t = NOW.to_string();
        assert_eq!(
            v.verify(&headers("evt_1", &t, &good), b"{ }", NOW),
            Err(WebhookRefusal::BadSignature)
        );
        for forged in [
            "v1,AAAA",
            "v2,".to_string().as_str(),
            "garbage",
            &good.replace("v1,", "v2,"),
        ] {
            assert_eq!(
                v.verify(&headers("evt_1", &t, forged), b"{}", NOW),
                Err(WebhookRefusal::BadSignature),
                "{forged}"
            );
        }
        // One of several signatures (key rotation) is enough.
        let several = format!("v1,AAAA {good}");
        assert!(v
            .verify(&headers("evt_1", &t, &several), b"{}", NOW)
            .is_ok());
    }

    #[test]
    fn w3_the_wrong_secret_is_refused() {
        let other =
            WebhookVerifier::new(&Secret::new("whsec_c2VjcmV0LXRoYXQtaXMtbm90LW91cnM=")).unwrap();
        let signed = other.sign("evt_1", NOW, b"{}");
        assert_eq!(
            verifier().verify(&headers("evt_1", &NOW.to_string(), &signed), b"{}", NOW),
            Err(WebhookRefusal::BadSignature)
        );
    }

    #[test]
    fn w4_old_and_future_timestamps_are_refused() {
        let v = verifier();
        for (sent, expected) in [
            (
                NOW - WEBHOOK_TOLERANCE_SECS - 1,
                Err(WebhookRefusal::TooOld),
            ),
            (
                NOW + WEBHOOK_TOLERANCE_SECS + 1,
                Err(WebhookRefusal::FromTheFuture),
            ),
            (NOW - WEBHOOK_TOLERANCE_SECS, Ok("evt_1")),
            (NOW + WEBHOOK_TOLERANCE_SECS, Ok("evt_1")),
        ] {
            let signature = v.sign("evt_1", sent, b"{}");
            assert_eq!(
                v.verify(&headers("evt_1", &sent.to_string(), &signature), b"{}", NOW)
                    .map(|delivery| delivery.id),
                expected,
                "{sent}"
            );
        }
    }

    #[test]
    fn w5_missing_or_malformed_headers_are_refused() {
        let v = verifier();
        let sig = v.sign("evt_1", NOW, b"{}");
        let t = NOW.to_string();
        let cases = [
            (
                WebhookHeaders {
                    id: None,
                    ..headers("", &t, &sig)
                },
                WebhookRefusal::MissingHeader("webhook-id"),
            ),
            (
                headers("evt_1", "", &sig),
                WebhookRefusal::MissingHeader("webhook-timestamp"),
            ),
            (
                headers("evt_1", &t, " "),
                WebhookRefusal::MissingHeader("webhook-signature"),
            ),
            (
                headers("evt_1", "soon", &sig),
                WebhookRefusal::MalformedHeader("webhook-timestamp"),
            ),
        ];
        for (sent, refusal) in cases {
            assert_eq!(v.verify(&sent, b"{}", NOW), Err(refusal.clone()));
            assert_eq!(refusal.status(), 400);
        }
        let long = "e".repeat(MAX_ID_LEN + 1);
        assert_eq!(
            v.verify(&headers(&long, &t, &sig), b"{}", NOW),
            Err(WebhookRefusal::MalformedHeader("webhook-id"))
        );
    }

    #[test]
    fn w6_secrets_are_whsec_base64_and_never_printed() {
        assert!(WebhookVerifier::new(&Secret::new("whsec_not base64!")).is_err());
        assert!(
            WebhookVerifier::new(&Secret::new("whsec_c2hvcnQ=")).is_err(),
            "too short"
        );
        assert_eq!(format!("{:?}", verifier()), "WebhookVerifier([redacted])");
    }

    #[tokio::test]
    async fn w7_a_delivery_is_recorded_once_after_acting() {
        let auth = crate::Auth::new(crate::settings::test_settings()).unwrap();
        let v = verifier();
        let now = crate::now_secs();
        let sig = v.sign("evt_once", now, b"{}");
        let t = now.to_string();
        let sent = headers("evt_once", &t, &sig);
        // Verifying records nothing: a delivery verified twice (its action failed the first
        // time) is still new when it is recorded.
        let delivery = v.verify(&sent, b"{}", now).unwrap();
        assert_eq!(v.verify(&sent, b"{}", now), Ok(delivery));
        assert_eq!(auth.record_webhook(delivery.id, now).await, Ok(true));
        assert_eq!(auth.record_webhook(delivery.id, now).await, Ok(false));
    }
}
