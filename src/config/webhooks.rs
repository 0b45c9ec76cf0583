//! `SCALEKIT_WEBHOOK_SECRET`: the signing secret of the app's webhook endpoint in Scalekit
//! (Dashboard > Webhooks, `whsec_…`). Unset: `/webhooks/scalekit` is not served, except on the
//! built-in development provider, which signs its webhooks with [`DEV_WEBHOOK_SECRET`] so that
//! the endpoint works out of the box.

use scalekit_auth::webhook::WebhookVerifier;
use scalekit_auth::Secret;

use super::Reader;

/// The development provider's public webhook secret (`scalekit_dev_idp::settings::
/// DEV_WEBHOOK_SECRET`; a test keeps the two equal). Used only on that provider.
pub const DEV_WEBHOOK_SECRET: &str =
    "whsec_bGVwdG9zLXNjYWxla2l0LWRldi1wcm92aWRlci13ZWJob29rcy1vbmx5";

/// The endpoint's secret and where it came from.
#[derive(Clone, Debug)]
pub struct WebhookSecret {
    /// Verifies the deliveries.
    pub verifier: WebhookVerifier,
    /// The secret itself: the in-app development provider signs with it.
    pub secret: Secret,
    /// `SCALEKIT_WEBHOOK_SECRET` (true) or the development provider's built-in one.
    pub configured: bool,
}

impl WebhookSecret {
    /// For the start-up log and `doctor`: which secret, never its value.
    pub fn describe(&self) -> &'static str {
        if self.configured {
            "POST /webhooks/scalekit (SCALEKIT_WEBHOOK_SECRET set)"
        } else {
            "POST /webhooks/scalekit (the development provider's built-in secret; SCALEKIT_WEBHOOK_SECRET unset)"
        }
    }
}

pub(super) fn read_webhook_secret(
    r: &mut Reader,
    on_dev_idp: bool,
) -> Option<Option<WebhookSecret>> {
    let (raw, configured) = match r.get("SCALEKIT_WEBHOOK_SECRET") {
        Some(raw) => (raw, true),
        None if on_dev_idp => (DEV_WEBHOOK_SECRET.to_string(), false),
        None => return Some(None),
    };
    let secret = Secret::new(raw);
    match WebhookVerifier::new(&secret) {
        Ok(verifier) => Some(Some(WebhookSecret {
            verifier,
            secret,
            configured,
        })),
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
