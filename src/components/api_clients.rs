//! The organization's API clients on the settings page: list, create (the secret is shown exactly
//! once, with a copy button), delete. Forms are `ActionForm`s, so they also work as plain posts
//! with JavaScript off; the server then keeps a new secret for one page view.

use leptos::either::Either;
use leptos::prelude::*;
use leptos::server::ServerAction;

use crate::components::time_text::format_remaining;
use crate::organization::{
    list_api_clients, take_created_api_client, CreateApiClient, DeleteApiClient, EXPIRY_CHOICES,
};
use crate::organization::{ApiClientView, CreatedApiClient, API_CLIENTS_PERMISSION};
use scalekit_leptos::codec::PageCodec;
use scalekit_leptos::ServerError;
use scalekit_leptos::{use_session, when_allowed};

/// The list, the secret kept after a plain form post (JavaScript off), and the two actions that
/// change the list. Made by the page, outside its guard (see `when_allowed`), and fetched only for
/// holders of the permission to manage clients.
#[derive(Clone, Copy)]
pub struct ApiClientsData {
    create: ServerAction<CreateApiClient>,
    delete: ServerAction<DeleteApiClient>,
    clients: Resource<Result<Vec<ApiClientView>, ServerError>, PageCodec>,
    kept: Resource<Result<Option<CreatedApiClient>, ServerError>, PageCodec>,
}

impl ApiClientsData {
    pub fn load() -> ApiClientsData {
        let session = use_session();
        let manage = Some(API_CLIENTS_PERMISSION);
        let create = ServerAction::<CreateApiClient>::new();
        let delete = ServerAction::<DeleteApiClient>::new();
        let clients = Resource::new_with_options(
            move || (create.version().get(), delete.version().get()),
            move |_| when_allowed(session, manage, list_api_clients()),
            false,
        );
        let kept = Resource::new_with_options(
            || (),
            move |_| when_allowed(session, manage, take_created_api_client()),
            false,
        );
        ApiClientsData {
            create,
            delete,
            clients,
            kept,
        }
    }
}

#[component]
pub fn ApiClients(data: ApiClientsData) -> impl IntoView {
    let ApiClientsData {
        create,
        delete,
        clients,
        kept,
    } = data;

    view! {
        <div class="results" role="status" aria-live="polite">
            {move || create.value().get().map(|result| match result {
                Ok(created) => Either::Left(view! { <NewSecret created/> }),
                Err(error) => Either::Right(view! {
                    <p class="alert alert-error" data-testid="create-error">"Could not create the client: " {error.to_string()}</p>
                }),
            })}
            {move || delete.value().get().and_then(|result| result.err()).map(|error| view! {
                <p class="alert alert-error">"Could not delete the client: " {error.to_string()}</p>
            })}
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    kept.await.ok().flatten().map(|created| view! { <NewSecret created/> })
                })}
            </Suspense>
        </div>

        <Transition fallback=|| view! { <p class="loading">"Loading API clients…"</p> }>
            {move || Suspend::new(async move {
                match clients.await {
                    Ok(list) if list.is_empty() => Either::Left(Either::Left(view! {
                        <p class="hint" data-testid="no-clients">"No API clients yet."</p>
                    })),
                    Ok(list) => Either::Left(Either::Right(view! {
                        <div class="table-scroll">
                            <table class="tokens" data-testid="client-list">
                                <thead>
                                    <tr>
                                        <th scope="col">"Name"</th>
                                        <th scope="col">"Client id"</th>
                                        <th scope="col">"Scopes"</th>
                                        <th scope="col">"Token lifetime"</th>
                                        <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                                    </tr>
                                </thead>
                                <tbody>
                                    {list.into_iter().map(|client| {
                                        let label = format!("Delete {}", client.name);
                                        view! {
                                            <tr>
                                                <th scope="row">{client.name.clone()}</th>
                                                <td><code>{client.client_id.clone()}</code></td>
                                                <td>{client.scopes.join(", ")}</td>
                                                <td>{format_remaining(client.expiry as i64)}</td>
                                                <td>
                                                    <ActionForm action=delete>
                                                        <input type="hidden" name="client_id" value=client.client_id.clone()/>
                                                        <button type="submit" class="link-button" aria-label=label>"Delete"</button>
                                                    </ActionForm>
                                                </td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                        // Access tokens are JWTs checked by signature, not looked up: a deleted
                        // client gets no new ones, but those it holds work until they expire.
                        <p class="hint">"Deleting a client stops it getting new tokens. Tokens it already holds keep working until they expire, at most its token lifetime."</p>
                    })),
                    Err(error) => Either::Right(view! {
                        <p class="alert alert-error" role="alert">"The API clients could not be loaded: " {error.to_string()}</p>
                    }),
                }
            })}
        </Transition>

        <h3>"Create an API client"</h3>
        <ActionForm action=create attr:class="stacked-form">
            <label for="client-name">"Name"</label>
            <input id="client-name" name="name" required maxlength="64" autocomplete="off"/>
            <label for="client-description">"Description (optional)"</label>
            <input id="client-description" name="description" maxlength="256" autocomplete="off"/>
            <fieldset>
                <legend>"Scopes"</legend>
                <label><input type="checkbox" name="read_deployments" value="on" checked/>" read:deployments"</label>
                <label><input type="checkbox" name="deploy_applications" value="on"/>" deploy:applications"</label>
            </fieldset>
            <label for="client-expiry">"Token lifetime"</label>
            <select id="client-expiry" name="expiry">
                {EXPIRY_CHOICES.iter().map(|(secs, label)| view! { <option value=secs.to_string()>{*label}</option> }).collect_view()}
            </select>
            <button type="submit" class="button">"Create client"</button>
        </ActionForm>
    }
}

/// The one showing of a new client's secret.
#[component]
fn NewSecret(created: CreatedApiClient) -> impl IntoView {
    let copied = RwSignal::new(false);
    let copy = {
        let secret = created.plain_secret.clone();
        move |_| {
            #[cfg(feature = "hydrate")]
            {
                let _ = window().navigator().clipboard().write_text(&secret);
                copied.set(true);
            }
            #[cfg(not(feature = "hydrate"))]
            let _ = &secret;
        }
    };
    view! {
        <div class="alert alert-ok" id="new-client" data-testid="new-client">
            <p><strong>"Client created: " {created.client.name.clone()}</strong></p>
            <dl class="facts">
                <dt>"Client id"</dt><dd><code data-testid="new-client-id">{created.client.client_id.clone()}</code></dd>
                <dt>"Client secret"</dt><dd><code data-testid="new-secret">{created.plain_secret.clone()}</code></dd>
            </dl>
            <p class="warning">
                "Copy the secret now: it is shown only this once and cannot be retrieved later."
            </p>
            <button type="button" class="button button-secondary" on:click=copy>
                {move || if copied.get() { "Copied" } else { "Copy secret" }}
            </button>
        </div>
    }
}
