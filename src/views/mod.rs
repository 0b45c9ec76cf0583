//! What the browser may see of the app's own data, built on the server from the auth core's types:
//! API clients without secrets, and the claims tables. (The session view and the user summary are
//! `scalekit_leptos`'.)

pub mod claims_table;

use scalekit_auth::management::{ApiClient, CreatedApiClient};

use crate::organization::{ApiClientView, CreatedApiClient as CreatedApiClientView};

pub fn api_client_view(client: ApiClient) -> ApiClientView {
    ApiClientView {
        client_id: client.client_id,
        name: client.name,
        description: client.description,
        scopes: client.scopes,
        expiry: client.expiry,
        created: client.created,
        secret_suffix: client.secret_suffix,
    }
}

pub fn created_api_client(created: CreatedApiClient) -> CreatedApiClientView {
    CreatedApiClientView {
        client: api_client_view(created.client),
        plain_secret: created.plain_secret,
    }
}
