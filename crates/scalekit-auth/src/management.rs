//! Scalekit's management REST API, the part the settings page uses: an organization's API
//! clients (list, create, delete) under `{env}/api/v1/organizations/{org}/clients`. Authorised by
//! the app's own client-credentials token, cached until shortly before it expires. A user's
//! sessions (list, revoke) are in `user_sessions`, over the same client.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::{json, Value};

use super::http_client::{error_chain, read_limited, MAX_PROVIDER_RESPONSE_BYTES};
use super::provider::Provider;

/// A cached token is replaced this long before it expires.
const TOKEN_MARGIN: Duration = Duration::from_secs(60);

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ManagementError {
    #[error("the management API is unavailable: {0}")]
    Unavailable(String),
    /// The API refused the request; the message is Scalekit's, safe to show.
    #[error("{message}")]
    Refused { status: u16, message: String },
}

/// What a new client gets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewApiClient {
    pub name: String,
    pub description: String,
    pub scopes: Vec<String>,
    pub audience: Vec<String>,
    pub expiry: u64,
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    #[serde(default)]
    expires_in: Option<u64>,
}

/// An organization API client as the management API describes it (never its secret, only the
/// last characters Scalekit keeps).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ApiClient {
    /// `m2morg_…`.
    pub client_id: String,
    /// Its display name.
    pub name: String,
    /// Its description.
    pub description: String,
    /// The scopes its tokens carry.
    pub scopes: Vec<String>,
    /// Token lifetime in seconds.
    pub expiry: u64,
    /// When it was created, as the API wrote it.
    pub created: String,
    /// The last characters of its secret, when the API says.
    pub secret_suffix: Option<String>,
}

/// A client just created: the only time its secret is ever known.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CreatedApiClient {
    /// The client.
    pub client: ApiClient,
    /// Its secret, to be shown once.
    pub plain_secret: String,
}

pub struct ManagementClient {
    provider: Arc<Provider>,
    token: tokio::sync::Mutex<Option<(String, Instant)>>,
    /// Recent answers of the user-sessions list (see `user_sessions`).
    pub(super) listed_sessions: super::user_sessions::ListedSessions,
}

fn client_view(client: &Value) -> ApiClient {
    let text = |name: &str| client[name].as_str().unwrap_or_default().to_string();
    ApiClient {
        client_id: text("client_id"),
        name: text("name"),
        description: text("description"),
        scopes: client["scopes"]
            .as_array()
            .map(|s| {
                s.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default(),
        // proto3 JSON renders int64 as a string.
        expiry: client["expiry"]
            .as_u64()
            .or_else(|| client["expiry"].as_str().and_then(|s| s.parse().ok()))
            .unwrap_or(0),
        created: text("create_time"),
        secret_suffix: client["secrets"][0]["secret_suffix"]
            .as_str()
            .map(str::to_string),
    }
}

impl ManagementClient {
    pub fn new(provider: Arc<Provider>) -> ManagementClient {
        ManagementClient {
            provider,
            token: tokio::sync::Mutex::new(None),
            listed_sessions: Default::default(),
        }
    }

    async fn token(&self) -> Result<String, ManagementError> {
        let mut cached = self.token.lock().await;
        if let Some((token, until)) = cached.as_ref() {
            if Instant::now() < *until {
                return Ok(token.clone());
            }
        }
        let endpoints = self
            .provider
            .endpoints()
            .await
            .map_err(|e| ManagementError::Unavailable(e.to_string()))?;
        let credentials = self.provider.credentials();
        let response = self
            .provider
            .http()
            .post(&endpoints.metadata.token_endpoint)
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", credentials.client_id.as_str()),
                ("client_secret", credentials.client_secret.expose()),
            ])
            .send()
            .await
            .map_err(|e| ManagementError::Unavailable(error_chain(&e)))?;
        if !response.status().is_success() {
            return Err(ManagementError::Unavailable(format!(
                "the token endpoint answered HTTP {}",
                response.status().as_u16()
            )));
        }
        let body = read_limited(response, MAX_PROVIDER_RESPONSE_BYTES)
            .await
            .map_err(ManagementError::Unavailable)?;
        let answer: TokenAnswer = serde_json::from_slice(&body)
            .map_err(|e| ManagementError::Unavailable(format!("not a token response: {e}")))?;
        let lifetime = Duration::from_secs(answer.expires_in.unwrap_or(300));
        let until = Instant::now() + lifetime.saturating_sub(TOKEN_MARGIN);
        *cached = Some((answer.access_token.clone(), until));
        Ok(answer.access_token)
    }

    fn url(
        &self,
        organization_id: &str,
        client_id: Option<&str>,
    ) -> Result<String, ManagementError> {
        let safe = |id: &str| {
            !id.is_empty()
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        };
        if !safe(organization_id) || !client_id.is_none_or(safe) {
            return Err(ManagementError::Refused {
                status: 400,
                message: "invalid identifier".into(),
            });
        }
        let base = self.provider.environment_url();
        Ok(match client_id {
            Some(id) => format!("{base}/api/v1/organizations/{organization_id}/clients/{id}"),
            None => format!("{base}/api/v1/organizations/{organization_id}/clients"),
        })
    }

    /// The provider the calls go to (its HTTP client and environment URL), for `user_sessions`.
    pub(super) fn provider(&self) -> &Provider {
        &self.provider
    }

    /// Sends `request` with the management token; the JSON answer, or the error it maps to.
    pub(super) async fn send(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<Value, ManagementError> {
        let token = self.token().await?;
        let response = request
            .bearer_auth(token)
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| ManagementError::Unavailable(error_chain(&e)))?;
        let status = response.status();
        if status == reqwest::StatusCode::UNAUTHORIZED {
            // The cached token may have been revoked: drop it so the next call gets another.
            *self.token.lock().await = None;
        }
        let body = read_limited(response, MAX_PROVIDER_RESPONSE_BYTES)
            .await
            .map_err(ManagementError::Unavailable)?;
        let json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        if status.is_success() {
            return Ok(json);
        }
        if status.is_server_error() {
            return Err(ManagementError::Unavailable(format!(
                "HTTP {}",
                status.as_u16()
            )));
        }
        Err(ManagementError::Refused {
            status: status.as_u16(),
            message: json["message"]
                .as_str()
                .unwrap_or("the management API refused the request")
                .to_string(),
        })
    }

    pub async fn list(&self, organization_id: &str) -> Result<Vec<ApiClient>, ManagementError> {
        let url = self.url(organization_id, None)?;
        let json = self.send(self.provider.http().get(url)).await?;
        Ok(json["clients"]
            .as_array()
            .map(|clients| clients.iter().map(client_view).collect())
            .unwrap_or_default())
    }

    pub async fn create(
        &self,
        organization_id: &str,
        new: &NewApiClient,
    ) -> Result<CreatedApiClient, ManagementError> {
        let url = self.url(organization_id, None)?;
        let body = json!({
            "name": new.name,
            "description": new.description,
            "scopes": new.scopes,
            "audience": new.audience,
            "expiry": new.expiry.to_string(),
        });
        let json = self
            .send(self.provider.http().post(url).json(&body))
            .await?;
        let plain_secret = json["plain_secret"]
            .as_str()
            .filter(|s| !s.is_empty())
            .ok_or_else(|| ManagementError::Unavailable("the answer had no secret".into()))?
            .to_string();
        Ok(CreatedApiClient {
            client: client_view(&json["client"]),
            plain_secret,
        })
    }

    pub async fn delete(
        &self,
        organization_id: &str,
        client_id: &str,
    ) -> Result<(), ManagementError> {
        let url = self.url(organization_id, Some(client_id))?;
        self.send(self.provider.http().delete(url))
            .await
            .map(|_| ())
    }
}
