//! The organization's last verified webhook events, for holders of `organization:settings`: what
//! the settings page lists (type, time, subject, what the app did), never the payload.

use leptos::prelude::*;
use scalekit_leptos::ServerError;
use serde::{Deserialize, Serialize};

/// One event as the settings page shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventSummary {
    /// The event type (`user.organization_membership_deleted`…).
    pub kind: String,
    /// When this instance received it, seconds since the epoch.
    pub received_at: u64,
    /// Whom it concerns (a user id or email), when it says.
    pub subject: Option<String>,
    /// What the app did about it.
    pub outcome: String,
}

/// The list, and whether the app receives webhooks at all (no secret configured: it does not).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecentEvents {
    pub receiving: bool,
    /// Newest first.
    pub events: Vec<EventSummary>,
}

#[server(prefix = "/_app", endpoint = "webhook_events")]
pub async fn recent_webhook_events() -> Result<RecentEvents, ServerError> {
    let (state, organization) = super::ssr::caller_organization(super::SETTINGS_PERMISSION)?;
    let events = crate::webhooks::recent::for_organization(
        &state.auth,
        &organization,
        scalekit_auth::now_secs(),
    )
    .await
    .map_err(|_| scalekit_leptos::server::fail(ServerError::ProviderUnavailable))?;
    Ok(RecentEvents {
        receiving: state.config.webhook_verifier.is_some(),
        events,
    })
}
