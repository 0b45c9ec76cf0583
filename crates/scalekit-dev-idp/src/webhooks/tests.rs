//! The sender against a receiver on a real loopback port: retries, the log, what the secret
//! signs, and the membership controls' events.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::routing::post;
use axum::Router;
use http::{HeaderMap, StatusCode};
use serde_json::Value;

use super::events::{Event, MEMBERSHIP_DELETED, MEMBERSHIP_UPDATED};
use super::{signature, WebhookTarget, Webhooks, DEV_WEBHOOK_SECRET, MAX_WEBHOOK_DELIVERIES};
use crate::settings::{IdpSettings, SETTINGS_PERMISSION};
use crate::DevIdp;

/// One POST the receiver got: its webhook headers and raw body.
#[derive(Clone, Debug)]
struct Received {
    id: String,
    timestamp: u64,
    signature: String,
    content_type: String,
    body: String,
}

impl Received {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).expect("a JSON body")
    }

    /// Verified as Scalekit's SDKs verify: the signature of id, timestamp and body under the key.
    fn signed_with(&self, secret: &str) -> bool {
        let key = signature::key_of(secret).unwrap();
        signature::sign(&key, &self.id, self.timestamp, self.body.as_bytes()) == self.signature
    }
}

/// Records every POST and answers with the scripted statuses, then 200.
struct Receiver {
    url: String,
    posts: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    async fn start(script: &[u16]) -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/webhooks", listener.local_addr().unwrap());
        let posts = Arc::new(Mutex::new(Vec::new()));
        let script = Arc::new(Mutex::new(VecDeque::from(script.to_vec())));
        let recorded = posts.clone();
        let handler = move |headers: HeaderMap, body: String| {
            let recorded = recorded.clone();
            let script = script.clone();
            async move {
                let header = |name: &str| {
                    headers
                        .get(name)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_string()
                };
                recorded.lock().unwrap().push(Received {
                    id: header("webhook-id"),
                    timestamp: header("webhook-timestamp").parse().unwrap_or(0),
                    signature: header("webhook-signature"),
                    content_type: header("content-type"),
                    body,
                });
                let status = script.lock().unwrap().pop_front().unwrap_or(200);
                StatusCode::from_u16(status).unwrap()
            }
        };
        let app = Router::new().route("/webhooks", post(handler));
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Receiver { url, posts }
    }

    fn target(&self) -> WebhookTarget {
        WebhookTarget {
            url: self.url.clone(),
            secret: DEV_WEBHOOK_SECRET.into(),
        }
    }

    /// Waits (at most ten seconds) until `count` POSTs arrived.
    async fn wait_for(&self, count: usize) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let posts = self.posts.lock().unwrap().clone();
            if posts.len() >= count {
                return posts;
            }
            assert!(
                Instant::now() < deadline,
                "expected {count} webhook POSTs, got {}",
                posts.len()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

fn event(kind: &'static str) -> Event {
    let id = crate::scalekit_id("evt_");
    let body = format!(r#"{{"id":"{id}","type":"{kind}","data":{{}}}}"#);
    Event { id, kind, body }
}

/// Waits (at most ten seconds) until the log holds `count` deliveries.
async fn logged(webhooks: &Webhooks, count: usize) -> Vec<super::WebhookDelivery> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let deliveries = webhooks.deliveries();
        if deliveries.len() >= count {
            return deliveries;
        }
        assert!(Instant::now() < deadline, "expected {count} deliveries");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn w13_a_failing_target_is_retried_with_the_same_id_and_fresh_signatures() {
    let receiver = Receiver::start(&[503, 500]).await;
    let webhooks = Webhooks::new(&[receiver.target()]);
    let sent = event("user.login");
    webhooks.send(sent.clone());

    let posts = receiver.wait_for(3).await;
    for post in &posts {
        assert_eq!(post.id, sent.id, "every attempt carries the event's id");
        assert_eq!(post.body, sent.body, "and its exact body");
        assert_eq!(post.content_type, "application/json");
        assert!(post.signature.starts_with("v1,"), "{}", post.signature);
        assert!(post.signed_with(DEV_WEBHOOK_SECRET), "attempt is signed");
        assert!(!post.signed_with("whsec_c2VjcmV0LXRoYXQtaXMtbm90LW91cnM="));
    }
    let delivery = logged(&webhooks, 1).await.remove(0);
    assert_eq!(delivery.id, sent.id);
    assert_eq!(delivery.kind, "user.login");
    assert_eq!(delivery.target, receiver.url);
    assert_eq!(delivery.attempts, 3);
    assert_eq!(delivery.status, Some(200));
    assert_eq!(delivery.error, None);
    let last = webhooks
        .last_signed()
        .expect("the last signed request is kept");
    assert_eq!(last.body, sent.body);
    assert_eq!(last.headers["webhook-id"], sent.id);
}

#[tokio::test]
async fn w13_a_refusal_is_final_and_three_failures_are_logged() {
    let refusing = Receiver::start(&[401]).await;
    let failing = Receiver::start(&[500, 500, 500]).await;
    let webhooks = Webhooks::new(&[refusing.target(), failing.target()]);
    webhooks.send(event("user.logout"));
    failing.wait_for(3).await;
    let deliveries = logged(&webhooks, 2).await;
    let of = |url: &str| deliveries.iter().find(|d| d.target == url).unwrap().clone();
    assert_eq!(of(&refusing.url).attempts, 1, "a 4xx is not retried");
    assert_eq!(of(&refusing.url).status, Some(401));
    assert_eq!(of(&failing.url).attempts, 3);
    assert_eq!(of(&failing.url).status, Some(500));
    assert_eq!(refusing.posts.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn w13_an_unreachable_target_is_logged_with_the_error_never_the_secret() {
    // A port nothing listens on: bound, then closed.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/webhooks", closed.local_addr().unwrap());
    drop(closed);
    let target = WebhookTarget {
        url: url.clone(),
        secret: DEV_WEBHOOK_SECRET.into(),
    };
    assert!(!format!("{target:?}").contains(DEV_WEBHOOK_SECRET));
    let webhooks = Webhooks::new(&[target]);
    webhooks.send(event("user.login"));
    let delivery = logged(&webhooks, 1).await.remove(0);
    assert_eq!(delivery.attempts, 3);
    assert_eq!(delivery.status, None);
    assert!(delivery.error.is_some());
    let shown = serde_json::to_string(&webhooks.deliveries()).unwrap();
    assert!(!shown.contains(DEV_WEBHOOK_SECRET) && !shown.contains(&DEV_WEBHOOK_SECRET[6..]));
}

#[test]
fn w13_the_log_keeps_the_last_deliveries_only() {
    let webhooks = Webhooks::new(&[]);
    let target = super::Target {
        url: "http://127.0.0.1:1/".into(),
        key: Ok(Vec::new()),
    };
    for _ in 0..(MAX_WEBHOOK_DELIVERIES + 5) {
        webhooks
            .shared
            .record(&event("user.login"), &target, 1, Some(200), None);
    }
    assert_eq!(webhooks.deliveries().len(), MAX_WEBHOOK_DELIVERIES);
}

#[test]
fn w14_targets_must_be_http_urls_with_a_usable_secret() {
    let target = |url: &str, secret: &str| WebhookTarget {
        url: url.into(),
        secret: secret.into(),
    };
    assert!(target(
        "http://127.0.0.1:3000/webhooks/scalekit",
        DEV_WEBHOOK_SECRET
    )
    .check()
    .is_ok());
    assert!(target("https://hooks.example.com/in", DEV_WEBHOOK_SECRET)
        .check()
        .is_ok());
    for bad in ["ftp://127.0.0.1/x", "/webhooks", "http://u:p@127.0.0.1/x"] {
        assert!(target(bad, DEV_WEBHOOK_SECRET).check().is_err(), "{bad}");
    }
    let short = target("http://127.0.0.1/x", "whsec_dGVzdHNlY3JldA==").check();
    let refused = short.unwrap_err();
    assert!(!refused.contains("dGVzdHNlY3JldA"), "{refused}");

    let settings: IdpSettings = serde_json::from_str(
        r#"{"webhooks":[{"url":"http://127.0.0.1:9/in","secret":"whsec_bGVwdG9zLXNjYWxla2l0LWRldi1wcm92aWRlci13ZWJob29rcy1vbmx5"}]}"#,
    )
    .unwrap();
    assert_eq!(settings.webhooks.len(), 1);
    let shown = serde_json::to_string(&settings).unwrap();
    assert!(
        !shown.contains("bGVwdG9z"),
        "the secret is never serialised"
    );
    assert!(IdpSettings::default().webhooks.is_empty());
}

/// A provider whose webhooks go to `receiver`.
fn idp_sending_to(receiver: &Receiver) -> (DevIdp, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = IdpSettings::default();
    settings.webhooks.push(receiver.target());
    let idp = DevIdp::new(
        "http://127.0.0.1:4000".into(),
        String::new(),
        settings,
        &dir.path().join("keys.json"),
    )
    .unwrap();
    (idp, dir)
}

#[tokio::test]
async fn w15_a_role_change_takes_effect_and_sends_membership_updated() {
    let receiver = Receiver::start(&[]).await;
    let (idp, _dir) = idp_sending_to(&receiver);
    let before = idp.persona("member").unwrap();
    assert!(!before.permissions.iter().any(|p| p == SETTINGS_PERMISSION));

    let changed = idp
        .change_roles("member", vec!["admin".into()], None)
        .unwrap();
    assert_eq!(changed.roles, ["admin"]);
    assert!(
        changed.permissions.iter().any(|p| p == SETTINGS_PERMISSION),
        "the admin role brings its permissions"
    );
    assert_eq!(idp.persona("member"), Some(changed.clone()));
    let listed = idp.personas();
    assert!(listed.contains(&changed));

    let post = receiver.wait_for(1).await.remove(0);
    assert!(post.signed_with(DEV_WEBHOOK_SECRET));
    let body = post.json();
    assert_eq!(body["type"], MEMBERSHIP_UPDATED);
    assert_eq!(body["id"], post.id.as_str());
    assert_eq!(body["organization_id"], before.organization_id.as_str());
    assert_eq!(body["data"]["user"]["id"], before.sub.as_str());
    assert_eq!(body["data"]["user"]["email"], before.email.as_str());
    assert_eq!(body["data"]["roles"][0]["name"], "admin");

    let explicit = idp
        .change_roles(
            "member",
            vec!["viewer".into()],
            Some(vec!["organization:read".into()]),
        )
        .unwrap();
    assert_eq!(explicit.permissions, ["organization:read"]);
    assert!(idp.change_roles("nobody", Vec::new(), None).is_err());

    idp.memberships.reset();
    assert_eq!(
        idp.persona("member"),
        Some(before),
        "reset restores the persona"
    );
}

#[tokio::test]
async fn w15_a_removed_membership_takes_effect_and_sends_membership_deleted() {
    let receiver = Receiver::start(&[]).await;
    let (idp, _dir) = idp_sending_to(&receiver);
    let ada = idp.persona("admin").unwrap();
    idp.remove_membership("admin").unwrap();
    assert_eq!(idp.persona("admin"), None, "she can no longer sign in");
    assert!(idp.personas().iter().all(|p| p.key != "admin"));
    assert!(idp.persona("member").is_some(), "others stay");
    assert!(
        idp.remove_membership("admin").is_err(),
        "removed once, then unknown"
    );

    let post = receiver.wait_for(1).await.remove(0);
    assert!(post.signed_with(DEV_WEBHOOK_SECRET));
    let body = post.json();
    assert_eq!(body["type"], MEMBERSHIP_DELETED);
    assert_eq!(body["data"]["user"]["id"], ada.sub.as_str());
    assert_eq!(
        body["data"]["organization"]["id"],
        ada.organization_id.as_str()
    );
    assert_eq!(body["data"]["organization"]["name"], "Acme Development");
    // Give a stray second delivery the time to show up: there is none.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(receiver.posts.lock().unwrap().len(), 1);
}

#[test]
fn w14_in_the_app_the_apps_own_endpoint_is_a_target_with_the_dev_secret() {
    let dir = tempfile::tempdir().unwrap();
    let idp = DevIdp::in_app(
        "http://127.0.0.1:3000/",
        "http://127.0.0.1:3000/auth/callback",
        "http://127.0.0.1:3000",
        &dir.path().join("keys.json"),
    )
    .unwrap();
    assert_eq!(
        idp.webhooks.target_urls(),
        ["http://127.0.0.1:3000/webhooks/scalekit"]
    );
    assert_eq!(idp.settings.webhooks[0].secret, DEV_WEBHOOK_SECRET);
}
