//! `GET /auth/callback` (the path of the configured redirect URI): the end of a sign-in, as an
//! axum handler, so it can set cookies and a redirect before anything is sent. The checks are
//! [`Auth::finish_sign_in`]'s; this turns its answer into a 303 or a failure page.

use axum::extract::{RawQuery, State};
use axum::response::{Html, IntoResponse, Response};
use http::header::{CACHE_CONTROL, LOCATION, REFERRER_POLICY};
use http::{HeaderValue, StatusCode};
use tower_cookies::Cookies;

use crate::auth::Auth;
use crate::session::now_secs;
use crate::sign_in::{SignInFailure, SignInPages};
use crate::values::ReturnPath;

/// The sign-in callback handler (see [`Auth::finish_sign_in`] for the checks). On success it
/// answers 303 to the transaction's checked return path; every failure is an HTML page with the
/// right status and a "Try again" link. Every answer is `no-store` with
/// `Referrer-Policy: no-referrer`, since the URL carries the code (checklist L13).
pub async fn callback(
    State(auth): State<Auth>,
    cookies: Cookies,
    RawQuery(query): RawQuery,
) -> Response {
    let outcome = auth
        .finish_sign_in(&cookies, query.as_deref(), now_secs())
        .await;
    let mut response = match outcome {
        Ok(return_to) => match HeaderValue::from_str(return_to.as_str()) {
            Ok(location) => (StatusCode::SEE_OTHER, [(LOCATION, location)]).into_response(),
            Err(_) => (
                StatusCode::SEE_OTHER,
                [(LOCATION, HeaderValue::from_static("/"))],
            )
                .into_response(),
        },
        Err(failure) => failure_page(auth.pages(), &failure),
    };
    // L13: the URL carries the code, so it must not leak through Referer or a cache.
    let headers = response.headers_mut();
    headers.insert(CACHE_CONTROL, crate::NO_STORE);
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    response
}

/// Text and attribute values for the failure page.
fn escape(text: &str) -> String {
    html_escape::encode_quoted_attribute(text).into_owned()
}

pub(super) fn failure_page(pages: &SignInPages, failure: &SignInFailure) -> Response {
    let return_to = failure
        .return_to()
        .map(ReturnPath::as_str)
        .unwrap_or(&pages.default_return_to);
    let retry = format!(
        "{}?next={}",
        pages.login_path,
        url::form_urlencoded::byte_serialize(return_to.as_bytes()).collect::<String>()
    );
    let html = format!(
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · {site}</title><link rel="stylesheet" href="{stylesheet}"></head>
<body><main id="main" class="container"><section class="error-page" aria-labelledby="error-title">
<h1 id="error-title">{title}</h1><p>{message}</p>
<p><a class="button" href="{retry}">Try again</a> <a href="/">Go to the home page</a></p>
</section></main></body></html>"#,
        title = escape(failure.title()),
        message = escape(failure.message()),
        retry = escape(&retry),
        site = escape(&pages.site_name),
        stylesheet = escape(&pages.stylesheet),
    );
    let status = StatusCode::from_u16(failure.status()).unwrap_or(StatusCode::BAD_REQUEST);
    (status, Html(html)).into_response()
}
