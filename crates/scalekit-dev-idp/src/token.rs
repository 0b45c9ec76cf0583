//! `POST /oauth/token`: authorization_code (PKCE, single use), refresh_token (rotation with reuse
//! detection) and client_credentials (the environment client and organization API clients).
//! Errors are RFC 6749 §5.2 JSON with the literal codes; success is always HTTP 200 (Python SDK
//! 2.4 rejects anything else). Scalekit's exact error statuses are not documented: this follows
//! RFC 6749 (400, and 401 for invalid_client).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use http::header::{AUTHORIZATION, CACHE_CONTROL, PRAGMA, WWW_AUTHENTICATE};
use http::{HeaderMap, HeaderValue, StatusCode};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::claims::{api_client_token, id_token, management_token, user_access_token, UserGrant};
use super::params::Params;
use super::resources::granted_scope;
use super::store::{RefreshFamily, ResourceGrant, UsedCode};
use super::{constant_time_eq, now, random_token, DevIdp};

pub struct TokenError {
    status: StatusCode,
    error: &'static str,
    description: String,
    basic_challenge: bool,
}

fn error(error: &'static str, description: impl Into<String>) -> TokenError {
    TokenError {
        status: StatusCode::BAD_REQUEST,
        error,
        description: description.into(),
        basic_challenge: false,
    }
}

fn invalid_client(description: impl Into<String>, basic_used: bool) -> TokenError {
    TokenError {
        status: StatusCode::UNAUTHORIZED,
        error: "invalid_client",
        description: description.into(),
        basic_challenge: basic_used,
    }
}

fn no_store(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

impl IntoResponse for TokenError {
    fn into_response(self) -> Response {
        let mut response = (
            self.status,
            Json(json!({ "error": self.error, "error_description": self.description })),
        )
            .into_response();
        if self.basic_challenge {
            response.headers_mut().insert(
                WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"dev-idp\""),
            );
        }
        no_store(response)
    }
}

/// Who is calling: a registered client or an organization API client, authenticated.
pub(super) enum Caller {
    Registered { client_id: String, management: bool },
    ApiClient { client_id: String },
}

impl Caller {
    pub(super) fn client_id(&self) -> &str {
        match self {
            Caller::Registered { client_id, .. } | Caller::ApiClient { client_id } => client_id,
        }
    }
}

/// `client_secret_basic` credentials from the Authorization header, if it carries Basic. A Bearer
/// header (Scalekit's Python and Go SDKs send their management token) is ignored.
fn basic_credentials(headers: &HeaderMap) -> Result<Option<(String, String)>, TokenError> {
    let Some(value) = headers.get(AUTHORIZATION) else {
        return Ok(None);
    };
    let text = value.to_str().unwrap_or_default();
    let Some(encoded) = text
        .strip_prefix("Basic ")
        .or_else(|| text.strip_prefix("basic "))
    else {
        return Ok(None);
    };
    let bad = || invalid_client("malformed Basic credentials", true);
    let decoded = STANDARD.decode(encoded.trim()).map_err(|_| bad())?;
    let decoded = String::from_utf8(decoded).map_err(|_| bad())?;
    let (id, secret) = decoded.split_once(':').ok_or_else(bad)?;
    // RFC 6749 §2.3.1: both parts are form-urlencoded before base64.
    Ok(Some((
        form_unescape(id).ok_or_else(bad)?,
        form_unescape(secret).ok_or_else(bad)?,
    )))
}

/// Undoes application/x-www-form-urlencoded encoding of one value (`+` is a space); `&` and `=`
/// are ordinary characters here.
fn form_unescape(value: &str) -> Option<String> {
    percent_encoding::percent_decode_str(&value.replace('+', " "))
        .decode_utf8()
        .ok()
        .map(|v| v.into_owned())
}

pub(super) fn authenticate(
    idp: &DevIdp,
    headers: &HeaderMap,
    params: &Params,
) -> Result<Caller, TokenError> {
    let basic = basic_credentials(headers)?;
    let basic_used = basic.is_some();
    let (client_id, secret) = match (basic, params.get("client_secret")) {
        (Some(_), Some(_)) => {
            return Err(error(
                "invalid_request",
                "use one client authentication method, not two",
            ))
        }
        (Some((id, secret)), None) => {
            if params.get("client_id").is_some_and(|body_id| body_id != id) {
                return Err(error(
                    "invalid_request",
                    "client_id differs from the Basic credentials",
                ));
            }
            (id, Some(secret))
        }
        (None, secret) => {
            let id = params
                .get("client_id")
                .ok_or_else(|| invalid_client("no client authentication", false))?;
            (id.to_string(), secret.map(str::to_string))
        }
    };
    if let Some(client) = idp.client(&client_id) {
        return match (&client.client_secret, secret) {
            (None, None) => Ok(Caller::Registered {
                client_id,
                management: false,
            }),
            (None, Some(_)) => Err(invalid_client(
                "this public client has no secret",
                basic_used,
            )),
            (Some(expected), Some(given)) if constant_time_eq(expected, &given) => {
                Ok(Caller::Registered {
                    client_id,
                    management: client.management,
                })
            }
            _ => Err(invalid_client("client authentication failed", basic_used)),
        };
    }
    let store = idp.store();
    match (store.api_clients.get(&client_id), secret) {
        (Some(api_client), Some(given)) if constant_time_eq(&api_client.secret, &given) => {
            Ok(Caller::ApiClient { client_id })
        }
        _ => Err(invalid_client("client authentication failed", basic_used)),
    }
}

pub async fn token(State(idp): State<Arc<DevIdp>>, headers: HeaderMap, body: Bytes) -> Response {
    match handle(&idp, &headers, &body) {
        Ok(answer) => no_store(Json(answer).into_response()),
        Err(e) => e.into_response(),
    }
}

fn handle(idp: &DevIdp, headers: &HeaderMap, body: &[u8]) -> Result<Value, TokenError> {
    let params = Params::from_form(body).map_err(|repeated| {
        error(
            "invalid_request",
            format!("parameter `{}` is repeated", repeated.0),
        )
    })?;
    let caller = authenticate(idp, headers, &params)?;
    match params.get("grant_type") {
        Some("authorization_code") => authorization_code(idp, &caller, &params),
        Some("refresh_token") => refresh_token(idp, &caller, &params),
        Some("client_credentials") => client_credentials(idp, &caller, &params),
        Some(other) => Err(error(
            "unsupported_grant_type",
            format!("grant_type `{other}` is not supported"),
        )),
        None => Err(error("invalid_request", "grant_type is missing")),
    }
}

/// Mints the access, ID and (with offline_access) refresh tokens for a user grant.
fn user_tokens(
    idp: &DevIdp,
    grant: &UserGrant,
    nonce: Option<&str>,
    code: Option<&str>,
    refresh_token: Option<&str>,
) -> Result<Value, TokenError> {
    let now = now();
    let ttl = idp
        .store()
        .controls
        .access_token_ttl
        .unwrap_or(idp.settings.access_token_ttl);
    let keys = idp.keys();
    let sign = |claims: &Value| {
        keys.sign(claims)
            .map_err(|e| error("server_error", e.to_string()))
    };
    let access_token = sign(&user_access_token(idp, grant, now, ttl))?;
    let mut answer = json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": ttl,
        "scope": grant.scope,
    });
    // An MCP client that did not ask for `openid` gets no ID token.
    if grant.resource.is_none() || grant.scope.split(' ').any(|s| s == "openid") {
        answer["id_token"] = json!(sign(&id_token(
            idp,
            grant,
            now,
            nonce,
            &access_token,
            code
        ))?);
    }
    if let Some(refresh_token) = refresh_token {
        answer["refresh_token"] = json!(refresh_token);
    }
    Ok(answer)
}

fn new_refresh_token() -> String {
    format!("rt_{}", random_token(32))
}

fn authorization_code(idp: &DevIdp, caller: &Caller, params: &Params) -> Result<Value, TokenError> {
    let code = params
        .get("code")
        .ok_or_else(|| error("invalid_request", "code is missing"))?;
    let mut store = idp.store();
    let Some(grant) = store.codes.remove(code) else {
        // RFC 6749 §4.1.2: a replayed code revokes what it produced.
        if let Some(used) = store.used_codes.get(code).cloned() {
            if let Some(family) = used.family {
                store.revoke_family(&family);
            }
            return Err(error("invalid_grant", "authorization code already used"));
        }
        return Err(error(
            "invalid_grant",
            "unknown or expired authorization code",
        ));
    };
    store.used_codes.insert(
        code.to_string(),
        UsedCode {
            family: None,
            used_at: now(),
        },
    );
    if grant.client_id != caller.client_id() {
        return Err(error(
            "invalid_grant",
            "authorization code was issued to another client",
        ));
    }
    if grant.expires_at <= now() {
        return Err(error("invalid_grant", "authorization code expired"));
    }
    if store.ended_sids.contains_key(&grant.sid) {
        return Err(error(
            "invalid_grant",
            "the sign-in ended (logout) before the code was redeemed",
        ));
    }
    if params.get("redirect_uri") != Some(grant.redirect_uri.as_str()) {
        return Err(error(
            "invalid_grant",
            "redirect_uri does not match the authorization request",
        ));
    }
    check_resource_param(grant.resource.as_ref(), params)?;
    match (&grant.code_challenge, params.get("code_verifier")) {
        (Some(challenge), Some(verifier)) => {
            let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
            if !constant_time_eq(&computed, challenge) {
                return Err(error(
                    "invalid_grant",
                    "code_verifier does not match the code_challenge",
                ));
            }
        }
        (Some(_), None) => return Err(error("invalid_grant", "code_verifier is missing")),
        (None, Some(_)) => {
            return Err(error(
                "invalid_grant",
                "no code_challenge was sent for this code",
            ))
        }
        (None, None) => {}
    }
    // The store is held here: the session's organization is read from it directly.
    let organization = store
        .session_records
        .get(&grant.sid)
        .map(|record| record.organization_id.clone());
    let persona = idp
        .persona_in_session_organization(&grant.persona, organization.as_deref())
        .ok_or_else(|| error("invalid_grant", "the user no longer exists"))?;
    let persona = &persona;
    let refresh_token = grant
        .scope
        .split(' ')
        .any(|s| s == "offline_access")
        .then(new_refresh_token);
    if let Some(refresh_token) = &refresh_token {
        let family_id = random_token(16);
        store.families.insert(
            family_id.clone(),
            RefreshFamily {
                client_id: grant.client_id.clone(),
                persona: grant.persona.clone(),
                sid: grant.sid.clone(),
                scope: grant.scope.clone(),
                auth_time: grant.auth_time,
                current: refresh_token.clone(),
                retired: Default::default(),
                last_used: now(),
                revoked: false,
                resource: grant.resource.clone(),
            },
        );
        store
            .refresh_tokens
            .insert(refresh_token.clone(), family_id.clone());
        store.used_codes.insert(
            code.to_string(),
            UsedCode {
                family: Some(family_id),
                used_at: now(),
            },
        );
    }
    store.touch_session(&grant.sid, &grant.client_id, now());
    drop(store);
    let scope = granted_scope(&grant.scope, persona, grant.resource.as_ref());
    let user = UserGrant {
        persona,
        client_id: &grant.client_id,
        sid: &grant.sid,
        scope: &scope,
        auth_time: grant.auth_time,
        resource: grant.resource.as_ref(),
    };
    let tokens = user_tokens(
        idp,
        &user,
        grant.nonce.as_deref(),
        Some(code),
        refresh_token.as_deref(),
    )?;
    // The sign-in is complete once its code is redeemed (authorize.rs issues the codes).
    idp.notify_sign_in(persona, &grant.sid);
    Ok(tokens)
}

/// RFC 8707 on the token endpoint: a `resource` sent again must name the grant's resource.
fn check_resource_param(
    resource: Option<&ResourceGrant>,
    params: &Params,
) -> Result<(), TokenError> {
    let Some(named) = params.get("resource") else {
        return Ok(());
    };
    let matches = resource.is_some_and(|r| r.id == named || r.url.as_deref() == Some(named));
    if matches {
        Ok(())
    } else {
        Err(error(
            "invalid_target",
            "resource does not match the authorization request",
        ))
    }
}

fn refresh_token(idp: &DevIdp, caller: &Caller, params: &Params) -> Result<Value, TokenError> {
    let presented = params
        .get("refresh_token")
        .ok_or_else(|| error("invalid_request", "refresh_token is missing"))?;
    let mut store = idp.store();
    let family_id = store
        .refresh_tokens
        .get(presented)
        .cloned()
        .ok_or_else(|| error("invalid_grant", "unknown refresh token"))?;
    let family = store
        .families
        .get(&family_id)
        .cloned()
        .ok_or_else(|| error("invalid_grant", "unknown refresh token"))?;
    if family.client_id != caller.client_id() {
        return Err(error(
            "invalid_grant",
            "refresh token was issued to another client",
        ));
    }
    if family.revoked || store.ended_sids.contains_key(&family.sid) {
        return Err(error("invalid_grant", "refresh token revoked"));
    }
    check_resource_param(family.resource.as_ref(), params)?;
    if family.current != presented {
        // A rotated token came back: someone holds a copy. Revoke the whole family.
        store.revoke_family(&family_id);
        return Err(error(
            "invalid_grant",
            "refresh token already used; all tokens of this sign-in are revoked",
        ));
    }
    let rotated = new_refresh_token();
    store.rotate_refresh_token(&family_id, rotated.clone(), now());
    store.touch_session(&family.sid, &family.client_id, now());
    drop(store);
    let persona = idp
        .session_persona(&family.persona, &family.sid)
        .ok_or_else(|| error("invalid_grant", "the user no longer exists"))?;
    let persona = &persona;
    // Again at refresh: the persona's permissions are what count now, not at sign-in.
    let scope = granted_scope(&family.scope, persona, family.resource.as_ref());
    let user = UserGrant {
        persona,
        client_id: &family.client_id,
        sid: &family.sid,
        scope: &scope,
        auth_time: family.auth_time,
        resource: family.resource.as_ref(),
    };
    // Whether Scalekit returns a new ID token on refresh is not documented; returning one is
    // standard (OIDC Core §12.2) and both SDKs ignore it.
    user_tokens(idp, &user, None, None, Some(&rotated))
}

fn client_credentials(idp: &DevIdp, caller: &Caller, params: &Params) -> Result<Value, TokenError> {
    let now = now();
    let (claims, expires_in, scope) = match caller {
        Caller::Registered {
            client_id,
            management: true,
        } => (
            management_token(idp, client_id, now),
            super::MANAGEMENT_TOKEN_TTL,
            "openid".to_string(),
        ),
        Caller::Registered { .. } => {
            return Err(error(
                "unauthorized_client",
                "this client may not use client_credentials",
            ))
        }
        Caller::ApiClient { client_id } => {
            let client = idp
                .store()
                .api_clients
                .get(client_id)
                .cloned()
                .ok_or_else(|| invalid_client("client authentication failed", false))?;
            let granted: Vec<String> = match params.get("scope") {
                None => client.scopes.clone(),
                Some(requested) => {
                    let requested: Vec<String> = requested
                        .split(' ')
                        .filter(|s| !s.is_empty())
                        .map(str::to_string)
                        .collect();
                    if let Some(extra) = requested.iter().find(|s| !client.scopes.contains(s)) {
                        return Err(error(
                            "invalid_scope",
                            format!("scope `{extra}` is not granted to this client"),
                        ));
                    }
                    requested
                }
            };
            (
                api_client_token(idp, &client, &granted, now),
                client.expiry,
                granted.join(" "),
            )
        }
    };
    let access_token = idp
        .keys()
        .sign(&claims)
        .map_err(|e| error("server_error", e.to_string()))?;
    Ok(json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": expires_in,
        "scope": scope,
    }))
}

#[cfg(test)]
mod tests {
    use super::form_unescape;

    #[test]
    fn basic_credentials_are_form_unescaped_whole() {
        assert_eq!(form_unescape("a%26b%3Dc+d").as_deref(), Some("a&b=c d"));
        assert_eq!(form_unescape("a&b=c").as_deref(), Some("a&b=c"));
        assert_eq!(form_unescape("%FF"), None);
    }
}
