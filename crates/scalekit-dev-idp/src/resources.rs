//! Protected resources (MCP servers) at the provider: their authorization-server metadata and
//! dynamic client registration for public MCP clients (RFC 8414, RFC 7591), as Scalekit serves
//! them under `{env}/resources/{resource_id}`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use http::header::CACHE_CONTROL;
use http::{HeaderValue, StatusCode};
use serde::Deserialize;
use serde_json::{json, Value};

use super::settings::{Persona, ResourceSettings};
use super::store::{DynamicClient, ResourceGrant};
use super::{now, scalekit_id, DevIdp};

/// Scopes every resource offers besides its own: a refresh token for long-lived clients, and
/// the OpenID ones for clients that also want to know who signed in.
pub const STANDARD_SCOPES: [&str; 4] = ["openid", "profile", "email", "offline_access"];

/// Registrations kept at most; the oldest go first (a dev provider must not grow without bound).
pub const MAX_DYNAMIC_CLIENTS: usize = 1000;

/// The issuer of a resource's tokens and metadata: `{env}/resources/{id}`.
pub fn resource_issuer(idp: &DevIdp, resource_id: &str) -> String {
    idp.url(&format!("/resources/{resource_id}"))
}

fn not_found(resource_id: &str) -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({
            "error": "not_found",
            "error_description": format!("unknown resource `{resource_id}`"),
        })),
    )
        .into_response()
}

/// `GET /.well-known/oauth-authorization-server/resources/{id}` and
/// `GET /resources/{id}/.well-known/oauth-authorization-server`: RFC 8414 metadata for the
/// resource's authorization server. Only this document names the registration endpoint.
pub async fn authorization_server_metadata(
    State(idp): State<Arc<DevIdp>>,
    Path(resource_id): Path<String>,
) -> Response {
    let Some(resource) = idp.settings.resource(&resource_id) else {
        return not_found(&resource_id);
    };
    let scopes: Vec<&str> = resource
        .scopes
        .iter()
        .map(String::as_str)
        .chain(STANDARD_SCOPES)
        .collect();
    let mut response = Json(json!({
        "issuer": resource_issuer(&idp, &resource.id),
        "authorization_endpoint": idp.url("/oauth/authorize"),
        "token_endpoint": idp.url("/oauth/token"),
        "registration_endpoint": idp.url(&format!("/resources/{}/register", resource.id)),
        "jwks_uri": idp.url("/keys"),
        "revocation_endpoint": idp.url("/revoke"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "token_endpoint_auth_methods_supported": ["none", "client_secret_post", "client_secret_basic"],
        "code_challenge_methods_supported": ["S256"],
        "scopes_supported": scopes,
    }))
    .into_response();
    response.headers_mut().insert(
        CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    response
}

/// The RFC 7591 request fields this provider reads; others are ignored.
#[derive(Deserialize)]
struct RegistrationRequest {
    #[serde(default)]
    redirect_uris: Vec<String>,
    #[serde(default)]
    client_name: Option<String>,
    #[serde(default)]
    token_endpoint_auth_method: Option<String>,
    #[serde(default)]
    grant_types: Option<Vec<String>>,
    #[serde(default)]
    response_types: Option<Vec<String>>,
    #[serde(default)]
    scope: Option<String>,
}

fn invalid(error: &'static str, description: impl Into<String>) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({ "error": error, "error_description": description.into() })),
    )
        .into_response()
}

/// RFC 8252: loopback `http` (any port), `https`, or a private-use scheme with a dot (reverse
/// domain name). Nothing that runs script or carries a fragment.
pub fn acceptable_redirect_uri(uri: &str) -> bool {
    let Ok(url) = url::Url::parse(uri) else {
        return false;
    };
    if url.fragment().is_some() || uri.len() > 2000 {
        return false;
    }
    match url.scheme() {
        "https" => url.host().is_some(),
        "http" => is_loopback_http(&url),
        scheme => scheme.contains('.'),
    }
}

/// `http://` on a loopback address: the browser stays on the person's own machine.
pub fn is_loopback_http(url: &url::Url) -> bool {
    url.scheme() == "http"
        && match url.host() {
            Some(url::Host::Domain(domain)) => domain == "localhost",
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            None => false,
        }
}

/// Checks a registration against the resource; the error is the RFC 7591 §3.2.2 code and text.
fn check_registration(
    resource: &ResourceSettings,
    request: &RegistrationRequest,
) -> Result<(), (&'static str, String)> {
    if request.redirect_uris.is_empty() || request.redirect_uris.len() > 10 {
        return Err((
            "invalid_redirect_uri",
            "register one to ten redirect_uris".into(),
        ));
    }
    if let Some(bad) = request
        .redirect_uris
        .iter()
        .find(|u| !acceptable_redirect_uri(u))
    {
        return Err((
            "invalid_redirect_uri",
            format!("`{bad}`: use https, http on a loopback address, or a private-use scheme"),
        ));
    }
    // Dynamically registered MCP clients are public at Scalekit: no secret, PKCE instead.
    if request
        .token_endpoint_auth_method
        .as_deref()
        .is_some_and(|m| m != "none")
    {
        return Err((
            "invalid_client_metadata",
            "only public clients (token_endpoint_auth_method=none) can register".into(),
        ));
    }
    let grants_ok = request.grant_types.as_ref().is_none_or(|grants| {
        grants
            .iter()
            .all(|g| g == "authorization_code" || g == "refresh_token")
    });
    let responses_ok = request
        .response_types
        .as_ref()
        .is_none_or(|types| types.iter().all(|t| t == "code"));
    if !grants_ok || !responses_ok {
        return Err((
            "invalid_client_metadata",
            "only the authorization_code and refresh_token grants, with response_type code".into(),
        ));
    }
    if let Some(unknown) = request
        .scope
        .as_deref()
        .unwrap_or_default()
        .split(' ')
        .filter(|s| !s.is_empty())
        .find(|s| !scope_offered(resource, s))
    {
        return Err((
            "invalid_client_metadata",
            format!(
                "scope `{unknown}` is not offered by resource `{}`",
                resource.id
            ),
        ));
    }
    Ok(())
}

/// Whether `scope` may be asked for on `resource`.
pub fn scope_offered(resource: &ResourceSettings, scope: &str) -> bool {
    resource.scopes.iter().any(|s| s == scope) || STANDARD_SCOPES.contains(&scope)
}

/// The scopes of `requested` a user grant gives `persona`. For a resource, the standard scopes,
/// and the resource's own only where the persona holds the permission of the same name: Scalekit
/// offers this as `intersect_scopes_user_permission` on a resource, and the MCP server enforces it
/// anyway. The rest are dropped, not refused: RFC 6749 §3.3 lets a server grant fewer scopes than
/// asked, and the token response's `scope` says which. The app's own sign-in is left as asked.
pub fn granted_scope(
    requested: &str,
    persona: &Persona,
    resource: Option<&ResourceGrant>,
) -> String {
    if resource.is_none() {
        return requested.to_string();
    }
    let permitted = |scope: &&str| {
        STANDARD_SCOPES.contains(scope) || persona.permissions.iter().any(|p| p == scope)
    };
    requested
        .split(' ')
        .filter(|s| !s.is_empty())
        .filter(permitted)
        .collect::<Vec<_>>()
        .join(" ")
}

/// `POST /resources/{id}/register`: registers a public client for the resource (`m2m_…`, as
/// Scalekit names dynamically registered MCP clients).
pub async fn register(
    State(idp): State<Arc<DevIdp>>,
    Path(resource_id): Path<String>,
    body: Bytes,
) -> Response {
    let Some(resource) = idp.settings.resource(&resource_id) else {
        return not_found(&resource_id);
    };
    let request: RegistrationRequest = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(_) => {
            return invalid(
                "invalid_client_metadata",
                "send the client metadata as a JSON object (RFC 7591)",
            )
        }
    };
    if let Err((error, description)) = check_registration(resource, &request) {
        return invalid(error, description);
    }
    let issued_at = now();
    let client = DynamicClient {
        client_id: scalekit_id("m2m_"),
        client_name: request
            .client_name
            .unwrap_or_else(|| "MCP client".into())
            .chars()
            .take(100)
            .collect(),
        redirect_uris: request.redirect_uris,
        resource_id: resource.id.clone(),
        issued_at,
    };
    let answer: Value = json!({
        "client_id": client.client_id,
        "client_id_issued_at": issued_at,
        "client_name": client.client_name,
        "redirect_uris": client.redirect_uris,
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
        "scope": request.scope.unwrap_or_default(),
    });
    idp.store().add_dynamic_client(client, MAX_DYNAMIC_CLIENTS);
    let mut response = (StatusCode::CREATED, Json(answer)).into_response();
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[cfg(test)]
mod tests {
    use super::{acceptable_redirect_uri, granted_scope};
    use crate::settings::IdpSettings;
    use crate::store::ResourceGrant;

    #[test]
    fn a8_resource_scopes_are_granted_within_the_personas_permissions() {
        let settings = IdpSettings::default();
        let resource = ResourceGrant {
            id: "res_1".into(),
            url: None,
        };
        let asked = "read:deployments deploy:applications offline_access";
        let grant =
            |persona| granted_scope(asked, settings.persona(persona).unwrap(), Some(&resource));
        assert_eq!(grant("admin"), asked);
        assert_eq!(grant("member"), "read:deployments offline_access");
        let sign_in = "openid deploy:applications";
        assert_eq!(
            granted_scope(sign_in, settings.persona("member").unwrap(), None),
            sign_in,
            "the app's own sign-in is not a resource grant"
        );
    }

    #[test]
    fn redirect_uris_follow_rfc_8252() {
        for good in [
            "http://127.0.0.1:8976/callback",
            "http://localhost/cb",
            "http://[::1]:5000/cb",
            "https://client.example.com/cb",
            "com.example.app:/oauth",
        ] {
            assert!(acceptable_redirect_uri(good), "{good}");
        }
        for bad in [
            "http://client.example.com/cb",
            "javascript:alert(1)",
            "data:text/html,hi",
            "https://client.example.com/cb#frag",
            "not a url",
        ] {
            assert!(!acceptable_redirect_uri(bad), "{bad}");
        }
    }
}
