use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

#[component]
pub fn HomePage() -> impl IntoView {
    view! {
        <Title text="Leptos × Scalekit"/>
        <section class="hero">
            <h1>"Enterprise sign-in for Leptos, with Scalekit"</h1>
            <p class="lead">
                "A full-stack Rust starter: OpenID Connect sign-in, sessions, refresh and logout done on the server, "
                "with tokens kept in encrypted HttpOnly cookies that the browser never reads."
            </p>
            <p>
                <A href="/about" attr:class="button">"How it works"</A>
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
