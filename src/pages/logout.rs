//! `GET /logout` only asks: signing out is a POST (checklist O1), so a link or an image on another
//! site cannot sign anyone out.

use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn LogoutPage() -> impl IntoView {
    view! {
        <Title text="Sign out · Leptos × Scalekit"/>
        <section class="auth-card" aria-labelledby="logout-title">
            <h1 id="logout-title">"Sign out?"</h1>
            <p>"You will be signed out here and at your identity provider."</p>
            <form method="post" action="/_app/logout" class="logout-form">
                <button type="submit" class="button button-primary">"Sign out"</button>
                " "
                <a href="/dashboard">"Cancel"</a>
            </form>
        </section>
    }
}
