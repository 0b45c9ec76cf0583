//! The signed-in user's own account data, beyond the session itself: the claims of the session's
//! tokens (the dashboard's tables) and the user's sessions at the provider (the session panel's
//! "Your sessions", with signing out one of them or all).

use leptos::prelude::*;
use scalekit_leptos::ServerError;
use serde::{Deserialize, Serialize};

/// One claim as the dashboard shows it: long values shortened, times made readable.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimRow {
    pub name: String,
    pub value: String,
}

/// The claims of the session's tokens, for the dashboard's tables. Never the tokens themselves.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionClaims {
    pub id_token: Vec<ClaimRow>,
    pub access_token: Vec<ClaimRow>,
    /// Both tables' rows as HTML, laid out once per session on the server (never sent: the
    /// browser writes them from the rows when it needs them).
    #[serde(skip)]
    pub html: Option<std::sync::Arc<ClaimsHtml>>,
}

/// The table bodies for [`SessionClaims`]' two tables.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClaimsHtml {
    pub id_token: String,
    pub access_token: String,
}

/// The claims of the session's tokens, for the dashboard's tables.
///
/// Rendering the page, it answers the tables' HTML and no rows: the page shows the HTML, and
/// hydration leaves a table body written by the server as it is, so rows in the page's
/// hydration data would only carry every claim a second time (and cost the render their
/// encoding). Called by the browser (the dashboard reached by in-app navigation), it answers the
/// rows, which the browser lays out itself.
#[server(prefix = "/_app", endpoint = "claims")]
pub async fn get_claims() -> Result<SessionClaims, ServerError> {
    use crate::views::claims_table::session_claims_cached;
    use scalekit_auth::now_secs;

    let session = scalekit_leptos::server::require_session()?;
    let laid_out = session_claims_cached(&session, now_secs());
    Ok(if scalekit_leptos::server::is_server_fn_call() {
        SessionClaims {
            id_token: laid_out.id_token.clone(),
            access_token: laid_out.access_token.clone(),
            html: None,
        }
    } else {
        SessionClaims {
            html: laid_out.html.clone(),
            ..SessionClaims::default()
        }
    })
}

/// One of the user's sessions at the provider, for the session panel's "Your sessions" list.
/// The id is the provider's session id (the `sid` claim), which opens nothing by itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserSessionView {
    pub session_id: String,
    /// Browser, system and kind of device, in words (`Firefox 128 on Linux (desktop)`).
    pub device: String,
    pub created_at: Option<u64>,
    pub last_active_at: Option<u64>,
    /// The session this request is part of.
    pub current: bool,
}

/// The caller's own sessions at the provider (the user is the session's subject, never taken
/// from the request), this one first, then the most recently active.
#[server(prefix = "/_app", endpoint = "user_sessions")]
pub async fn user_sessions() -> Result<Vec<UserSessionView>, ServerError> {
    let session = scalekit_leptos::server::require_session()?;
    let state = crate::state::app_state()?;
    let listed = match state
        .management
        .list_user_sessions(session.user().sub(), session.id())
        .await
    {
        Ok(listed) => listed,
        // Rendering the session panel, a list that cannot be had is said in the list's place: the
        // rest of the page is fine, so its status stays 200. Called by the browser, the status
        // is the error's.
        Err(error) if !scalekit_leptos::server::is_server_fn_call() => {
            tracing::warn!(%error, "could not list the user's sessions");
            return Err(match error {
                scalekit_auth::management::ManagementError::Unavailable(_) => {
                    ServerError::ProviderUnavailable
                }
                _ => ServerError::ProviderError,
            });
        }
        Err(error) => return Err(crate::organization::ssr::management_error(error)),
    };
    let mut views: Vec<UserSessionView> = listed
        .into_iter()
        .map(|s| UserSessionView {
            current: session.provider_sid() == Some(s.session_id.as_str()),
            device: ssr::device_summary(&s.device),
            session_id: s.session_id,
            created_at: s.created_at,
            last_active_at: s.last_active_at,
        })
        .collect();
    views.sort_by(|a, b| {
        b.current
            .cmp(&a.current)
            .then_with(|| b.last_active_at.cmp(&a.last_active_at))
            .then_with(|| b.created_at.cmp(&a.created_at))
    });
    Ok(views)
}

/// Signs out one of the caller's other sessions: revoked at the provider (which tells every app
/// of that session by back-channel logout) and recorded as ended here at once. The id comes from
/// the form, so it must be in the caller's own list: anything else is 404.
#[server(prefix = "/_app", endpoint = "sign_out_session")]
pub async fn sign_out_session(session_id: String) -> Result<(), ServerError> {
    use scalekit_auth::user_sessions::is_session_id;

    let auth = scalekit_leptos::server::auth()?;
    let session = scalekit_leptos::server::require_session()?;
    let state = crate::state::app_state()?;
    if !is_session_id(&session_id) {
        return Err(scalekit_leptos::server::fail(ServerError::BadRequest(
            "that is not a session id".into(),
        )));
    }
    if session.provider_sid() == Some(session_id.as_str()) {
        return Err(scalekit_leptos::server::fail(ServerError::BadRequest(
            "this is the session you are using: sign out with the Sign out button".into(),
        )));
    }
    let management_error = crate::organization::ssr::management_error;
    let own = state
        .management
        .list_user_sessions(session.user().sub(), session.id())
        .await
        .map_err(management_error)?;
    if !own.iter().any(|s| s.session_id == session_id) {
        tracing::warn!(sub = %session.user().sub(), "refused to sign out a session not in the caller's list");
        return Err(scalekit_leptos::server::fail(ServerError::NotFound));
    }
    state
        .management
        .revoke_session(&session_id)
        .await
        .map_err(management_error)?;
    auth.end_provider_session(&session_id).await;
    tracing::info!(sub = %session.user().sub(), "signed out another session");
    if scalekit_leptos::server::accepts_html() {
        scalekit_leptos::server::see_other("/sessions#your-sessions")?;
    }
    Ok(())
}

/// Signs the user out everywhere: every session revoked at the provider, every session of the
/// user that began until now recorded as ended (so every instance refuses the old cookies at
/// once, before the provider's back-channel logout arrives), then this session ended like a
/// sign-out and the browser sent to `/login`.
#[server(prefix = "/_app", endpoint = "sign_out_everywhere")]
pub async fn sign_out_everywhere() -> Result<(), ServerError> {
    use scalekit_auth::now_secs;

    let auth = scalekit_leptos::server::auth()?;
    let cookies = scalekit_leptos::server::cookies().await?;
    let session = scalekit_leptos::server::require_session()?;
    let state = crate::state::app_state()?;
    let revoked = state
        .management
        .revoke_all_user_sessions(session.user().sub())
        .await
        .map_err(crate::organization::ssr::management_error)?;
    auth.end_user_sessions(session.user().sub(), now_secs())
        .await;
    auth.sign_out(&cookies, Some(&session)).await;
    scalekit_leptos::server::clear_site_data();
    tracing::info!(sub = %session.user().sub(), revoked, "signed out everywhere");
    scalekit_leptos::server::see_other("/login")
}

#[cfg(feature = "ssr")]
mod ssr {
    /// `Firefox 128 on Linux (desktop)`, from what the provider tells of a session's browser.
    pub fn device_summary(device: &scalekit_auth::user_sessions::Device) -> String {
        let join = |name: &str, version: &str| match (name.trim(), version.trim()) {
            ("", _) => String::new(),
            (name, "") => name.to_string(),
            (name, version) => format!("{name} {version}"),
        };
        let browser = join(&device.browser, &device.browser_version);
        let os = join(&device.os, &device.os_version);
        let mut summary = match (browser.is_empty(), os.is_empty()) {
            (false, false) => format!("{browser} on {os}"),
            (false, true) => browser,
            (true, false) => os,
            (true, true) if !device.user_agent.trim().is_empty() => {
                device.user_agent.trim().chars().take(80).collect()
            }
            (true, true) => "Unknown device".to_string(),
        };
        let kind = device.device_type.trim();
        if !kind.is_empty() {
            summary.push_str(&format!(" ({})", kind.to_lowercase()));
        }
        summary
    }
}

#[cfg(test)]
mod tests {
    use leptos::server::codee::{Decoder, Encoder};
    use scalekit_leptos::codec::PageCodec;

    use super::*;

    fn claims() -> SessionClaims {
        let row = |name: &str, value: &str| ClaimRow {
            name: name.into(),
            value: value.into(),
        };
        SessionClaims {
            id_token: vec![row("amr", "conn_1"), row("", ""), row("nonce", "2:x;é")],
            access_token: vec![row(
                "permissions",
                "organization:settings, api_clients:manage",
            )],
            html: None,
        }
    }

    #[test]
    fn claims_survive_the_trip() {
        for value in [
            Ok(claims()),
            Ok(SessionClaims::default()),
            Err(ServerError::Unauthorized),
        ] {
            let text =
                <PageCodec as Encoder<Result<SessionClaims, ServerError>>>::encode(&value).unwrap();
            assert_eq!(
                <PageCodec as Decoder<Result<SessionClaims, ServerError>>>::decode(&text).ok(),
                Some(value)
            );
        }
    }
}
