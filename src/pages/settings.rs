//! `/organization/settings`, for holders of `organization:settings` only: others get the 403 page,
//! with status 403 from the server.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::guard::RequireSignIn;
use crate::session_view::{SessionView, SETTINGS_PERMISSION};

#[component]
pub fn SettingsPage() -> impl IntoView {
    view! {
        <Title text="Organization settings · Leptos × Scalekit"/>
        <RequireSignIn
            permission=SETTINGS_PERMISSION
            children=|session: SessionView| view! { <Settings session/> }
        />
    }
}

#[component]
fn Settings(session: SessionView) -> impl IntoView {
    let user = session.user;
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
                "Machine clients that call this organization's API with client-credentials tokens will be listed and managed here."
            </p>
        </section>
    }
}
