#![cfg(feature = "ssr")]

//! `POST /webhooks/scalekit` over HTTP: each verification rule refuses with its status and acts on
//! nothing; a verified membership removal or directory deletion signs the user out, and a store
//! outage meanwhile answers 503 so the retry does; unknown events are accepted.

use crate::common;

use common::browser::{serve_app, Browser, RunningApp};
use leptos_scalekit::config::webhooks::DEV_WEBHOOK_SECRET;
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

/// A delivery again (the sender did not see our answer, or an attacker replays one within the
/// tolerance) is acknowledged, so the sender stops, and is listed once.
#[tokio::test]
async fn w7_a_delivery_again_is_acknowledged_and_listed_once() {
    let app = app().await;
    let event = json!({ "id": "evt_twice", "type": "user.login", "data": {} });
    let (status, first) = signed(&app, "evt_twice", &event).await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(first.get("duplicate"), None);
    let (status, again) = signed(&app, "evt_twice", &event).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["duplicate"], true);
}

/// `organization.directory.user_deleted` as Scalekit's reference shows it.
fn directory_user_deleted(id: &str, organization: &str, email: &str) -> Value {
    json!({
        "spec_version": "1", "id": id, "type": "organization.directory.user_deleted",
        "occurred_at": "2099-01-01T00:00:00Z", "environment_id": "env_1",
        "organization_id": organization, "object": "DirectoryUser",
        "data": { "id": "diruser_1", "organization_id": organization, "email": email,
                  "active": false }
    })
}

/// A directory event, as Scalekit sends it: `data.id` is the directory user (`diruser_…`), not a
/// Scalekit user id, with the member's email and organization. It ends the sessions for that
/// organization whose user has that email, whatever its case, and no one else's.
#[tokio::test]
async fn w18_a_scalekit_shaped_directory_user_deleted_ends_the_members_sessions() {
    let app = app().await;
    let mut ada = Browser::new(&app);
    assert_eq!(ada.sign_in_as("admin", "/dashboard").await.status(), 303);
    let mut max = Browser::new(&app);
    assert_eq!(max.sign_in_as("member", "/dashboard").await.status(), 303);
    let elsewhere = directory_user_deleted(
        "evt_dir_0",
        "org_999999999999999999",
        "ada.admin@example.com",
    );
    assert_eq!(signed(&app, "evt_dir_0", &elsewhere).await.0, 200);
    assert_eq!(
        ada.get("/dashboard").await.status(),
        200,
        "the same email in another organization is another member"
    );
    let deleted = directory_user_deleted(
        "evt_dir_1",
        "org_100000000000000001",
        "Ada.Admin@Example.com",
    );
    let (status, body) = signed(&app, "evt_dir_1", &deleted).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        ada.get("/dashboard").await.status(),
        302,
        "Ada is signed out"
    );
    assert_eq!(max.get("/dashboard").await.status(), 200, "Max is not");
}

/// The store fails the write that ends the sessions while it still takes one-time values (Redis
/// refusing `EVAL`, which the ended-session records use): answered 503 with nothing recorded,
/// so Scalekit's retry, once the store is whole, is not a duplicate and ends them. Recording the
/// id first acknowledged this delivery with 200, and its retry as already received, and lost the
/// action.
#[tokio::test]
async fn w19_a_store_failure_while_acting_answers_503_and_the_retry_finishes_the_job() {
    let redis = common::redis_server::RedisServer::start().await;
    let redis_url = redis.url();
    let app = serve_app(&[
        ("SCALEKIT_WEBHOOK_SECRET", SECRET),
        ("REDIS_URL", redis_url.as_str()),
    ])
    .await;
    let mut ada = Browser::new(&app);
    assert_eq!(ada.sign_in_as("admin", "/dashboard").await.status(), 303);
    assert_eq!(ada.get("/dashboard").await.status(), 200);
    redis.refuse("eval").await;
    let event = membership_deleted("evt_half_down", ADA);
    let (status, body) = signed(&app, "evt_half_down", &event).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"], "temporarily_unavailable");
    redis.allow("eval").await;
    // The same Redis, its data kept: an id recorded by the first delivery would show here.
    let (status, body) = signed(&app, "evt_half_down", &event).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body.get("duplicate"),
        None,
        "the first delivery recorded nothing"
    );
    assert_eq!(
        ada.get("/dashboard").await.status(),
        302,
        "Ada is signed out"
    );
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
async fn w11_with_a_scalekit_environment_and_no_secret_there_is_no_endpoint() {
    let app = serve_app(&[
        ("SCALEKIT_ENVIRONMENT_URL", "http://127.0.0.1:9"),
        ("SCALEKIT_CLIENT_ID", "skc_1234"),
        ("SCALEKIT_CLIENT_SECRET", "test_secret_value"),
    ])
    .await;
    let (status, _) = deliver(&app, Some("evt_1"), Some(0), Some("v1,AAAA"), b"{}").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn w11_on_the_development_provider_the_endpoint_verifies_with_its_built_in_secret() {
    let app = serve_app(&[]).await;
    let dev = WebhookVerifier::new(&Secret::new(DEV_WEBHOOK_SECRET)).unwrap();
    let body = br#"{"id":"evt_dev_1","type":"user.login","data":{}}"#;
    let now = scalekit_auth::now_secs();
    let signature = dev.sign("evt_dev_1", now, body);
    let (status, json) = deliver(&app, Some("evt_dev_1"), Some(now), Some(&signature), body).await;
    assert_eq!(status, 200, "{json}");
    let ours = verifier().sign("evt_dev_2", now, body);
    let (status, _) = deliver(&app, Some("evt_dev_2"), Some(now), Some(&ours), body).await;
    assert_eq!(status, 401, "only the built-in secret");
}

#[tokio::test]
async fn w12_the_organizations_admins_see_its_recent_events_and_members_do_not() {
    let app = app().await;
    let mut ada = Browser::new(&app);
    assert_eq!(ada.sign_in_as("admin", "/dashboard").await.status(), 303);
    let event = json!({
        "spec_version": "1", "id": "evt_seen_1", "type": "organization.sso_enabled",
        "organization_id": "org_100000000000000001",
        "data": { "id": "conn_1" }
    });
    assert_eq!(signed(&app, "msg_seen_1", &event).await.0, 200);
    let elsewhere = json!({
        "spec_version": "1", "id": "evt_other_1", "type": "organization.sso_disabled",
        "organization_id": "org_100000000000000002", "data": {}
    });
    assert_eq!(signed(&app, "msg_other_1", &elsewhere).await.0, 200);

    let page = ada
        .get("/organization/settings")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("organization.sso_enabled"), "{page}");
    assert!(
        !page.contains("organization.sso_disabled"),
        "another organization's event"
    );

    let mut max = Browser::new(&app);
    assert_eq!(max.sign_in_as("member", "/dashboard").await.status(), 303);
    let origin = max.base.clone();
    let refused = max
        .request(
            reqwest::Method::POST,
            "/_app/webhook_events",
            &[
                ("origin", &origin),
                ("sec-fetch-site", "same-origin"),
                ("accept", "application/json"),
            ],
            Some(&[]),
        )
        .await;
    assert_eq!(refused.status(), 403);
}

// The development provider as the sender: its own signed events, delivered to the app it runs in.

/// Waits (up to 10 s) until the development provider at `app` lists a delivery of `kind`, and
/// returns it.
async fn dev_provider_delivery(app: &RunningApp, kind: &str) -> Value {
    let url = format!("{}/dev-idp/_control/webhooks", app.base);
    for _ in 0..100 {
        let shown: Value = reqwest::get(&url).await.unwrap().json().await.unwrap();
        let found = shown["deliveries"]
            .as_array()
            .and_then(|d| d.iter().find(|d| d["type"] == kind).cloned());
        if let Some(delivery) = found {
            return delivery;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("no {kind} delivery");
}

#[tokio::test]
async fn w16_a_membership_removed_at_the_development_provider_signs_the_user_out() {
    // No SCALEKIT_WEBHOOK_SECRET: the provider signs with its built-in secret, the app verifies.
    let app = serve_app(&[]).await;
    let mut ada = Browser::new(&app);
    assert_eq!(ada.sign_in_as("admin", "/dashboard").await.status(), 303);
    let mut max = Browser::new(&app);
    assert_eq!(max.sign_in_as("member", "/dashboard").await.status(), 303);

    ada.control(&[("remove_membership", "admin")]).await;
    let delivery = dev_provider_delivery(&app, "user.organization_membership_deleted").await;
    assert_eq!(delivery["status"], 200, "the app verified it: {delivery}");
    assert_eq!(
        delivery["target"],
        format!("{}/webhooks/scalekit", app.base).as_str()
    );

    assert_eq!(
        ada.get("/dashboard").await.status(),
        302,
        "Ada is signed out"
    );
    assert_eq!(max.get("/dashboard").await.status(), 200, "Max is not");
    let shown = reqwest::get(format!("{}/dev-idp/_control/webhooks", app.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !shown.contains(&DEV_WEBHOOK_SECRET[6..]),
        "never the secret"
    );
}

#[tokio::test]
async fn w17_a_role_change_at_the_development_provider_signs_out_and_the_next_sign_in_has_it() {
    let app = serve_app(&[]).await;
    let mut max = Browser::new(&app);
    assert_eq!(max.sign_in_as("member", "/dashboard").await.status(), 303);
    assert_eq!(max.get("/organization/settings").await.status(), 403);

    max.control(&[("set_roles", "member"), ("roles", "admin")])
        .await;
    let delivery = dev_provider_delivery(&app, "user.organization_membership_updated").await;
    assert_eq!(delivery["status"], 200, "{delivery}");
    assert_eq!(max.get("/dashboard").await.status(), 302, "signed out");

    // Sessions begun after the event stand (the records count whole seconds).
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(max.sign_in_as("member", "/dashboard").await.status(), 303);
    assert_eq!(
        max.get("/organization/settings").await.status(),
        200,
        "his new role's permissions"
    );
}
