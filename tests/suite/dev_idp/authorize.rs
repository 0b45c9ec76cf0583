//! The authorization endpoint: refusals, the persona picker and remembered sessions.

use super::{
    authorize_uri, challenge, encode, exchange, get_with_cookie, json, location, post_form, query,
    session_cookie, verify, CLIENT_ID, REDIRECT_URI, VERIFIER,
};
use crate::common::{body_text, dev_app};
use http::StatusCode;

#[tokio::test]
async fn authorize_refuses_bad_requests() {
    let app = dev_app();
    // A redirect URI that is not registered: an error page, never a redirect there.
    let evil = authorize_uri(&[]).replace(
        &encode(&[("redirect_uri", REDIRECT_URI)]),
        &encode(&[("redirect_uri", "https://evil.example/cb")]),
    );
    let response = get_with_cookie(&app, &evil, None).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response.headers().get("location").is_none());
    assert!(body_text(response).await.contains("is not registered"));

    let unknown_client = get_with_cookie(
        &app,
        &authorize_uri(&[]).replace(CLIENT_ID, "skc_unknown"),
        None,
    )
    .await;
    assert_eq!(unknown_client.status(), StatusCode::BAD_REQUEST);

    // plain PKCE goes back to the client as an error, with state.
    let plain = format!(
        "{}&code_challenge_method=plain",
        authorize_uri(&[]).replace("&code_challenge_method=S256", "")
    );
    let response = get_with_cookie(&app, &plain, None).await;
    assert_eq!(response.status(), StatusCode::FOUND);
    let url = location(&response);
    assert_eq!(query(&url, "error").as_deref(), Some("invalid_request"));
    assert_eq!(query(&url, "state").as_deref(), Some("state-123"));
    assert!(query(&url, "code").is_none());

    let no_openid = authorize_uri(&[]).replace("scope=openid+", "scope=");
    let url = location(&get_with_cookie(&app, &no_openid, None).await);
    assert_eq!(query(&url, "error").as_deref(), Some("invalid_scope"));
}

#[tokio::test]
async fn picker_works_without_javascript_and_sessions_are_remembered() {
    let app = dev_app();
    let page = get_with_cookie(&app, &authorize_uri(&[]), None).await;
    assert_eq!(page.status(), StatusCode::OK);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        csp.contains("form-action 'self' http://127.0.0.1:3000"),
        "{csp}"
    );
    let html = body_text(page).await;
    assert!(html.contains("Ada Admin") && html.contains("Max Member"));
    assert!(html.contains("name=\"persona\" value=\"member\""));
    assert!(!html.contains("<script"), "the picker needs no JavaScript");

    // Submitting the form (all original parameters as hidden fields) picks the member.
    let challenge = challenge(VERIFIER);
    let chosen = post_form(
        &app,
        "/dev-idp/oauth/authorize",
        &[
            ("response_type", "code"),
            ("client_id", CLIENT_ID),
            ("redirect_uri", REDIRECT_URI),
            ("scope", "openid profile email offline_access"),
            ("state", "state-123"),
            ("nonce", "nonce-456"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
            ("persona", "member"),
        ],
        &[],
    )
    .await;
    assert_eq!(chosen.status(), StatusCode::SEE_OTHER);
    let cookie = session_cookie(&chosen).unwrap();
    let code = query(&location(&chosen), "code").unwrap();
    let tokens = json(exchange(&app, &code).await).await;
    let id = verify(&app, tokens["id_token"].as_str().unwrap(), Some(CLIENT_ID)).await;
    assert_eq!(id["email"], "max.member@example.com");

    // The provider remembers the session: no picker the second time...
    let again = get_with_cookie(&app, &authorize_uri(&[]), Some(&cookie)).await;
    assert_eq!(again.status(), StatusCode::FOUND);
    // ...unless prompt=login.
    let forced = get_with_cookie(&app, &authorize_uri(&[("prompt", "login")]), Some(&cookie)).await;
    assert_eq!(forced.status(), StatusCode::OK);
}
