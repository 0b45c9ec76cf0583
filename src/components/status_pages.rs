//! The views for "not allowed" and "provider down", shared by guarded pages.

use leptos::prelude::*;
use leptos_meta::Title;
use scalekit_leptos::GuardPages;

/// What this app's guards show; passed to each guard (not provided at the root) so the views
/// stay in the guarded pages' lazily loaded code.
pub const GUARD_PAGES: GuardPages = GuardPages {
    login_path: "/login",
    forbidden: |permission| view! { <ForbiddenView permission/> }.into_any(),
    unavailable: || view! { <UnavailableView/> }.into_any(),
};

#[component]
pub fn ForbiddenView(permission: &'static str) -> impl IntoView {
    view! {
        <Title text="Access denied · Leptos × Scalekit"/>
        <section class="error-page" aria-labelledby="error-title">
            <p class="error-code">"403"</p>
            <h1 id="error-title">"Access denied"</h1>
            <p>
                "This page needs the "<code>{permission}</code>
                " permission, which your account does not have. Ask an administrator of your organization to grant it."
            </p>
            <p><a href=crate::app::DEFAULT_RETURN_PATH class="button">"Back to the dashboard"</a></p>
        </section>
    }
}

#[component]
pub fn UnavailableView() -> impl IntoView {
    view! {
        <Title text="Temporarily unavailable · Leptos × Scalekit"/>
        <section class="error-page" aria-labelledby="error-title">
            <p class="error-code">"503"</p>
            <h1 id="error-title">"The identity provider is unreachable"</h1>
            <p>
                "Your session is still here, but it needs a fresh token from the identity provider, which is not answering right now. Please try again in a moment."
            </p>
            <p><a href="" class="button">"Try again"</a></p>
        </section>
    }
}
