//! OpenID Connect Back-Channel Logout 1.0 (O8): logout tokens delivered to a relying party,
//! retried, and listed.

use super::{
    api_json, app_with_backchannel_client, assert_rp_refresh_refused, encode, get_with_cookie,
    json, management_token, post_form, rp_sign_in, verified_logout_token, verify, LogoutReceiver,
    ADMIN_USER_ID, MEMBER_USER_ID, RP_CLIENT_ID,
};
use crate::common::send;
use axum::body::Body;
use http::{Request, StatusCode};
use leptos_scalekit::server::AppService;
use serde_json::Value;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Waits (at most five seconds) until `/_control` lists `count` back-channel deliveries.
async fn wait_for_deliveries(app: &AppService, count: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let shown = json(get_with_cookie(app, "/dev-idp/_control", None).await).await;
        let deliveries = shown["backchannel_deliveries"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if deliveries.len() >= count {
            return deliveries;
        }
        assert!(Instant::now() < deadline, "{shown}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn o8_the_provider_delivers_a_signed_logout_token_when_a_session_ends() {
    let receiver = LogoutReceiver::start(&[]).await;
    let app = app_with_backchannel_client(&receiver);
    let (tokens, cookie) = rp_sign_in(&app, &receiver, "admin").await;
    let id_token = tokens["id_token"].as_str().unwrap();
    let id_claims = verify(&app, id_token, Some(RP_CLIENT_ID)).await;
    let access_claims = verify(
        &app,
        tokens["access_token"].as_str().unwrap(),
        Some(RP_CLIENT_ID),
    )
    .await;
    let sid = id_claims["sid"].as_str().unwrap();
    assert!(sid.starts_with("ses_"), "{sid}");
    assert_eq!(access_claims["sid"], sid, "both tokens name the session");

    let logout = format!(
        "/dev-idp/oidc/logout?{}",
        encode(&[("id_token_hint", id_token)])
    );
    let response = get_with_cookie(&app, &logout, Some(&cookie)).await;
    assert_eq!(response.status(), StatusCode::OK);

    let posts = receiver.wait_for(1).await;
    let claims = verified_logout_token(&app, &posts[0]).await;
    assert_eq!(claims["sub"], id_claims["sub"]);
    assert_eq!(claims["sid"], sid);
    let deliveries = wait_for_deliveries(&app, 1).await;
    assert_eq!(deliveries.len(), 1, "{deliveries:?}");
    assert_eq!(receiver.posts().len(), 1, "exactly one logout token");
    assert_eq!(deliveries[0]["client_id"], RP_CLIENT_ID);
    assert_eq!(deliveries[0]["session_id"], sid);
    assert_eq!(deliveries[0]["attempts"], 1);
    assert_eq!(deliveries[0]["status"], 200);
    assert_eq!(deliveries[0]["error"], Value::Null);
    assert_rp_refresh_refused(&app, tokens["refresh_token"].as_str().unwrap()).await;

    // A logout token is no access token, even though it names a user and a session.
    let userinfo = send(
        app.clone(),
        Request::get("/dev-idp/userinfo")
            .header(
                "authorization",
                format!("Bearer {}", posts[0].logout_token()),
            )
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(userinfo.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn o8_control_end_sessions_ends_every_session_of_a_persona_and_delivers() {
    let receiver = LogoutReceiver::start(&[]).await;
    let app = app_with_backchannel_client(&receiver);
    let mut admin_sids = Vec::new();
    for _ in 0..2 {
        let (tokens, _) = rp_sign_in(&app, &receiver, "admin").await;
        let claims = verify(&app, tokens["id_token"].as_str().unwrap(), None).await;
        admin_sids.push(claims["sid"].as_str().unwrap().to_string());
    }
    assert_ne!(admin_sids[0], admin_sids[1], "two provider sessions");
    rp_sign_in(&app, &receiver, "member").await;

    let refused = post_form(
        &app,
        "/dev-idp/_control",
        &[("end_sessions", "nobody")],
        &[],
    )
    .await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let ended = post_form(&app, "/dev-idp/_control", &[("end_sessions", "admin")], &[]).await;
    assert_eq!(ended.status(), StatusCode::OK);

    let posts = receiver.wait_for(2).await;
    let mut delivered_sids = Vec::new();
    for post in &posts {
        let claims = verified_logout_token(&app, post).await;
        assert_eq!(claims["sub"], ADMIN_USER_ID);
        delivered_sids.push(claims["sid"].as_str().unwrap().to_string());
    }
    delivered_sids.sort();
    admin_sids.sort();
    assert_eq!(delivered_sids, admin_sids);
    assert_eq!(wait_for_deliveries(&app, 2).await.len(), 2);
    assert_eq!(
        receiver.posts().len(),
        2,
        "the member's session was left alone"
    );

    let token = management_token(&app).await;
    let admin = api_json(
        &app,
        "GET",
        &format!("/dev-idp/api/v1/users/{ADMIN_USER_ID}/sessions?filter.status=REVOKED"),
        &token,
    )
    .await;
    assert_eq!(admin["total_size"], 2, "{admin}");
    let member = api_json(
        &app,
        "GET",
        &format!("/dev-idp/api/v1/users/{MEMBER_USER_ID}/sessions?filter.status=ACTIVE"),
        &token,
    )
    .await;
    assert_eq!(member["total_size"], 1, "{member}");
}

#[tokio::test]
async fn o8_a_logout_token_is_retried_after_server_errors_and_each_delivery_is_listed() {
    // Two 503s then 200 for the first session; a 400 for the second is final.
    let receiver = LogoutReceiver::start(&[503, 503, 200, 400]).await;
    let app = app_with_backchannel_client(&receiver);
    let (tokens, _) = rp_sign_in(&app, &receiver, "admin").await;
    let sid = verify(&app, tokens["id_token"].as_str().unwrap(), None).await["sid"].clone();

    post_form(&app, "/dev-idp/_control", &[("end_sessions", "admin")], &[]).await;
    let posts = receiver.wait_for(3).await;
    let deliveries = wait_for_deliveries(&app, 1).await;
    assert_eq!(deliveries.len(), 1, "{deliveries:?}");
    let delivery = &deliveries[0];
    assert_eq!(delivery["attempts"], 3, "{delivery}");
    assert_eq!(delivery["status"], 200);
    assert_eq!(delivery["error"], Value::Null);
    assert_eq!(delivery["session_id"], sid);
    assert_eq!(delivery["client_id"], RP_CLIENT_ID);
    assert_eq!(delivery["uri"], receiver.logout_uri());
    assert!(delivery["at"].as_str().unwrap_or_default().ends_with('Z'));
    assert!(
        posts
            .iter()
            .all(|p| p.logout_token() == posts[0].logout_token()),
        "a retry resends the same token"
    );

    rp_sign_in(&app, &receiver, "admin").await;
    post_form(&app, "/dev-idp/_control", &[("end_sessions", "admin")], &[]).await;
    let deliveries = wait_for_deliveries(&app, 2).await;
    assert_eq!(deliveries[1]["attempts"], 1, "a 4xx is not retried");
    assert_eq!(deliveries[1]["status"], 400);
    assert_eq!(receiver.posts().len(), 4);
}

#[tokio::test]
async fn o8_an_unreachable_receiver_is_tried_three_times_and_the_error_is_listed() {
    // A port nobody listens on: every attempt is refused at once.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let receiver = LogoutReceiver {
        base,
        posts: Arc::default(),
    };
    let app = app_with_backchannel_client(&receiver);
    rp_sign_in(&app, &receiver, "member").await;
    post_form(
        &app,
        "/dev-idp/_control",
        &[("end_sessions", "member")],
        &[],
    )
    .await;
    let deliveries = wait_for_deliveries(&app, 1).await;
    assert_eq!(deliveries[0]["attempts"], 3, "{deliveries:?}");
    assert_eq!(deliveries[0]["status"], Value::Null);
    assert!(
        !deliveries[0]["error"]
            .as_str()
            .unwrap_or_default()
            .is_empty(),
        "{deliveries:?}"
    );
}
