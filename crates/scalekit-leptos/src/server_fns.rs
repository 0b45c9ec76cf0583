//! The sign-in server functions: the Leptos edge of the auth core. Each one checks the request's
//! session itself (server functions are public endpoints, checklist X5) and answers errors with
//! their HTTP status. None returns a token (C4): the UI gets claims and fingerprints.
//!
//! They are posted by plain forms as well as called by the hydrated app, so sign-in and sign-out
//! work with JavaScript off. All sit under `/_app/`.

// `login`'s arguments are its form's fields, one per Scalekit routing parameter; the lint fires
// on the code the `server` macro generates, where an item attribute does not reach.
#![allow(clippy::too_many_arguments)]

use leptos::prelude::*;

use crate::error::ServerError;
use crate::session::{AuthState, SessionView, TokenCheck};

/// The request's session in its four states, as pages see it (no token, only fingerprints).
/// The routing parameters [`login`] takes besides `next` and `sso`, in Scalekit's order of
/// precedence: what a login page passes on from its query to its sign-in form, with `next`
/// (`/auth/initiate-login` hands them over there).
pub const ROUTING_PARAMETERS: [&str; 6] = [
    "connection_id",
    "organization_id",
    "domain_hint",
    "login_hint",
    "provider",
    "prompt",
];

#[server(prefix = "/_app", endpoint = "session")]
pub async fn get_session() -> Result<AuthState, ServerError> {
    crate::server::session_state()
}

/// Starts a sign-in: a new transaction in its cookie, then a redirect to the provider
/// (checklist L1). Posted by a plain form, with or without JavaScript. Scalekit's routing
/// parameters are passed on once checked (`AuthorizationHints::check`); `sso` is what a person
/// typed in "sign in with SSO", an email or a domain, which routes by its domain. A value that
/// fails its check sends the browser back to the login page with `error=invalid_request`, rather
/// than sign-in going somewhere the person did not ask for.
#[server(prefix = "/_app", endpoint = "login")]
pub async fn login(
    next: Option<String>,
    connection_id: Option<String>,
    organization_id: Option<String>,
    domain_hint: Option<String>,
    login_hint: Option<String>,
    provider: Option<String>,
    prompt: Option<String>,
    sso: Option<String>,
) -> Result<(), ServerError> {
    use scalekit_auth::{now_secs, AuthorizationHints, ReturnPath};

    let auth = crate::server::auth()?;
    let cookies = crate::server::cookies().await?;
    let pages = auth.pages();
    let return_to = next
        .as_deref()
        .and_then(ReturnPath::parse)
        .filter(|path| !auth.is_sign_in_machinery(path))
        .or_else(|| ReturnPath::parse(&pages.default_return_to))
        .unwrap_or_else(ReturnPath::root);
    // Forms send empty fields; they mean "not given".
    let given = |value: Option<String>| value.filter(|v| !v.is_empty());
    let hints = match given(sso) {
        Some(typed) => AuthorizationHints::for_sso(&typed).map(|routed| AuthorizationHints {
            prompt: given(prompt.clone()),
            ..routed
        }),
        None => Ok(AuthorizationHints {
            connection_id: given(connection_id),
            organization_id: given(organization_id),
            domain_hint: given(domain_hint).map(|d| d.to_ascii_lowercase()),
            login_hint: given(login_hint),
            provider: given(provider),
            prompt: given(prompt),
        }),
    }
    .and_then(|hints| hints.check().map(|()| hints));
    let back_to_login = |error: &str| {
        format!(
            "{}?error={error}&next={}",
            pages.login_path,
            url::form_urlencoded::byte_serialize(return_to.as_str().as_bytes()).collect::<String>()
        )
    };
    let hints = match hints {
        Ok(hints) => hints,
        Err(invalid) => {
            tracing::info!(%invalid, "sign-in refused a routing parameter");
            return crate::server::see_other(&back_to_login("invalid_request"));
        }
    };
    match auth
        .begin_sign_in(&cookies, return_to.clone(), &hints, now_secs())
        .await
    {
        Ok(url) => crate::server::see_other(&url),
        Err(e) => {
            tracing::warn!(error = %e, "could not start sign-in");
            crate::server::see_other(&back_to_login("unavailable"))
        }
    }
}

/// Signs out: revokes the refresh token, forgets the session, clears every cookie and sends the
/// browser to the provider's end-session endpoint (checklist O1–O5).
#[server(prefix = "/_app", endpoint = "logout")]
pub async fn logout() -> Result<(), ServerError> {
    let auth = crate::server::auth()?;
    let cookies = crate::server::cookies().await?;
    let session = crate::server::request_session().session().cloned();
    auth.sign_out(&cookies, session.as_deref()).await;
    crate::server::clear_site_data();
    // O4: the ID token hint is read from the session, which outlives its cookies here.
    let target = auth
        .end_session_url(session.as_deref(), scalekit_auth::now_secs())
        .await
        .unwrap_or_else(|| "/".to_string());
    crate::server::see_other(&target)
}

/// Whether `state` is the one this app sent with a sign-out (the home page then says so).
#[server(prefix = "/_app", endpoint = "signed_out")]
pub async fn check_signed_out(state: String) -> Result<bool, ServerError> {
    let auth = crate::server::auth()?;
    Ok(auth.is_our_sign_out_state(&state, scalekit_auth::now_secs()))
}

/// Checks the current access token against the provider's keys now.
#[server(prefix = "/_app", endpoint = "validate_token")]
pub async fn validate_token() -> Result<TokenCheck, ServerError> {
    let auth = crate::server::auth()?;
    let session = crate::server::require_session()?;
    match auth
        .validate_access_token(&session, scalekit_auth::now_secs())
        .await
    {
        Ok(claims) => {
            // `aud` may be one string; `permissions` is always an array.
            let list = |name: &str| -> Vec<String> {
                match claims.all.get(name) {
                    Some(serde_json::Value::String(s)) => vec![s.clone()],
                    Some(other) => scalekit_auth::protocol::string_array(other).unwrap_or_default(),
                    None => Vec::new(),
                }
            };
            Ok(TokenCheck {
                valid: true,
                problem: None,
                subject: Some(claims.sub.clone()),
                issuer: claims
                    .all
                    .get("iss")
                    .and_then(|v| v.as_str())
                    .map(str::to_string),
                audience: list("aud"),
                issued_at: claims.all.get("iat").and_then(|v| v.as_u64()),
                expires_at: Some(claims.exp),
                permissions: list("permissions"),
            })
        }
        Err(scalekit_auth::SignInError::BadAccessToken(problem)) => Ok(TokenCheck {
            valid: false,
            problem: Some(problem.to_string()),
            subject: None,
            issuer: None,
            audience: Vec::new(),
            issued_at: None,
            expires_at: None,
            permissions: Vec::new(),
        }),
        Err(e) => {
            tracing::warn!(error = %e, "token validation could not run");
            Err(crate::server::fail(ServerError::ProviderUnavailable))
        }
    }
}

/// Refreshes the tokens now (the session panel's button). Shares the single flight with the
/// automatic refresh, so it cannot race it.
#[server(prefix = "/_app", endpoint = "refresh_session")]
pub async fn refresh_session() -> Result<SessionView, ServerError> {
    use scalekit_auth::{now_secs, RefreshError};

    let auth = crate::server::auth()?;
    let cookies = crate::server::cookies().await?;
    let session = crate::server::require_session()?;
    if session.refresh_token().is_none() {
        return Err(crate::server::fail(ServerError::BadRequest(
            "this session has no refresh token: request the `offline_access` scope to get one"
                .into(),
        )));
    }
    match auth.refresh(&cookies, &session, now_secs()).await {
        Ok(refreshed) => Ok(crate::server::session_view(&refreshed, auth.policy())),
        Err(RefreshError::Ended(_)) => Err(crate::server::fail(ServerError::Unauthorized)),
        Err(RefreshError::Unavailable(_)) => {
            Err(crate::server::fail(ServerError::ProviderUnavailable))
        }
    }
}
