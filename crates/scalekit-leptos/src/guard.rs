//! The page-side guard: renders its children only for a signed-in user (with a permission, when
//! one is named). The check runs during the server render too, so a signed-out request gets a
//! real redirect to `/login?next=…` and a member without the permission gets HTTP 403, with
//! JavaScript or without (checklist guards; the server functions check again for themselves).

use leptos::either::EitherOf4;
use leptos::prelude::*;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_location;

use crate::codec::PageCodec;
use crate::error::ServerError;
use crate::session::{Access, AuthState, SessionView};

/// The request's session, for every page below the app's root: known at once on both sides, and
/// never fetched again. The server reads it from the request and writes it into the page's data
/// (as [`PageCodec`]); the browser reads it back from there as it hydrates. Awaiting it answers
/// at once; [`session_now`] reads it without waiting.
///
/// A plain value rather than a `Resource`: the server knows it before anything renders, and a
/// resource's set-up (its derived signal, memo and task) was about 13k instructions of every
/// page's render for a value that never loads.
#[derive(Clone, Copy)]
pub struct SessionData(StoredValue<Result<AuthState, ServerError>>);

impl SessionData {
    /// `f` of the session, read in place: what [`session_now`] answers, without copying the
    /// user's details (a copy per reader was a few thousand instructions of every page).
    pub fn with<R>(self, f: impl FnOnce(&Result<AuthState, ServerError>) -> R) -> R {
        match self.0.try_read_value() {
            Some(state) => f(&state),
            // The app's root is gone (a stray task): as if signed out.
            None => f(&Err(ServerError::Unauthorized)),
        }
    }
}

impl std::future::IntoFuture for SessionData {
    type Output = Result<AuthState, ServerError>;
    type IntoFuture = std::future::Ready<Result<AuthState, ServerError>>;

    fn into_future(self) -> Self::IntoFuture {
        std::future::ready(session_now(self))
    }
}

/// The session made once at the app root.
#[derive(Clone, Copy)]
struct SessionResource(SessionData);

/// Reads the request's session and provides it to every page below: call it once, in the root
/// component, before the router, the same way on server and browser (it takes the same place in
/// the page's data on both sides). It travels in the page as [`PageCodec`] data, so the first
/// load decodes no JSON.
pub fn provide_session() -> SessionData {
    let session = SessionData(StoredValue::new(page_session()));
    provide_context(SessionResource(session));
    session
}

/// The session for this page: on the server, the request's, also written into the page's data;
/// in the browser, the one the server wrote there (none, or data that does not decode: signed
/// out, and the sign-in page is a fresh load, which the server fills).
fn page_session() -> Result<AuthState, ServerError> {
    type Root = Result<AuthState, ServerError>;
    let shared = Owner::current_shared_context();
    // The place in the page's data a resource made here would take.
    let id = shared.as_ref().map(|shared| shared.next_id());
    #[cfg(feature = "ssr")]
    {
        let session = crate::server::session_state();
        if let (Some(shared), Some(id)) = (shared, id) {
            if shared.get_is_hydrating() {
                if let Ok(encoded) =
                    <PageCodec as leptos::server::codee::Encoder<Root>>::encode(&session)
                {
                    shared.write_async(id, Box::pin(async move { encoded }));
                }
            }
        }
        session
    }
    #[cfg(not(feature = "ssr"))]
    {
        shared
            .zip(id)
            .and_then(|(shared, id)| shared.read_data(&id))
            .and_then(|data| {
                <PageCodec as leptos::server::codee::Decoder<Root>>::decode(&data).ok()
            })
            .unwrap_or(Err(ServerError::Unauthorized))
    }
}

/// The session that [`provide_session`] made. Panics without it: that is a bug in the app's root
/// component, not a state of the request.
pub fn use_session() -> SessionData {
    expect_context::<SessionResource>().0
}

/// The session, without waiting: the server read it from the request before the page rendered,
/// and the browser read it from the page's data as it hydrated. So a view can be chosen from it
/// at once, the same way on both sides, with no Suspense. Once the app's root is gone (a stray
/// task), [`ServerError::Unauthorized`]: as if signed out.
pub fn session_now(session: SessionData) -> Result<AuthState, ServerError> {
    session.with(Clone::clone)
}

/// What [`RequireSignIn`] shows instead of its page, and where it sends a visitor to sign in.
/// Give your own to each guard (`pages=MY_PAGES`, a `const`), or to all with
/// `provide_context(GuardPages { .. })` in the root component. Passing it to the guard keeps
/// the views out of the first-load bundle: they are then only in the lazily loaded pages' code.
#[derive(Clone, Copy)]
pub struct GuardPages {
    /// The sign-in page, which takes `?next=` (the core's `SignInPages::login_path`).
    pub login_path: &'static str,
    /// The page for a signed-in user without the permission (HTTP 403).
    pub forbidden: fn(&'static str) -> AnyView,
    /// The page for a session that cannot be used now (HTTP 503).
    pub unavailable: fn() -> AnyView,
}

impl Default for GuardPages {
    /// Plain text: an app shows its own pages.
    fn default() -> GuardPages {
        GuardPages {
            login_path: "/login",
            forbidden: |permission| {
                format!("Access denied: this page needs the `{permission}` permission.").into_any()
            },
            unavailable: || {
                "The identity provider is not answering. Please try again in a moment.".into_any()
            },
        }
    }
}

/// What the guard makes of the session for a page, by [`AuthState::access`]: the one decision
/// both [`RequireSignIn`] and [`when_allowed`] follow, so a page's data is fetched exactly when
/// the page is shown. A session that could not be read counts as signed out, unless the answer
/// was that the provider is unavailable.
fn access<'a>(
    state: &'a Result<AuthState, ServerError>,
    permission: Option<&'static str>,
) -> Access<&'a SessionView> {
    match state {
        Ok(state) => state
            .as_ref()
            .access(permission, |view, needed| view.user.has_permission(needed)),
        Err(ServerError::ProviderUnavailable) => Access::Unavailable,
        Err(_) => Access::SignIn { ended: false },
    }
}

/// Runs `fetch` for a page's data only if the guard will show the page: a signed-in user,
/// holding `permission` when one is named. Otherwise it answers the error the guard shows instead,
/// without asking the server.
///
/// Create page resources with it in the page component, outside [`RequireSignIn`]: a resource
/// made in there would be made again whenever the guard's view is, so it would be fetched, and
/// written into the page, once per run.
///
/// The fetch goes on the heap at once: a server function's future holds its HTTP client's state
/// inline (about 25 KB for the session list's), and the resource moves its future several times
/// as it sets it up, so held inline it was copied whole each time (a fifth of the instructions
/// of a `/sessions` request).
pub fn when_allowed<T>(
    session: SessionData,
    permission: Option<&'static str>,
    fetch: impl std::future::Future<Output = Result<T, ServerError>> + Send + 'static,
) -> impl std::future::Future<Output = Result<T, ServerError>> + Send + 'static {
    let fetch = Box::pin(fetch);
    async move {
        session.with(|state| access(state, permission).into_result().map(drop))?;
        fetch.await
    }
}

/// `<login_path>?next=<this page>`.
pub fn login_url_for(login_path: &str, path: &str, query: &str) -> String {
    let here = if query.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{}", query.trim_start_matches('?'))
    };
    let encoded: String = here
        .bytes()
        .flat_map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
                vec![b as char]
            } else {
                format!("%{b:02X}").chars().collect()
            }
        })
        .collect();
    format!("{login_path}?next={encoded}")
}

/// Sets the status of the page being rendered on the server; nothing in the browser.
pub fn set_page_status(status: u16) {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        if let Ok(status) = http::StatusCode::from_u16(status) {
            response.set_status(status);
            // A 503 here is a passing outage (provider or session store): say when to retry.
            if status == http::StatusCode::SERVICE_UNAVAILABLE {
                response.insert_header(
                    http::header::RETRY_AFTER,
                    http::HeaderValue::from_static("5"),
                );
            }
        }
    }
    #[cfg(not(feature = "ssr"))]
    let _ = status;
}

/// Shows `children` for a signed-in user (holding `permission` when one is named); otherwise a
/// redirect to sign in, or the 403 or 503 page with that status set on the server.
///
/// The decision is made as the guard is built, from the session [`provide_session`] read,
/// with no Suspense around the page. The page's view is then part of its parent's, so its type is
/// that much deeper: a large page may need `#![recursion_limit = "256"]` in the app's crate for a
/// release build (the compiler says so when it does).
#[component]
pub fn RequireSignIn<F, V>(
    /// A permission the user must hold, e.g. `organization:settings`.
    #[prop(optional)]
    permission: Option<&'static str>,
    /// The 403 and 503 views and the sign-in path; else a [`GuardPages`] in the context, else
    /// the defaults.
    #[prop(optional)]
    pages: Option<GuardPages>,
    children: F,
) -> impl IntoView
where
    F: Fn(SessionView) -> V + Clone + Send + Sync + 'static,
    V: IntoView + 'static,
{
    let session = use_session();
    let location = use_location();
    let pages = pages.or_else(use_context::<GuardPages>).unwrap_or_default();
    // The session is known before the page renders: on the server it is read from the request
    // at the root, and in the browser it comes with the page's data and is never fetched again.
    // So the decision is made at once, the same way on both sides, with no boundary: a Suspense
    // sets itself up and runs its children twice before rendering them, so around the whole page
    // it built every guarded page three times per server render (and held a second copy of the
    // page's view code in the bundle, had it stayed as a fallback). A page's own data waits in
    // Suspense boundaries of its own.
    // Only the page's own copy of the session is made (the decision reads it in place).
    match session.with(|state| access(state, permission).cloned()) {
        Access::Allowed(view) => EitherOf4::A(children(view)),
        Access::Forbidden(needed) => {
            set_page_status(403);
            EitherOf4::B((pages.forbidden)(needed))
        }
        Access::Unavailable => {
            set_page_status(503);
            EitherOf4::C((pages.unavailable)())
        }
        Access::SignIn { ended } => {
            let mut target = login_url_for(
                pages.login_path,
                &location.pathname.get_untracked(),
                &location.search.get_untracked(),
            );
            if ended {
                target.push_str("&error=expired");
            }
            EitherOf4::D(view! { <Redirect path=target/> })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::login_url_for;

    #[test]
    fn login_url_keeps_the_path_and_query_encoded() {
        assert_eq!(
            login_url_for("/login", "/dashboard", ""),
            "/login?next=/dashboard"
        );
        assert_eq!(
            login_url_for("/login", "/a b", "?x=1&y=2"),
            "/login?next=/a%20b%3Fx%3D1%26y%3D2"
        );
    }
}
