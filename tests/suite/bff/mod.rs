#![cfg(feature = "ssr")]

//! The backend-for-frontend over real HTTP: sign-in, callback, session cookies, guards, refresh,
//! sign-out and the CSRF layer, against the app's own development provider. Each test is named
//! after the checklist line it proves (../shared/docs/security-checklist.md).

use crate::common::browser::{serve_app, Browser};

mod api_clients;
mod csrf;
mod guards;
mod headers;
mod idp_initiated;
mod organizations;
mod portal;
mod refresh;
mod session_cookies;
mod sign_in;
mod sign_out;
mod user_sessions;

const SESSION: &str = "__Host-skit_session";
const SIGNIN: &str = "__Host-skit_signin";

async fn signed_in(persona: &str) -> Browser {
    let app = serve_app(&[]).await;
    let mut browser = Browser::new(&app);
    let callback = browser.sign_in_as(persona, "/dashboard").await;
    assert_eq!(callback.status(), 303);
    browser
}
