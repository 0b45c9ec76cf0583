//! Scalekit's webhooks, the sender's side. Events about users (`user.login`, `user.logout`, a
//! membership's roles changed or removed) are signed as Scalekit signs them (`signature.rs`) and
//! POSTed to every configured target in the background, up to three attempts. The last
//! `MAX_WEBHOOK_DELIVERIES` deliveries, and the last signed request itself (so Scalekit's SDKs
//! can verify exactly what was sent), are shown at `/_control/webhooks`. Secrets never are.

pub mod events;
mod signature;

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::json;

use self::events::Event;
use super::sessions::SessionRecord;
use super::settings::Persona;
use super::{now, rfc3339, DevIdp};

/// A public, development-only signing secret (`whsec_` and the base64 of
/// `leptos-scalekit-dev-provider-webhooks-only`). The app uses it on the built-in provider when
/// `SCALEKIT_WEBHOOK_SECRET` is not set; it means nothing anywhere else.
pub const DEV_WEBHOOK_SECRET: &str =
    "whsec_bGVwdG9zLXNjYWxla2l0LWRldi1wcm92aWRlci13ZWJob29rcy1vbmx5";
/// Deliveries remembered for `/_control`.
pub const MAX_WEBHOOK_DELIVERIES: usize = 100;
const ATTEMPTS: u32 = 3;
/// Waits before the second and third attempts.
const BACKOFF: [Duration; 2] = [Duration::from_millis(500), Duration::from_secs(2)];
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// Longest error text kept per delivery.
const MAX_ERROR_TEXT: usize = 300;

/// An endpoint the provider sends webhooks to (Scalekit: Dashboard > Webhooks > endpoint).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookTarget {
    /// An http(s) URL, POSTed to as given (redirects are not followed).
    pub url: String,
    /// The endpoint's signing secret, `whsec_` and base64. Never shown or logged.
    #[serde(skip_serializing)]
    pub secret: String,
}

/// Never prints the secret.
impl std::fmt::Debug for WebhookTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookTarget")
            .field("url", &self.url)
            .field("secret", &"[redacted]")
            .finish()
    }
}

impl WebhookTarget {
    /// An absolute http(s) URL without credentials, and a secret the app's verifier accepts.
    pub(crate) fn check(&self) -> Result<(), String> {
        let refuse = |why: &str| Err(format!("webhook target `{}` {why}", self.url));
        let Ok(url) = url::Url::parse(&self.url) else {
            return refuse("is not an absolute URL");
        };
        if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
            return refuse("must be an http or https URL");
        }
        if !url.username().is_empty() || url.password().is_some() {
            return refuse("must not carry credentials");
        }
        signature::key_of(&self.secret)
            .map_err(|why| format!("webhook target `{}`: {why}", self.url))?;
        Ok(())
    }
}

/// One event's journey to one target.
#[derive(Clone, Debug, Serialize)]
pub struct WebhookDelivery {
    /// The event's `evt_…` id, also its `webhook-id`.
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub target: String,
    pub attempts: u32,
    /// The last answer's HTTP status; None when no answer came.
    pub status: Option<u16>,
    /// Why the last attempt got no answer.
    pub error: Option<String>,
    /// When the last attempt finished, RFC 3339.
    pub at: String,
}

/// The last request signed, as sent: for checking the signature with Scalekit's own SDKs.
#[derive(Clone, Debug, Serialize)]
pub struct SignedRequest {
    pub target: String,
    pub headers: BTreeMap<&'static str, String>,
    /// The raw body, byte for byte what was signed.
    pub body: String,
}

/// A target with its key decoded once.
struct Target {
    url: String,
    key: Result<Vec<u8>, &'static str>,
}

#[derive(Default)]
struct Log {
    deliveries: VecDeque<WebhookDelivery>,
    last_signed: Option<SignedRequest>,
}

struct Shared {
    targets: Vec<Arc<Target>>,
    log: Mutex<Log>,
    /// Made on the first delivery (see `http_client`).
    http: OnceLock<Result<reqwest::Client, String>>,
}

/// The provider's webhook sender: cheap to share into background deliveries.
pub struct Webhooks {
    shared: Arc<Shared>,
}

impl Webhooks {
    /// A sender for the configured targets (none: events are dropped).
    pub fn new(targets: &[WebhookTarget]) -> Webhooks {
        let targets = targets
            .iter()
            .map(|t| {
                Arc::new(Target {
                    url: t.url.clone(),
                    key: signature::key_of(&t.secret),
                })
            })
            .collect();
        Webhooks {
            shared: Arc::new(Shared {
                targets,
                log: Mutex::new(Log::default()),
                http: OnceLock::new(),
            }),
        }
    }

    /// Sends `event` to every target in the background.
    pub fn send(&self, event: Event) {
        if self.shared.targets.is_empty() {
            return;
        }
        let event = Arc::new(event);
        // Request handlers always run on the runtime; anything else is recorded, not a panic.
        let runtime = tokio::runtime::Handle::try_current();
        for target in &self.shared.targets {
            match &runtime {
                Ok(runtime) => {
                    runtime.spawn(deliver(self.shared.clone(), target.clone(), event.clone()));
                }
                Err(_) => self.shared.record(
                    &event,
                    target,
                    0,
                    None,
                    Some("no async runtime to deliver from".into()),
                ),
            }
        }
    }

    /// Forgets the deliveries and the last signed request (`reset=true`).
    pub fn clear(&self) {
        *self.shared.log() = Log::default();
    }

    /// The deliveries, oldest first.
    pub fn deliveries(&self) -> Vec<WebhookDelivery> {
        self.shared.log().deliveries.iter().cloned().collect()
    }

    fn last_signed(&self) -> Option<SignedRequest> {
        self.shared.log().last_signed.clone()
    }

    fn target_urls(&self) -> Vec<String> {
        self.shared.targets.iter().map(|t| t.url.clone()).collect()
    }
}

impl Shared {
    fn log(&self) -> MutexGuard<'_, Log> {
        self.log
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// No cookies, no redirects (the URL is the configured one, not wherever it points) and no
    /// kept connections: deliveries may come from a runtime that is gone by the next one.
    fn http_client(&self) -> Result<&reqwest::Client, String> {
        self.http
            .get_or_init(|| super::outgoing_client(REQUEST_TIMEOUT))
            .as_ref()
            .map_err(Clone::clone)
    }

    fn record(
        &self,
        event: &Event,
        target: &Target,
        attempts: u32,
        status: Option<u16>,
        error: Option<String>,
    ) {
        let delivered = status.is_some_and(|s| (200..300).contains(&s));
        if delivered {
            tracing::info!(webhook_id = %event.id, event_type = event.kind, target = %target.url, attempts, "dev-idp: webhook delivered");
        } else {
            tracing::warn!(webhook_id = %event.id, event_type = event.kind, target = %target.url, attempts, ?status, ?error, "dev-idp: webhook not delivered");
        }
        let mut log = self.log();
        while log.deliveries.len() >= MAX_WEBHOOK_DELIVERIES {
            log.deliveries.pop_front();
        }
        log.deliveries.push_back(WebhookDelivery {
            id: event.id.clone(),
            kind: event.kind.to_string(),
            target: target.url.clone(),
            attempts,
            status,
            error,
            at: rfc3339(now()),
        });
    }
}

async fn deliver(shared: Arc<Shared>, target: Arc<Target>, event: Arc<Event>) {
    let key = match &target.key {
        Ok(key) => key,
        Err(why) => return shared.record(&event, &target, 0, None, Some(format!("secret: {why}"))),
    };
    let client = match shared.http_client() {
        Ok(client) => client,
        Err(e) => {
            return shared.record(&event, &target, 0, None, Some(format!("HTTP client: {e}")))
        }
    };
    let mut attempts = 0;
    loop {
        attempts += 1;
        // The same id and body each time; the timestamp (and so the signature) is the attempt's,
        // so a late retry is still within the receiver's five minutes.
        let timestamp = now();
        let headers = BTreeMap::from([
            ("webhook-id", event.id.clone()),
            ("webhook-timestamp", timestamp.to_string()),
            (
                "webhook-signature",
                signature::sign(key, &event.id, timestamp, event.body.as_bytes()),
            ),
        ]);
        shared.log().last_signed = Some(SignedRequest {
            target: target.url.clone(),
            headers: headers.clone(),
            body: event.body.clone(),
        });
        let mut request = client
            .post(&target.url)
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(event.body.clone());
        for (name, value) in &headers {
            request = request.header(*name, value);
        }
        let (status, error) = match request.send().await {
            Ok(response) => (Some(response.status().as_u16()), None),
            Err(e) => (
                None,
                Some(error_chain(&e).chars().take(MAX_ERROR_TEXT).collect()),
            ),
        };
        // Network errors, 429 and 5xx may pass; another 4xx is the receiver's final word.
        let transient = status.is_none_or(|s| s >= 500 || s == 429);
        if !transient || attempts >= ATTEMPTS {
            return shared.record(&event, &target, attempts, status, error);
        }
        let wait = BACKOFF
            .get(attempts as usize - 1)
            .copied()
            .unwrap_or(Duration::from_secs(2));
        tokio::time::sleep(wait).await;
    }
}

/// An error with its causes (`reqwest` keeps "connection refused" in a source).
fn error_chain(error: &dyn std::error::Error) -> String {
    std::iter::successors(Some(error), |e| e.source())
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(": ")
}

impl DevIdp {
    /// `user.login`: `persona` signed in, in provider session `sid`.
    pub(crate) fn notify_sign_in(&self, persona: &Persona, sid: &str) {
        let org = self.settings.organization(&persona.organization_id);
        self.webhooks.send(events::user_login(persona, org, sid));
    }

    /// `user.logout` for each provider session that just ended.
    pub(crate) fn notify_logouts(&self, ended: &[SessionRecord]) {
        for record in ended {
            let persona = self.persona(&record.persona);
            self.webhooks.send(events::user_logout(
                &record.sid,
                &record.user_id,
                &record.organization_id,
                persona.as_ref(),
            ));
        }
    }
}

/// `GET /_control/webhooks`: the targets' URLs, the deliveries (oldest first) and the last signed
/// request.
pub async fn show(State(idp): State<Arc<DevIdp>>) -> Response {
    Json(json!({
        "targets": idp.webhooks.target_urls(),
        "deliveries": idp.webhooks.deliveries(),
        "last_signed": idp.webhooks.last_signed(),
    }))
    .into_response()
}

#[cfg(test)]
mod tests;
