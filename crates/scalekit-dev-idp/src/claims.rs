//! Token claims shaped like Scalekit's (docs: complete-login, idtoken-claims, api-auth-quickstart):
//! `aud` always an array, ids with Scalekit's prefixes, M2M tokens with both `scopes` and `scope`.

use serde_json::{json, Value};

use super::resources::resource_issuer;
use super::settings::Persona;
use super::store::{ApiClient, ResourceGrant};
use super::{scalekit_id, DevIdp};

pub struct UserGrant<'a> {
    pub persona: &'a Persona,
    pub client_id: &'a str,
    pub sid: &'a str,
    pub scope: &'a str,
    pub auth_time: u64,
    /// Set for an MCP client's grant: the token is for that resource.
    pub resource: Option<&'a ResourceGrant>,
}

/// A user's access token. For the app's own client its audience is the client; for an MCP
/// client it is the resource (its server URL, if named, and its id), issued by
/// `{env}/resources/{id}` as Scalekit now does for resource tokens, with the scopes also as the
/// `scopes` array Scalekit's SDKs read. Both carry the user's `roles` and `permissions`, which
/// the MCP server checks besides the scopes.
pub fn user_access_token(idp: &DevIdp, grant: &UserGrant, now: u64, ttl: u64) -> Value {
    let p = grant.persona;
    let (issuer, audience) = match grant.resource {
        None => (idp.issuer.clone(), vec![grant.client_id.to_string()]),
        Some(resource) => (
            resource_issuer(idp, &resource.id),
            resource
                .url
                .iter()
                .chain(std::iter::once(&resource.id))
                .cloned()
                .collect(),
        ),
    };
    let mut claims = json!({
        "iss": issuer,
        "aud": audience,
        "sub": p.sub,
        "oid": p.organization_id,
        "sid": grant.sid,
        "jti": scalekit_id("tkn_"),
        "iat": now,
        "nbf": now,
        "exp": now + ttl,
        "client_id": grant.client_id,
        "roles": p.roles,
        "permissions": p.permissions,
        "scope": grant.scope,
    });
    if grant.resource.is_some() {
        let scopes: Vec<&str> = grant.scope.split(' ').filter(|s| !s.is_empty()).collect();
        claims["scopes"] = json!(scopes);
    }
    claims
}

pub fn id_token(
    idp: &DevIdp,
    grant: &UserGrant,
    now: u64,
    nonce: Option<&str>,
    access_token: &str,
    code: Option<&str>,
) -> Value {
    let p = grant.persona;
    let mut claims = json!({
        "iss": idp.issuer,
        "aud": [grant.client_id],
        "azp": grant.client_id,
        "client_id": grant.client_id,
        "sub": p.sub,
        "oid": p.organization_id,
        "sid": grant.sid,
        "iat": now,
        "exp": now + idp.settings.id_token_ttl,
        "auth_time": grant.auth_time,
        // Scalekit puts the connection the person signed in through first.
        "amr": [idp.session_connection(grant.sid)],
        "at_hash": half_hash(access_token),
        "email": p.email,
        "email_verified": p.email_verified,
        "name": p.name,
        "given_name": p.given_name,
        "family_name": p.family_name,
    });
    // Scalekit's docs do not list `nonce`; OIDC Core §3.1.3.6 requires echoing it.
    if let Some(nonce) = nonce {
        claims["nonce"] = json!(nonce);
    }
    if let Some(code) = code {
        claims["c_hash"] = json!(half_hash(code));
    }
    claims
}

/// The environment client's own token, for the management API. Its claims are not documented;
/// these are the M2M token's, which is what the management API needs to check.
pub fn management_token(idp: &DevIdp, client_id: &str, now: u64) -> Value {
    json!({
        "iss": idp.issuer,
        "aud": [idp.issuer],
        "sub": client_id,
        "client_id": client_id,
        "jti": scalekit_id("tkn_"),
        "iat": now,
        "nbf": now,
        "exp": now + super::MANAGEMENT_TOKEN_TTL,
        "scope": "openid",
        "scopes": ["openid"],
    })
}

/// An organization API client's token with the granted scopes.
pub fn api_client_token(idp: &DevIdp, client: &ApiClient, scopes: &[String], now: u64) -> Value {
    let mut claims = json!({
        "iss": idp.issuer,
        "sub": client.client_id,
        "client_id": client.client_id,
        "oid": client.organization_id,
        "jti": scalekit_id("tkn_"),
        "iat": now,
        "nbf": now,
        "exp": now + client.expiry,
        "scopes": scopes,
        "scope": scopes.join(" "),
    });
    // `aud` when the client has an audience is implied by Scalekit's field docs, not shown.
    if !client.audience.is_empty() {
        claims["aud"] = json!(client.audience);
    }
    claims
}
/// `at_hash` / `c_hash`: the left half of the value's SHA-256, base64url (OIDC Core 3.1.3.6).
fn half_hash(value: &str) -> String {
    use base64::Engine;
    use sha2::{Digest, Sha256};
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&Sha256::digest(value.as_bytes())[..16])
}
