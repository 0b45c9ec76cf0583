//! `/`: the introduction for visitors; a signed-in user goes straight to the dashboard. After a
//! sign-out the provider sends the browser back here with our `state`, which is checked before
//! the page says "you have signed out" (checklist O4).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_query_map;

use scalekit_leptos::codec::PageCodec;
use scalekit_leptos::from_server;
use scalekit_leptos::use_session;
use scalekit_leptos::{check_signed_out, AuthState};

#[component]
pub fn HomePage() -> impl IntoView {
    let signed_in = use_session().with(|state| matches!(state, Ok(AuthState::SignedIn(_))));
    let state = use_query_map().with_untracked(|q| q.get("state"));
    let signed_out = Resource::<_, PageCodec>::new_with_options(
        move || state.clone(),
        |state| async move {
            // Only a full page load (the provider's redirect) brings a `state` here, so the
            // server answers and the browser hydrates (see server_data).
            match state {
                Some(state) => from_server(|| check_signed_out(state))
                    .await
                    .unwrap_or(false),
                None => false,
            }
        },
        false,
    );
    view! {
        <Title text="Leptos × Scalekit"/>
        // The session is known as the page renders (`SessionData::with`); only the sign-out notice
        // waits, for its check.
        {signed_in.then(|| view! { <Redirect path=crate::app::DEFAULT_RETURN_PATH/> })}
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                signed_out.await.then(|| view! {
                    <p class="alert alert-ok" role="status">"You have signed out."</p>
                })
            })}
        </Suspense>
        <section class="hero">
            <h1>"Enterprise sign-in for Leptos, with Scalekit"</h1>
            <p class="lead">
                "A full-stack Rust starter: OpenID Connect sign-in, sessions, refresh and logout done on the server, "
                "with tokens kept in encrypted HttpOnly cookies that the browser never reads."
            </p>
            <p>
                <a href="/about" class="button">"How it works"</a>
            </p>
        </section>
        <section class="cards" aria-label="Features">
            <article class="card">
                <h2>"Backend-for-frontend"</h2>
                <p>"The server runs the authorization code flow with state, nonce and PKCE, and holds the tokens."</p>
            </article>
            <article class="card">
                <h2>"APIs for machines"</h2>
                <p>"Client-credentials tokens from Scalekit, checked for signature, audience and scopes on every call."</p>
            </article>
            <article class="card">
                <h2>"Runs offline"</h2>
                <p>"With no Scalekit environment configured, a built-in development identity provider stands in."</p>
            </article>
        </section>
    }
}
