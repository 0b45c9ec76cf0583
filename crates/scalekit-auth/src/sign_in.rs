//! Signing in: [`Auth::begin_sign_in`] starts an attempt (a fresh state, nonce and PKCE verifier
//! in a sealed cookie, and the provider's authorization URL), [`Auth::finish_sign_in`] ends it at
//! the callback. The transaction cookie is cleared whatever happens (single use, checklist L6);
//! nothing is stored unless every check passed; every failure says what the browser should see.

use tower_cookies::Cookies;

use crate::auth::Auth;
use crate::log_text::untrusted;
use crate::relying_party::SignInError;
use crate::session_cookies::SessionCookie;
use crate::store::OneTime;
use crate::transaction::{AuthorizationHints, Transaction, TRANSACTION_TTL_SECS};
use crate::values::ReturnPath;

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

/// A sign-in that failed at the callback, as the browser should see it: a status, a title and a
/// fixed message (nothing from the provider beyond its escaped error code), and where "Try again"
/// should return to.
#[derive(Clone, Debug)]
pub struct SignInFailure {
    status: u16,
    title: &'static str,
    message: String,
    return_to: Option<ReturnPath>,
}

impl SignInFailure {
    pub(crate) fn new(
        status: u16,
        title: &'static str,
        message: impl Into<String>,
    ) -> SignInFailure {
        SignInFailure {
            status,
            title,
            message: message.into(),
            return_to: None,
        }
    }

    /// The HTTP status: 400 for a response that does not belong to this attempt, 401/403 for the
    /// provider's own refusals, 502/503 for the provider's faults.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// A short title (`Sign-in failed`, `Sign-in expired`…).
    pub fn title(&self) -> &'static str {
        self.title
    }

    /// The sentence to show. Text from the provider in it is capped and must be escaped.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Where the attempt was to return to, when it is known.
    pub fn return_to(&self) -> Option<&ReturnPath> {
        self.return_to.as_ref()
    }
}

impl Auth {
    /// Starts a sign-in that returns to `return_to`: a new transaction sealed in its cookie, and
    /// the provider's authorization URL to send the browser to (checklist L1–L4).
    pub async fn begin_sign_in(
        &self,
        cookies: &Cookies,
        return_to: ReturnPath,
        hints: &AuthorizationHints,
        now: u64,
    ) -> Result<String, SignInError> {
        let (transaction, url) = self.rp.begin_login(return_to, hints, now).await?;
        self.cookies
            .write_transaction(cookies, &self.key, &transaction);
        Ok(url)
    }

    /// Ends a sign-in at the callback, given the callback's query string (checklist L5–L8, L11,
    /// L14). It reads and then clears the transaction cookie whatever happens, and requires this
    /// browser's unexpired transaction and its `state` (compared in constant time) before
    /// anything else. A provider `error` is reported only after the state matched; an RFC 9207
    /// `iss` parameter, when sent, must be the issuer; the store lets one token-endpoint call
    /// through per transaction. On success it ends the session the browser already had, if any,
    /// writes the new session cookie and answers the transaction's checked return path.
    pub async fn finish_sign_in(
        &self,
        cookies: &Cookies,
        query: Option<&str>,
        now: u64,
    ) -> Result<ReturnPath, SignInFailure> {
        let transaction = self.cookies.read_transaction(cookies, &self.key);
        // L6: single use, on success and failure alike.
        self.cookies.clear_transaction(cookies);
        let outcome = finish(self, cookies, transaction, query, now).await;
        crate::telemetry::sign_in(match &outcome {
            Ok(_) => "ok",
            Err(failure) => status_label(failure.status()),
        });
        outcome
    }
}

/// The failure statuses the callback answers, as metric labels.
fn status_label(status: u16) -> &'static str {
    match status {
        400 => "400",
        401 => "401",
        403 => "403",
        502 => "502",
        503 => "503",
        _ => "other",
    }
}

/// Query parameters, each at most once (a repeated one is refused: it smells of injection).
/// One pass with a set: the URI may hold thousands of distinct names (8 KB).
pub(crate) fn params(query: Option<&str>) -> Result<Vec<(String, String)>, SignInFailure> {
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .into_owned()
        .collect();
    let mut seen = std::collections::HashSet::with_capacity(pairs.len());
    if pairs.iter().any(|(name, _)| !seen.insert(name.as_str())) {
        return Err(SignInFailure::new(
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

async fn finish(
    auth: &Auth,
    cookies: &Cookies,
    transaction: Option<Transaction>,
    query: Option<&str>,
    now: u64,
) -> Result<ReturnPath, SignInFailure> {
    let pairs = params(query)?;
    let return_to = transaction.as_ref().map(|t| t.return_to().clone());
    let with_return = |mut failure: SignInFailure| {
        failure.return_to = return_to.clone();
        failure
    };

    // L14: without this browser's transaction cookie the response belongs to nobody here.
    let Some(transaction) = transaction else {
        return Err(SignInFailure::new(
            400,
            "Sign-in expired",
            "This sign-in did not start in this browser, or took too long. Make sure cookies are enabled and sign in again.",
        ));
    };
    if transaction.is_expired(now) {
        return Err(with_return(SignInFailure::new(
            400,
            "Sign-in expired",
            "The sign-in took longer than ten minutes. Please sign in again.",
        )));
    }
    // L5: the state must be this transaction's, before anything is sent to the provider.
    let state_matches = get(&pairs, "state").is_some_and(|s| transaction.state().matches(s));
    if !state_matches {
        return Err(with_return(SignInFailure::new(
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
        // Never 401: that status promises a `WWW-Authenticate` challenge (RFC 9110 §15.5.2),
        // and this is a page for a browser.
        let (status, text) = match &*error {
            "access_denied" => (403, "Sign-in was cancelled or access was denied."),
            "login_required" | "interaction_required" => {
                (403, "You need to sign in at the identity provider.")
            }
            _ => (400, "The identity provider could not complete the sign-in."),
        };
        let message = if description.is_empty() {
            format!("{text} (error: {error})")
        } else {
            format!("{text} ({error}: {description})")
        };
        return Err(with_return(SignInFailure::new(
            status,
            "Sign-in failed",
            message,
        )));
    }

    // L8 (RFC 9207): an `iss` parameter, when sent, names our provider.
    if let Some(iss) = get(&pairs, "iss") {
        let issuer = auth.rp.issuer().await.map_err(|e| {
            tracing::error!(error = %e, "sign-in failed");
            with_return(SignInFailure::new(
                e.status(),
                "Sign-in failed",
                e.message(),
            ))
        })?;
        if iss != issuer.as_str() {
            return Err(with_return(SignInFailure::new(
                400,
                "Sign-in failed",
                "The sign-in response came from an unexpected identity provider.",
            )));
        }
    }
    let Some(code) = get(&pairs, "code").filter(|c| !c.is_empty()) else {
        return Err(with_return(SignInFailure::new(
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
            transaction.state().expose(),
            transaction.created_at() + TRANSACTION_TTL_SECS + 60,
            now,
        )
        .await
        .map_err(|e| {
            tracing::warn!(error = %e, "cannot record the sign-in transaction; refusing");
            with_return(SignInFailure::new(
                503,
                "Sign-in unavailable",
                "Signing in is unavailable for a moment. Please try again shortly.",
            ))
        })?;
    if !first {
        return Err(with_return(SignInFailure::new(
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
            with_return(SignInFailure::new(
                e.status(),
                "Sign-in failed",
                e.message(),
            ))
        })?;
    // L11: a sign-in over an existing session ends that one: its cookie value becomes useless.
    if let SessionCookie::Present(previous) = auth.cookies.read_session(cookies, &auth.key) {
        auth.end(cookies, &previous).await;
    }
    auth.write(cookies, &session, now);
    tracing::info!(sub = %session.user.sub, "signed in");
    Ok(transaction.return_to().clone())
}
