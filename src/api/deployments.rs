//! The example resource: deployments, owned per organization. A client only ever sees its own
//! organization's (the organization comes from its token, never from the request).

use std::collections::HashMap;
use std::sync::Mutex;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use http::header::CACHE_CONTROL;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::bearer::{Caller, Scope};
use super::ApiState;

pub struct ReadDeployments;
impl Scope for ReadDeployments {
    const NAME: &'static str = "read:deployments";
}

pub struct DeployApplications;
impl Scope for DeployApplications {
    const NAME: &'static str = "deploy:applications";
}

/// Deployments kept per organization; a bound keeps a misbehaving client from filling memory.
const MAX_PER_ORGANIZATION: usize = 1000;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Deployment {
    pub id: String,
    pub name: String,
    pub environment: String,
    pub created_by: String,
    pub created_at: u64,
}

#[derive(Default)]
pub struct DeploymentStore {
    by_organization: Mutex<HashMap<String, Vec<Deployment>>>,
}

#[derive(Deserialize)]
pub struct NewDeployment {
    pub name: String,
    #[serde(default)]
    pub environment: Option<String>,
}

/// Why a deployment was not created; the text is safe to show the caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("name: 1 to 64 lowercase letters, digits or dashes")]
    BadName,
    #[error("environment: staging, production or preview")]
    BadEnvironment,
    #[error("this organization has too many deployments")]
    TooMany,
}

impl DeploymentStore {
    /// The organization's deployments, oldest first.
    pub fn list(&self, organization: &str) -> Vec<Deployment> {
        self.by_organization
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(organization)
            .cloned()
            .unwrap_or_default()
    }

    /// Checks `new` and records it for `organization`, created by `created_by` (a client id).
    pub fn create(
        &self,
        organization: &str,
        created_by: &str,
        new: NewDeployment,
    ) -> Result<Deployment, Refused> {
        let name_ok = (1..=64).contains(&new.name.len())
            && new
                .name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !name_ok {
            return Err(Refused::BadName);
        }
        let environment = new.environment.unwrap_or_else(|| "staging".into());
        if !matches!(environment.as_str(), "staging" | "production" | "preview") {
            return Err(Refused::BadEnvironment);
        }
        let deployment = Deployment {
            id: format!("dep_{}", uuid::Uuid::new_v4().simple()),
            name: new.name,
            environment,
            created_by: created_by.to_string(),
            created_at: scalekit_auth::now_secs(),
        };
        let mut store = self
            .by_organization
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let list = store.entry(organization.to_string()).or_default();
        if list.len() >= MAX_PER_ORGANIZATION {
            return Err(Refused::TooMany);
        }
        list.push(deployment.clone());
        Ok(deployment)
    }
}

fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(CACHE_CONTROL, scalekit_auth::NO_STORE);
    response
}

fn bad_body(description: &str) -> Response {
    no_store(
        (
            StatusCode::BAD_REQUEST,
            Json(json!({ "error": "invalid_body", "error_description": description })),
        )
            .into_response(),
    )
}

/// `GET /api/v1/deployments` (scope `read:deployments`).
pub async fn list(State(api): State<ApiState>, caller: Caller<ReadDeployments>) -> Response {
    let organization = caller.caller.organization_id.as_deref().unwrap_or_default();
    /// Serialised straight from the data (no intermediate JSON tree: this is the hot path).
    #[derive(Serialize)]
    struct Listing<'a> {
        organization_id: &'a str,
        deployments: Vec<Deployment>,
    }
    let deployments = api.deployments.list(organization);
    no_store(
        Json(Listing {
            organization_id: organization,
            deployments,
        })
        .into_response(),
    )
}

/// `POST /api/v1/deployments` (scope `deploy:applications`) with `{"name": "...", "environment":
/// "staging" | "production" | "preview"}`.
pub async fn create(
    State(api): State<ApiState>,
    caller: Caller<DeployApplications>,
    body: Result<Json<NewDeployment>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let Ok(Json(new)) = body else {
        return bad_body("send JSON like {\"name\": \"web\", \"environment\": \"staging\"}");
    };
    let organization = caller.caller.organization_id.clone().unwrap_or_default();
    match api
        .deployments
        .create(&organization, &caller.caller.client_id, new)
    {
        Ok(deployment) => no_store((StatusCode::CREATED, Json(deployment)).into_response()),
        Err(refused) => bad_body(&refused.to_string()),
    }
}
