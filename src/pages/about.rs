use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn AboutPage() -> impl IntoView {
    view! {
        <Title text="How it works · Leptos × Scalekit"/>
        <h1>"How it works"</h1>
        <ol class="steps">
            <li>
                <strong>"Sign-in starts on the server. "</strong>
                "The login form posts to a server function that creates state, nonce and a PKCE verifier, keeps them in a short-lived encrypted cookie and sends the browser to Scalekit."
            </li>
            <li>
                <strong>"The callback is checked. "</strong>
                "The server compares state, exchanges the code with the client secret and the PKCE verifier, and validates the ID token's signature, issuer, audience, expiry and nonce."
            </li>
            <li>
                <strong>"Tokens stay on the server. "</strong>
                "They live in encrypted HttpOnly cookies; pages and server functions see only the claims they need."
            </li>
            <li>
                <strong>"Sessions refresh themselves. "</strong>
                "Before a page renders, an access token close to expiry is refreshed once per session, even when several tabs ask at the same time."
            </li>
        </ol>
        <p><a href="/">"Back to home"</a></p>
    }
}
