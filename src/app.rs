//! The HTML shell and the root component with its routes.

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, Link, MetaTags, Stylesheet, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{SsrMode, StaticSegment};

use crate::components::guard::SessionResource;
use crate::components::layout::Layout;
use crate::pages::{
    about::AboutPage, dashboard::DashboardPage, home::HomePage, login::LoginPage,
    logout::LogoutPage, not_found::NotFoundPage, sessions::SessionsPage, settings::SettingsPage,
};
use crate::session_api::get_session;
use crate::site_info::get_site_info;

/// The document around the app; rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light dark"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // Created once at the root, the same way on server and browser, so hydration ids line up.
    let site = Resource::new(|| (), |_| get_site_info());
    let session = Resource::new(|| (), |_| get_session());
    provide_context(SessionResource(session));
    mark_hydrated();

    view! {
        <Stylesheet id="leptos" href="/pkg/leptos-scalekit.css"/>
        <Link rel="icon" href="/favicon.svg" type_="image/svg+xml"/>
        <Title text="Leptos × Scalekit"/>
        // Routes render in SsrMode::Async: the server waits for their data and sends the page whole.
        // Out-of-order streaming would send suspended parts after the page, for a script to put in
        // place, so with JavaScript off they would never show (and status codes and cookies could
        // no longer change once streaming started).
        <Router>
            <Layout site session>
                <Routes fallback=NotFoundPage>
                    <Route path=StaticSegment("") view=HomePage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("about") view=AboutPage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("login") view=LoginPage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("logout") view=LogoutPage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("dashboard") view=DashboardPage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("sessions") view=SessionsPage ssr=SsrMode::Async/>
                    <Route
                        path=(StaticSegment("organization"), StaticSegment("settings"))
                        view=SettingsPage
                        ssr=SsrMode::Async
                    />
                </Routes>
            </Layout>
        </Router>
    }
}

/// Sets `data-hydrated="true"` on `<body>` once the app is interactive: a reliable signal for
/// browser tests, and harmless otherwise (effects never run on the server).
fn mark_hydrated() {
    Effect::new(|_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });
}
