//! The organization settings page's data: the permissions it needs, and the server functions for
//! the organization's API clients. Each one requires the `api_clients:manage` permission and works
//! on the caller's own organization, taken from the session, never from the request
//! (checklist X5). The webhook events and the admin portal link, for `organization:settings`,
//! are in their own modules.

pub mod events;
pub mod portal;

use leptos::prelude::*;
use scalekit_leptos::ServerError;
use serde::{Deserialize, Serialize};

/// Permission needed for the organization settings page.
pub const SETTINGS_PERMISSION: &str = "organization:settings";

/// Permission needed to manage the organization's API clients.
pub const API_CLIENTS_PERMISSION: &str = "api_clients:manage";

/// An organization API client as the settings page lists it (no secret, only its last characters).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiClientView {
    pub client_id: String,
    pub name: String,
    pub description: String,
    pub scopes: Vec<String>,
    /// Token lifetime in seconds.
    pub expiry: u64,
    pub created: String,
    pub secret_suffix: Option<String>,
}

/// A client just created: the only time its secret is ever shown. `Debug` leaves the secret out
/// (checklist E4).
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedApiClient {
    pub client: ApiClientView,
    pub plain_secret: String,
}

impl std::fmt::Debug for CreatedApiClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreatedApiClient")
            .field("client", &self.client)
            .field("plain_secret", &"[redacted]")
            .finish()
    }
}

/// Token lifetimes offered for new clients, in seconds.
pub const EXPIRY_CHOICES: [(u64, &str); 3] =
    [(3600, "1 hour"), (86_400, "1 day"), (604_800, "7 days")];

#[server(prefix = "/_app", endpoint = "api_clients")]
pub async fn list_api_clients() -> Result<Vec<ApiClientView>, ServerError> {
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
) -> Result<CreatedApiClient, ServerError> {
    use scalekit_auth::management::NewApiClient;

    let (state, organization) = ssr::manager()?;
    let name = name.trim().to_string();
    if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
        return Err(scalekit_leptos::server::fail(ServerError::BadRequest(
            "the name must be 1 to 64 characters".into(),
        )));
    }
    let description = description.unwrap_or_default().trim().to_string();
    if description.chars().count() > 256 || description.chars().any(char::is_control) {
        return Err(scalekit_leptos::server::fail(ServerError::BadRequest(
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
        return Err(scalekit_leptos::server::fail(ServerError::BadRequest(
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
    if scalekit_leptos::server::accepts_html() {
        ssr::keep_for_next_page(&created).await?;
        scalekit_leptos::server::see_other("/organization/settings#new-client")?;
    }
    Ok(created)
}

/// The client created by a plain form post, shown once: reading it clears it.
#[server(prefix = "/_app", endpoint = "take_created_api_client")]
pub async fn take_created_api_client() -> Result<Option<CreatedApiClient>, ServerError> {
    ssr::manager()?;
    ssr::take_kept().await
}

#[server(prefix = "/_app", endpoint = "delete_api_client")]
pub async fn delete_api_client(client_id: String) -> Result<(), ServerError> {
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

    use scalekit_auth::management::ManagementError;
    use scalekit_leptos::server::{cookies, fail, require_permission};
    use scalekit_leptos::ServerError;

    use super::{CreatedApiClient, API_CLIENTS_PERMISSION};
    use crate::state::AppState;

    /// The app state and the caller's organization, if the caller may manage API clients.
    pub fn manager() -> Result<(AppState, String), ServerError> {
        caller_organization(API_CLIENTS_PERMISSION)
    }

    /// The app state and the caller's organization (from the session, never from the request),
    /// if the caller holds `permission` in it.
    pub fn caller_organization(
        permission: &'static str,
    ) -> Result<(AppState, String), ServerError> {
        let session = require_permission(permission)?;
        let organization = session
            .user()
            .organization_id()
            .map(str::to_string)
            .ok_or_else(|| fail(ServerError::Forbidden(permission.into())))?;
        let state = use_context::<AppState>().ok_or(ServerError::Internal)?;
        Ok((state, organization))
    }

    pub fn management_error(error: ManagementError) -> ServerError {
        tracing::warn!(%error, "management API call failed");
        fail(match error {
            ManagementError::Unavailable(_) => ServerError::ProviderUnavailable,
            ManagementError::Refused { status: 404, .. } => ServerError::NotFound,
            ManagementError::Refused { message, .. } => {
                ServerError::BadRequest(format!("Scalekit refused: {message}"))
            }
        })
    }

    /// The kept cookie's purpose: it names the cookie and binds its seal.
    const KEPT: &str = "new_client";

    /// Keeps the new client, sealed, for the next page view (two minutes at most).
    pub async fn keep_for_next_page(created: &CreatedApiClient) -> Result<(), ServerError> {
        let auth = scalekit_leptos::server::auth()?;
        let json = serde_json::to_string(created).map_err(|_| ServerError::Internal)?;
        auth.keep_for_next_page(&cookies().await?, KEPT, &json, 120);
        Ok(())
    }

    /// Reads the kept client from the request as it arrived (so asking twice in one request still
    /// answers the same) and removes it for the next request.
    pub async fn take_kept() -> Result<Option<CreatedApiClient>, ServerError> {
        let auth = scalekit_leptos::server::auth()?;
        let Some(parts) = use_context::<http::request::Parts>() else {
            return Ok(None);
        };
        let sent = parts
            .headers
            .get_all(http::header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok());
        Ok(auth
            .take_kept(&cookies().await?, KEPT, sent)
            .and_then(|json| serde_json::from_str(&json).ok()))
    }
}
