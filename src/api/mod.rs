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

use self::bearer::BearerGuard;
use self::errors::ChallengeTarget;
use scalekit_auth::Auth;

/// What the API's handlers and layers share.
#[derive(Clone)]
pub struct ApiState {
    /// The API's audience (its resource identifier) and where its challenges point.
    pub guard: BearerGuard,
    pub deployments: Arc<deployments::DeploymentStore>,
}

impl ApiState {
    /// `audience` is the API's resource identifier; `app_url` is where its metadata is served.
    pub fn new(
        auth: Auth,
        audience: String,
        app_url: &str,
        deployments: Arc<deployments::DeploymentStore>,
    ) -> ApiState {
        let target = ChallengeTarget {
            realm: "api",
            metadata_url: metadata::metadata_url(&audience, app_url).into(),
        };
        ApiState {
            guard: BearerGuard::new(auth, audience, Vec::new(), target),
            deployments,
        }
    }
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
            state.guard.clone(),
            bearer::authenticate,
        ))
        .fallback(errors::not_found)
        .with_state(state)
}
