//! Scalekit's management REST API, the part the settings page uses: an organization's API
//! clients (list, create, delete) under `{env}/api/v1/organizations/{org}/clients`, and admin
//! portal links (`PUT {env}/api/v1/organizations/{org}/portal_links`). Authorised by
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

/// Why a call to the management or user-sessions API failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ManagementError {
    /// The call could not be made or gave no usable answer: the provider's endpoints or the app's
    /// client-credentials token could not be had, the API was unreachable or answered 5xx, or the
    /// answer was not what was expected. Worth retrying later.
    #[error("the management API is unavailable: {0}")]
    Unavailable(String),
    /// The request was refused: the API answered 4xx, or an identifier failed our own check and
    /// nothing was sent. The message is Scalekit's (or ours), safe to show.
    #[error("{message}")]
    Refused {
        /// The HTTP status (400 for an identifier refused before sending).
        status: u16,
        /// Scalekit's `message`, a generic text when it sent none, or "invalid identifier".
        message: String,
    },
}

/// What a new client gets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewApiClient {
    /// The display name.
    pub name: String,
    /// The description.
    pub description: String,
    /// The scopes its tokens will carry.
    pub scopes: Vec<String>,
    /// The audiences its tokens will carry (`aud`).
    pub audience: Vec<String>,
    /// Token lifetime in seconds.
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

/// A client just created: the only time its secret is ever known. `Debug` leaves the secret out
/// (checklist E4).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct CreatedApiClient {
    /// The client.
    pub client: ApiClient,
    /// Its secret, to be shown once.
    pub plain_secret: String,
}

impl std::fmt::Debug for CreatedApiClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreatedApiClient")
            .field("client", &self.client)
            .field("plain_secret", &"[redacted]")
            .finish()
    }
}

/// What a customer's IT admin may configure through an admin portal link (Scalekit's `features`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PortalFeature {
    /// Single sign-on connections (`sso`).
    Sso,
    /// Directory sync (`dir_sync`).
    DirectorySync,
}

impl PortalFeature {
    fn wire_name(self) -> &'static str {
        match self {
            PortalFeature::Sso => "sso",
            PortalFeature::DirectorySync => "dir_sync",
        }
    }
}

/// A single-use admin portal link. Scalekit's expire within a minute or at first use, so it is
/// made per click and never cached or shared between users.
#[derive(Clone, PartialEq, Eq)]
pub struct PortalLink {
    /// `location`: where to send the admin. Checked to be on the environment's origin.
    pub location: String,
    /// `expire_time`, as the API wrote it.
    pub expire_time: String,
}

/// The location is a bearer credential for the portal: `Debug` leaves it out.
impl std::fmt::Debug for PortalLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PortalLink")
            .field("location", &"[redacted]")
            .field("expire_time", &self.expire_time)
            .finish()
    }
}

/// Client for Scalekit's management API: an organization's API clients here, a user's sessions in
/// `user_sessions`. Authorised by the app's own client-credentials token, which is cached until a
/// minute before it expires and dropped when the API answers 401.
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
    /// A client for `provider`'s environment; the first call fetches the token.
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
        let request = self
            .provider
            .http()
            .post(&endpoints.metadata.token_endpoint)
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", credentials.client_id.as_str()),
                ("client_secret", credentials.client_secret.expose()),
            ]);
        let response = crate::telemetry::provider_call("token", request.send())
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
        let organization = self.organization_url(organization_id)?;
        match client_id {
            Some(id) if is_safe_identifier(id) => Ok(format!("{organization}/clients/{id}")),
            Some(_) => Err(invalid_identifier()),
            None => Ok(format!("{organization}/clients")),
        }
    }

    /// `{env}/api/v1/organizations/{org}`, after checking the id can go in a path as it is.
    fn organization_url(&self, organization_id: &str) -> Result<String, ManagementError> {
        if !is_safe_identifier(organization_id) {
            return Err(invalid_identifier());
        }
        let base = self.provider.environment_url();
        Ok(format!("{base}/api/v1/organizations/{organization_id}"))
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
        let request = request
            .bearer_auth(token)
            .header(reqwest::header::ACCEPT, "application/json");
        let response = crate::telemetry::provider_call("management", request.send())
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

    /// The organization's API clients (`GET …/organizations/{org}/clients`), without their secrets.
    pub async fn list(&self, organization_id: &str) -> Result<Vec<ApiClient>, ManagementError> {
        let url = self.url(organization_id, None)?;
        let json = self.send(self.provider.http().get(url)).await?;
        Ok(json["clients"]
            .as_array()
            .map(|clients| clients.iter().map(client_view).collect())
            .unwrap_or_default())
    }

    /// Creates an API client in the organization. The answer's plain secret is the only time it is
    /// known; an answer without one counts as [`ManagementError::Unavailable`].
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

    /// A new admin portal link for the organization, opening `features`
    /// (`PUT …/organizations/{org}/portal_links?features=…`).
    pub async fn portal_link(
        &self,
        organization_id: &str,
        features: &[PortalFeature],
    ) -> Result<PortalLink, ManagementError> {
        let url = format!("{}/portal_links", self.organization_url(organization_id)?);
        let query: Vec<(&str, &str)> = features
            .iter()
            .map(|feature| ("features", feature.wire_name()))
            .collect();
        let answer = self
            .send(self.provider.http().put(url).query(&query))
            .await?;
        portal_link_from(&answer, self.provider.environment_url())
    }

    /// Deletes one of the organization's API clients.
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

fn is_safe_identifier(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fn invalid_identifier() -> ManagementError {
    ManagementError::Refused {
        status: 400,
        message: "invalid identifier".into(),
    }
}

/// The portal link in an answer, if it is an http(s) URL on the environment's own origin: the
/// browser is sent there, so anything else is refused rather than followed.
fn portal_link_from(answer: &Value, environment_url: &str) -> Result<PortalLink, ManagementError> {
    let location = answer["link"]["location"].as_str().unwrap_or_default();
    let origin_of = |url: &str| url::Url::parse(url).ok().map(|u| u.origin());
    let on_environment = matches!(
        (url::Url::parse(location), origin_of(environment_url)),
        (Ok(url), Some(environment)) if matches!(url.scheme(), "https" | "http")
            && url.origin() == environment
    );
    if !on_environment {
        return Err(ManagementError::Unavailable(
            "the answer had no portal link on the environment's origin".into(),
        ));
    }
    Ok(PortalLink {
        location: location.to_string(),
        expire_time: answer["link"]["expire_time"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::{portal_link_from, ApiClient, CreatedApiClient};
    use serde_json::json;

    #[test]
    fn a_portal_link_must_be_on_the_environments_origin() {
        let env = "https://acme.scalekit.dev";
        let answer = |location: &str| json!({"link": {"id": "lnk_1", "location": location, "expire_time": "2026-01-01T00:00:00Z"}});
        let link = portal_link_from(
            &answer("https://acme.scalekit.dev/magicLink/x?token=t"),
            env,
        )
        .expect("on the environment");
        assert_eq!(link.expire_time, "2026-01-01T00:00:00Z");
        for refused in [
            "https://evil.example/magicLink/x",
            "http://acme.scalekit.dev/magicLink/x",
            "javascript:alert(1)",
            "/magicLink/x",
            "",
        ] {
            assert!(
                portal_link_from(&answer(refused), env).is_err(),
                "{refused}"
            );
        }
        assert!(portal_link_from(&json!({}), env).is_err());
        let debug = format!("{link:?}");
        assert!(!debug.contains("token=t"), "{debug}");
    }

    #[test]
    fn e4_a_created_clients_debug_leaves_its_secret_out() {
        let created = CreatedApiClient {
            client: ApiClient::default(),
            plain_secret: "sk_live_very_secret".into(),
        };
        let text = format!("{created:?}");
        assert!(!text.contains("sk_live_very_secret"), "{text}");
        assert!(text.contains("[redacted]"), "{text}");
    }
}
