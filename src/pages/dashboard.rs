//! `/dashboard`: who is signed in. Guarded: signed-out visitors are sent to sign in first.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use crate::components::guard::RequireSignIn;
use crate::session_view::{SessionView, SETTINGS_PERMISSION};

#[component]
pub fn DashboardPage() -> impl IntoView {
    view! {
        <Title text="Dashboard · Leptos × Scalekit"/>
        <RequireSignIn children=|session: SessionView| view! { <Dashboard session/> }/>
    }
}

#[component]
fn Dashboard(session: SessionView) -> impl IntoView {
    let user = session.user;
    view! {
        <h1>"Welcome, " {user.name.clone()}</h1>
        <dl class="facts">
            <dt>"Email"</dt><dd>{user.email.clone().unwrap_or_else(|| "—".into())}</dd>
            <dt>"Subject"</dt><dd><code>{user.sub.clone()}</code></dd>
            <dt>"Organization"</dt><dd><code>{user.organization_id.clone().unwrap_or_else(|| "—".into())}</code></dd>
            <dt>"Roles"</dt>
            <dd class="badges">{user.roles.iter().map(|r| view! { <span class="badge">{r.clone()}</span> }).collect_view()}</dd>
            <dt>"Permissions"</dt>
            <dd class="badges">{user.permissions.iter().map(|p| view! { <span class="badge">{p.clone()}</span> }).collect_view()}</dd>
        </dl>
        <p>
            <A href="/organization/settings" attr:class="button">"Organization settings"</A>
            " "<span class="hint">"(needs " <code>{SETTINGS_PERMISSION}</code> ")"</span>
        </p>
    }
}
