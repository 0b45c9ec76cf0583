//! `/organization/settings`, for holders of `organization:settings` only: others get the 403 page,
//! with status 403 from the server.

use leptos::prelude::*;
use leptos_meta::Title;

use leptos::either::Either;

use crate::components::api_clients::{ApiClients, ApiClientsData};
use crate::components::status_pages::GUARD_PAGES;
use crate::components::webhook_events::{WebhookEvents, WebhookEventsData};
use crate::organization::portal::PORTAL_LINK_URL;
use crate::organization::{API_CLIENTS_PERMISSION, SETTINGS_PERMISSION};
use scalekit_leptos::RequireSignIn;
use scalekit_leptos::SessionView;

#[component]
pub fn SettingsPage() -> impl IntoView {
    // Here, not inside the guard: see `when_allowed`.
    let clients = ApiClientsData::load();
    let events = WebhookEventsData::load();
    view! {
        <Title text="Organization settings · Leptos × Scalekit"/>
        <RequireSignIn pages=GUARD_PAGES
            permission=SETTINGS_PERMISSION
            children=move |session: SessionView| view! { <Settings session clients events/> }
        />
    }
}

#[component]
fn Settings(
    session: SessionView,
    clients: ApiClientsData,
    events: WebhookEventsData,
) -> impl IntoView {
    let user = session.user;
    let can_manage = user.has_permission(API_CLIENTS_PERMISSION);
    view! {
        <h1>"Organization settings"</h1>
        <section class="panel" aria-labelledby="org-title">
            <h2 id="org-title">"Organization"</h2>
            <dl class="facts">
                <dt>"Organization id"</dt>
                <dd><code>{user.organization_id.clone().unwrap_or_else(|| "—".into())}</code></dd>
                <dt>"Your roles"</dt>
                <dd><ul class="badges" aria-label="Roles">
                    {user.roles.iter().map(|r| view! { <li class="badge">{r.clone()}</li> }).collect_view()}
                </ul></dd>
                <dt>"Your permissions"</dt>
                <dd><ul class="badges" aria-label="Permissions">
                    {user.permissions.iter().map(|p| view! { <li class="badge">{p.clone()}</li> }).collect_view()}
                </ul></dd>
            </dl>
        </section>
        <section class="panel" aria-labelledby="portal-title">
            <h2 id="portal-title">"Single sign-on and directory sync"</h2>
            <p class="hint">
                "Your IT admin sets up the organization's SSO connection and directory sync in "
                "Scalekit's admin portal. Each click makes a new single-use link, valid for a minute."
            </p>
            // A plain form in a new tab: the server answers 303 to the portal, with JavaScript
            // on or off, and the link never passes through this page. `target=_blank` on a form
            // implies noopener (HTML: the "noopener" default for _blank navigations).
            <form method="post" action=PORTAL_LINK_URL target="_blank">
                <button type="submit" class="button" data-testid="open-portal">
                    "Configure SSO and directory sync"
                </button>
            </form>
        </section>
        <section class="panel" aria-labelledby="events-title">
            <h2 id="events-title">"Recent identity events"</h2>
            <p class="hint">"The last events Scalekit sent about this organization, as received by this instance."</p>
            <WebhookEvents data=events/>
        </section>
        <section class="panel" aria-labelledby="clients-title">
            <h2 id="clients-title">"API clients"</h2>
            <p class="hint">
                "Machine clients call this organization's API at "<code>"/api/v1/"</code>
                " with client-credentials tokens from Scalekit."
            </p>
            {if can_manage {
                Either::Left(view! { <ApiClients data=clients/> })
            } else {
                Either::Right(view! {
                    <p>"Managing API clients needs the "<code>{API_CLIENTS_PERMISSION}</code>" permission."</p>
                })
            }}
        </section>
    }
}
