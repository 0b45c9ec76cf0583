//! The last verified events per organization, for its admins on the settings page. Kept in the
//! session store (`Auth::keep_recent`), so every instance shows the same list whichever one
//! received the delivery: sealed, under a digest of the organization, at most a fixed number per
//! organization, for a month after the last one.

use scalekit_auth::Auth;

use super::events::{Event, Outcome};
pub use crate::organization::events::EventSummary;

/// Events kept per organization.
pub const PER_ORGANIZATION: usize = 20;
/// How long an organization's list is kept after its last event.
const KEPT_FOR_SECS: u64 = 30 * 86_400;

fn list_name(organization: &str) -> String {
    format!("webhook-events:{organization}")
}

/// Keeps `event` for its organization's admins. Display only: a store outage is logged, and the
/// delivery still succeeds (it was acted on and recorded; a retry is acknowledged as a duplicate
/// without being listed).
pub async fn record(auth: &Auth, event: &Event, outcome: Outcome, now: u64) {
    let Some(organization) = event.organization_id.as_deref() else {
        return; // environment-wide events have no organization page to show them on
    };
    let summary = EventSummary {
        kind: event.kind.clone(),
        received_at: now,
        subject: event.subject.clone(),
        outcome: outcome.describe().to_string(),
    };
    let Ok(json) = serde_json::to_string(&summary) else {
        return;
    };
    if let Err(error) = auth
        .keep_recent(
            &list_name(organization),
            &json,
            PER_ORGANIZATION,
            KEPT_FOR_SECS,
            now,
        )
        .await
    {
        tracing::warn!(%error, "could not keep the webhook event for the admins' list");
    }
}

/// The organization's events, newest first.
pub async fn for_organization(
    auth: &Auth,
    organization: &str,
    now: u64,
) -> Result<Vec<EventSummary>, scalekit_auth::store::StoreUnavailable> {
    Ok(auth
        .recent(&list_name(organization), PER_ORGANIZATION, now)
        .await?
        .iter()
        .filter_map(|json| serde_json::from_str(json).ok())
        .collect())
}
