//! The provider's smaller endpoints: discovery, keys, userinfo, revocation, logout, and the test
//! controls.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use http::header::{AUTHORIZATION, CACHE_CONTROL, LOCATION, WWW_AUTHENTICATE};
use http::{HeaderMap, HeaderValue, StatusCode};
use serde_json::{json, Value};
use tower_cookies::{Cookie, Cookies};

use super::html::{error_page, signed_out_page};
use super::params::Params;
use super::sessions::SessionStatus;
use super::{DevIdp, SESSION_COOKIE};

/// OpenID Provider Metadata. Scalekit does not publish its full document; these are its paths
/// and the standard fields a relying party reads.
pub async fn discovery(State(idp): State<Arc<DevIdp>>) -> Response {
    Json(json!({
        "issuer": idp.issuer,
        "authorization_endpoint": idp.url("/oauth/authorize"),
        "token_endpoint": idp.url("/oauth/token"),
        "jwks_uri": idp.url("/keys"),
        "userinfo_endpoint": idp.url("/userinfo"),
        "end_session_endpoint": idp.url("/oidc/logout"),
        "revocation_endpoint": idp.url("/revoke"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic", "none"],
        "code_challenge_methods_supported": ["S256"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "email", "email_verified", "name",
            "given_name", "family_name", "oid", "sid", "roles", "permissions"],
        // Back-Channel Logout 1.0 §2.1: logout tokens carry the session's `sid`.
        "backchannel_logout_supported": true,
        "backchannel_logout_session_supported": true,
    }))
    .into_response()
}

pub async fn jwks(State(idp): State<Arc<DevIdp>>) -> Response {
    Json(idp.keys().jwks()).into_response()
}

fn bearer_error(description: &str) -> Response {
    let challenge = format!("Bearer error=\"invalid_token\", error_description=\"{description}\"");
    let mut response = (
        StatusCode::UNAUTHORIZED,
        Json(json!({ "error": "invalid_token", "error_description": description })),
    )
        .into_response();
    if let Ok(value) = HeaderValue::from_str(&challenge) {
        response.headers_mut().insert(WWW_AUTHENTICATE, value);
    }
    response
}

/// UserInfo for a user access token issued here (standard OIDC claims; Scalekit's shape is not
/// documented).
pub async fn userinfo(State(idp): State<Arc<DevIdp>>, headers: HeaderMap) -> Response {
    let token = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let Some(token) = token else {
        return bearer_error("a Bearer access token is required");
    };
    let Some(claims) = idp.keys().verify(token, &idp.issuer, true) else {
        return bearer_error("the access token is invalid or expired");
    };
    // Only user access tokens: they carry a `jti` and a session; ID tokens have no `jti`.
    if claims.get("jti").is_none() || claims.get("sid").is_none() {
        return bearer_error("an access token is required");
    }
    let sub = claims["sub"].as_str().unwrap_or_default();
    let Some(persona) = idp.personas().into_iter().find(|p| p.sub == sub) else {
        return bearer_error("the token does not belong to a user");
    };
    let mut response = Json(json!({
        "sub": persona.sub,
        "email": persona.email,
        "email_verified": persona.email_verified,
        "name": persona.name,
        "given_name": persona.given_name,
        "family_name": persona.family_name,
        "oid": persona.organization_id,
    }))
    .into_response();
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// RFC 7009 revocation of refresh tokens. Access tokens are JWTs and stay valid until they expire
/// (as at Scalekit); revoking one is accepted and does nothing. Unknown tokens answer 200 too.
pub async fn revoke(State(idp): State<Arc<DevIdp>>, headers: HeaderMap, body: Bytes) -> Response {
    let Ok(params) = Params::from_form(&body) else {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({ "error": "invalid_request" })),
        )
            .into_response();
    };
    // The token endpoint's client authentication (post or basic), RFC 7009 §2.1.
    let caller = match super::token::authenticate(&idp, &headers, &params) {
        Ok(caller) => caller,
        Err(error) => return error.into_response(),
    };
    let client_id = caller.client_id().to_string();
    // Public clients cannot revoke at Scalekit (invalid_client).
    if idp
        .client(&client_id)
        .is_some_and(|c| c.client_secret.is_none())
    {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({ "error": "invalid_client" })),
        )
            .into_response();
    }
    let Some(token) = params.get("token") else {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({ "error": "invalid_request" })),
        )
            .into_response();
    };
    let mut store = idp.store();
    if let Some(family_id) = store.refresh_tokens.get(token).cloned() {
        if store
            .families
            .get(&family_id)
            .is_some_and(|f| f.client_id == client_id)
        {
            store.revoke_family(&family_id);
        }
    }
    StatusCode::OK.into_response()
}

/// RP-initiated logout: ends the provider session, checks `id_token_hint` and the post-logout
/// redirect allow-list, and echoes `state` (Scalekit does not document the echo; OIDC
/// RP-Initiated Logout §3 requires it).
pub async fn logout(
    State(idp): State<Arc<DevIdp>>,
    cookies: Cookies,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    let Ok(params) = Params::from_pairs(pairs) else {
        return error_page(StatusCode::BAD_REQUEST, "a parameter is repeated");
    };
    // An expired ID token is still a fine hint (OIDC RP-Initiated Logout §2); a forged one is not.
    let mut hinted_sid = None;
    let hinted_client = match params.get("id_token_hint") {
        None => None,
        Some(hint) => match idp.keys().verify(hint, &idp.issuer, false) {
            Some(claims) => {
                hinted_sid = claims["sid"].as_str().map(str::to_string);
                claims["aud"]
                    .as_array()
                    .and_then(|aud| aud.first())
                    .and_then(Value::as_str)
                    .map(str::to_string)
            }
            None => {
                return error_page(
                    StatusCode::BAD_REQUEST,
                    "id_token_hint was not issued by this provider",
                )
            }
        },
    };
    let redirect = match params.get("post_logout_redirect_uri") {
        None => None,
        Some(uri) => {
            let allowed = idp
                .settings
                .clients
                .iter()
                .filter(|c| hinted_client.as_ref().is_none_or(|id| &c.client_id == id))
                .any(|c| c.post_logout_redirect_uris.iter().any(|u| u == uri));
            if !allowed {
                return error_page(
                    StatusCode::BAD_REQUEST,
                    &format!("post_logout_redirect_uri `{uri}` is not registered"),
                );
            }
            Some(uri.to_string())
        }
    };

    // The session named by the hint ends even when the browser no longer sends our cookie (an
    // app's `Clear-Site-Data` on the same origin removes it before this request).
    let cookie_sid = cookies.get(SESSION_COOKIE).and_then(|cookie| {
        idp.store()
            .sessions
            .get(cookie.value())
            .map(|session| session.sid.clone())
    });
    let mut sids: Vec<String> = cookie_sid.into_iter().chain(hinted_sid).collect();
    sids.dedup();
    idp.end_sessions(sids, SessionStatus::Logout);
    let mut removal = Cookie::new(SESSION_COOKIE, "");
    removal.set_path(idp.cookie_path());
    cookies.remove(removal);

    let Some(redirect) = redirect else {
        return signed_out_page();
    };
    let Ok(mut url) = url::Url::parse(&redirect) else {
        return error_page(
            StatusCode::BAD_REQUEST,
            "post_logout_redirect_uri is not a URL",
        );
    };
    if let Some(state) = params.get("state") {
        url.query_pairs_mut().append_pair("state", state);
    }
    match HeaderValue::from_str(url.as_str()) {
        Ok(location) => (StatusCode::FOUND, [(LOCATION, location)]).into_response(),
        Err(_) => error_page(
            StatusCode::BAD_REQUEST,
            "post_logout_redirect_uri is not a valid URL",
        ),
    }
}
