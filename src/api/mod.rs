//! The resource server for machine clients: a JSON API under `/api` protected by Scalekit
//! client-credentials JWTs with per-route scopes (RFC 6750), and its RFC 9728 metadata. Cookies
//! play no part here: only `Authorization: Bearer` counts (checklist A1).

pub mod bearer;
pub mod deployments;
pub mod errors;
pub mod metadata;

use std::sync::Arc;

use axum::routing::get;
use axum::Router;

use crate::auth::middleware::Auth;

/// What the API's handlers and layers share.
#[derive(Clone)]
pub struct ApiState {
    pub auth: Auth,
    /// The API's resource identifier: required in every token's `aud`.
    pub audience: String,
    /// Where the RFC 9728 metadata is, for the `resource_metadata` challenge parameter.
    pub metadata_url: String,
    pub deployments: Arc<deployments::DeploymentStore>,
}

/// The scopes this API knows, for its metadata.
pub const SCOPES: [&str; 2] = [
    <deployments::ReadDeployments as bearer::Scope>::NAME,
    <deployments::DeployApplications as bearer::Scope>::NAME,
];

/// `/api/...`: every request is authenticated first; each handler names the scope it needs in
/// its signature (`Caller<ReadDeployments>`), so the requirement sits next to the code it guards
/// and a handler cannot see a caller without one (A8).
pub fn router(state: ApiState) -> Router {
    Router::new()
        .route(
            "/v1/deployments",
            get(deployments::list).post(deployments::create),
        )
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            bearer::authenticate,
        ))
        .fallback(errors::not_found)
        .with_state(state)
}
