//! `GET /auth/initiate-login`: the "Initiate login URL" to register in Scalekit (Dashboard >
//! Authentication > Redirects) for IdP-initiated login. See [`Auth::begin_idp_initiated_sign_in`]:
//! a valid token (or none) becomes a 303 to the app's login page with the routing parameters to
//! pass on, never straight to the provider (login CSRF); any failure is the sign-in failure page
//! with its status.

use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use http::header::{CACHE_CONTROL, LOCATION, REFERRER_POLICY};
use http::{HeaderValue, StatusCode};

use super::callback::failure_page;
use crate::auth::Auth;
use crate::session::now_secs;

/// Where the handler is mounted.
pub const INITIATE_LOGIN_PATH: &str = "/auth/initiate-login";

/// The initiate-login handler (see [`Auth::begin_idp_initiated_sign_in`] for the checks): 303 to
/// the login page, or the failure page; every answer `no-store`, `Referrer-Policy: no-referrer`.
pub async fn initiate_login(State(auth): State<Auth>, RawQuery(query): RawQuery) -> Response {
    let outcome = auth
        .begin_idp_initiated_sign_in(query.as_deref(), now_secs())
        .await;
    let mut response = match outcome.map(|url| HeaderValue::from_str(&url)) {
        Ok(Ok(location)) => (StatusCode::SEE_OTHER, [(LOCATION, location)]).into_response(),
        Ok(Err(_)) => StatusCode::BAD_GATEWAY.into_response(),
        Err(failure) => failure_page(auth.pages(), &failure),
    };
    // The URL carries a token: keep it out of caches and Referer.
    let headers = response.headers_mut();
    headers.insert(CACHE_CONTROL, crate::NO_STORE);
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    response
}
