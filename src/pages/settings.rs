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
        <dl class="facts">
            <dt>"Organization"</dt>
            <dd><code>{user.organization_id.clone().unwrap_or_else(|| "—".into())}</code></dd>
            <dt>"Your permissions"</dt>
            <dd class="badges">{user.permissions.iter().map(|p| view! { <span class="badge">{p.clone()}</span> }).collect_view()}</dd>
        </dl>
    }
}
