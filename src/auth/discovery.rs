//! OpenID provider metadata (discovery) and the provider's signing keys (JWKS).

use jsonwebtoken::jwk::JwkSet;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::http_client::{error_chain, read_limited, MAX_PROVIDER_RESPONSE_BYTES};

/// The fields of `/.well-known/openid-configuration` this app uses.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderMetadata {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub jwks_uri: String,
    #[serde(default)]
    pub userinfo_endpoint: Option<String>,
    #[serde(default)]
    pub end_session_endpoint: Option<String>,
    #[serde(default)]
    pub revocation_endpoint: Option<String>,
    #[serde(default)]
    pub id_token_signing_alg_values_supported: Vec<String>,
    #[serde(default)]
    pub code_challenge_methods_supported: Vec<String>,
}

impl ProviderMetadata {
    /// Scalekit's fixed paths, used when discovery is unavailable. Source: Scalekit's SDKs
    /// (`oauth/authorize`, `oauth/token`, `keys`, `oidc/logout`), see docs/scalekit-protocol.md.
    pub fn scalekit_defaults(environment_url: &str) -> ProviderMetadata {
        ProviderMetadata {
            issuer: environment_url.to_string(),
            authorization_endpoint: format!("{environment_url}/oauth/authorize"),
            token_endpoint: format!("{environment_url}/oauth/token"),
            jwks_uri: format!("{environment_url}/keys"),
            userinfo_endpoint: Some(format!("{environment_url}/userinfo")),
            end_session_endpoint: Some(format!("{environment_url}/oidc/logout")),
            revocation_endpoint: Some(format!("{environment_url}/revoke")),
            id_token_signing_alg_values_supported: vec!["RS256".into()],
            code_challenge_methods_supported: vec!["S256".into()],
        }
    }

    /// Problems that make this metadata unusable for `environment_url`, in words a person can act on.
    pub fn problems(&self, environment_url: &str) -> Vec<String> {
        let mut problems = Vec::new();
        // OIDC Discovery §4.3: the issuer must be exactly the URL the document was fetched for.
        if self.issuer != environment_url {
            problems.push(format!(
                "issuer `{}` differs from the environment URL `{environment_url}`; use the issuer as SCALEKIT_ENVIRONMENT_URL",
                self.issuer
            ));
        }
        let origin_of = |url: &str| url::Url::parse(url).ok().map(|u| u.origin());
        for (name, url) in [
            ("authorization_endpoint", &self.authorization_endpoint),
            ("token_endpoint", &self.token_endpoint),
            ("jwks_uri", &self.jwks_uri),
        ] {
            match url::Url::parse(url) {
                Err(_) => problems.push(format!("{name} `{url}` is not an absolute URL")),
                Ok(parsed)
                    if parsed.scheme() != "https"
                        && origin_of(url) != origin_of(environment_url) =>
                {
                    problems.push(format!("{name} `{url}` is not https"))
                }
                Ok(_) => {}
            }
        }
        if !self.code_challenge_methods_supported.is_empty()
            && !self
                .code_challenge_methods_supported
                .iter()
                .any(|m| m == "S256")
        {
            problems.push("the provider does not list PKCE method S256".into());
        }
        problems
    }

    pub fn discovery_url(environment_url: &str) -> String {
        format!("{environment_url}/.well-known/openid-configuration")
    }
}

/// Why a document could not be fetched. Each variant names the URL.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    #[error("could not reach {url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("{url} answered HTTP {status}")]
    Status { url: String, status: u16 },
    #[error("{url} did not return the expected JSON: {reason}")]
    BadBody { url: String, reason: String },
}

impl FetchError {
    /// True when the provider could not be reached at all (as opposed to answering wrongly).
    pub fn is_unreachable(&self) -> bool {
        matches!(self, FetchError::Unreachable { .. })
    }
}

/// GETs `url` and parses its JSON body as `T`.
pub async fn fetch_json<T: DeserializeOwned>(
    client: &reqwest::Client,
    url: &str,
) -> Result<T, FetchError> {
    let response = client
        .get(url)
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(|e| FetchError::Unreachable {
            url: url.into(),
            reason: error_chain(&e),
        })?;
    let status = response.status();
    if !status.is_success() {
        return Err(FetchError::Status {
            url: url.into(),
            status: status.as_u16(),
        });
    }
    let body = read_limited(response, MAX_PROVIDER_RESPONSE_BYTES)
        .await
        .map_err(|reason| FetchError::Unreachable {
            url: url.into(),
            reason,
        })?;
    serde_json::from_slice(&body).map_err(|e| FetchError::BadBody {
        url: url.into(),
        reason: e.to_string(),
    })
}

pub async fn fetch_provider_metadata(
    client: &reqwest::Client,
    environment_url: &str,
) -> Result<ProviderMetadata, FetchError> {
    fetch_json(client, &ProviderMetadata::discovery_url(environment_url)).await
}

pub async fn fetch_jwks(client: &reqwest::Client, jwks_uri: &str) -> Result<JwkSet, FetchError> {
    fetch_json(client, jwks_uri).await
}

#[cfg(test)]
mod tests {
    use super::ProviderMetadata;

    #[test]
    fn scalekit_defaults_use_scalekits_fixed_paths() {
        let m = ProviderMetadata::scalekit_defaults("https://acme.scalekit.dev");
        assert_eq!(
            m.authorization_endpoint,
            "https://acme.scalekit.dev/oauth/authorize"
        );
        assert_eq!(m.token_endpoint, "https://acme.scalekit.dev/oauth/token");
        assert_eq!(m.jwks_uri, "https://acme.scalekit.dev/keys");
        assert_eq!(
            m.end_session_endpoint.as_deref(),
            Some("https://acme.scalekit.dev/oidc/logout")
        );
        assert!(m.problems("https://acme.scalekit.dev").is_empty());
    }

    #[test]
    fn i5_issuer_must_match_the_environment_url_exactly() {
        let m = ProviderMetadata::scalekit_defaults("https://acme.scalekit.dev/");
        let problems = m.problems("https://acme.scalekit.dev");
        assert!(
            problems.iter().any(|p| p.contains("issuer")),
            "{problems:?}"
        );
    }

    #[test]
    fn endpoints_must_be_absolute_and_https() {
        let mut m = ProviderMetadata::scalekit_defaults("https://acme.scalekit.dev");
        m.token_endpoint = "http://evil.example/token".into();
        m.jwks_uri = "/keys".into();
        let problems = m.problems("https://acme.scalekit.dev");
        assert_eq!(problems.len(), 2, "{problems:?}");
    }
}
