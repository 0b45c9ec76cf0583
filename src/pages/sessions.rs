//! `/sessions`: the session panel. Which tokens the server holds (as fingerprints), when they and
//! the session expire (with a live countdown), and two buttons calling server functions: validate
//! the access token against the provider's keys now, and refresh the tokens now. The panel updates
//! in place; without JavaScript the buttons are plain form posts and the page reloads. Below,
//! "Your sessions": the user's sessions at the provider, with sign-out for each and everywhere
//! (`components::user_sessions`).

use leptos::either::{Either, EitherOf3};
use leptos::prelude::*;
use leptos::server::ServerAction;
use leptos_meta::Title;

use crate::components::countdown::Countdown;
use crate::components::status_pages::GUARD_PAGES;
use crate::components::time_text::format_utc;
use crate::components::user_sessions::{UserSessions, UserSessionsData};
use scalekit_leptos::RequireSignIn;
use scalekit_leptos::SessionView;
use scalekit_leptos::{RefreshSession, ServerError, TokenCheck, ValidateToken};

#[component]
pub fn SessionsPage() -> impl IntoView {
    // Here, not inside the guard: see `when_allowed`.
    let sessions = UserSessionsData::load();
    view! {
        <Title text="Session · Leptos × Scalekit"/>
        <RequireSignIn pages=GUARD_PAGES children=move |session: SessionView| view! {
            <SessionPanel session/>
            <UserSessions data=sessions/>
        }/>
    }
}

fn fingerprint_cell(fingerprint: Option<String>, missing: &'static str) -> impl IntoView {
    match fingerprint {
        Some(fp) => Either::Left(
            view! { <td><span class="present">"present"</span>" "<code class="fingerprint">{fp}</code></td> },
        ),
        None => Either::Right(
            view! { <td><span class="absent">"absent"</span>" "<span class="hint">{missing}</span></td> },
        ),
    }
}

#[component]
fn SessionPanel(session: SessionView) -> impl IntoView {
    let current = RwSignal::new(session);
    let validate = ServerAction::<ValidateToken>::new();
    let refresh = ServerAction::<RefreshSession>::new();
    // A successful refresh brings the new expiry and fingerprints: show them without a reload.
    Effect::new(move |_| {
        if let Some(Ok(view)) = refresh.value().get() {
            current.set(view);
        }
    });
    let access_expires = Signal::derive(move || current.with(|s| s.access_token_expires_at));
    let idle_expires = Signal::derive(move || current.with(|s| s.idle_expires_at));

    view! {
        <h1>"Session"</h1>
        <section class="panel" aria-labelledby="tokens-title">
            <h2 id="tokens-title">"Tokens held by the server"</h2>
            <div class="table-scroll">
                <table class="tokens">
                    <thead>
                        <tr><th scope="col">"Token"</th><th scope="col">"State"</th></tr>
                    </thead>
                    <tbody>
                        <tr data-testid="access-token">
                            <th scope="row">"Access token"</th>
                            {move || fingerprint_cell(current.with(|s| s.tokens.access_token.clone()), "")}
                        </tr>
                        <tr data-testid="refresh-token">
                            <th scope="row">"Refresh token"</th>
                            {move || fingerprint_cell(
                                current.with(|s| s.tokens.refresh_token.clone()),
                                "(request the offline_access scope to get one)",
                            )}
                        </tr>
                        <tr data-testid="id-token">
                            <th scope="row">"ID token"</th>
                            {move || fingerprint_cell(current.with(|s| s.tokens.id_token.clone()), "")}
                        </tr>
                    </tbody>
                </table>
            </div>
            <dl class="facts">
                <dt>"Access token expires"</dt>
                <dd data-testid="access-expiry">
                    {move || format_utc(access_expires.get())}
                    <Countdown until=access_expires/>
                </dd>
                <dt>"Session ends if idle"</dt>
                <dd>{move || format_utc(idle_expires.get())}<Countdown until=idle_expires/></dd>
                <dt>"Session ends at the latest"</dt>
                <dd>{move || current.with(|s| format_utc(s.absolute_expires_at))}</dd>
            </dl>
            <p class="hint">
                "The server refreshes the access token by itself when it has less than a minute left."
            </p>
        </section>

        <section class="panel" aria-labelledby="actions-title">
            <h2 id="actions-title">"Check and refresh"</h2>
            <div class="actions">
                <ActionForm action=validate>
                    <button type="submit" class="button">"Validate token"</button>
                </ActionForm>
                <ActionForm action=refresh>
                    <button type="submit" class="button button-secondary">"Refresh token"</button>
                </ActionForm>
            </div>
            <div role="status" aria-live="polite" class="results">
                {move || validate.value().get().map(validation_result)}
                {move || refresh.value().get().map(|result| match result {
                    Ok(view) => Either::Left(view! {
                        <p class="alert alert-ok" data-testid="refresh-result">
                            "Refreshed. The access token now expires at "
                            {format_utc(view.access_token_expires_at)} "."
                        </p>
                    }),
                    Err(error) => Either::Right(view! {
                        <p class="alert alert-error" data-testid="refresh-result">
                            "Refresh failed: " {error.to_string()}
                        </p>
                    }),
                })}
            </div>
        </section>
    }
}

fn validation_result(result: Result<TokenCheck, ServerError>) -> impl IntoView {
    match result {
        Ok(check) if check.valid => EitherOf3::A(view! {
            <div class="alert alert-ok" data-testid="validate-result">
                <p><strong>"The access token is valid."</strong></p>
                <dl class="facts">
                    <dt>"Subject"</dt><dd><code>{check.subject.unwrap_or_default()}</code></dd>
                    <dt>"Issuer"</dt><dd><code>{check.issuer.unwrap_or_default()}</code></dd>
                    <dt>"Audience"</dt><dd><code>{check.audience.join(", ")}</code></dd>
                    <dt>"Expires"</dt><dd>{check.expires_at.map(format_utc).unwrap_or_default()}</dd>
                    <dt>"Permissions"</dt><dd>{check.permissions.join(", ")}</dd>
                </dl>
            </div>
        }),
        Ok(check) => EitherOf3::B(view! {
            <p class="alert alert-error" data-testid="validate-result">
                "The access token was refused: " {check.problem.unwrap_or_default()}
            </p>
        }),
        Err(error) => EitherOf3::C(view! {
            <p class="alert alert-error" data-testid="validate-result">
                "Validation could not run: " {error.to_string()}
            </p>
        }),
    }
}
