//! "Your sessions" on the session panel: the user's sessions at the provider (browser and device,
//! when it began, when it was last active, this one marked), a **Sign out** button for each other
//! session and **Sign out everywhere**. Signing out another session is an `ActionForm` (the list
//! updates in place; without JavaScript a plain post and a redirect back). Signing out everywhere
//! ends this session too, so it is a plain form post and a full navigation to `/login`, like the
//! header's **Sign out**: the app's session state is the page's, and a new page brings the new one.

use leptos::either::Either;
use leptos::prelude::*;
use leptos::server::ServerAction;

use crate::account::{user_sessions, SignOutSession, UserSessionView};
use crate::components::time_text::format_utc;
use scalekit_leptos::codec::PageCodec;
use scalekit_leptos::ServerError;
use scalekit_leptos::{use_session, when_allowed};

/// The list and the action that changes it. Made by the page, outside its guard (see
/// `when_allowed`), and fetched only for a signed-in user.
#[derive(Clone, Copy)]
pub struct UserSessionsData {
    sign_out: ServerAction<SignOutSession>,
    sessions: Resource<Result<Vec<UserSessionView>, ServerError>, PageCodec>,
}

impl UserSessionsData {
    pub fn load() -> UserSessionsData {
        let session = use_session();
        let sign_out = ServerAction::<SignOutSession>::new();
        let sessions = Resource::new_with_options(
            move || sign_out.version().get(),
            move |_| when_allowed(session, None, user_sessions()),
            false,
        );
        UserSessionsData { sign_out, sessions }
    }
}

fn time_or_unknown(secs: Option<u64>) -> String {
    secs.map(format_utc).unwrap_or_else(|| "unknown".into())
}

#[component]
pub fn UserSessions(data: UserSessionsData) -> impl IntoView {
    let UserSessionsData { sign_out, sessions } = data;
    view! {
        <section class="panel" id="your-sessions" aria-labelledby="your-sessions-title">
            <h2 id="your-sessions-title">"Your sessions"</h2>
            <p class="hint">
                "Where you are signed in with this account, as the identity provider knows it."
            </p>
            <div class="results" role="status" aria-live="polite">
                {move || sign_out.value().get().map(|result| match result {
                    Ok(()) => Either::Left(view! {
                        <p class="alert alert-ok" data-testid="sign-out-session-result">"That session is signed out."</p>
                    }),
                    Err(error) => Either::Right(view! {
                        <p class="alert alert-error" data-testid="sign-out-session-result">
                            "Could not sign that session out: " {error.to_string()}
                        </p>
                    }),
                })}
            </div>
            <Transition fallback=|| view! { <p class="loading">"Loading your sessions…"</p> }>
                {move || Suspend::new(async move {
                    match sessions.await {
                        Ok(list) if list.is_empty() => Either::Left(Either::Left(view! {
                            <p class="hint" data-testid="no-user-sessions">"The provider lists no active session."</p>
                        })),
                        Ok(list) => Either::Left(Either::Right(view! {
                            <div class="table-scroll">
                                <table class="tokens" data-testid="user-sessions">
                                    <thead>
                                        <tr>
                                            <th scope="col">"Device"</th>
                                            <th scope="col">"Signed in"</th>
                                            <th scope="col">"Last active"</th>
                                            <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                                        </tr>
                                    </thead>
                                    <tbody>
                                        {list.into_iter().map(|s| session_row(s, sign_out)).collect_view()}
                                    </tbody>
                                </table>
                            </div>
                        })),
                        Err(error) => Either::Right(view! {
                            <p class="alert alert-error" role="alert" data-testid="user-sessions-error">
                                "Your sessions could not be loaded: " {error.to_string()}
                            </p>
                        }),
                    }
                })}
            </Transition>
            <form method="post" action="/_app/sign_out_everywhere" class="actions">
                <button type="submit" class="button button-danger">"Sign out everywhere"</button>
                <span class="hint">"Ends every session listed here, this one included."</span>
            </form>
        </section>
    }
}

fn session_row(session: UserSessionView, sign_out: ServerAction<SignOutSession>) -> impl IntoView {
    let current = session.current;
    let label = format!(
        "Sign out {} (signed in {})",
        session.device,
        time_or_unknown(session.created_at)
    );
    view! {
        <tr data-testid="user-session" data-current=if current { "true" } else { "false" }>
            <th scope="row">
                {session.device.clone()}
                {current.then(|| view! { " "<span class="badge badge-current">"This session"</span> })}
            </th>
            <td>{time_or_unknown(session.created_at)}</td>
            <td>{time_or_unknown(session.last_active_at)}</td>
            <td>
                {if current {
                    Either::Left(view! { <span class="hint">"Signed in here"</span> })
                } else {
                    Either::Right(view! {
                        <ActionForm action=sign_out attr:class="inline-form">
                            <input type="hidden" name="session_id" value=session.session_id.clone()/>
                            <button type="submit" class="link-button" aria-label=label>"Sign out"</button>
                        </ActionForm>
                    })
                }}
            </td>
        </tr>
    }
}
