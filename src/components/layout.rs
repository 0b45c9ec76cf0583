//! The page frame: skip link, header with navigation, the provider banner, main area, footer.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::site_info::SiteInfo;

#[component]
pub fn Layout(
    site: Resource<Result<SiteInfo, crate::error::AppError>>,
    children: Children,
) -> impl IntoView {
    view! {
        <a class="skip-link" href="#main">"Skip to content"</a>
        <header class="site-header">
            <div class="container header-inner">
                <A href="/" attr:class="brand">
                    <span class="brand-mark" aria-hidden="true">"◆"</span>
                    " Leptos × Scalekit"
                </A>
                <nav aria-label="Main">
                    <ul class="nav-list">
                        <li><A href="/">"Home"</A></li>
                        <li><A href="/about">"How it works"</A></li>
                    </ul>
                </nav>
            </div>
        </header>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match site.await {
                    Ok(info) if info.dev_idp => Some(view! {
                        <div class="dev-banner" role="status">
                            <div class="container">
                                <strong>"Development mode: "</strong>
                                "no Scalekit environment is configured, so sign-in uses the built-in development identity provider at "
                                <code>{info.environment_url}</code>
                                ". Set SCALEKIT_ENVIRONMENT_URL to use your Scalekit environment."
                            </div>
                        </div>
                    }),
                    _ => None,
                }
            })}
        </Transition>
        <main id="main" class="container" tabindex="-1">
            {children()}
        </main>
        <footer class="site-footer">
            <div class="container">
                <p>
                    "leptos-scalekit: OpenID Connect sign-in as a backend-for-frontend. Tokens stay on the server."
                </p>
            </div>
        </footer>
    }
}
