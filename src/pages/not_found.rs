use leptos::prelude::*;
use leptos_meta::Title;

/// Rendered for every path no route matches; the server answers it with status 404.
#[component]
pub fn NotFoundPage() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Page not found · Leptos × Scalekit"/>
        <section class="error-page">
            <p class="error-code">"404"</p>
            <h1>"Page not found"</h1>
            <p>"There is nothing at this address. It may have moved, or the link may be wrong."</p>
            <p><a href="/" class="button">"Go to the home page"</a></p>
        </section>
    }
}
