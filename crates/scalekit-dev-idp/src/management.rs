//! The slice of Scalekit's management REST API the app uses: organization API clients
//! (`/api/v1/organizations/{org}/clients`), authorised by the environment client's
//! client_credentials token. Errors use grpc-gateway's shape, as Scalekit's do.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use http::header::AUTHORIZATION;
use http::{HeaderMap, StatusCode};
use serde::Deserialize;
use serde_json::{json, Value};

use super::store::ApiClient;
use super::{now, random_token, rfc3339, scalekit_id, DevIdp};

/// A grpc-gateway error: `code` is the gRPC status number, `name` Scalekit's error code.
#[derive(Debug)]
pub struct RpcError {
    status: StatusCode,
    code: u16,
    name: &'static str,
    message: String,
}

impl RpcError {
    /// The gRPC status code and message, for the gRPC encoding of the same API.
    pub(super) fn grpc_status(&self) -> (u16, &str) {
        (self.code, &self.message)
    }
}

impl IntoResponse for RpcError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(json!({
                "code": self.code,
                "message": self.message,
                "details": [{
                    "@type": "type.googleapis.com/scalekit.v1.errdetails.ErrorInfo",
                    "error_code": self.name,
                }],
            })),
        )
            .into_response()
    }
}

fn unauthenticated(message: &str) -> RpcError {
    RpcError {
        status: StatusCode::UNAUTHORIZED,
        code: 16,
        name: "UNAUTHENTICATED",
        message: message.into(),
    }
}

pub(super) fn not_found(message: &str) -> RpcError {
    RpcError {
        status: StatusCode::NOT_FOUND,
        code: 5,
        name: "NOT_FOUND",
        message: message.into(),
    }
}

pub(super) fn invalid_argument(message: &str) -> RpcError {
    RpcError {
        status: StatusCode::BAD_REQUEST,
        code: 3,
        name: "INVALID_ARGUMENT",
        message: message.into(),
    }
}

/// The caller must present a valid management token of a client allowed to manage, for an
/// organization that exists.
pub(super) fn authorize(idp: &DevIdp, headers: &HeaderMap, org: &str) -> Result<(), RpcError> {
    authenticate(idp, headers)?;
    if idp.settings.organization(org).is_none() {
        return Err(not_found(&format!("organization {org} not found")));
    }
    Ok(())
}

/// The caller must present a valid management token of a client allowed to manage.
pub(super) fn authenticate(idp: &DevIdp, headers: &HeaderMap) -> Result<(), RpcError> {
    let token = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| unauthenticated("Token empty"))?;
    let claims = idp
        .keys()
        .verify(token, &idp.issuer, true)
        .ok_or_else(|| unauthenticated("Token invalid or expired"))?;
    // A management token is the environment client's own client_credentials token: its subject
    // is the client and its audience the environment. User tokens issued to the same client
    // (they carry a `sid`) must not pass.
    let client_id = claims["client_id"].as_str().unwrap_or_default();
    let is_management_token = claims["sub"].as_str() == Some(client_id)
        && claims.get("sid").is_none()
        && claims["aud"] == serde_json::json!([idp.issuer]);
    if !is_management_token
        || !idp
            .registered_client(client_id)
            .is_some_and(|c| c.management)
    {
        return Err(unauthenticated(
            "Token is not an environment management token",
        ));
    }
    Ok(())
}

/// The M2MClient JSON Scalekit returns (secrets listed by suffix only).
fn client_json(client: &ApiClient) -> Value {
    let suffix: String = client
        .secret
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    json!({
        "client_id": client.client_id,
        "name": client.name,
        "description": client.description,
        "organization_id": client.organization_id,
        "scopes": client.scopes,
        "audience": client.audience,
        "custom_claims": [],
        "expiry": client.expiry.to_string(),
        "create_time": client.create_time,
        "update_time": client.create_time,
        "redirect_uris": [],
        "is_dcr": false,
        "is_cimd": false,
        "secrets": [{
            "id": client.secret_id,
            "create_time": client.create_time,
            "update_time": client.create_time,
            "secret_suffix": suffix,
            "status": "ACTIVE",
        }],
    })
}

#[derive(Deserialize)]
pub struct NewClient {
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    scopes: Vec<String>,
    #[serde(default)]
    audience: Vec<String>,
    /// Seconds; proto3 JSON may send an int64 as a string.
    #[serde(default)]
    expiry: Option<Value>,
}

fn parse_expiry(value: Option<&Value>) -> Result<u64, RpcError> {
    let seconds = match value {
        None | Some(Value::Null) => return Ok(3600),
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.parse().ok(),
        Some(_) => None,
    };
    seconds
        .filter(|s| (60..=31_536_000).contains(s))
        .ok_or_else(|| invalid_argument("expiry must be 60 to 31536000 seconds"))
}

pub async fn create_client(
    State(idp): State<Arc<DevIdp>>,
    Path(org): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, RpcError> {
    authorize(&idp, &headers, &org)?;
    let new = serde_json::from_slice::<NewClient>(&body)
        .map_err(|_| invalid_argument("the body must be a JSON client object"))?;
    if new.name.trim().is_empty() || new.name.len() > 128 {
        return Err(invalid_argument(
            "name is required (at most 128 characters)",
        ));
    }
    let expiry = parse_expiry(new.expiry.as_ref())?;
    if new
        .scopes
        .iter()
        .any(|s| s.is_empty() || s.contains(char::is_whitespace))
    {
        return Err(invalid_argument(
            "scopes must be non-empty and without spaces",
        ));
    }
    let plain_secret = format!("sk_dev_{}", random_token(32));
    let client = ApiClient {
        client_id: scalekit_id("m2morg_"),
        secret: plain_secret.clone(),
        secret_id: scalekit_id("sks_"),
        name: new.name.trim().to_string(),
        description: new.description,
        organization_id: org,
        scopes: new.scopes,
        audience: new.audience,
        expiry,
        create_time: rfc3339(now()),
    };
    let body = json!({ "client": client_json(&client), "plain_secret": plain_secret });
    idp.store()
        .api_clients
        .insert(client.client_id.clone(), client);
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

pub async fn list_clients(
    State(idp): State<Arc<DevIdp>>,
    Path(org): Path<String>,
    headers: HeaderMap,
) -> Result<Response, RpcError> {
    authorize(&idp, &headers, &org)?;
    let clients: Vec<Value> = idp
        .store()
        .api_clients
        .values()
        .filter(|c| c.organization_id == org)
        .map(client_json)
        .collect();
    Ok(Json(json!({
        "total_size": clients.len(),
        "clients": clients,
        "next_page_token": "",
        "prev_page_token": "",
    }))
    .into_response())
}

pub async fn get_client(
    State(idp): State<Arc<DevIdp>>,
    Path((org, client_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, RpcError> {
    authorize(&idp, &headers, &org)?;
    let store = idp.store();
    match store.api_clients.get(&client_id) {
        Some(client) if client.organization_id == org => {
            Ok(Json(json!({ "client": client_json(client) })).into_response())
        }
        _ => Err(not_found(&format!("client {client_id} not found"))),
    }
}

pub async fn delete_client(
    State(idp): State<Arc<DevIdp>>,
    Path((org, client_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, RpcError> {
    authorize(&idp, &headers, &org)?;
    let mut store = idp.store();
    // One organization's token cannot touch another organization's clients.
    match store.api_clients.get(&client_id) {
        Some(client) if client.organization_id == org => {
            store.api_clients.remove(&client_id);
            Ok(Json(json!({})).into_response())
        }
        _ => Err(not_found(&format!("client {client_id} not found"))),
    }
}
