//! The HTML shell and the root component with its routes.

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{lazy_route, Lazy, LazyRoute, SsrMode, StaticSegment};

use scalekit_leptos::provide_session;

use crate::components::layout::Layout;
use crate::components::site_info::dev_provider_url;
use crate::pages::{
    about::AboutPage, dashboard::DashboardPage, home::HomePage, login::LoginPage,
    logout::LogoutPage, not_found::NotFoundPage, sessions::SessionsPage, settings::SettingsPage,
};

/// Where a sign-in lands when it did not ask for a page.
pub const DEFAULT_RETURN_PATH: &str = "/dashboard";

/// The document around the app; rendered on the server only.
#[cfg(feature = "ssr")]
pub fn shell(options: LeptosOptions) -> impl IntoView {
    // Read back by the browser before hydrating (`site_info::DEV_PROVIDER_ATTRIBUTE`).
    let dev_provider = dev_provider_url();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                // The title goes here, and a lazily loaded page's chunk preloads.
                <leptos_meta::MetaTags/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light dark"/>
                // Leptos' hydration scripts as text made once, with this response's nonce.
                {scalekit_leptos::hydration_scripts(&options)}
                // cargo-leptos' CSS reload finds it by its id.
                <link rel="stylesheet" id="leptos" href="/pkg/leptos-scalekit.css"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
            </head>
            <body data-dev-provider=dev_provider>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // Created once at the root, the same way on server and browser, so hydration ids line up.
    // Its source never changes: the browser keeps the server's value (see `from_server`), which
    // travels in the page in PageCodec (postcard in base64), so the first load decodes no JSON.
    let session = provide_session();
    let dev_provider = dev_provider_url();
    mark_hydrated();

    view! {
        <Title text="Leptos × Scalekit"/>
        // Routes render in SsrMode::Async: the server waits for their data and sends the page whole.
        // Out-of-order streaming would send suspended parts after the page, for a script to put in
        // place, so with JavaScript off they would never show (and status codes and cookies could
        // no longer change once streaming started).
        <Router>
            <Layout dev_provider session>
                <Routes fallback=NotFoundPage>
                    <Route path=StaticSegment("") view=HomePage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("about") view={Lazy::<AboutRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=StaticSegment("login") view={Lazy::<LoginRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=StaticSegment("logout") view={Lazy::<LogoutRoute>::new()} ssr=SsrMode::Async/>
                    <Route
                        path=StaticSegment("dashboard")
                        view={Lazy::<DashboardRoute>::new()}
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=StaticSegment("sessions")
                        view={Lazy::<SessionsRoute>::new()}
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=(StaticSegment("organization"), StaticSegment("settings"))
                        view={Lazy::<SettingsRoute>::new()}
                        ssr=SsrMode::Async
                    />
                </Routes>
            </Layout>
        </Router>
    }
}

/// A page whose code leaves the first bundle: with `cargo leptos build --split` (scripts/build.sh)
/// it is fetched when its route is first shown, and before hydration when a visit starts there.
/// The server renders it whole either way. Home and the 404 page stay in the first bundle.
macro_rules! lazy_page {
    ($route:ident, $page:ident) => {
        pub struct $route;

        #[lazy_route]
        impl LazyRoute for $route {
            fn data() -> Self {
                $route
            }

            fn view(_this: Self) -> AnyView {
                view! { <$page/> }.into_any()
            }
        }
    };
}

lazy_page!(AboutRoute, AboutPage);
lazy_page!(LoginRoute, LoginPage);
lazy_page!(LogoutRoute, LogoutPage);
lazy_page!(DashboardRoute, DashboardPage);
lazy_page!(SessionsRoute, SessionsPage);
lazy_page!(SettingsRoute, SettingsPage);

/// Sets `data-hydrated="true"` on `<body>` once the app is interactive: a reliable signal for
/// browser tests, and harmless otherwise (effects never run on the server).
fn mark_hydrated() {
    Effect::new(|_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });
}
