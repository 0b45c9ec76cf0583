//! Server functions for the organization's API clients (settings page). Each one requires the
//! `api_clients:manage` permission and works on the caller's own organization, taken from the
//! session, never from the request (checklist X5).

use leptos::prelude::*;

use crate::error::AppError;
use crate::session_view::{ApiClientView, CreatedApiClient};

/// Token lifetimes offered for new clients, in seconds.
pub const EXPIRY_CHOICES: [(u64, &str); 3] =
    [(3600, "1 hour"), (86_400, "1 day"), (604_800, "7 days")];

#[server(prefix = "/_app", endpoint = "api_clients")]
pub async fn list_api_clients() -> Result<Vec<ApiClientView>, AppError> {
    let (state, organization) = ssr::manager()?;
    state
        .management
        .list(&organization)
        .await
        .map(|clients| {
            clients
                .into_iter()
                .map(crate::views::api_client_view)
                .collect()
        })
        .map_err(ssr::management_error)
}

/// Creates a client. For a plain form post (no JavaScript) the new secret is kept for one page
/// view in a sealed cookie and the browser is sent back to the settings page, which shows it once.
#[server(prefix = "/_app", endpoint = "create_api_client")]
pub async fn create_api_client(
    name: String,
    description: Option<String>,
    read_deployments: Option<String>,
    deploy_applications: Option<String>,
    expiry: Option<u64>,
) -> Result<CreatedApiClient, AppError> {
    use scalekit_auth::management::NewApiClient;

    let (state, organization) = ssr::manager()?;
    let name = name.trim().to_string();
    if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
        return Err(crate::session_api::ssr::fail(AppError::BadRequest(
            "the name must be 1 to 64 characters".into(),
        )));
    }
    let description = description.unwrap_or_default().trim().to_string();
    if description.chars().count() > 256 || description.chars().any(char::is_control) {
        return Err(crate::session_api::ssr::fail(AppError::BadRequest(
            "the description must be at most 256 characters".into(),
        )));
    }
    let mut scopes = Vec::new();
    if read_deployments.is_some() {
        scopes.push("read:deployments".to_string());
    }
    if deploy_applications.is_some() {
        scopes.push("deploy:applications".to_string());
    }
    let expiry = expiry.unwrap_or(3600);
    if !EXPIRY_CHOICES.iter().any(|(secs, _)| *secs == expiry) {
        return Err(crate::session_api::ssr::fail(AppError::BadRequest(
            "choose one of the offered token lifetimes".into(),
        )));
    }
    let created = state
        .management
        .create(
            &organization,
            &NewApiClient {
                name,
                description,
                scopes,
                audience: vec![state.config.api_audience.clone()],
                expiry,
            },
        )
        .await
        .map(crate::views::created_api_client)
        .map_err(ssr::management_error)?;
    tracing::info!(client_id = %created.client.client_id, "API client created");
    if crate::session_api::ssr::accepts_html() {
        ssr::keep_for_next_page(&created).await?;
        crate::session_api::ssr::see_other("/organization/settings#new-client")?;
    }
    Ok(created)
}

/// The client created by a plain form post, shown once: reading it clears it.
#[server(prefix = "/_app", endpoint = "take_created_api_client")]
pub async fn take_created_api_client() -> Result<Option<CreatedApiClient>, AppError> {
    ssr::manager()?;
    ssr::take_kept().await
}

#[server(prefix = "/_app", endpoint = "delete_api_client")]
pub async fn delete_api_client(client_id: String) -> Result<(), AppError> {
    let (state, organization) = ssr::manager()?;
    state
        .management
        .delete(&organization, &client_id)
        .await
        .map_err(ssr::management_error)?;
    tracing::info!(%client_id, "API client deleted");
    Ok(())
}

#[cfg(feature = "ssr")]
pub mod ssr {
    use leptos::prelude::*;

    use crate::error::AppError;
    use crate::server::AppState;
    use crate::session_api::ssr::{cookies, fail, require_permission};
    use crate::session_view::{CreatedApiClient, API_CLIENTS_PERMISSION};
    use scalekit_auth::management::ManagementError;
    use scalekit_auth::sealed::{open, seal};

    /// The app state and the caller's organization, if the caller may manage API clients.
    pub fn manager() -> Result<(AppState, String), AppError> {
        let session = require_permission(API_CLIENTS_PERMISSION)?;
        let organization = session
            .user
            .organization_id
            .clone()
            .ok_or_else(|| fail(AppError::Forbidden(API_CLIENTS_PERMISSION.into())))?;
        let state = use_context::<AppState>().ok_or(AppError::Internal)?;
        Ok((state, organization))
    }

    pub fn management_error(error: ManagementError) -> AppError {
        tracing::warn!(%error, "management API call failed");
        fail(match error {
            ManagementError::Unavailable(_) => AppError::ProviderUnavailable,
            ManagementError::Refused { status: 404, .. } => AppError::NotFound,
            ManagementError::Refused { message, .. } => {
                AppError::BadRequest(format!("Scalekit refused: {message}"))
            }
        })
    }

    const KEPT: &str = "__Host-skit_new_client";

    fn cookie(value: String, max_age: i64) -> tower_cookies::Cookie<'static> {
        let mut cookie = tower_cookies::Cookie::new(KEPT, value);
        cookie.set_path("/");
        cookie.set_http_only(true);
        cookie.set_secure(true);
        cookie.set_same_site(tower_cookies::cookie::SameSite::Strict);
        cookie.set_max_age(tower_cookies::cookie::time::Duration::seconds(max_age));
        cookie
    }

    /// Keeps the new client, sealed, for the next page view (two minutes at most).
    pub async fn keep_for_next_page(created: &CreatedApiClient) -> Result<(), AppError> {
        let state = use_context::<AppState>().ok_or(AppError::Internal)?;
        let json = serde_json::to_string(created).map_err(|_| AppError::Internal)?;
        cookies()
            .await?
            .add(cookie(seal(&state.auth.key, KEPT, &json), 120));
        Ok(())
    }

    /// Reads the kept client from the request as it arrived (not from the jar, which holds the
    /// removal after a first read, so asking twice in one request still answers the same) and
    /// removes it for the next request.
    pub async fn take_kept() -> Result<Option<CreatedApiClient>, AppError> {
        let state = use_context::<AppState>().ok_or(AppError::Internal)?;
        let sent = use_context::<http::request::Parts>().and_then(|parts| {
            parts
                .headers
                .get_all(http::header::COOKIE)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|line| line.split(';'))
                .filter_map(|pair| pair.trim().split_once('='))
                .find(|(name, _)| *name == KEPT)
                .map(|(_, value)| value.to_string())
        });
        let Some(sent) = sent else {
            return Ok(None);
        };
        let mut removal = cookie(String::new(), 0);
        removal.make_removal();
        cookies().await?.add(removal);
        Ok(open(&state.auth.key, KEPT, &sent).and_then(|json| serde_json::from_str(&json).ok()))
    }
}
