//! OpenID provider metadata (discovery) and the provider's signing keys (JWKS), with how long the
//! provider lets a response be reused (its caching headers, RFC 9111).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::jwk::JwkSet;
use reqwest::header::{HeaderMap, HeaderValue, AGE, CACHE_CONTROL, DATE, EXPIRES};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::http_client::{error_chain, read_limited, MAX_PROVIDER_RESPONSE_BYTES};

/// The fields of `/.well-known/openid-configuration` this app uses.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderMetadata {
    /// The issuer identifier: it must equal the environment URL exactly (OIDC Discovery §4.3),
    /// and the `iss` of ID, access and logout tokens must equal it.
    pub issuer: String,
    /// Where the browser is sent to sign in.
    pub authorization_endpoint: String,
    /// Where codes and refresh tokens are exchanged for tokens.
    pub token_endpoint: String,
    /// Where the provider publishes its signing keys (JWKS).
    pub jwks_uri: String,
    /// The user-info endpoint, if published. Never called: the profile comes from the validated ID
    /// token (checklist I14).
    #[serde(default)]
    pub userinfo_endpoint: Option<String>,
    /// The RP-initiated logout endpoint, if published; without one, sign-out does not visit the
    /// provider.
    #[serde(default)]
    pub end_session_endpoint: Option<String>,
    /// The RFC 7009 revocation endpoint, if published; sign-out revokes the refresh token there.
    #[serde(default)]
    pub revocation_endpoint: Option<String>,
    /// The ID-token signing algorithms the provider lists. Not used for validation: the allow-list
    /// is ours (`ALLOWED_ALGORITHMS`), never the provider's or the token's.
    #[serde(default)]
    pub id_token_signing_alg_values_supported: Vec<String>,
    /// The PKCE methods the provider lists; when it lists any, `S256` must be among them (see
    /// [`ProviderMetadata::problems`]).
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
        // Revocation gets the client secret and the refresh token, end-session the ID token: each
        // endpoint the app sends something to is held to the same rule.
        let optional = [
            ("end_session_endpoint", self.end_session_endpoint.as_ref()),
            ("revocation_endpoint", self.revocation_endpoint.as_ref()),
        ];
        for (name, url) in [
            ("authorization_endpoint", &self.authorization_endpoint),
            ("token_endpoint", &self.token_endpoint),
            ("jwks_uri", &self.jwks_uri),
        ]
        .into_iter()
        .chain(
            optional
                .into_iter()
                .filter_map(|(name, url)| Some((name, url?))),
        ) {
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

    /// The discovery document's URL for `environment_url`:
    /// `{environment_url}/.well-known/openid-configuration`.
    pub fn discovery_url(environment_url: &str) -> String {
        format!("{environment_url}/.well-known/openid-configuration")
    }
}

/// Why a document could not be fetched. Each variant names the URL.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    /// No usable answer arrived: the connection, TLS or the deadline failed, or the body broke
    /// off or was larger than [`MAX_PROVIDER_RESPONSE_BYTES`].
    #[error("could not reach {url}: {reason}")]
    Unreachable {
        /// The URL asked.
        url: String,
        /// What failed, with its causes.
        reason: String,
    },
    /// The server answered with a status other than 2xx.
    #[error("{url} answered HTTP {status}")]
    Status {
        /// The URL asked.
        url: String,
        /// The HTTP status code.
        status: u16,
    },
    /// The body is not the JSON expected (or, for the key cache, a JWKS without a usable RSA
    /// signing key).
    #[error("{url} did not return the expected JSON: {reason}")]
    BadBody {
        /// The URL asked.
        url: String,
        /// The parse error, or what is missing.
        reason: String,
    },
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
    Ok(fetch_json_with_headers(client, url).await?.0)
}

/// The same, with the response's headers.
async fn fetch_json_with_headers<T: DeserializeOwned>(
    client: &reqwest::Client,
    url: &str,
) -> Result<(T, HeaderMap), FetchError> {
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
    let headers = response.headers().clone();
    let body = read_limited(response, MAX_PROVIDER_RESPONSE_BYTES)
        .await
        .map_err(|reason| FetchError::Unreachable {
            url: url.into(),
            reason,
        })?;
    let value = serde_json::from_slice(&body).map_err(|e| FetchError::BadBody {
        url: url.into(),
        reason: e.to_string(),
    })?;
    Ok((value, headers))
}

/// Fetches the discovery document for `environment_url`. Not checked here: the caller runs
/// [`ProviderMetadata::problems`] before using it.
pub async fn fetch_provider_metadata(
    client: &reqwest::Client,
    environment_url: &str,
) -> Result<ProviderMetadata, FetchError> {
    let url = ProviderMetadata::discovery_url(environment_url);
    crate::telemetry::provider_call("discovery", fetch_json(client, &url)).await
}

/// Fetches the JWKS at `jwks_uri`, without its caching headers (see `fetch_jwks_with_freshness`).
pub async fn fetch_jwks(client: &reqwest::Client, jwks_uri: &str) -> Result<JwkSet, FetchError> {
    crate::telemetry::provider_call("jwks", fetch_json(client, jwks_uri)).await
}

/// The JWKS and how long the provider says it may be reused.
pub async fn fetch_jwks_with_freshness(
    client: &reqwest::Client,
    jwks_uri: &str,
) -> Result<(JwkSet, Freshness), FetchError> {
    let (jwks, headers) =
        crate::telemetry::provider_call("jwks", fetch_json_with_headers(client, jwks_uri)).await?;
    Ok((jwks, freshness(&headers, SystemTime::now())))
}

/// How long a response may be reused, as its headers say (RFC 9111 §4.2), before any bounds the
/// caller puts on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Freshness {
    /// `no-store`, `no-cache`, or freshness information that does not parse: ask again soon.
    Revalidate,
    /// `max-age`, else `Expires` minus `Date`, less the `Age` it already has.
    For(Duration),
    /// No caching headers at all.
    Unspecified,
}

/// The freshness `headers` give a response received at `now`.
pub fn freshness(headers: &HeaderMap, now: SystemTime) -> Freshness {
    let directives = cache_directives(headers);
    if directives
        .iter()
        .any(|(name, _)| name == "no-store" || name == "no-cache")
    {
        return Freshness::Revalidate;
    }
    // RFC 9111 §4.2.1: max-age wins over Expires; with several, the first counts.
    let lifetime = match directives.iter().find(|(name, _)| name == "max-age") {
        Some((_, value)) => value.as_deref().and_then(delta_seconds),
        None => match headers.get(EXPIRES) {
            None => return Freshness::Unspecified,
            Some(expires) => expires_lifetime(expires, headers.get(DATE), now),
        },
    };
    // Invalid freshness information means stale (RFC 9111 §4.2.1, §5.3: `Expires: 0`).
    let Some(lifetime) = lifetime else {
        return Freshness::Revalidate;
    };
    let age = headers
        .get(AGE)
        .and_then(|v| v.to_str().ok())
        .and_then(delta_seconds)
        .unwrap_or(Duration::ZERO);
    Freshness::For(lifetime.saturating_sub(age))
}

/// Every `Cache-Control` directive, lowercased, with its value unquoted.
fn cache_directives(headers: &HeaderMap) -> Vec<(String, Option<String>)> {
    headers
        .get_all(CACHE_CONTROL)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .filter(|directive| !directive.is_empty())
        .map(|directive| match directive.split_once('=') {
            Some((name, value)) => (
                name.trim().to_ascii_lowercase(),
                Some(value.trim().trim_matches('"').to_string()),
            ),
            None => (directive.to_ascii_lowercase(), None),
        })
        .collect()
}

/// RFC 9111 delta-seconds: digits only; too large to hold means "very long".
fn delta_seconds(text: &str) -> Option<Duration> {
    let text = text.trim();
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(Duration::from_secs(text.parse().unwrap_or(u64::MAX)))
}

/// `Expires` minus `Date` (our clock when `Date` is missing); `None` when `Expires` does not parse.
fn expires_lifetime(
    expires: &HeaderValue,
    date: Option<&HeaderValue>,
    now: SystemTime,
) -> Option<Duration> {
    let expires = parse_http_date(expires.to_str().ok()?)?;
    let sent = date
        .and_then(|v| v.to_str().ok())
        .and_then(parse_http_date)
        .unwrap_or(now);
    Some(expires.duration_since(sent).unwrap_or(Duration::ZERO))
}

/// An IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the one format HTTP senders must use
/// (RFC 9110 §5.6.7). The obsolete formats are refused, which makes such a response stale.
pub fn parse_http_date(text: &str) -> Option<SystemTime> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let (_weekday, rest) = text.trim().split_once(", ")?;
    let [day, month, year, time, "GMT"] = rest.split(' ').collect::<Vec<_>>()[..] else {
        return None;
    };
    let [hour, minute, second] = time.split(':').collect::<Vec<_>>()[..] else {
        return None;
    };
    let number = |text: &str, digits: usize, max: i64| -> Option<i64> {
        let valid = text.len() == digits && text.bytes().all(|b| b.is_ascii_digit());
        valid
            .then(|| text.parse().ok())
            .flatten()
            .filter(|n| *n <= max)
    };
    let month = MONTHS.iter().position(|m| *m == month)? as i64 + 1;
    let day = number(day, 2, 31).filter(|d| *d >= 1)?;
    let days = crate::time::days_from_civil(number(year, 4, 9999)?, month, day);
    let seconds = days * 86_400
        + number(hour, 2, 23)? * 3_600
        + number(minute, 2, 59)? * 60
        + number(second, 2, 60)?;
    // Dates before 1970 are simply in the past.
    Some(UNIX_EPOCH + Duration::from_secs(u64::try_from(seconds).unwrap_or(0)))
}

#[cfg(test)]
mod tests {
    use super::*;

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

    /// L10, O2: the endpoints that receive the client secret, a refresh token or the ID token
    /// hint must be https too.
    #[test]
    fn revocation_and_end_session_endpoints_must_be_https_too() {
        let mut m = ProviderMetadata::scalekit_defaults("https://acme.scalekit.dev");
        m.revocation_endpoint = Some("http://evil.example/revoke".into());
        m.end_session_endpoint = Some("logout".into());
        let problems = m.problems("https://acme.scalekit.dev");
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems
            .iter()
            .any(|p| p.starts_with("revocation_endpoint")));
        m.revocation_endpoint = None;
        m.end_session_endpoint = None;
        assert!(m.problems("https://acme.scalekit.dev").is_empty());
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.append(*name, HeaderValue::from_static(value));
        }
        headers
    }

    /// Sun, 06 Nov 1994 08:49:37 GMT, the example date of RFC 9110.
    const EXAMPLE_DATE: u64 = 784_111_777;

    fn at(seconds: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(seconds)
    }

    fn fresh_for(pairs: &[(&'static str, &'static str)]) -> Freshness {
        freshness(&headers(pairs), at(EXAMPLE_DATE))
    }

    #[test]
    fn a7_max_age_is_read_from_cache_control() {
        let secs = |s| Freshness::For(Duration::from_secs(s));
        assert_eq!(fresh_for(&[("cache-control", "max-age=600")]), secs(600));
        assert_eq!(
            fresh_for(&[("cache-control", "public, Max-Age=\"120\", must-revalidate")]),
            secs(120)
        );
        assert_eq!(
            fresh_for(&[("cache-control", "public"), ("cache-control", "max-age=60")]),
            secs(60),
            "directives from several header lines count together"
        );
        assert_eq!(
            fresh_for(&[("cache-control", "max-age=300, max-age=5")]),
            secs(300),
            "the first occurrence counts"
        );
        assert_eq!(
            fresh_for(&[("cache-control", "max-age=99999999999999999999999")]),
            secs(u64::MAX),
            "too large to hold is very long, not invalid"
        );
    }

    #[test]
    fn a7_age_already_spent_in_a_cache_is_subtracted() {
        assert_eq!(
            fresh_for(&[("cache-control", "max-age=600"), ("age", "100")]),
            Freshness::For(Duration::from_secs(500))
        );
        assert_eq!(
            fresh_for(&[("cache-control", "max-age=60"), ("age", "100")]),
            Freshness::For(Duration::ZERO)
        );
        assert_eq!(
            fresh_for(&[("cache-control", "max-age=60"), ("age", "soon")]),
            Freshness::For(Duration::from_secs(60)),
            "an unreadable Age is ignored"
        );
    }

    #[test]
    fn a7_no_store_no_cache_and_invalid_values_mean_revalidate_soon() {
        for value in [
            "no-store",
            "no-cache",
            "max-age=3600, no-cache",
            "no-cache=\"set-cookie\", max-age=3600",
            "max-age=-1",
            "max-age=1.5",
            "max-age=",
            "max-age",
        ] {
            assert_eq!(
                fresh_for(&[("cache-control", value)]),
                Freshness::Revalidate,
                "{value}"
            );
        }
        assert_eq!(fresh_for(&[("expires", "0")]), Freshness::Revalidate);
        assert_eq!(
            fresh_for(&[("expires", "Sunday, 06-Nov-94 08:49:37 GMT")]),
            Freshness::Revalidate,
            "obsolete date formats count as already expired"
        );
    }

    #[test]
    fn a7_expires_counts_from_the_date_header_when_there_is_no_max_age() {
        assert_eq!(
            fresh_for(&[
                ("date", "Sun, 06 Nov 1994 08:49:37 GMT"),
                ("expires", "Sun, 06 Nov 1994 09:49:37 GMT")
            ]),
            Freshness::For(Duration::from_secs(3_600))
        );
        // Without Date, from our clock (EXAMPLE_DATE here).
        assert_eq!(
            fresh_for(&[("expires", "Sun, 06 Nov 1994 08:59:37 GMT")]),
            Freshness::For(Duration::from_secs(600))
        );
        assert_eq!(
            fresh_for(&[("expires", "Sat, 05 Nov 1994 08:49:37 GMT")]),
            Freshness::For(Duration::ZERO),
            "already expired"
        );
        assert_eq!(
            fresh_for(&[
                ("cache-control", "max-age=60"),
                ("expires", "Sun, 06 Nov 1994 09:49:37 GMT")
            ]),
            Freshness::For(Duration::from_secs(60)),
            "max-age wins over Expires"
        );
    }

    #[test]
    fn a7_no_caching_headers_leave_the_choice_to_the_caller() {
        assert_eq!(fresh_for(&[]), Freshness::Unspecified);
        assert_eq!(
            fresh_for(&[("cache-control", "public")]),
            Freshness::Unspecified
        );
    }

    #[test]
    fn http_dates_parse_as_imf_fixdate_only() {
        assert_eq!(
            parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(at(EXAMPLE_DATE))
        );
        assert_eq!(
            parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT"),
            Some(at(0))
        );
        assert_eq!(
            parse_http_date("Tue, 29 Feb 2028 23:59:59 GMT"),
            Some(at(1_835_481_599))
        );
        for bad in [
            "",
            "0",
            "Sun Nov  6 08:49:37 1994",
            "Sun, 06 Nov 1994 08:49:37 UTC",
            "Sun, 06 Nox 1994 08:49:37 GMT",
            "Sun, 6 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 24:00:00 GMT",
            "Sun, 06 Nov 1994 08:49 GMT",
            "Sun, 00 Nov 1994 08:49:37 GMT",
        ] {
            assert_eq!(parse_http_date(bad), None, "{bad:?}");
        }
    }
}
