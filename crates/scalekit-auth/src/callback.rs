//! `GET /auth/callback` (the path of the configured redirect URI): the end of a sign-in. A plain
//! axum handler, so it can set cookies and a redirect before anything is sent. The transaction
//! cookie is cleared whatever happens (single use, checklist L6); nothing is stored unless every
//! check passed; every failure is a page with the right status and a way to try again.

use axum::extract::{RawQuery, State};
use axum::response::{Html, IntoResponse, Response};
use http::header::{CACHE_CONTROL, LOCATION, REFERRER_POLICY};
use http::{HeaderValue, StatusCode};
use tower_cookies::Cookies;

use super::middleware::Auth;
use super::session::now_secs;
use super::session_cookies::SessionCookie;
use super::store::OneTime;
use super::transaction::TRANSACTION_TTL_SECS;
use crate::log_text::untrusted;
use crate::secret::constant_time_eq;

/// What the callback's own pages link to: the app's names and paths.
#[derive(Clone, Debug)]
pub struct SignInPages {
    /// Where a sign-in goes when it did not say (`/dashboard`).
    pub default_return_to: String,
    /// The page that starts a sign-in and takes `?next=` (`/login`).
    pub login_path: String,
    /// The site's name, after the page title.
    pub site_name: String,
    /// The stylesheet the failure page uses.
    pub stylesheet: String,
}

/// A failed sign-in, as the browser sees it.
struct Failure {
    status: StatusCode,
    title: &'static str,
    message: String,
    /// Where "Try again" leads back to after signing in.
    return_to: String,
}

impl Failure {
    fn new(status: u16, title: &'static str, message: impl Into<String>) -> Failure {
        Failure {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
            title,
            message: message.into(),
            return_to: String::new(),
        }
    }
}

/// Text and attribute values for the failure page.
fn escape(text: &str) -> String {
    html_escape::encode_quoted_attribute(text).into_owned()
}

/// Query parameters, each at most once (a repeated one is refused: it smells of injection).
/// One pass with a set: the URI may hold thousands of distinct names (8 KB).
fn params(query: Option<&str>) -> Result<Vec<(String, String)>, Failure> {
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .into_owned()
        .collect();
    let mut seen = std::collections::HashSet::with_capacity(pairs.len());
    if pairs.iter().any(|(name, _)| !seen.insert(name.as_str())) {
        return Err(Failure::new(
            400,
            "Sign-in failed",
            "The sign-in response was malformed. Please try again.",
        ));
    }
    Ok(pairs)
}

fn get<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// The sign-in callback handler (checklist L5–L8, L11, L13, L14). It reads and then clears the
/// transaction cookie whatever happens, and requires this browser's unexpired transaction and its
/// `state` (compared in constant time) before anything else. A provider `error` is shown only after
/// the state matched; an RFC 9207 `iss` parameter, when sent, must be the issuer; the store lets
/// one token-endpoint call through per transaction. On success it ends the session the browser
/// already had, if any, writes the new session cookie and answers 303 to the transaction's checked
/// return path; every failure is an HTML page with the right status and a "Try again" link. Every
/// answer is `no-store` with `Referrer-Policy: no-referrer`, since the URL carries the code.
pub async fn callback(
    State(auth): State<Auth>,
    cookies: Cookies,
    RawQuery(query): RawQuery,
) -> Response {
    let transaction = auth.cookies.read_transaction(&cookies, &auth.key);
    // L6: single use, on success and failure alike.
    auth.cookies.clear_transaction(&cookies);
    let outcome = finish(&auth, &cookies, transaction, query.as_deref()).await;
    let mut response = match outcome {
        Ok(return_to) => match HeaderValue::from_str(&return_to) {
            Ok(location) => (StatusCode::SEE_OTHER, [(LOCATION, location)]).into_response(),
            Err(_) => (
                StatusCode::SEE_OTHER,
                [(LOCATION, HeaderValue::from_static("/"))],
            )
                .into_response(),
        },
        Err(failure) => failure_page(&auth.pages, &failure),
    };
    // L13: the URL carries the code, so it must not leak through Referer or a cache.
    let headers = response.headers_mut();
    headers.insert(CACHE_CONTROL, crate::NO_STORE);
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    response
}

async fn finish(
    auth: &Auth,
    cookies: &Cookies,
    transaction: Option<super::transaction::Transaction>,
    query: Option<&str>,
) -> Result<String, Failure> {
    let pairs = params(query)?;
    let now = now_secs();
    let return_to = transaction
        .as_ref()
        .map(|t| t.return_to.clone())
        .unwrap_or_else(|| auth.pages.default_return_to.clone());
    let with_return = |mut failure: Failure| {
        failure.return_to = return_to.clone();
        failure
    };

    // L14: without this browser's transaction cookie the response belongs to nobody here.
    let Some(transaction) = transaction else {
        return Err(Failure::new(
            400,
            "Sign-in expired",
            "This sign-in did not start in this browser, or took too long. Make sure cookies are enabled and sign in again.",
        ));
    };
    if transaction.is_expired(now) {
        return Err(with_return(Failure::new(
            400,
            "Sign-in expired",
            "The sign-in took longer than ten minutes. Please sign in again.",
        )));
    }
    // L5: the state must be this transaction's, before anything is sent to the provider.
    let state_matches =
        get(&pairs, "state").is_some_and(|s| constant_time_eq(s, &transaction.state));
    if !state_matches {
        return Err(with_return(Failure::new(
            400,
            "Sign-in failed",
            "The sign-in response does not match your sign-in attempt. Please sign in again.",
        )));
    }
    // L7: the provider reports an error (the user cancelled, or a configuration problem). Only
    // after the state matched: an error response carries the state too (RFC 6749 §4.1.2.1), and
    // without it anyone could abort a sign-in in progress and show their own text on our origin.
    if let Some(error) = get(&pairs, "error") {
        // Capped and escaped for the log and the page alike.
        let error = untrusted(error);
        let description = untrusted(get(&pairs, "error_description").unwrap_or(""));
        tracing::info!(%error, %description, "the provider returned an error to the callback");
        let (status, text) = match &*error {
            "access_denied" => (403, "Sign-in was cancelled or access was denied."),
            "login_required" | "interaction_required" => {
                (401, "You need to sign in at the identity provider.")
            }
            _ => (400, "The identity provider could not complete the sign-in."),
        };
        let message = if description.is_empty() {
            format!("{text} (error: {error})")
        } else {
            format!("{text} ({error}: {description})")
        };
        return Err(with_return(Failure::new(status, "Sign-in failed", message)));
    }

    // L8 (RFC 9207): an `iss` parameter, when sent, names our provider.
    if let Some(iss) = get(&pairs, "iss") {
        let issuer = auth.rp.issuer().await.map_err(|e| {
            tracing::error!(error = %e, "sign-in failed");
            with_return(Failure::new(e.status(), "Sign-in failed", e.message()))
        })?;
        if iss != issuer {
            return Err(with_return(Failure::new(
                400,
                "Sign-in failed",
                "The sign-in response came from an unexpected identity provider.",
            )));
        }
    }
    let Some(code) = get(&pairs, "code").filter(|c| !c.is_empty()) else {
        return Err(with_return(Failure::new(
            400,
            "Sign-in failed",
            "The identity provider sent no authorization code. Please sign in again.",
        )));
    };

    // L6: one token-endpoint call per transaction, whichever instance receives the callback,
    // even for a client that keeps the cookie. Kept a minute past the transaction's lifetime:
    // `is_expired` allows that much clock skew.
    let first = auth
        .rp
        .store
        .first_use(
            OneTime::Transaction,
            &transaction.state,
            transaction.created_at + TRANSACTION_TTL_SECS + 60,
            now,
        )
        .await
        .map_err(|e| {
            tracing::warn!(error = %e, "cannot record the sign-in transaction; refusing");
            with_return(Failure::new(
                503,
                "Sign-in unavailable",
                "Signing in is unavailable for a moment. Please try again shortly.",
            ))
        })?;
    if !first {
        return Err(with_return(Failure::new(
            400,
            "Sign-in already completed",
            "This sign-in response was already used. Please sign in again.",
        )));
    }
    let session = auth
        .rp
        .complete_login(&transaction, code, now)
        .await
        .map_err(|e| {
            tracing::warn!(error = %e, "sign-in failed");
            with_return(Failure::new(e.status(), "Sign-in failed", e.message()))
        })?;
    // L11: a sign-in over an existing session ends that one: its cookie value becomes useless.
    if let SessionCookie::Present(previous) = auth.cookies.read_session(cookies, &auth.key) {
        auth.end(cookies, &previous).await;
    }
    auth.write(cookies, &session, now);
    tracing::info!(sub = %session.user.sub, "signed in");
    Ok(transaction.return_to)
}

fn failure_page(pages: &SignInPages, failure: &Failure) -> Response {
    let return_to = match failure.return_to.as_str() {
        "" => &pages.default_return_to,
        given => given,
    };
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
        title = escape(failure.title),
        message = escape(&failure.message),
        retry = escape(&retry),
        site = escape(&pages.site_name),
        stylesheet = escape(&pages.stylesheet),
    );
    (failure.status, Html(html)).into_response()
}
