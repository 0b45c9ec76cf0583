//! The page frame: skip link, header with navigation, the provider banner, main area, footer.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::components::site_info::SiteInfo;
use scalekit_leptos::codec::PageCodec;
use scalekit_leptos::AuthState;
use scalekit_leptos::ServerError;
use scalekit_leptos::SessionData;

#[component]
pub fn Layout(
    site: Resource<Result<SiteInfo, ServerError>, PageCodec>,
    session: SessionData,
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
                        <Transition fallback=|| ()>
                            {move || Suspend::new(async move { account_links(session.await) })}
                        </Transition>
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

/// Dashboard and sign-out for a signed-in user, sign-in otherwise. Sign-out is a form post (never
/// a link) and sign-in a page, both full navigations: they leave the app for the provider.
fn account_links(state: Result<AuthState, ServerError>) -> impl IntoView {
    match state.ok().as_ref().and_then(AuthState::view) {
        Some(session) => leptos::either::Either::Left(view! {
            <li><A href="/dashboard">"Dashboard"</A></li>
            <li><A href="/sessions">"Session"</A></li>
            <li class="nav-user">
                <span class="nav-name">{session.user.name.clone()}</span>
                {session.user.organization_id.clone().map(|organization| view! {
                    <span class="nav-org" data-testid="session-organization"
                        title="The organization this session is for">{organization}</span>
                    // Scalekit's organization switcher (prompt=select_account): the sign-in that
                    // follows replaces this session with one for the chosen organization.
                    <form method="post" action="/_app/login" class="inline-form">
                        <input type="hidden" name="prompt" value="select_account"/>
                        <input type="hidden" name="next" value="/dashboard"/>
                        <button type="submit" class="link-button">"Switch organization"</button>
                    </form>
                })}
                <form method="post" action="/_app/logout" class="inline-form">
                    <button type="submit" class="link-button">"Sign out"</button>
                </form>
            </li>
        }),
        None => leptos::either::Either::Right(view! {
            <li><a href="/login" class="button button-small">"Sign in"</a></li>
        }),
    }
}
