//! Cross-site refusals: control and persona posts from another site are refused, same-origin
//! and non-browser ones accepted.

use super::{
    challenge, get_with_cookie, json, location, post_form, query, session_cookie, CLIENT_ID,
    REDIRECT_URI, VERIFIER,
};
use crate::common::dev_app;
use axum::body::Body;
use http::{Response, StatusCode};
use leptos_scalekit::server::AppService;
use serde_json::Value;

/// What a page on another site sends when it posts a form to the provider.
const CROSS_SITE: [(&str, &str); 2] = [
    ("origin", "https://evil.example"),
    ("sec-fetch-site", "cross-site"),
];
/// What the provider's own pages send (mounted in the app: the app's origin).
const SAME_ORIGIN: [(&str, &str); 2] = [
    ("origin", "http://127.0.0.1:3000"),
    ("sec-fetch-site", "same-origin"),
];

/// The picker form as the provider's page submits it: the original parameters and a persona.
fn picker_form<'a>(challenge: &'a str, persona: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("response_type", "code"),
        ("client_id", CLIENT_ID),
        ("redirect_uri", REDIRECT_URI),
        ("scope", "openid profile email offline_access"),
        ("state", "state-123"),
        ("nonce", "nonce-456"),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
        ("persona", persona),
    ]
}

async fn injected_faults(app: &AppService) -> Value {
    json(get_with_cookie(app, "/dev-idp/_control", None).await).await["controls"]["faults"].clone()
}

async fn assert_cross_site_refusal(response: Response<Body>) {
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(session_cookie(&response).is_none(), "no provider session");
    assert!(response.headers().get("location").is_none(), "no redirect");
    let body = json(response).await;
    assert_eq!(body["error"], "forbidden", "{body}");
    assert_eq!(
        body["error_description"], "cross-site request refused",
        "{body}"
    );
}

#[tokio::test]
async fn dev_idp_refuses_cross_site_control_and_persona_posts() {
    let app = dev_app();
    let outage = [("outage", "true")];
    assert_cross_site_refusal(post_form(&app, "/dev-idp/_control", &outage, &CROSS_SITE).await)
        .await;
    // Origin alone decides for browsers without fetch metadata.
    let evil_origin = [("origin", "https://evil.example")];
    assert_cross_site_refusal(post_form(&app, "/dev-idp/_control", &outage, &evil_origin).await)
        .await;
    assert_eq!(
        injected_faults(&app).await,
        serde_json::json!({}),
        "the outage was not applied"
    );

    let challenge = challenge(VERIFIER);
    let form = picker_form(&challenge, "admin");
    for headers in [&CROSS_SITE[..], &evil_origin[..]] {
        assert_cross_site_refusal(
            post_form(&app, "/dev-idp/oauth/authorize", &form, headers).await,
        )
        .await;
    }
}

#[tokio::test]
async fn dev_idp_accepts_same_origin_and_non_browser_control_and_persona_posts() {
    let app = dev_app();
    let set = post_form(
        &app,
        "/dev-idp/_control",
        &[("outage", "true")],
        &SAME_ORIGIN,
    )
    .await;
    assert_eq!(set.status(), StatusCode::OK);
    assert_eq!(injected_faults(&app).await["token"]["status"], 503);
    // Tools send neither Sec-Fetch-Site nor Origin.
    let reset = post_form(&app, "/dev-idp/_control", &[("reset", "true")], &[]).await;
    assert_eq!(reset.status(), StatusCode::OK);
    assert_eq!(injected_faults(&app).await, serde_json::json!({}));

    let challenge = challenge(VERIFIER);
    let form = picker_form(&challenge, "member");
    let chosen = post_form(&app, "/dev-idp/oauth/authorize", &form, &SAME_ORIGIN).await;
    assert_eq!(chosen.status(), StatusCode::SEE_OTHER);
    assert!(query(&location(&chosen), "code").is_some());
}
