//! `SCALEKIT_WEBHOOK_SECRET`: the signing secret of the app's webhook endpoint in Scalekit
//! (Dashboard > Webhooks, `whsec_…`). Unset: `/webhooks/scalekit` is not served.

use scalekit_auth::webhook::WebhookVerifier;
use scalekit_auth::Secret;

use super::Reader;

pub(super) fn read_webhook_verifier(r: &mut Reader) -> Option<Option<WebhookVerifier>> {
    let Some(raw) = r.get("SCALEKIT_WEBHOOK_SECRET") else {
        return Some(None);
    };
    match WebhookVerifier::new(&Secret::new(raw)) {
        Ok(verifier) => Some(Some(verifier)),
        // The message never echoes the value.
        Err(problem) => {
            r.problem(
                "SCALEKIT_WEBHOOK_SECRET",
                problem,
                "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            );
            None
        }
    }
}
