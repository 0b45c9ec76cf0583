//! Calls to the provider's token endpoint: the code exchange and the refresh. Answers are sorted
//! into what the app must do: `invalid_grant` ends a session (checklist R5, E6); an outage, a
//! timeout or a garbled answer is retryable and keeps it (E5).

use std::fmt;

use serde::Deserialize;

use super::http_client::{error_chain, read_limited, MAX_PROVIDER_RESPONSE_BYTES};
use crate::secret::Secret;

/// The client's credentials at the provider (`client_secret_post`, as Scalekit's SDKs send).
#[derive(Clone, Debug)]
pub struct ClientCredentials {
    /// The client id.
    pub client_id: String,
    /// The client secret; never printed.
    pub client_secret: Secret,
}

/// A successful token response. `Debug` shows which tokens came, never their values.
#[derive(Clone, Deserialize)]
pub struct TokenResponse {
    /// The access token, not yet validated.
    pub access_token: String,
    /// The ID token, not yet validated; a refresh may come without one.
    #[serde(default)]
    pub id_token: Option<String>,
    /// The refresh token; absent when the provider issued or rotated none.
    #[serde(default)]
    pub refresh_token: Option<String>,
    /// The access token's lifetime in seconds, as the provider states it. Not used: the validated
    /// `exp` counts.
    #[serde(default)]
    pub expires_in: Option<u64>,
    /// The granted scopes, space-separated. Not used.
    #[serde(default)]
    pub scope: Option<String>,
    /// The token type (`Bearer`). Not used.
    #[serde(default)]
    pub token_type: Option<String>,
}

impl fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenResponse")
            .field("access_token", &"[redacted]")
            .field("id_token", &self.id_token.as_ref().map(|_| "[redacted]"))
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "[redacted]"),
            )
            .field("expires_in", &self.expires_in)
            .field("scope", &self.scope)
            .finish()
    }
}

/// Why a token-endpoint call failed, sorted by what the app must do.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TokenEndpointError {
    /// The code or refresh token is dead (used, expired, revoked): sign in again.
    #[error("the provider refused the grant (invalid_grant)")]
    InvalidGrant,
    /// Any other OAuth error: a configuration problem on our side (client id or secret, redirect
    /// URI, scopes). `description` is the provider's text, for the log only.
    #[error("the provider answered `{error}`")]
    Refused {
        /// The OAuth `error` code.
        error: String,
        /// The provider's `error_description`, if any.
        description: Option<String>,
    },
    /// Unreachable, timed out, 5xx, or an answer that is not a token response: try again later.
    #[error("the provider is unavailable: {0}")]
    Unavailable(String),
}

#[derive(Deserialize)]
struct ErrorBody {
    error: String,
    #[serde(default)]
    error_description: Option<String>,
}

/// Calls the provider's token endpoint with the client's credentials in the form body
/// (`client_secret_post`).
pub struct TokenClient {
    http: reqwest::Client,
    token_endpoint: String,
    credentials: ClientCredentials,
}

impl TokenClient {
    /// A client for `token_endpoint`.
    pub fn new(
        http: reqwest::Client,
        token_endpoint: String,
        credentials: ClientCredentials,
    ) -> TokenClient {
        TokenClient {
            http,
            token_endpoint,
            credentials,
        }
    }

    /// `grant_type=authorization_code` with the PKCE verifier and the same redirect URI.
    pub async fn exchange_code(
        &self,
        code: &str,
        redirect_uri: &str,
        code_verifier: &str,
    ) -> Result<TokenResponse, TokenEndpointError> {
        self.call(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("code_verifier", code_verifier),
        ])
        .await
    }

    /// `grant_type=refresh_token`.
    pub async fn refresh(&self, refresh_token: &str) -> Result<TokenResponse, TokenEndpointError> {
        self.call(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ])
        .await
    }

    async fn call(&self, grant: &[(&str, &str)]) -> Result<TokenResponse, TokenEndpointError> {
        crate::telemetry::provider_call("token", self.call_once(grant)).await
    }

    async fn call_once(&self, grant: &[(&str, &str)]) -> Result<TokenResponse, TokenEndpointError> {
        let mut form: Vec<(&str, &str)> = grant.to_vec();
        form.push(("client_id", &self.credentials.client_id));
        form.push(("client_secret", self.credentials.client_secret.expose()));
        let response = self
            .http
            .post(&self.token_endpoint)
            .header(reqwest::header::ACCEPT, "application/json")
            .form(&form)
            .send()
            .await
            .map_err(|e| TokenEndpointError::Unavailable(error_chain(&e)))?;
        let status = response.status();
        let body = read_limited(response, MAX_PROVIDER_RESPONSE_BYTES)
            .await
            .map_err(TokenEndpointError::Unavailable)?;
        if status.is_success() {
            return serde_json::from_slice::<TokenResponse>(&body).map_err(|e| {
                TokenEndpointError::Unavailable(format!("not a token response: {e}"))
            });
        }
        match serde_json::from_slice::<ErrorBody>(&body) {
            Ok(error) if error.error == "invalid_grant" => Err(TokenEndpointError::InvalidGrant),
            Ok(error) if status.is_client_error() => Err(TokenEndpointError::Refused {
                error: error.error,
                description: error.error_description,
            }),
            _ => Err(TokenEndpointError::Unavailable(format!(
                "HTTP {}",
                status.as_u16()
            ))),
        }
    }
}
