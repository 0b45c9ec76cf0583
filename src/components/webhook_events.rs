//! The organization's last verified webhook events on the settings page, newest first.

use leptos::either::{Either, EitherOf3};
use leptos::prelude::*;

use crate::components::time_text::format_utc;
use crate::organization::events::{recent_webhook_events, RecentEvents};
use crate::organization::SETTINGS_PERMISSION;
use scalekit_leptos::codec::PageCodec;
use scalekit_leptos::ServerError;
use scalekit_leptos::{use_session, when_allowed};

/// The events, fetched only for holders of `organization:settings`. Made by the page outside its
/// guard (see `when_allowed`).
#[derive(Clone, Copy)]
pub struct WebhookEventsData {
    events: Resource<Result<RecentEvents, ServerError>, PageCodec>,
}

impl WebhookEventsData {
    pub fn load() -> WebhookEventsData {
        let session = use_session();
        let events = Resource::new_with_options(
            || (),
            move |_| when_allowed(session, Some(SETTINGS_PERMISSION), recent_webhook_events()),
            false,
        );
        WebhookEventsData { events }
    }
}

#[component]
pub fn WebhookEvents(data: WebhookEventsData) -> impl IntoView {
    let events = data.events;
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading events…"</p> }>
            {move || Suspend::new(async move {
                match events.await {
                    Ok(recent) if !recent.receiving => EitherOf3::A(view! {
                        <p class="hint" data-testid="webhooks-off">
                            "This app does not receive Scalekit webhooks: set "
                            <code>"SCALEKIT_WEBHOOK_SECRET"</code>" to turn them on."
                        </p>
                    }),
                    Ok(recent) => EitherOf3::B(event_list(recent)),
                    Err(error) => EitherOf3::C(view! {
                        <p class="alert alert-error" role="alert">"The events could not be loaded: " {error.to_string()}</p>
                    }),
                }
            })}
        </Suspense>
    }
}

fn event_list(recent: RecentEvents) -> impl IntoView {
    if recent.events.is_empty() {
        return Either::Left(view! {
            <p class="hint" data-testid="no-events">"No events received yet."</p>
        });
    }
    Either::Right(view! {
        <div class="table-scroll">
            <table class="tokens" data-testid="event-list">
                <thead>
                    <tr>
                        <th scope="col">"Event"</th>
                        <th scope="col">"Received"</th>
                        <th scope="col">"Subject"</th>
                        <th scope="col">"Done"</th>
                    </tr>
                </thead>
                <tbody>
                    {recent.events.into_iter().map(|event| view! {
                        <tr>
                            <th scope="row"><code>{event.kind}</code></th>
                            <td>{format_utc(event.received_at)}</td>
                            <td>{event.subject.unwrap_or_else(|| "—".into())}</td>
                            <td>{event.outcome}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    })
}
