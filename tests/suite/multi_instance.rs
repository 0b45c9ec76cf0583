#![cfg(feature = "ssr")]

//! Several instances behind one address (checklist R9; issue: several instances): a standalone
//! development provider, two app instances sharing `SECRET_KEY` and `REDIS_URL`, and a browser
//! whose requests go to either instance, as a round-robin load balancer would send them.

use std::sync::Arc;
use std::time::Duration;

use crate::common;

use common::browser::{location, Browser, RunningApp};
use common::redis_server::RedisServer;
use leptos_scalekit::config::{DEV_CLIENT_ID, DEV_CLIENT_SECRET};
use leptos_scalekit::server::build_router;
use leptos_scalekit::state::AppState;
use scalekit_dev_idp::IdpSettings;
use scalekit_dev_idp::{standalone_router, DevIdp};
use serde_json::Value;

const SECRET_KEY: &str = "multi-instance-test-secret-key-0123456789abcdef";
const SESSION: &str = "__Host-skit_session";

struct Cluster {
    provider: String,
    /// The address browsers use (instance A's, standing in for the load balancer's).
    app_url: String,
    a: String,
    b: String,
    redis: RedisServer,
    prefix: String,
    /// Holds the provider's signing keys.
    state_dir: std::path::PathBuf,
}

async fn bind() -> (tokio::net::TcpListener, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    (listener, base)
}

async fn start_instance(listener: tokio::net::TcpListener, vars: &[(&str, &str)]) {
    let addr = listener.local_addr().unwrap().to_string();
    let mut all = vars.to_vec();
    all.push(("LEPTOS_SITE_ADDR", addr.as_str()));
    let config = common::config_from(&all);
    let key = leptos_scalekit::config::cookie_key::load_cookie_key(&config.cookie_secret).unwrap();
    let app = build_router(AppState::new(config, key, None).expect("state"));
    tokio::spawn(leptos_scalekit::web::serve::serve(
        listener,
        app,
        std::future::pending(),
        std::time::Duration::from_secs(1),
    ));
}

/// The provider, Redis and two instances; `shared` false gives each instance its own memory
/// store instead (what the app does without REDIS_URL).
const WEBHOOK_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

async fn cluster(shared: bool) -> Cluster {
    let redis = RedisServer::start().await;
    let prefix = format!("test-{}:", uuid::Uuid::new_v4().simple());
    let (provider_listener, provider) = bind().await;
    let (listener_a, a) = bind().await;
    let (listener_b, b) = bind().await;
    let app_url = a.clone();
    let state_dir = std::path::PathBuf::from(common::test_state_dir())
        .join(format!("multi-{}", uuid::Uuid::new_v4()));
    let mut settings = IdpSettings::default();
    settings.register_app_uris(DEV_CLIENT_ID, &format!("{app_url}/auth/callback"), &app_url);
    // The provider delivers back-channel logouts to the shared address (here instance A); the
    // test then checks both instances refuse the session.
    settings
        .register_app_backchannel_logout_uri(
            DEV_CLIENT_ID,
            &format!("{app_url}/auth/backchannel-logout"),
        )
        .expect("a back-channel logout URI on the app's origin");
    let idp = DevIdp::new(
        provider.clone(),
        String::new(),
        settings,
        &state_dir.join("provider-keys.json"),
    )
    .unwrap();
    tokio::spawn(leptos_scalekit::web::serve::serve(
        provider_listener,
        standalone_router(Arc::new(idp)),
        std::future::pending(),
        std::time::Duration::from_secs(1),
    ));
    let redis_url = redis.url();
    let state_text = state_dir.display().to_string();
    let state_dir_kept = state_dir.clone();
    let mut vars = vec![
        ("SCALEKIT_ENVIRONMENT_URL", provider.as_str()),
        ("SCALEKIT_CLIENT_ID", DEV_CLIENT_ID),
        ("SCALEKIT_CLIENT_SECRET", DEV_CLIENT_SECRET),
        ("APP_URL", app_url.as_str()),
        ("SECRET_KEY", SECRET_KEY),
        ("LEPTOS_SITE_ROOT", "target/no-site-in-router-tests"),
        ("DEV_STATE_DIR", state_text.as_str()),
        ("SCALEKIT_WEBHOOK_SECRET", WEBHOOK_SECRET),
    ];
    if shared {
        vars.push(("REDIS_URL", redis_url.as_str()));
        vars.push(("REDIS_KEY_PREFIX", prefix.as_str()));
    }
    start_instance(listener_a, &vars).await;
    start_instance(listener_b, &vars).await;
    Cluster {
        provider,
        app_url,
        a,
        b,
        redis,
        prefix,
        state_dir: state_dir_kept,
    }
}

impl Cluster {
    fn browser(&self) -> Browser {
        Browser::new(&RunningApp {
            base: self.app_url.clone(),
        })
    }

    async fn control(&self, pairs: &[(&str, &str)]) -> Value {
        common::browser::control_at(&self.provider, pairs).await
    }

    async fn token_calls(&self, grant: &str) -> u64 {
        common::browser::token_calls_at(&self.provider, grant).await
    }

    /// Every key this cluster wrote has a TTL.
    async fn assert_every_key_expires(&self) {
        let keys = self.redis.keys_with_ttl(&self.prefix).await;
        assert!(!keys.is_empty(), "the instances wrote to Redis");
        for (key, ttl) in keys {
            assert!(ttl > 0, "{key} has no TTL ({ttl})");
        }
    }
}

/// Signs `persona` in through instance A.
async fn signed_in(cluster: &Cluster, persona: &str) -> Browser {
    let mut browser = cluster.browser();
    let login = browser
        .post_form(
            "/_app/login",
            &[("next", "/dashboard"), ("login_hint", persona)],
        )
        .await;
    let at_provider = browser.get(&location(&login)).await;
    let callback = browser.get(&location(&at_provider)).await;
    assert_eq!(callback.status(), 303, "signed in");
    browser
}

/// Ada's cookies once her access token (given two seconds of life) has run out: the next request
/// with them refreshes.
async fn signed_in_with_a_spent_access_token(cluster: &Cluster) -> String {
    cluster.control(&[("access_token_ttl", "2")]).await;
    let cookies = signed_in(cluster, "admin").await.cookie_header();
    tokio::time::sleep(Duration::from_millis(2100)).await;
    cookies
}

async fn dashboard_with(cookies: &str, instance: &str) -> reqwest::Response {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!("{instance}/dashboard"))
        .header("cookie", cookies)
        .header("accept", "text/html")
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn r9_o6_a_sign_out_on_one_instance_refuses_the_old_cookie_on_the_other() {
    let cluster = cluster(true).await;
    let mut browser = signed_in(&cluster, "admin").await;
    let copied = browser.cookie_header();
    assert_eq!(dashboard_with(&copied, &cluster.b).await.status(), 200);
    let logout = browser.post_form("/_app/logout", &[]).await;
    assert!(logout.status().is_redirection(), "{}", logout.status());
    let replayed = dashboard_with(&copied, &cluster.b).await;
    assert_eq!(replayed.status(), 302, "instance B saw the sign-out on A");
    assert!(location(&replayed).starts_with("/login"));
    cluster.assert_every_key_expires().await;
}

#[tokio::test]
async fn r9_without_a_shared_store_the_other_instance_cannot_know() {
    // What the app does without REDIS_URL, kept as the reason REDIS_URL exists.
    let cluster = cluster(false).await;
    let mut browser = signed_in(&cluster, "admin").await;
    let copied = browser.cookie_header();
    browser.post_form("/_app/logout", &[]).await;
    assert_eq!(dashboard_with(&copied, &cluster.b).await.status(), 200);
    assert_eq!(dashboard_with(&copied, &cluster.a).await.status(), 302);
}

#[tokio::test]
async fn r2_r3_r9_a_burst_over_both_instances_refreshes_once_and_the_old_cookie_keeps_working() {
    let cluster = cluster(true).await;
    let before = signed_in_with_a_spent_access_token(&cluster).await;
    let mut burst = Vec::new();
    for i in 0..16 {
        let instance = if i % 2 == 0 {
            cluster.a.clone()
        } else {
            cluster.b.clone()
        };
        let cookies = before.clone();
        burst.push(tokio::spawn(async move {
            dashboard_with(&cookies, &instance).await.status().as_u16()
        }));
    }
    for request in burst {
        assert_eq!(
            request.await.unwrap(),
            200,
            "every request of the burst succeeds"
        );
    }
    assert_eq!(
        cluster.token_calls("refresh_token").await,
        1,
        "one redemption in all"
    );
    // A request still carrying the cookie from before the refresh, on the other instance, gets
    // the new tokens (and a new cookie) instead of redeeming the old refresh token again.
    let late = dashboard_with(&before, &cluster.b).await;
    assert_eq!(late.status(), 200);
    assert!(
        common::browser::set_cookies(late.headers())
            .iter()
            .any(|c| c.name == SESSION && !c.is_removal()),
        "the late request gets the refreshed session"
    );
    assert_eq!(cluster.token_calls("refresh_token").await, 1);
    cluster.assert_every_key_expires().await;
}

#[tokio::test]
async fn r9_e5_with_redis_down_no_session_is_accepted_and_service_comes_back_by_itself() {
    let mut cluster = cluster(true).await;
    let mut browser = signed_in(&cluster, "admin").await;
    let copied = browser.cookie_header();
    cluster.redis.stop().await;
    // The store cannot be asked: signed-in pages say "try again", never "welcome".
    let page = dashboard_with(&copied, &cluster.b).await;
    assert_eq!(page.status(), 503);
    assert!(page.headers().contains_key("retry-after"));
    // Public pages and the machine API do not need the store.
    let home = reqwest::get(format!("{}/health", cluster.b)).await.unwrap();
    assert_eq!(home.status(), 200);
    // A sign-out while the store is down is recorded once it is back (retried in the
    // background), so the copied cookie does not come back to life.
    browser.post_form("/_app/logout", &[]).await;
    cluster.redis.restart().await; // empty, as a Redis without persistence comes back
    let mut refused = false;
    for _ in 0..80 {
        if dashboard_with(&copied, &cluster.b).await.status() == 302 {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        refused,
        "the ended session was recorded after Redis came back"
    );
    // And new sign-ins work again on every instance, no restart of the app.
    let fresh = signed_in(&cluster, "member").await;
    assert_eq!(
        dashboard_with(&fresh.cookie_header(), &cluster.b)
            .await
            .status(),
        200
    );
    cluster.assert_every_key_expires().await;
}

/// R9, E5: a refresh that fails with nothing to share (the token endpoint is down) gives the
/// shared lock up at once. Before, the lock stayed for its whole hold, and every other instance's
/// refresh of that session waited it out and answered 503 even after the provider was back.
#[tokio::test]
async fn r9_e5_a_failed_refresh_releases_the_shared_lock() {
    let cluster = cluster(true).await;
    let cookies = signed_in_with_a_spent_access_token(&cluster).await;
    cluster
        .control(&[("fault", "token"), ("kind", "status"), ("status", "503")])
        .await;
    let during = dashboard_with(&cookies, &cluster.a).await;
    assert_eq!(
        during.status(),
        503,
        "the access token is spent and cannot be renewed"
    );
    cluster
        .control(&[("fault", "token"), ("kind", "none")])
        .await;
    // The other instance, which has no memory of A's failure, refreshes at once.
    let after = dashboard_with(&cookies, &cluster.b).await;
    assert_eq!(
        after.status(),
        200,
        "the provider is back and the lock is free"
    );
    assert_eq!(
        cluster.token_calls("refresh_token").await,
        2,
        "the failed try and the one after it"
    );
    cluster.assert_every_key_expires().await;
}

#[tokio::test]
async fn o8_r9_a_back_channel_logout_from_the_provider_ends_the_session_on_every_instance() {
    let cluster = cluster(true).await;
    let admin = signed_in(&cluster, "admin").await;
    let member = signed_in(&cluster, "member").await;
    let copied = admin.cookie_header();
    assert_eq!(dashboard_with(&copied, &cluster.a).await.status(), 200);
    // The admin's session ends at the provider (an administrator, another app, a policy).
    cluster.control(&[("end_sessions", "admin")]).await;
    assert!(
        common::browser::backchannel_delivered(&cluster.provider).await,
        "the provider delivered a logout token and the app took it"
    );
    for instance in [&cluster.a, &cluster.b] {
        let page = dashboard_with(&copied, instance).await;
        assert_eq!(page.status(), 302, "ended on {instance}");
    }
    assert_eq!(
        dashboard_with(&member.cookie_header(), &cluster.a)
            .await
            .status(),
        200,
        "another user's session is untouched"
    );
    cluster.assert_every_key_expires().await;
}

#[tokio::test]
async fn o8_a_replayed_logout_token_is_refused_on_any_instance() {
    let cluster = cluster(true).await;
    let admin = signed_in(&cluster, "admin").await;
    let keys =
        scalekit_dev_idp::KeyRing::load_or_create(&cluster.state_dir.join("provider-keys.json"))
            .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    // A logout token naming only the user: all of the admin's sessions begun before it.
    let token = keys
        .sign(&serde_json::json!({
            "iss": cluster.provider, "aud": DEV_CLIENT_ID, "iat": now, "exp": now + 120,
            "jti": uuid::Uuid::new_v4().to_string(), "sub": "usr_100000000000000001",
            "events": { "http://schemas.openid.net/event/backchannel-logout": {} },
        }))
        .unwrap();
    let post = |instance: String, token: String| async move {
        reqwest::Client::new()
            .post(format!("{instance}/auth/backchannel-logout"))
            .form(&[("logout_token", token)])
            .send()
            .await
            .unwrap()
    };
    let first = post(cluster.a.clone(), token.clone()).await;
    assert_eq!(first.status(), 200);
    assert_eq!(first.headers()["cache-control"], "no-store");
    let replay = post(cluster.b.clone(), token).await;
    assert_eq!(
        replay.status(),
        400,
        "the jti was used on the other instance"
    );
    let body: Value = replay.json().await.unwrap();
    assert_eq!(body["error"], "invalid_request");
    assert_eq!(
        dashboard_with(&admin.cookie_header(), &cluster.b)
            .await
            .status(),
        302
    );
    let forged = post(cluster.b.clone(), "not-a-jwt".into()).await;
    assert_eq!(forged.status(), 400);
    cluster.assert_every_key_expires().await;
}

/// O8, R9: a user's sign-in cutoff only grows. A logout token issued before a "sign out
/// everywhere" may arrive after it (logout tokens are accepted for minutes); recording its older
/// cutoff must not revive the sessions the later one ended, nor shorten how long it is kept. In
/// process and in Redis alike.
#[tokio::test]
async fn o8_r9_a_users_cutoff_is_never_lowered_by_an_older_one() {
    use scalekit_auth::store::{RedisSettings, RedisStore, SessionKeys, Store};
    use scalekit_auth::Secret;

    let redis = RedisServer::start().await;
    let prefix = format!("cutoff-{}:", uuid::Uuid::new_v4().simple());
    let shared = RedisStore::connect(&RedisSettings {
        url: Secret::new(redis.url()),
        key_prefix: prefix.clone(),
    })
    .expect("the store connects");
    let keys = |signed_in_at| SessionKeys {
        id: "s1",
        provider_sid: None,
        sub: "usr_1",
        signed_in_at,
        member: None,
    };
    for (name, store) in [
        ("memory", Store::default()),
        ("redis", Store::Redis(Arc::new(shared))),
    ] {
        let now = scalekit_auth::now_secs();
        store
            .end_user_sessions("usr_1", now - 100, now + 600, now)
            .await
            .unwrap();
        store
            .end_user_sessions("usr_1", now - 200, now + 60, now)
            .await
            .unwrap();
        let ended = |signed_in_at, at| store.is_ended(keys(signed_in_at), at);
        assert!(
            ended(now - 150, now).await.unwrap(),
            "{name}: signed in before the later cutoff, still ended"
        );
        assert!(
            !ended(now - 50, now).await.unwrap(),
            "{name}: after it, not"
        );
        // In Redis the TTL decides, not the time passed in; in memory this is the later expiry.
        assert!(
            ended(now - 150, now + 300).await.unwrap(),
            "{name}: kept as long as the longer record"
        );
    }
    let kept = redis.keys_with_ttl(&prefix).await;
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert!(kept[0].1 > 500, "the longer TTL stays: {kept:?}");
}

/// Scalekit delivers a webhook to one instance; the admins' list on the settings page is the same
/// on every instance, and Redis holds it sealed, with a TTL.
#[tokio::test]
async fn w12_r9_the_admins_event_list_is_shared_by_every_instance() {
    use scalekit_auth::webhook::WebhookVerifier;
    let cluster = cluster(true).await;
    let ada = signed_in(&cluster, "admin").await;
    let body = serde_json::json!({
        "spec_version": "1", "id": "evt_shared_1", "type": "organization.sso_enabled",
        "organization_id": "org_100000000000000001", "data": {}
    })
    .to_string();
    let now = scalekit_auth::now_secs();
    let verifier = WebhookVerifier::new(&scalekit_auth::Secret::new(WEBHOOK_SECRET)).unwrap();
    let delivered = reqwest::Client::new()
        .post(format!("{}/webhooks/scalekit", cluster.a))
        .header("webhook-id", "msg_shared_1")
        .header("webhook-timestamp", now.to_string())
        .header(
            "webhook-signature",
            verifier.sign("msg_shared_1", now, body.as_bytes()),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(delivered.status(), 200);
    let page = reqwest::Client::new()
        .get(format!("{}/organization/settings", cluster.b))
        .header("cookie", ada.cookie_header())
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(page
        .text()
        .await
        .unwrap()
        .contains("organization.sso_enabled"));
    let keys = cluster.redis.keys_with_ttl(&cluster.prefix).await;
    assert!(
        keys.iter()
            .any(|(key, ttl)| key.contains("recent:") && *ttl > 0),
        "{keys:?}"
    );
    cluster.assert_every_key_expires().await;
}
