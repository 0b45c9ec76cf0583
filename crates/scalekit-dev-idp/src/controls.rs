//! Test controls of the development provider (`/_control`): access-token lifetime, failures
//! injected per endpoint, key rotation, ending a persona's sessions, membership changes
//! (`memberships.rs`), counters of token-endpoint calls by grant, and the back-channel logout
//! and webhook deliveries.

use std::sync::Arc;
use std::time::Duration;

use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use http::header::CONTENT_TYPE;
use http::StatusCode;
use serde_json::json;

use super::memberships;
use super::params::Params;
use super::sessions::SessionStatus;
use super::store::Fault;
use super::DevIdp;

/// Endpoint names by the path suffix that identifies them.
const ENDPOINTS: [(&str, &str); 7] = [
    ("/.well-known/openid-configuration", "discovery"),
    ("/keys", "keys"),
    ("/oauth/authorize", "authorize"),
    ("/oauth/token", "token"),
    ("/userinfo", "userinfo"),
    ("/revoke", "revoke"),
    ("/oidc/logout", "logout"),
];
/// The management REST API, by its path prefix.
const MANAGEMENT: &str = "management";

/// The endpoint a request path belongs to.
fn endpoint_of(path: &str) -> Option<&'static str> {
    ENDPOINTS
        .iter()
        .find(|(suffix, _)| path.ends_with(suffix))
        .map(|(_, name)| *name)
        .or_else(|| path.contains("/api/v1/").then_some(MANAGEMENT))
}

/// The endpoint called `name`, if there is one.
fn endpoint_named(name: &str) -> Option<&'static str> {
    ENDPOINTS
        .iter()
        .map(|(_, endpoint)| *endpoint)
        .chain([MANAGEMENT])
        .find(|endpoint| *endpoint == name)
}

/// Largest token request read to count its grant type.
const MAX_TOKEN_REQUEST: usize = 64 * 1024;

/// Counts token calls, then answers with the endpoint's injected fault, if any.
pub async fn apply_faults(
    State(idp): State<Arc<DevIdp>>,
    request: Request,
    next: Next,
) -> Response {
    let Some(endpoint) = endpoint_of(request.uri().path()) else {
        return next.run(request).await;
    };
    let request = if endpoint == "token" {
        let (parts, body) = request.into_parts();
        let Ok(bytes) = to_bytes(body, MAX_TOKEN_REQUEST).await else {
            return (StatusCode::PAYLOAD_TOO_LARGE, "token request too large").into_response();
        };
        let grant = Params::from_form(&bytes)
            .ok()
            .and_then(|p| p.get("grant_type").map(str::to_string))
            .unwrap_or_else(|| "missing".into());
        *idp.store().controls.token_calls.entry(grant).or_default() += 1;
        Request::from_parts(parts, Body::from(bytes))
    } else {
        request
    };
    let fault = idp.store().controls.faults.get(endpoint).cloned();
    match fault {
        None => next.run(request).await,
        Some(Fault::Status { status }) => (
            StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE),
            format!("injected failure of the {endpoint} endpoint"),
        )
            .into_response(),
        Some(Fault::Delay { millis }) => {
            tokio::time::sleep(Duration::from_millis(millis)).await;
            next.run(request).await
        }
        Some(Fault::Malformed) => (
            StatusCode::OK,
            [(CONTENT_TYPE, "application/json")],
            "{\"access_token\": \"truncated",
        )
            .into_response(),
        Some(Fault::OauthError { error }) => (
            StatusCode::BAD_REQUEST,
            Json(json!({ "error": error, "error_description": "injected by the test controls" })),
        )
            .into_response(),
    }
}

pub async fn show(State(idp): State<Arc<DevIdp>>) -> Response {
    let (controls, deliveries) = {
        let store = idp.store();
        (store.controls.clone(), store.deliveries.clone())
    };
    Json(json!({
        "controls": controls,
        "signing_kid": idp.keys().signing_kid(),
        "backchannel_deliveries": deliveries,
        "webhook_deliveries": idp.webhooks.deliveries(),
    }))
    .into_response()
}

/// The endpoints `outage=true` takes down: what a relying party needs from its provider.
const OUTAGE_ENDPOINTS: [&str; 3] = ["discovery", "keys", "token"];

/// The token endpoint's error codes (RFC 6749 section 5.2).
const OAUTH_ERRORS: [&str; 6] = [
    "invalid_request",
    "invalid_client",
    "invalid_grant",
    "unauthorized_client",
    "unsupported_grant_type",
    "invalid_scope",
];

fn parse_fault(params: &Params) -> Result<Option<Fault>, String> {
    match params.get("kind") {
        Some("status") => {
            let status = params.get("status").unwrap_or("503");
            status
                .parse::<u16>()
                .ok()
                .filter(|s| (400..=599).contains(s))
                .map(|status| Some(Fault::Status { status }))
                .ok_or_else(|| format!("status must be 400 to 599, got `{status}`"))
        }
        Some("delay") => params
            .get("millis")
            .and_then(|m| m.parse::<u64>().ok())
            .filter(|m| *m <= 120_000)
            .map(|millis| Some(Fault::Delay { millis }))
            .ok_or_else(|| "millis must be 0 to 120000".into()),
        Some("malformed") => Ok(Some(Fault::Malformed)),
        Some("oauth_error") => {
            let error = params.get("error").unwrap_or("invalid_grant");
            OAUTH_ERRORS
                .contains(&error)
                .then(|| {
                    Some(Fault::OauthError {
                        error: error.into(),
                    })
                })
                .ok_or_else(|| format!("error must be one of {}", OAUTH_ERRORS.join(", ")))
        }
        Some("none") => Ok(None),
        other => Err(format!(
            "kind must be status, delay, malformed, oauth_error or none, got `{}`",
            other.unwrap_or_default()
        )),
    }
}

/// Form fields: `reset=true` (back to defaults, counters zeroed); `access_token_ttl=<1..86400>`;
/// `fault=<endpoint>` with `kind=status|delay|malformed|oauth_error|none` (`status=503`,
/// `millis=15000`, `error=invalid_grant`);
/// `outage=true|false` (discovery, keys and token answer 503); `rotate_keys=true`;
/// `end_sessions=<persona key>` (every active session of the persona is revoked, with back-channel
/// logout to its clients); `set_roles=<persona key>` with `roles=<names>` and optionally
/// `permissions=<names>` (see `memberships.rs`); `remove_membership=<persona key>`. `reset=true`
/// also forgets the deliveries shown and the membership changes.
pub async fn set(State(idp): State<Arc<DevIdp>>, body: axum::body::Bytes) -> Response {
    let bad = |message: String| {
        (StatusCode::BAD_REQUEST, Json(json!({ "error": message }))).into_response()
    };
    let Ok(params) = Params::from_form(&body) else {
        return bad("a parameter is repeated".into());
    };
    if params.get("reset") == Some("true") {
        let mut store = idp.store();
        store.controls = Default::default();
        store.deliveries.clear();
        drop(store);
        idp.memberships.reset();
        idp.webhooks.clear();
    }
    if let Some(ttl) = params.get("access_token_ttl") {
        match ttl.parse::<u64>() {
            Ok(ttl) if (1..=86_400).contains(&ttl) => {
                idp.store().controls.access_token_ttl = Some(ttl)
            }
            _ => return bad("access_token_ttl must be 1 to 86400 seconds".into()),
        }
    }
    if let Some(endpoint) = params.get("fault") {
        let Some(endpoint) = endpoint_named(endpoint) else {
            return bad(format!("unknown endpoint `{endpoint}`"));
        };
        match parse_fault(&params) {
            Ok(Some(fault)) => {
                idp.store()
                    .controls
                    .faults
                    .insert(endpoint.to_string(), fault);
            }
            Ok(None) => {
                idp.store().controls.faults.remove(endpoint);
            }
            Err(message) => return bad(message),
        }
    }
    match params.get("outage") {
        Some("true") => {
            let mut store = idp.store();
            for endpoint in OUTAGE_ENDPOINTS {
                store
                    .controls
                    .faults
                    .insert(endpoint.to_string(), Fault::Status { status: 503 });
            }
        }
        Some("false") => {
            let mut store = idp.store();
            for endpoint in OUTAGE_ENDPOINTS {
                store.controls.faults.remove(endpoint);
            }
        }
        Some(_) => return bad("outage must be true or false".into()),
        None => {}
    }
    if let Some(key) = params.get("end_sessions") {
        if idp.persona(key).is_none() {
            return bad(format!("unknown persona `{key}`"));
        }
        let sids = idp.active_sessions_of(key);
        idp.end_sessions(sids, SessionStatus::Revoked);
    }
    if let Err(message) = memberships::apply_controls(&idp, &params) {
        return bad(message);
    }
    if params.get("rotate_keys") == Some("true") {
        if let Err(e) = idp.rotate_keys().await {
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                Json(json!({ "error": e.to_string() })),
            )
                .into_response();
        }
    }
    show(State(idp)).await
}

#[cfg(test)]
mod tests {
    use super::{endpoint_named, endpoint_of};

    #[test]
    fn paths_map_to_endpoint_names() {
        assert_eq!(endpoint_of("/dev-idp/oauth/token"), Some("token"));
        assert_eq!(endpoint_of("/keys"), Some("keys"));
        assert_eq!(
            endpoint_of("/dev-idp/api/v1/organizations/org_1/clients"),
            Some("management")
        );
        assert_eq!(endpoint_of("/dev-idp/_control"), None);
        assert_eq!(endpoint_named("management"), Some("management"));
        assert_eq!(endpoint_named("keys"), Some("keys"));
        assert_eq!(endpoint_named("nope"), None);
    }
}
