#![cfg(feature = "ssr")]

//! `POST /webhooks/scalekit` over HTTP: each verification rule refuses with its status and acts on
//! nothing; a verified membership removal signs the user out; unknown events are accepted.

use crate::common;

use common::browser::{serve_app, Browser, RunningApp};
use scalekit_auth::webhook::WebhookVerifier;
use scalekit_auth::Secret;
use serde_json::{json, Value};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
/// Ada Admin, the development provider's first persona.
const ADA: &str = "usr_100000000000000001";

fn verifier() -> WebhookVerifier {
    WebhookVerifier::new(&Secret::new(SECRET)).unwrap()
}

async fn app() -> RunningApp {
    serve_app(&[("SCALEKIT_WEBHOOK_SECRET", SECRET)]).await
}

/// Delivers `body` with the given headers (None leaves a header out).
async fn deliver(
    app: &RunningApp,
    id: Option<&str>,
    timestamp: Option<u64>,
    signature: Option<&str>,
    body: &[u8],
) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .post(format!("{}/webhooks/scalekit", app.base))
        .header("content-type", "application/json")
        .body(body.to_vec());
    if let Some(id) = id {
        request = request.header("webhook-id", id);
    }
    if let Some(timestamp) = timestamp {
        request = request.header("webhook-timestamp", timestamp.to_string());
    }
    if let Some(signature) = signature {
        request = request.header("webhook-signature", signature);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Delivers `event`, signed with our secret, now.
async fn signed(app: &RunningApp, id: &str, event: &Value) -> (u16, Value) {
    let body = event.to_string().into_bytes();
    let now = scalekit_auth::now_secs();
    let signature = verifier().sign(id, now, &body);
    deliver(app, Some(id), Some(now), Some(&signature), &body).await
}

fn membership_deleted(id: &str, user: &str) -> Value {
    json!({
        "spec_version": "1", "id": id, "type": "user.organization_membership_deleted",
        "organization_id": "org_100000000000000001",
        "occurred_at": "2099-01-01T00:00:00Z",
        "data": { "user_id": user, "organization_id": "org_100000000000000001" }
    })
}

#[tokio::test]
async fn w8_a_membership_removal_signs_the_user_out_on_every_request() {
    let app = app().await;
    let mut ada = Browser::new(&app);
    assert_eq!(ada.sign_in_as("admin", "/dashboard").await.status(), 303);
    assert_eq!(ada.get("/dashboard").await.status(), 200);
    let mut max = Browser::new(&app);
    assert_eq!(max.sign_in_as("member", "/dashboard").await.status(), 303);

    let (status, body) = signed(
        &app,
        "evt_removed_1",
        &membership_deleted("evt_removed_1", ADA),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["received"], true);

    let page = ada.get("/dashboard").await;
    assert_eq!(page.status(), 302, "Ada is signed out");
    assert_eq!(max.get("/dashboard").await.status(), 200, "Max is not");
    // A later sign-in is not ended by the old event (the records count whole seconds).
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(ada.sign_in_as("admin", "/dashboard").await.status(), 303);
    assert_eq!(ada.get("/dashboard").await.status(), 200);
}

#[tokio::test]
async fn w2_a_bad_signature_is_refused_and_acts_on_nothing() {
    let app = app().await;
    let mut ada = Browser::new(&app);
    assert_eq!(ada.sign_in_as("admin", "/dashboard").await.status(), 303);
    let body = membership_deleted("evt_forged", ADA)
        .to_string()
        .into_bytes();
    let now = scalekit_auth::now_secs();
    let mut signature = verifier().sign("evt_forged", now, &body);
    signature.replace_range(4..8, "AAAA");
    let (status, json) =
        deliver(&app, Some("evt_forged"), Some(now), Some(&signature), &body).await;
    assert_eq!(status, 401, "{json}");
    assert_eq!(json["error"], "invalid_signature");
    assert_eq!(ada.get("/dashboard").await.status(), 200, "still signed in");
}

#[tokio::test]
async fn w3_a_delivery_signed_with_another_secret_is_refused() {
    let app = app().await;
    let other =
        WebhookVerifier::new(&Secret::new("whsec_c2VjcmV0LXRoYXQtaXMtbm90LW91cnM=")).unwrap();
    let body = br#"{"id":"evt_other","type":"user.login","data":{}}"#;
    let now = scalekit_auth::now_secs();
    let signature = other.sign("evt_other", now, body);
    let (status, _) = deliver(&app, Some("evt_other"), Some(now), Some(&signature), body).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn w4_old_and_future_timestamps_are_refused() {
    let app = app().await;
    let body = br#"{"id":"evt_t","type":"user.login","data":{}}"#;
    let now = scalekit_auth::now_secs();
    for sent in [now - 301, now + 301] {
        let signature = verifier().sign("evt_t", sent, body);
        let (status, json) = deliver(&app, Some("evt_t"), Some(sent), Some(&signature), body).await;
        assert_eq!(status, 401, "{sent}: {json}");
    }
}

#[tokio::test]
async fn w5_missing_headers_are_refused() {
    let app = app().await;
    let body = br#"{"id":"evt_h","type":"user.login","data":{}}"#;
    let now = scalekit_auth::now_secs();
    let signature = verifier().sign("evt_h", now, body);
    for (id, timestamp, sig) in [
        (None, Some(now), Some(signature.as_str())),
        (Some("evt_h"), None, Some(signature.as_str())),
        (Some("evt_h"), Some(now), None),
    ] {
        let (status, json) = deliver(&app, id, timestamp, sig, body).await;
        assert_eq!(status, 400, "{json}");
        assert_eq!(json["error"], "invalid_request");
    }
}

#[tokio::test]
async fn w7_a_replayed_delivery_is_refused() {
    let app = app().await;
    let event = json!({ "id": "evt_twice", "type": "user.login", "data": {} });
    assert_eq!(signed(&app, "evt_twice", &event).await.0, 200);
    let (status, json) = signed(&app, "evt_twice", &event).await;
    assert_eq!(status, 409, "{json}");
    assert_eq!(json["error"], "already_received");
}

#[tokio::test]
async fn w9_an_oversized_body_is_refused() {
    let app = app().await;
    let body = vec![b' '; 300 * 1024];
    let now = scalekit_auth::now_secs();
    let signature = verifier().sign("evt_big", now, &body);
    let (status, _) = deliver(&app, Some("evt_big"), Some(now), Some(&signature), &body).await;
    assert_eq!(status, 413);
}

#[tokio::test]
async fn w10_unknown_event_types_are_accepted_and_malformed_events_refused() {
    let app = app().await;
    let unknown = json!({ "id": "evt_new", "type": "organization.something_new", "data": {} });
    assert_eq!(signed(&app, "evt_new", &unknown).await.0, 200);
    let (status, _) = signed(&app, "evt_bad", &json!({ "no": "type" })).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn w11_without_a_secret_there_is_no_endpoint() {
    let app = serve_app(&[]).await;
    let (status, _) = deliver(&app, Some("evt_1"), Some(0), Some("v1,AAAA"), b"{}").await;
    assert_eq!(status, 404);
}
