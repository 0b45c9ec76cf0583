//! `/organization/settings`, for holders of `organization:settings` only: others get the 403 page,
//! with status 403 from the server.

use leptos::prelude::*;
use leptos_meta::Title;

use leptos::either::Either;

use crate::components::api_clients::{ApiClients, ApiClientsData};
use crate::components::status_pages::GUARD_PAGES;
use crate::organization::{API_CLIENTS_PERMISSION, SETTINGS_PERMISSION};
use scalekit_leptos::RequireSignIn;
use scalekit_leptos::SessionView;

#[component]
pub fn SettingsPage() -> impl IntoView {
    // Here, not inside the guard: see `when_allowed`.
    let clients = ApiClientsData::load();
    view! {
        <Title text="Organization settings · Leptos × Scalekit"/>
        <RequireSignIn pages=GUARD_PAGES
            permission=SETTINGS_PERMISSION
            children=move |session: SessionView| view! { <Settings session clients/> }
        />
    }
}

#[component]
fn Settings(session: SessionView, clients: ApiClientsData) -> impl IntoView {
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
