//! `/login`: plain forms that post to the login server function, so they work the same with
//! JavaScript off. **Sign in** passes on `next` and Scalekit's routing parameters from the query
//! (`connection_id`, `organization_id`, `domain_hint`, `login_hint`, `provider`, `prompt`);
//! **Create an account** asks for Scalekit's sign-up (`prompt=create`); **Sign in with SSO**
//! routes by the domain of what is typed, an email or a domain. The server checks every value.

use leptos::either::Either;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_query_map;

use scalekit_leptos::use_session;
use scalekit_leptos::AuthState;
use scalekit_leptos::ROUTING_PARAMETERS;

/// Messages for `?error=` set by the login server function and the session guard.
fn error_message(code: &str) -> Option<&'static str> {
    match code {
        "unavailable" => {
            Some("The identity provider could not be reached. Please try again in a moment.")
        }
        "expired" => Some("Your session has ended. Please sign in again."),
        "invalid_request" => Some(
            "That sign-in request could not be used: check the email address or domain and try again.",
        ),
        _ => None,
    }
}

/// Only a local path is a place to go back to (the server checks properly; this keeps the
/// already-signed-in shortcut from following anything else).
fn local_path(next: Option<String>) -> String {
    // Printable ASCII only: the redirect becomes a Location header, which cannot hold anything else.
    next.filter(|n| {
        n.starts_with('/')
            && !n.starts_with("//")
            && n.bytes().all(|b| b.is_ascii_graphic() && b != b'\\')
    })
    .unwrap_or_else(|| crate::app::DEFAULT_RETURN_PATH.to_string())
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let query = use_query_map();
    let signed_in = use_session().with(|state| matches!(state, Ok(AuthState::SignedIn(_))));
    let param = move |name: &str| {
        query
            .with_untracked(|q| q.get(name))
            .filter(|v| !v.is_empty())
    };
    let next = param("next");
    let hidden: Vec<(&'static str, String)> = std::iter::once(("next", next.clone()))
        .chain(ROUTING_PARAMETERS.map(|name| (name, param(name))))
        .filter_map(|(name, value)| value.map(|v| (name, v)))
        .collect();
    let error = param("error").and_then(|code| error_message(&code));

    view! {
        <Title text="Sign in · Leptos × Scalekit"/>
        <section class="auth-card" aria-labelledby="login-title">
            <h1 id="login-title">"Sign in"</h1>
            {error.map(|message| view! { <p class="alert alert-error" role="alert">{message}</p> })}
            // The session is known as the page renders (`SessionData::with`): no boundary waits.
            {if signed_in {
                Either::Left(view! { <Redirect path=local_path(next)/> })
            } else {
                Either::Right(view! {
                    <p>"You will be sent to your organization's identity provider and brought back here."</p>
                    <form method="post" action="/_app/login" class="login-form">
                        {hidden
                            .into_iter()
                            .map(|(name, value)| view! { <input type="hidden" name=name value=value/> })
                            .collect_view()}
                        <button type="submit" class="button button-primary">"Sign in"</button>
                    </form>
                    <SsoForm next=next.clone()/>
                    <form method="post" action="/_app/login" class="login-form">
                        <NextField next/>
                        <input type="hidden" name="prompt" value="create"/>
                        <button type="submit" class="button button-secondary" data-testid="create-account">
                            "Create an account"
                        </button>
                    </form>
                })
            }}
        </section>
    }
}

/// `next`, when there is one, so every form returns to the same page.
#[component]
fn NextField(next: Option<String>) -> impl IntoView {
    next.map(|next| view! { <input type="hidden" name="next" value=next/> })
}

/// "Sign in with SSO": an email or a domain, routed by Scalekit to the organization's connection.
#[component]
fn SsoForm(next: Option<String>) -> impl IntoView {
    view! {
        <form method="post" action="/_app/login" class="stacked-form sso-form" aria-labelledby="sso-title">
            <h2 id="sso-title">"Sign in with SSO"</h2>
            <label for="sso">"Work email or company domain"</label>
            <input id="sso" name="sso" type="text" required maxlength="254"
                autocomplete="email" inputmode="email" placeholder="you@company.com"/>
            <NextField next/>
            <button type="submit" class="button" data-testid="sso-submit">"Continue with SSO"</button>
        </form>
    }
}
