//! `/dashboard`: who is signed in, the session's state, and the claims of both tokens. Guarded:
//! signed-out visitors are sent to sign in first.

use leptos::either::Either;
use leptos::prelude::*;
use leptos_meta::Title;

use crate::account::get_claims;
use crate::account::SessionClaims;
use crate::components::claims_table::ClaimsTable;
use crate::components::countdown::Countdown;
use crate::components::status_pages::GUARD_PAGES;
use crate::components::time_text::format_utc;
use crate::organization::SETTINGS_PERMISSION;
use scalekit_leptos::codec::PageCodec;
use scalekit_leptos::ServerError;
use scalekit_leptos::SessionView;
use scalekit_leptos::{use_session, when_allowed, RequireSignIn};

/// The claims as they travel in the page: PageCodec (postcard in base64) rather than JSON, which
/// the renderer had to escape quote by quote.
type ClaimsData = Resource<Result<SessionClaims, ServerError>, PageCodec>;

#[component]
pub fn DashboardPage() -> impl IntoView {
    let session = use_session();
    // Here, not inside the guard: see `when_allowed`.
    let claims: ClaimsData = Resource::new_with_options(
        || (),
        move |_| when_allowed(session, None, get_claims()),
        false,
    );
    view! {
        <Title text="Dashboard · Leptos × Scalekit"/>
        <RequireSignIn pages=GUARD_PAGES children=move |session: SessionView| view! { <Dashboard session claims/> }/>
    }
}

fn badges(items: Vec<String>, empty: &'static str) -> impl IntoView {
    if items.is_empty() {
        Either::Left(view! { <span class="hint">{empty}</span> })
    } else {
        Either::Right(
            items
                .into_iter()
                .map(|item| view! { <li class="badge">{item}</li> })
                .collect_view(),
        )
    }
}

#[component]
fn Dashboard(session: SessionView, claims: ClaimsData) -> impl IntoView {
    let user = session.user.clone();
    let can_open_settings = user.has_permission(SETTINGS_PERMISSION);
    view! {
        <h1>"Welcome, " {user.name.clone()}</h1>
        <div class="grid-2">
            <section class="panel" aria-labelledby="profile-title">
                <h2 id="profile-title">"Profile"</h2>
                <dl class="facts">
                    <dt>"Name"</dt><dd>{user.name.clone()}</dd>
                    <dt>"Email"</dt><dd>{user.email.clone().unwrap_or_else(|| "—".into())}</dd>
                    <dt>"Subject"</dt><dd><code>{user.sub.clone()}</code></dd>
                    <dt>"Organization"</dt>
                    <dd><code>{user.organization_id.clone().unwrap_or_else(|| "—".into())}</code></dd>
                    <dt>"Roles"</dt>
                    <dd><ul class="badges" aria-label="Roles">{badges(user.roles.clone(), "none")}</ul></dd>
                    <dt>"Permissions"</dt>
                    <dd><ul class="badges" aria-label="Permissions">{badges(user.permissions.clone(), "none")}</ul></dd>
                </dl>
            </section>
            <section class="panel" aria-labelledby="session-title">
                <h2 id="session-title">"Session"</h2>
                <dl class="facts">
                    <dt>"Status"</dt><dd><span class="status-ok">"Signed in"</span></dd>
                    <dt>"Signed in"</dt><dd>{format_utc(session.signed_in_at)}</dd>
                    <dt>"Access token expires"</dt>
                    <dd>
                        {format_utc(session.access_token_expires_at)}
                        <Countdown until=session.access_token_expires_at/>
                    </dd>
                    <dt>"Session ends"</dt>
                    <dd>
                        {format_utc(session.idle_expires_at)}
                        " if idle, at the latest "
                        {format_utc(session.absolute_expires_at)}
                    </dd>
                </dl>
                <p class="actions">
                    <a href="/sessions" class="button">"Session panel"</a>
                    <a href="/organization/settings" class="button button-secondary">"Organization settings"</a>
                </p>
                <p class="hint">
                    "Organization settings need the "<code>{SETTINGS_PERMISSION}</code>" permission"
                    {if can_open_settings { ", which you have." } else { ", which you do not have." }}
                </p>
            </section>
        </div>
        <section aria-labelledby="claims-title">
            <h2 id="claims-title">"Token claims"</h2>
            <p class="hint">"Decoded on the server from the tokens it keeps; the tokens themselves never reach the browser."</p>
            // In a boundary of its own (the guard decides without one): on the server the claims
            // are ready as the page renders, and a page reached in the app shows the fallback
            // until they come.
            <Suspense fallback=|| view! { <p class="loading">"Loading the claims…"</p> }>
            {move || Suspend::new(async move {
                match claims.await {
                    Ok(claims) => {
                        let html = claims.html.as_deref();
                        let id_token_html = html.map(|html| html.id_token.clone());
                        let access_token_html = html.map(|html| html.access_token.clone());
                        Either::Left(view! {
                            <div class="grid-2">
                                <ClaimsTable caption="ID token" rows=claims.id_token
                                    html=id_token_html/>
                                <ClaimsTable caption="Access token" rows=claims.access_token
                                    html=access_token_html/>
                            </div>
                        })
                    }
                    Err(error) => Either::Right(view! {
                        <p class="alert alert-error" role="alert">{error.to_string()}</p>
                    }),
                }
            })}
            </Suspense>
        </section>
    }
}
