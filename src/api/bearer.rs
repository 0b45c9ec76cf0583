//! Finding and checking the bearer token (RFC 6750 §2.1, header only), and the per-route scope
//! layer. The checked caller travels in the request's extensions.

use std::marker::PhantomData;
use std::sync::Arc;

use axum::extract::{FromRequestParts, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::header::AUTHORIZATION;
use http::request::Parts;

use super::errors::{ApiError, Challenge, ChallengeTarget};
use scalekit_auth::bearer::JwtError;
use scalekit_auth::bearer::VerifiedTokens;
use scalekit_auth::bearer::{validate_api_token, ApiCaller, ApiExpected, ApiTokenError};
use scalekit_auth::now_secs;
use scalekit_auth::Auth;

/// The token from `Authorization: Bearer …`, or why there is none usable.
pub fn bearer_token(request: &Request) -> Result<&str, ApiError> {
    let in_query = request.uri().query().is_some_and(|q| {
        url::form_urlencoded::parse(q.as_bytes()).any(|(k, _)| k == "access_token")
    });
    let mut headers = request.headers().get_all(AUTHORIZATION).iter();
    let Some(header) = headers.next() else {
        return Err(if in_query {
            ApiError::InvalidRequest("send the token in the Authorization header, not the query")
        } else {
            ApiError::NoCredentials
        });
    };
    if headers.next().is_some() {
        return Err(ApiError::InvalidRequest(
            "more than one Authorization header",
        ));
    }
    if in_query {
        return Err(ApiError::InvalidRequest("the token was sent in two ways"));
    }
    let header = header
        .to_str()
        .map_err(|_| ApiError::InvalidRequest("malformed Authorization header"))?;
    let (scheme, token) = header.split_once(' ').unwrap_or((header, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(ApiError::NoCredentials); // another scheme is not a bearer credential
    }
    let token = token.trim_start_matches(' ');
    // RFC 6750 b64token: ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/", then "=" padding.
    let well_formed = !token.is_empty()
        && token
            .trim_end_matches('=')
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b));
    if !well_formed {
        return Err(ApiError::InvalidRequest("malformed bearer token"));
    }
    Ok(token)
}

/// What a protected area checks a bearer token against, and where its challenges point. The API
/// and the MCP endpoint each have one; both run the same checks.
#[derive(Clone)]
pub struct BearerGuard(Arc<GuardSettings>);

pub struct GuardSettings {
    pub auth: Auth,
    /// Required in every token's `aud`.
    pub audience: String,
    /// Issuers accepted besides the environment's own: Scalekit is moving resource tokens to
    /// `{env}/resources/{resource_id}`.
    pub extra_issuers: Vec<String>,
    pub target: ChallengeTarget,
    /// Tokens this guard already accepted (its own audience and issuers only).
    pub verified: Arc<VerifiedTokens<Arc<ApiCaller>>>,
}

/// Verified tokens kept per guard: enough for many busy clients, at most a few MB.
pub const VERIFIED_TOKEN_CAPACITY: usize = 10_000;

impl BearerGuard {
    pub fn new(
        auth: Auth,
        audience: String,
        extra_issuers: Vec<String>,
        target: ChallengeTarget,
    ) -> BearerGuard {
        // Behind one Arc: axum clones a middleware's state for every request.
        BearerGuard(Arc::new(GuardSettings {
            auth,
            audience,
            extra_issuers,
            target,
            verified: Arc::new(VerifiedTokens::new(VERIFIED_TOKEN_CAPACITY)),
        }))
    }

    /// The caller `token` stands for: from the cache, or checked against the provider's keys
    /// (RS256, issuer, audience, expiry, an organization) and then cached until its `exp` (never
    /// past the max age of the keys that verified it, so a withdrawn key stops working here too).
    async fn caller(&self, token: &str) -> Result<Arc<ApiCaller>, ApiError> {
        let now = now_secs();
        if let Some(caller) = self.verified.get(token, now) {
            return Ok(caller);
        }
        let Ok(endpoints) = self.auth.endpoints().await else {
            return Err(ApiError::Unavailable);
        };
        let mut issuers = vec![endpoints.metadata.issuer.clone()];
        issuers.extend(self.extra_issuers.iter().cloned());
        let expected = ApiExpected {
            issuers: &issuers,
            audience: &self.audience,
            now,
        };
        let checked = endpoints
            .jwks
            .check_with_keys_until(
                |keys| validate_api_token(token, keys, &expected),
                |e| matches!(e, ApiTokenError::Jwt(JwtError::UnknownKey(_))),
            )
            .await;
        let (caller, keys_trusted_until) = match checked {
            Err(_) => return Err(ApiError::Unavailable),
            Ok(Err(reason)) => {
                scalekit_auth::bearer::record_refusal(&reason);
                tracing::info!(%reason, realm = self.target.realm, "bearer token refused");
                return Err(ApiError::InvalidToken(
                    "the access token is invalid or expired",
                ));
            }
            Ok(Ok(checked)) => (Arc::new(checked.value), checked.keys_trusted_until),
        };
        if caller.organization_id.is_none() {
            return Err(ApiError::InvalidToken(
                "the token is not bound to an organization",
            ));
        }
        self.verified.insert_verified(
            token,
            caller.clone(),
            caller.expires_at,
            keys_trusted_until,
            now,
        );
        Ok(caller)
    }
}

impl std::ops::Deref for BearerGuard {
    type Target = GuardSettings;

    fn deref(&self) -> &GuardSettings {
        &self.0
    }
}

/// Checks the bearer token on every request and leaves the caller in the extensions.
pub async fn authenticate(
    State(guard): State<BearerGuard>,
    mut request: Request,
    next: Next,
) -> Response {
    let target = &guard.target;
    let caller = match bearer_token(&request) {
        Ok(token) => guard.caller(token).await,
        Err(error) => Err(error),
    };
    let caller = match caller {
        Ok(caller) => caller,
        Err(error) => return Challenge { error, target }.into_response(),
    };
    request.extensions_mut().insert(caller);
    request.extensions_mut().insert(target.clone());
    next.run(request).await
}

/// A scope a route requires, named in the handler's signature: `Caller<ReadDeployments>`.
pub trait Scope {
    const NAME: &'static str;
}

/// The authenticated caller, holding scope `S`; extraction fails with 403 `insufficient_scope`
/// otherwise (and with 401 if the request was never authenticated: deny by default).
pub struct Caller<S: Scope> {
    pub caller: Arc<ApiCaller>,
    scope: PhantomData<S>,
}

impl<S: Scope, St: Send + Sync> FromRequestParts<St> for Caller<S> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &St) -> Result<Self, Self::Rejection> {
        let target = parts
            .extensions
            .get::<ChallengeTarget>()
            .cloned()
            .unwrap_or_default();
        let refuse = |error| {
            Challenge {
                error,
                target: &target,
            }
            .into_response()
        };
        match parts.extensions.get::<Arc<ApiCaller>>() {
            None => Err(refuse(ApiError::NoCredentials)),
            // The same rule as the MCP tools (`mcp::tools::refusal`): a user's token needs the
            // permission named like the scope too, since a user's scopes are whatever a client
            // asked for.
            Some(caller) if caller.is_user && !caller.has_permission(S::NAME) => Err(
                super::errors::role_lacks_permission(parts.uri.path(), S::NAME),
            ),
            Some(caller) if caller.has_scope(S::NAME) => Ok(Caller {
                caller: caller.clone(),
                scope: PhantomData,
            }),
            Some(_) => Err(refuse(ApiError::InsufficientScope(S::NAME))),
        }
    }
}
