//! The sign-in server functions: the Leptos edge of the auth core. Each one checks the request's
//! session itself (server functions are public endpoints, checklist X5) and answers errors with
//! their HTTP status. None returns a token (C4): the UI gets claims and fingerprints.
//!
//! They are posted by plain forms as well as called by the hydrated app, so sign-in and sign-out
//! work with JavaScript off. All sit under `/_app/`.

use leptos::prelude::*;

use crate::error::ServerError;
use crate::session::{AuthState, SessionView, TokenCheck};

/// The request's session in its four states, as pages see it (no token, only fingerprints).
#[server(prefix = "/_app", endpoint = "session")]
pub async fn get_session() -> Result<AuthState, ServerError> {
    let auth = crate::server::auth()?;
    let policy = auth.rp.policy();
    Ok(crate::server::request_state().map(|session| crate::server::session_view(&session, policy)))
}

/// Starts a sign-in: a new transaction in its cookie, then a redirect to the provider
/// (checklist L1). Posted by a plain form, with or without JavaScript.
#[server(prefix = "/_app", endpoint = "login")]
pub async fn login(
    next: Option<String>,
    organization_id: Option<String>,
    login_hint: Option<String>,
    prompt: Option<String>,
) -> Result<(), ServerError> {
    use scalekit_auth::return_to::safe_return_path;
    use scalekit_auth::session::now_secs;
    use scalekit_auth::transaction::AuthorizationHints;

    let auth = crate::server::auth()?;
    let cookies = crate::server::cookies().await?;
    let return_to = next
        .as_deref()
        .and_then(safe_return_path)
        .filter(|path| !crate::server::is_auth_path(path, &auth.pages.login_path))
        .unwrap_or_else(|| auth.pages.default_return_to.clone());
    let hints = AuthorizationHints {
        organization_id: organization_id.filter(|v| crate::server::is_identifier(v)),
        login_hint: login_hint.filter(|v| crate::server::is_login_hint(v)),
        prompt: prompt.filter(|v| {
            matches!(
                v.as_str(),
                "login" | "none" | "consent" | "select_account" | "create"
            )
        }),
    };
    match auth
        .rp
        .begin_login(return_to.clone(), &hints, now_secs())
        .await
    {
        Ok((transaction, url)) => {
            auth.cookies
                .write_transaction(&cookies, &auth.key, &transaction);
            crate::server::see_other(&url)
        }
        Err(e) => {
            tracing::warn!(error = %e, "could not start sign-in");
            let back = format!(
                "{}?error=unavailable&next={}",
                auth.pages.login_path,
                url::form_urlencoded::byte_serialize(return_to.as_bytes()).collect::<String>()
            );
            crate::server::see_other(&back)
        }
    }
}

/// Signs out: revokes the refresh token, forgets the session, clears every cookie and sends the
/// browser to the provider's end-session endpoint (checklist O1–O5).
#[server(prefix = "/_app", endpoint = "logout")]
pub async fn logout() -> Result<(), ServerError> {
    use scalekit_auth::logout::issue_logout_state;
    use scalekit_auth::session::now_secs;

    let auth = crate::server::auth()?;
    let cookies = crate::server::cookies().await?;
    let now = now_secs();
    let session = crate::server::request_session().session().cloned();
    if let Some(session) = &session {
        auth.rp.revoke(session).await;
        auth.end(&cookies, session).await;
        tracing::info!(sub = %session.user.sub, "signed out");
    } else {
        auth.cookies.clear_session(&cookies);
    }
    auth.cookies.clear_transaction(&cookies);
    crate::server::clear_site_data();
    // O4: the ID token hint is read from the session before its cookies are gone.
    let state = issue_logout_state(&auth.key, now);
    let target = match auth.rp.end_session_url(session.as_deref(), &state).await {
        Some(url) => url,
        None => "/".to_string(),
    };
    crate::server::see_other(&target)
}

/// Whether `state` is the one this app sent with a sign-out (the home page then says so).
#[server(prefix = "/_app", endpoint = "signed_out")]
pub async fn check_signed_out(state: String) -> Result<bool, ServerError> {
    use scalekit_auth::logout::check_logout_state;
    use scalekit_auth::session::now_secs;

    let auth = crate::server::auth()?;
    Ok(check_logout_state(&auth.key, &state, now_secs()))
}

/// Checks the current access token against the provider's keys now.
#[server(prefix = "/_app", endpoint = "validate_token")]
pub async fn validate_token() -> Result<TokenCheck, ServerError> {
    use scalekit_auth::session::now_secs;

    let auth = crate::server::auth()?;
    let session = crate::server::require_session()?;
    match auth.rp.validate_access_token(&session, now_secs()).await {
        Ok(claims) => {
            // `aud` may be one string; `permissions` is always an array.
            let list = |name: &str| -> Vec<String> {
                match claims.all.get(name) {
                    Some(serde_json::Value::String(s)) => vec![s.clone()],
                    Some(other) => scalekit_auth::jwt::string_array(other).unwrap_or_default(),
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
        Err(scalekit_auth::relying_party::SignInError::BadAccessToken(problem)) => Ok(TokenCheck {
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
    use scalekit_auth::relying_party::RefreshError;
    use scalekit_auth::session::now_secs;

    let auth = crate::server::auth()?;
    let cookies = crate::server::cookies().await?;
    let session = crate::server::require_session()?;
    if session.refresh_token.is_none() {
        return Err(crate::server::fail(ServerError::BadRequest(
            "this session has no refresh token: request the `offline_access` scope to get one"
                .into(),
        )));
    }
    match auth.refresh(&cookies, &session, now_secs()).await {
        Ok(refreshed) => Ok(crate::server::session_view(&refreshed, auth.rp.policy())),
        Err(RefreshError::Ended(_)) => Err(crate::server::fail(ServerError::Unauthorized)),
        Err(RefreshError::Unavailable(_)) => {
            Err(crate::server::fail(ServerError::ProviderUnavailable))
        }
    }
}
