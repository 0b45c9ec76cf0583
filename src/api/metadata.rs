//! RFC 9728 protected-resource metadata (checklist A9): which authorization server issues tokens
//! for this API, its scopes, and that tokens go in the header.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use http::header::CACHE_CONTROL;
use http::HeaderValue;
use serde_json::json;

use super::{ApiState, SCOPES};

/// Where RFC 9728 puts the metadata of the resource `audience`: the well-known path with the
/// resource's own path appended (§3.1), so `https://app.example.com/api` has its document at
/// `/.well-known/oauth-protected-resource/api`. An audience that is not an http(s) URL, or is a
/// bare origin, uses the well-known path itself.
pub fn metadata_path(audience: &str) -> String {
    const WELL_KNOWN: &str = "/.well-known/oauth-protected-resource";
    let path = url::Url::parse(audience)
        .ok()
        .filter(|url| matches!(url.scheme(), "http" | "https"))
        .map(|url| url.path().trim_end_matches('/').to_string())
        .unwrap_or_default();
    format!("{WELL_KNOWN}{path}")
}

/// The absolute URL of that document, for challenges: on the audience's own origin when the
/// audience is a URL (§3.3: fetched there, `resource` must match), else on the app's.
pub fn metadata_url(audience: &str, app_url: &str) -> String {
    let origin = url::Url::parse(audience)
        .ok()
        .filter(|url| matches!(url.scheme(), "http" | "https"))
        .map(|url| url.origin().ascii_serialization())
        .unwrap_or_else(|| app_url.to_string());
    format!("{origin}{}", metadata_path(audience))
}

pub async fn protected_resource(State(api): State<ApiState>) -> Response {
    // Until discovery has answered, the issuer is Scalekit's convention (the environment URL):
    // right at Scalekit, but not for caches to keep for an hour.
    let (issuer, discovered) = match api.guard.auth.endpoints().await {
        Ok(endpoints) => (endpoints.metadata.issuer.clone(), endpoints.discovered),
        Err(_) => (api.guard.auth.environment_url().to_string(), false),
    };
    let caching = if discovered {
        HeaderValue::from_static("public, max-age=3600")
    } else {
        scalekit_auth::NO_STORE
    };
    let mut response = Json(json!({
        "resource": api.guard.audience,
        "authorization_servers": [issuer],
        "scopes_supported": SCOPES,
        "bearer_methods_supported": ["header"],
        "resource_name": "leptos-scalekit example API",
    }))
    .into_response();
    response.headers_mut().insert(CACHE_CONTROL, caching);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a9_the_metadata_path_appends_the_resources_path() {
        let app = "https://app.example.com";
        assert_eq!(metadata_path(app), "/.well-known/oauth-protected-resource");
        assert_eq!(
            metadata_path("https://app.example.com/api/"),
            "/.well-known/oauth-protected-resource/api"
        );
        assert_eq!(
            metadata_url("https://api.example.com/v1", app),
            "https://api.example.com/.well-known/oauth-protected-resource/v1"
        );
        assert_eq!(
            metadata_url("urn:example:api", app),
            "https://app.example.com/.well-known/oauth-protected-resource"
        );
    }
}
