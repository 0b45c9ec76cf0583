use leptos::either::Either;
use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{SsrMode, StaticSegment};
use scalekit_leptos::{provide_session, use_session, AuthState, RequireSignIn, SessionView};

pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                // No icon: without this line every page load asks for /favicon.ico and gets 404.
                <link rel="icon" href="data:,"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
            </head>
            <body><App/></body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    // Once, at the root: every page below reads the session from here.
    provide_session();
    // Guarded routes render whole (`SsrMode::Async`): the guard's redirect or 403 is a real status.
    view! {
        <Router>
            <Routes fallback=|| "Not found.">
                <Route path=StaticSegment("") view=Home ssr=SsrMode::Async/>
                <Route path=StaticSegment("login") view=Home ssr=SsrMode::Async/>
                <Route path=StaticSegment("me") view=Me ssr=SsrMode::Async/>
            </Routes>
        </Router>
    }
}

/// Plain forms to the layer's server functions: they work with JavaScript off too.
#[component]
fn Home() -> impl IntoView {
    // Known as the page renders, on the server and in the browser alike: no Suspense needed.
    let name = use_session().with(|state| match state {
        Ok(AuthState::SignedIn(session)) => Some(session.user.name.clone()),
        _ => None,
    });
    view! {
        <h1>"Minimal"</h1>
        {match name {
            Some(name) => Either::Left(view! {
                <p>"Signed in as " {name} ". " <a href="/me">"Your page"</a></p>
                <form method="post" action="/_app/logout"><button>"Sign out"</button></form>
            }),
            None => Either::Right(view! {
                <form method="post" action="/_app/login">
                    {passed_on()}
                    <button>"Sign in"</button>
                </form>
            }),
        }}
    }
}

/// What the sign-in passes on from the page's query as hidden fields: `next` (the guard's
/// `/login?next=…`, else `/me`) and the routing parameters `/auth/initiate-login` hands over.
fn passed_on() -> impl IntoView {
    let query = leptos_router::hooks::use_query_map();
    let given = move |name: &str| {
        query
            .with_untracked(|q| q.get(name))
            .filter(|v| !v.is_empty())
    };
    let next = given("next").unwrap_or_else(|| "/me".into());
    let hints = scalekit_leptos::ROUTING_PARAMETERS
        .into_iter()
        .filter_map(|name| {
            given(name).map(|value| view! { <input type="hidden" name=name value=value/> })
        })
        .collect_view();
    view! { <input type="hidden" name="next" value=next/> {hints} }
}

/// Only for a signed-in user; anyone else is sent to `/login?next=/me`.
#[component]
fn Me() -> impl IntoView {
    view! {
        <RequireSignIn children=|session: SessionView| view! {
            <h1>"Hello, " {session.user.name}</h1>
            <p>"Signed in with " {session.user.email}</p>
            <form method="post" action="/_app/logout"><button>"Sign out"</button></form>
        }/>
    }
}
