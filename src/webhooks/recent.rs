//! The last verified events per organization, for its admins on the settings page. Bounded: a
//! fixed number per organization and a fixed number of organizations, oldest dropped first, so
//! a flood of deliveries cannot grow memory. In process (each instance shows what it received).

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use super::events::{Event, Outcome};
pub use crate::organization::events::EventSummary;

/// Events kept per organization.
const PER_ORGANIZATION: usize = 20;
/// Organizations kept.
const ORGANIZATIONS: usize = 1_000;

#[derive(Default)]
pub struct WebhookLog {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    by_organization: HashMap<String, VecDeque<EventSummary>>,
    /// Organizations in the order they were last written, oldest first.
    order: VecDeque<String>,
}

impl WebhookLog {
    pub fn record(&self, event: &Event, outcome: Outcome, now: u64) {
        let Some(organization) = event.organization_id.clone() else {
            return; // environment-wide events have no organization page to show them on
        };
        let summary = EventSummary {
            kind: event.kind.clone(),
            received_at: now,
            subject: event.subject.clone(),
            outcome: outcome.describe().to_string(),
        };
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner.order.retain(|o| o != &organization);
        inner.order.push_back(organization.clone());
        while inner.order.len() > ORGANIZATIONS {
            if let Some(oldest) = inner.order.pop_front() {
                inner.by_organization.remove(&oldest);
            }
        }
        let events = inner.by_organization.entry(organization).or_default();
        events.push_front(summary);
        events.truncate(PER_ORGANIZATION);
    }

    /// The organization's events, newest first.
    pub fn for_organization(&self, organization: &str) -> Vec<EventSummary> {
        self.inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .by_organization
            .get(organization)
            .map(|events| events.iter().cloned().collect())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(organization: &str, kind: &str) -> Event {
        Event::parse(
            format!(
                r#"{{"id":"evt_1","type":"{kind}","organization_id":"{organization}","data":{{}}}}"#
            )
            .as_bytes(),
        )
        .unwrap()
    }

    #[test]
    fn the_log_is_bounded_and_kept_per_organization() {
        let log = WebhookLog::default();
        for n in 0..(PER_ORGANIZATION + 5) {
            log.record(&event("org_1", &format!("t{n}")), Outcome::Logged, n as u64);
        }
        log.record(&event("org_2", "other"), Outcome::Logged, 0);
        let kept = log.for_organization("org_1");
        assert_eq!(kept.len(), PER_ORGANIZATION);
        assert_eq!(
            kept[0].kind,
            format!("t{}", PER_ORGANIZATION + 4),
            "newest first"
        );
        assert_eq!(log.for_organization("org_2").len(), 1);
        assert!(log.for_organization("org_3").is_empty());
    }
}
