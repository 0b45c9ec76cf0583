//! Scalekit's user-sessions API (O8), over REST and gRPC.

use super::{
    api_call, api_json, app_with_backchannel_client, assert_rp_refresh_refused, code_for, exchange,
    json, management_token, rp_sign_in, verified_logout_token, verify, LogoutReceiver,
    ADMIN_USER_ID, CHROME_ON_WINDOWS, CLIENT_ID, MEMBER_USER_ID, RP_CLIENT_ID,
};
use crate::common::{dev_app, send};
use axum::body::Body;
use http::{Request, Response, StatusCode};
use leptos_scalekit::server::AppService;
use serde_json::Value;

const DEFAULT_ORG: &str = "org_100000000000000001";

#[tokio::test]
async fn o8_the_sessions_api_lists_and_revokes_a_users_sessions() {
    let receiver = LogoutReceiver::start(&[]).await;
    let app = app_with_backchannel_client(&receiver);
    let (tokens, _) = rp_sign_in(&app, &receiver, "admin").await;
    let id_claims = verify(&app, tokens["id_token"].as_str().unwrap(), None).await;
    let sid = id_claims["sid"].as_str().unwrap().to_string();
    let token = management_token(&app).await;
    let sessions_of =
        |user: &str, query: &str| format!("/dev-idp/api/v1/users/{user}/sessions{query}");

    let listed = api_json(
        &app,
        "GET",
        &sessions_of(ADMIN_USER_ID, "?page_size=10&filter.status=ACTIVE"),
        &token,
    )
    .await;
    assert_eq!(listed["total_size"], 1, "{listed}");
    assert_eq!(listed["next_page_token"], "");
    assert_eq!(listed["prev_page_token"], "");
    let session = &listed["sessions"][0];
    assert_eq!(session["session_id"], sid.as_str());
    assert_eq!(session["user_id"], ADMIN_USER_ID);
    assert_eq!(session["status"], "ACTIVE");
    assert_eq!(session["organization_id"], DEFAULT_ORG);
    assert_eq!(session["authenticated_organizations"], json!([DEFAULT_ORG]));
    assert_eq!(
        session["authenticated_clients"],
        json!([{ "client_id": RP_CLIENT_ID, "organization_id": DEFAULT_ORG }])
    );
    let device = &session["device"];
    assert_eq!(device["user_agent"], CHROME_ON_WINDOWS);
    assert_eq!(device["browser"], "Chrome");
    assert_eq!(device["browser_version"], "124.0.6367.91");
    assert_eq!(device["os"], "Windows");
    assert_eq!(device["os_version"], "10.0");
    assert_eq!(device["device_type"], "desktop");
    assert_eq!(device["location"]["city"], "");
    for field in [
        "created_at",
        "updated_at",
        "last_active_at",
        "idle_expires_at",
        "absolute_expires_at",
    ] {
        let at = session[field].as_str().unwrap_or_default();
        assert!(at.len() == 20 && at.ends_with('Z'), "{field}: {session}");
    }
    assert_eq!(session["logout_at"], Value::Null);
    assert_eq!(session["expired_at"], Value::Null);
    let one = api_json(
        &app,
        "GET",
        &format!("/dev-idp/api/v1/sessions/{sid}"),
        &token,
    )
    .await;
    assert_eq!(&one, session);

    let revoked = api_json(&app, "POST", &sessions_of(ADMIN_USER_ID, "/revoke"), &token).await;
    assert_eq!(revoked["total_revoked"], 1, "{revoked}");
    let revoked_session = &revoked["revoked_sessions"][0];
    assert_eq!(revoked_session["session_id"], sid.as_str());
    assert_eq!(revoked_session["status"], "REVOKED");
    assert!(
        revoked_session["logout_at"].is_string(),
        "{revoked_session}"
    );
    assert!(revoked_session.get("device").is_none());
    assert!(revoked_session.get("authenticated_clients").is_none());

    let posts = receiver.wait_for(1).await;
    let claims = verified_logout_token(&app, &posts[0]).await;
    assert_eq!(claims["sid"], sid.as_str());
    assert_eq!(claims["sub"], ADMIN_USER_ID);
    assert_rp_refresh_refused(&app, tokens["refresh_token"].as_str().unwrap()).await;
    let after = api_json(
        &app,
        "GET",
        &format!("/dev-idp/api/v1/sessions/{sid}"),
        &token,
    )
    .await;
    assert_eq!(after["status"], "REVOKED");
    let active = api_json(
        &app,
        "GET",
        &sessions_of(ADMIN_USER_ID, "?filter.status=active"),
        &token,
    )
    .await;
    assert_eq!(active["total_size"], 0, "the filter takes any case");
    let all = api_json(&app, "GET", &sessions_of(ADMIN_USER_ID, ""), &token).await;
    assert_eq!(all["total_size"], 1);

    // One session by id: the member's, revoked alone; revoking it again changes nothing.
    let (member_tokens, _) = rp_sign_in(&app, &receiver, "member").await;
    let member_sid = verify(&app, member_tokens["id_token"].as_str().unwrap(), None).await["sid"]
        .as_str()
        .unwrap()
        .to_string();
    let revoke_one = format!("/dev-idp/api/v1/sessions/{member_sid}/revoke");
    let revoked = api_json(&app, "POST", &revoke_one, &token).await;
    assert_eq!(revoked["revoked_session"]["status"], "REVOKED");
    assert_eq!(revoked["revoked_session"]["user_id"], MEMBER_USER_ID);
    let posts = receiver.wait_for(2).await;
    let claims = verified_logout_token(&app, &posts[1]).await;
    assert_eq!(claims["sid"], member_sid.as_str());
    let again = api_json(&app, "POST", &revoke_one, &token).await;
    assert_eq!(again["revoked_session"], revoked["revoked_session"]);

    // Ids are checked before they are looked up.
    for (uri, status, code) in [
        (
            "/dev-idp/api/v1/sessions/nope".to_string(),
            StatusCode::BAD_REQUEST,
            3,
        ),
        (
            "/dev-idp/api/v1/sessions/ses_12x/revoke".into(),
            StatusCode::BAD_REQUEST,
            3,
        ),
        (sessions_of("usr_", ""), StatusCode::BAD_REQUEST, 3),
        (
            sessions_of(ADMIN_USER_ID, "?filter.status=gone"),
            StatusCode::BAD_REQUEST,
            3,
        ),
        (
            "/dev-idp/api/v1/sessions/ses_1".into(),
            StatusCode::NOT_FOUND,
            5,
        ),
        (sessions_of("usr_999", ""), StatusCode::NOT_FOUND, 5),
    ] {
        let method = if uri.ends_with("/revoke") {
            "POST"
        } else {
            "GET"
        };
        let response = api_call(&app, method, &uri, Some(&token)).await;
        assert_eq!(response.status(), status, "{uri}");
        assert_eq!(json(response).await["code"], code, "{uri}");
    }
}

/// The admin signed in to the app's own client: its tokens and the session id they carry.
async fn admin_tokens_and_sid(app: &AppService) -> (Value, String) {
    let (code, _) = code_for(app, "admin").await;
    let user_tokens = json(exchange(app, &code).await).await;
    let sid = verify(app, user_tokens["id_token"].as_str().unwrap(), None).await["sid"]
        .as_str()
        .unwrap()
        .to_string();
    (user_tokens, sid)
}

#[tokio::test]
async fn o8_the_sessions_api_needs_an_environment_management_token() {
    let app = dev_app();
    let (user_tokens, sid) = admin_tokens_and_sid(&app).await;
    let endpoints = [
        (
            "GET",
            format!("/dev-idp/api/v1/users/{ADMIN_USER_ID}/sessions"),
        ),
        (
            "POST",
            format!("/dev-idp/api/v1/users/{ADMIN_USER_ID}/sessions/revoke"),
        ),
        ("GET", format!("/dev-idp/api/v1/sessions/{sid}")),
        ("POST", format!("/dev-idp/api/v1/sessions/{sid}/revoke")),
    ];
    let user_access_token = user_tokens["access_token"].as_str().unwrap();
    for (method, uri) in &endpoints {
        for token in [None, Some("not-a-token"), Some(user_access_token)] {
            let response = api_call(&app, method, uri, token).await;
            assert_eq!(
                response.status(),
                StatusCode::UNAUTHORIZED,
                "{method} {uri} {token:?}"
            );
            assert_eq!(json(response).await["code"], 16);
        }
    }
    // Nothing was revoked by the refused calls.
    let token = management_token(&app).await;
    let session = api_json(
        &app,
        "GET",
        &format!("/dev-idp/api/v1/sessions/{sid}"),
        &token,
    )
    .await;
    assert_eq!(session["status"], "ACTIVE");
    assert_eq!(
        session["authenticated_clients"][0]["client_id"], CLIENT_ID,
        "the app's own client got tokens in it"
    );
}

/// A unary gRPC request to the provider's SessionService: `message` is the protobuf body.
async fn grpc_call(
    app: &AppService,
    method: &str,
    message: &[u8],
    token: Option<&str>,
    content_type: &str,
) -> Response<Body> {
    let mut framed = vec![0u8];
    framed.extend_from_slice(&(message.len() as u32).to_be_bytes());
    framed.extend_from_slice(message);
    let mut request = Request::post(format!(
        "/dev-idp/scalekit.v1.sessions.SessionService/{method}"
    ))
    .header("content-type", content_type);
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    send(app.clone(), request.body(Body::from(framed)).unwrap()).await
}

/// A protobuf message with one string field 1, as SessionDetailsRequest is.
fn field_one(text: &str) -> Vec<u8> {
    let mut message = vec![0x0a, text.len() as u8];
    message.extend_from_slice(text.as_bytes());
    message
}

#[tokio::test]
async fn o8_the_grpc_session_service_answers_with_trailers_and_refuses_like_grpc() {
    use http_body_util::BodyExt;
    let app = dev_app();
    let (user_tokens, sid) = admin_tokens_and_sid(&app).await;
    let request = field_one(&sid);
    let grpc = "application/grpc";
    let user_token = user_tokens["access_token"].as_str().unwrap();

    // Not gRPC at all: plain HTTP 415, as the gRPC spec says.
    let json_call = grpc_call(&app, "GetSession", &request, None, "application/json").await;
    assert_eq!(json_call.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    // No token or a user's token: UNAUTHENTICATED (16), trailers-only.
    for token in [None, Some(user_token)] {
        let refused = grpc_call(&app, "GetSession", &request, token, grpc).await;
        assert_eq!(refused.status(), StatusCode::OK);
        assert_eq!(refused.headers()["grpc-status"], "16", "{token:?}");
    }

    let token = management_token(&app).await;
    let unknown = grpc_call(&app, "GetSession", &field_one("ses_1"), Some(&token), grpc).await;
    assert_eq!(unknown.headers()["grpc-status"], "5");
    let malformed = grpc_call(&app, "GetSession", &field_one("nope"), Some(&token), grpc).await;
    assert_eq!(malformed.headers()["grpc-status"], "3");
    assert!(malformed.headers()["grpc-message"]
        .to_str()
        .unwrap()
        .contains("session_id"));
    let no_method = grpc_call(&app, "DropTables", &request, Some(&token), grpc).await;
    assert_eq!(no_method.headers()["grpc-status"], "12");

    let answered = grpc_call(&app, "GetSession", &request, Some(&token), grpc).await;
    assert_eq!(answered.headers()["content-type"], grpc);
    assert!(answered.headers().get("grpc-status").is_none());
    let collected = answered.into_body().collect().await.unwrap();
    let trailers = collected.trailers().cloned().expect("trailers");
    assert_eq!(trailers["grpc-status"], "0");
    let body = collected.to_bytes();
    assert_eq!(body[0], 0, "uncompressed");
    let length = u32::from_be_bytes([body[1], body[2], body[3], body[4]]) as usize;
    assert_eq!(length, body.len() - 5);
    // SessionDetails starts with field 1, the session id; its status (field 11) is in there too.
    assert!(body[5..].starts_with(&field_one(&sid)));
    assert!(body.windows(6).any(|w| w == b"ACTIVE"));
}
