//! The page frame: skip link, header with navigation, the provider banner, main area, footer.

use leptos::either::Either;
use leptos::prelude::*;
use leptos_router::hooks::use_location;

use scalekit_leptos::SessionData;

#[component]
pub fn Layout(
    /// The development provider's URL when sign-in uses it (`site_info::dev_provider_url`).
    dev_provider: Option<String>,
    session: SessionData,
    children: Children,
) -> impl IntoView {
    let here = use_location().pathname;
    view! {
        <a class="skip-link" href="#main">"Skip to content"</a>
        <header class="site-header">
            <div class="container header-inner">
                <a href="/" class="brand">
                    <span class="brand-mark" aria-hidden="true">"◆"</span>
                    " Leptos × Scalekit"
                </a>
                <nav aria-label="Main">
                    <ul class="nav-list">
                        <li>{nav_link("/", "Home", here)}</li>
                        <li>{nav_link("/about", "How it works", here)}</li>
                        {account_nav(session, here)}
                    </ul>
                </nav>
            </div>
        </header>
        {dev_provider.map(|url| view! {
            <div class="dev-banner" role="status">
                <div class="container">
                    <strong>"Development mode: "</strong>
                    "no Scalekit environment is configured, so sign-in uses the built-in development identity provider at "
                    <code>{url}</code>
                    ". Set SCALEKIT_ENVIRONMENT_URL to use your Scalekit environment."
                </div>
            </div>
        })}
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

/// The account links, at once: the session is known before the page renders (see
/// `scalekit_leptos::SessionData::with`). A boundary around them cost its set-up and two dry runs
/// of the links on every server render.
fn account_nav(session: SessionData, here: Memo<String>) -> impl IntoView {
    // Only the two details shown are copied out of the session.
    let user = session.with(|state| {
        let user = &state.as_ref().ok()?.view()?.user;
        Some(NavUser {
            name: user.name.clone(),
            organization: user.organization_id.clone(),
        })
    });
    account_links(user, here)
}

/// What the header shows of the signed-in user.
struct NavUser {
    name: String,
    organization: Option<String>,
}

/// Dashboard and sign-out for a signed-in user, sign-in otherwise. Sign-out is a form post (never
/// a link) and sign-in a page, both full navigations: they leave the app for the provider.
fn account_links(user: Option<NavUser>, here: Memo<String>) -> impl IntoView {
    match user {
        Some(NavUser { name, organization }) => Either::Left(view! {
            <li>{nav_link("/dashboard", "Dashboard", here)}</li>
            <li>{nav_link("/sessions", "Session", here)}</li>
            <li class="nav-user">
                <span class="nav-name">{name}</span>
                {organization.map(|organization| view! {
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
        None => Either::Right(view! {
            <li><a href="/login" class="button button-small">"Sign in"</a></li>
        }),
    }
}

/// A link of the main navigation, marked `aria-current="page"` while its page (or one below it)
/// is shown. Plain `<a>`: the router takes over clicks on any link to the app; `<A>` would also
/// resolve and memoise each absolute href, a cost on every page render for nothing here.
fn nav_link(href: &'static str, label: &'static str, here: Memo<String>) -> impl IntoView {
    let current = move || here.with(|path| is_current(path, href)).then_some("page");
    view! { <a href=href aria-current=current>{label}</a> }
}

/// Whether the page at `path` is `href`'s: the same path, or one below it (the home page only
/// for itself).
fn is_current(path: &str, href: &str) -> bool {
    match path.strip_prefix(href) {
        Some(rest) => rest.is_empty() || (href != "/" && rest.starts_with('/')),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::is_current;

    #[test]
    fn a_link_is_current_on_its_page_and_below_it_and_home_only_at_home() {
        assert!(is_current("/", "/"));
        assert!(!is_current("/dashboard", "/"));
        assert!(is_current("/about", "/about"));
        assert!(is_current("/about/more", "/about"));
        assert!(!is_current("/aboutx", "/about"));
        assert!(!is_current("/", "/about"));
        assert!(!is_current("/session", "/sessions"));
    }
}
