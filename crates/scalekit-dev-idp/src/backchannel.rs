//! OpenID Connect Back-Channel Logout 1.0, the provider's side: when a session ends, every client
//! that got tokens in it and registered a `backchannel_logout_uri` is sent a signed logout token
//! (§2.4) by a form POST (§2.5), in the background, with a few retries. Each delivery is kept (the
//! last `MAX_DELIVERIES`) for `/_control` to show.

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde_json::{json, Value};

use super::sessions::SessionRecord;
use super::{now, random_token, rfc3339, DevIdp};

/// The `events` member that makes a JWT a logout token.
pub const BACKCHANNEL_LOGOUT_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";
/// Deliveries remembered for `/_control`.
pub const MAX_DELIVERIES: usize = 100;
/// Logout tokens are for immediate use: two minutes.
const LOGOUT_TOKEN_TTL: u64 = 120;
const ATTEMPTS: u32 = 3;
/// Waits before the second and third attempts.
const BACKOFF: [Duration; 2] = [Duration::from_millis(500), Duration::from_secs(1)];
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// Longest error text kept per delivery.
const MAX_ERROR_TEXT: usize = 300;

/// One logout token's journey to one client.
#[derive(Clone, Debug, Serialize)]
pub struct Delivery {
    pub client_id: String,
    pub session_id: String,
    pub uri: String,
    pub attempts: u32,
    /// The last answer's HTTP status; None when no answer came.
    pub status: Option<u16>,
    /// Why the last attempt got no answer.
    pub error: Option<String>,
    /// When the last attempt finished, RFC 3339.
    pub at: String,
}

/// A client to tell that a session ended.
struct Target {
    client_id: String,
    uri: String,
    sid: String,
    sub: String,
}

/// The logout token's claims (§2.4): no `nonce`, both `sub` and `sid`, a fresh `jti`.
pub fn logout_token_claims(idp: &DevIdp, client_id: &str, sub: &str, sid: &str, now: u64) -> Value {
    json!({
        "iss": idp.issuer,
        "aud": client_id,
        "iat": now,
        "exp": now + LOGOUT_TOKEN_TTL,
        "jti": random_token(16),
        "sub": sub,
        "sid": sid,
        "events": { BACKCHANNEL_LOGOUT_EVENT: {} },
    })
}

/// Starts a delivery for every client of the `ended` sessions that has a back-channel URI.
pub fn notify(idp: &Arc<DevIdp>, ended: &[SessionRecord]) {
    let targets: Vec<Target> = ended
        .iter()
        .flat_map(|session| {
            session.clients.iter().filter_map(|client_id| {
                let uri = idp
                    .registered_client(client_id)?
                    .backchannel_logout_uri
                    .clone()?;
                Some(Target {
                    client_id: client_id.clone(),
                    uri,
                    sid: session.sid.clone(),
                    sub: session.user_id.clone(),
                })
            })
        })
        .collect();
    if targets.is_empty() {
        return;
    }
    // Request handlers always run on the runtime; anything else is recorded, not a panic.
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        for target in targets {
            record(
                idp,
                &target,
                0,
                None,
                Some("no async runtime to deliver from".into()),
            );
        }
        return;
    };
    for target in targets {
        runtime.spawn(deliver(idp.clone(), target));
    }
}

/// A client that sends no cookies, follows no redirects (the URI is the registered one, not
/// wherever it points) and keeps no connections: deliveries are rare and may come from a
/// runtime that is gone by the next one (tests start one per test).
fn http_client(idp: &DevIdp) -> Result<&reqwest::Client, String> {
    idp.backchannel_http
        .get_or_init(|| super::outgoing_client(REQUEST_TIMEOUT))
        .as_ref()
        .map_err(Clone::clone)
}

async fn deliver(idp: Arc<DevIdp>, target: Target) {
    let claims = logout_token_claims(&idp, &target.client_id, &target.sub, &target.sid, now());
    let signed = idp.keys().sign_typed(&claims, "logout+jwt");
    let token = match signed {
        Ok(token) => token,
        Err(e) => {
            return record(&idp, &target, 0, None, Some(format!("signing: {e}")));
        }
    };
    let client = match http_client(&idp) {
        Ok(client) => client,
        Err(e) => return record(&idp, &target, 0, None, Some(format!("HTTP client: {e}"))),
    };
    let mut attempts = 0;
    loop {
        attempts += 1;
        // The same token each time: a receiver that got it despite an error can tell by `jti`.
        let sent = client
            .post(&target.uri)
            .form(&[("logout_token", token.as_str())])
            .send()
            .await;
        let (status, error) = match sent {
            Ok(response) => (Some(response.status().as_u16()), None),
            Err(e) => (
                None,
                Some(error_chain(&e).chars().take(MAX_ERROR_TEXT).collect()),
            ),
        };
        // Network errors and 5xx may pass; a 4xx is the receiver's final word.
        let transient = status.is_none_or(|s| s >= 500);
        if !transient || attempts >= ATTEMPTS {
            return record(&idp, &target, attempts, status, error);
        }
        let wait = BACKOFF
            .get(attempts as usize - 1)
            .copied()
            .unwrap_or(Duration::from_secs(1));
        tokio::time::sleep(wait).await;
    }
}

fn record(
    idp: &DevIdp,
    target: &Target,
    attempts: u32,
    status: Option<u16>,
    error: Option<String>,
) {
    let delivered = status.is_some_and(|s| (200..300).contains(&s));
    if delivered {
        tracing::info!(client_id = %target.client_id, sid = %target.sid, attempts, "dev-idp: back-channel logout delivered");
    } else {
        tracing::warn!(client_id = %target.client_id, sid = %target.sid, uri = %target.uri, attempts, ?status, ?error, "dev-idp: back-channel logout not delivered");
    }
    idp.store().record_delivery(Delivery {
        client_id: target.client_id.clone(),
        session_id: target.sid.clone(),
        uri: target.uri.clone(),
        attempts,
        status,
        error,
        at: rfc3339(now()),
    });
}

/// An error with its causes (`reqwest` keeps "connection refused" in a source).
fn error_chain(error: &dyn std::error::Error) -> String {
    std::iter::successors(Some(error), |e| e.source())
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(": ")
}
