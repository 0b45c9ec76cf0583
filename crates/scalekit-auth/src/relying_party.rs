//! The sign-in, refresh and sign-out steps of the OpenID Connect relying party, on top of the
//! provider's endpoints. No HTTP framework types: the callback handler, the middleware and the
//! server functions call in here.

use std::sync::Arc;

use serde_json::Map;

use super::access_token::{AccessClaims, AccessExpected, AccessTokenError};
use super::discovery::ProviderMetadata;
use super::id_token::{Expected, IdTokenClaims, IdTokenError};
use super::jwks_cache::KeyedValidationError;
use super::provider::{Endpoints, Provider, ProviderError};
use super::refresh::{SingleFlight, FAILURE_MEMORY, GRACE};
use super::session::{new_session_id, Session, SessionPolicy};
use super::store::{Store, StoreUnavailable, REFRESH_LOCK, REFRESH_WAIT};
use super::token_client::{TokenEndpointError, TokenResponse};
use super::transaction::{AuthorizationHints, Transaction};
use super::user::summarize;
use crate::values::{Issuer, ReturnPath};

/// Why a sign-in could not be completed. `status` and `message` are what the browser sees; the
/// variant's own text (with details) goes to the log only.
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    /// The provider, its keys or its token endpoint could not be reached, or the token endpoint's
    /// answer was garbled or 5xx (503).
    #[error("the provider is unavailable: {0}")]
    ProviderUnavailable(String),
    /// The provider's metadata is unusable, or its authorization endpoint is not a URL (502).
    #[error("the provider's configuration is unusable: {0}")]
    ProviderMisconfigured(String),
    /// The token endpoint answered `invalid_grant`: the code was already used, has expired, or
    /// does not go with this client, redirect URI or PKCE verifier (400).
    #[error("the authorization code was refused (invalid_grant)")]
    CodeRefused,
    /// The token endpoint answered another OAuth error, such as `invalid_client`: a configuration
    /// problem (502).
    #[error("the token endpoint refused the client: {0}")]
    ClientRefused(String),
    /// The token response carried no ID token (502).
    #[error("the token response had no ID token")]
    NoIdToken,
    /// The ID token failed validation (400 for a nonce mismatch, else 502).
    #[error("ID token rejected: {0}")]
    BadIdToken(IdTokenError),
    /// The access token failed validation (502).
    #[error("access token rejected: {0}")]
    BadAccessToken(AccessTokenError),
    /// The ID token and the access token name different subjects (502).
    #[error("the ID token and the access token name different users")]
    SubjectMismatch,
}

impl SignInError {
    /// The HTTP status of the failure page: 503 when the provider is unavailable, 400 when the code
    /// was refused or the nonce does not match this sign-in, 502 otherwise.
    pub fn status(&self) -> u16 {
        match self {
            SignInError::ProviderUnavailable(_) => 503,
            SignInError::CodeRefused | SignInError::BadIdToken(IdTokenError::NonceMismatch) => 400,
            _ => 502,
        }
    }

    /// The text the failure page shows: fixed sentences, nothing from the provider or the tokens.
    pub fn message(&self) -> &'static str {
        match self {
            SignInError::ProviderUnavailable(_) => {
                "The identity provider could not be reached. Please try again in a moment."
            }
            SignInError::CodeRefused => {
                "This sign-in link has expired or was already used. Please sign in again."
            }
            SignInError::BadIdToken(IdTokenError::NonceMismatch) => {
                "This sign-in response does not belong to your sign-in attempt. Please sign in again."
            }
            _ => "The identity provider's answer could not be verified, so you were not signed in.",
        }
    }
}

/// Why a refresh failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RefreshError {
    /// The refresh token is dead, or the provider answered for another user: sign in again.
    #[error("the session has ended: {0}")]
    Ended(String),
    /// Retryable: the session stays, with its current tokens.
    #[error("the provider is unavailable: {0}")]
    Unavailable(String),
}

/// The relying party's own settings.
pub struct RelyingPartySettings {
    /// The redirect URI registered at the provider, sent with the authorization request and the
    /// code exchange.
    pub redirect_uri: String,
    /// Where the provider sends the browser after RP-initiated logout (`post_logout_redirect_uri`).
    pub post_logout_redirect_uri: String,
    /// The scopes asked for; `openid` must be among them.
    pub scopes: Vec<String>,
    /// The idle and absolute session timeouts.
    pub policy: SessionPolicy,
}

/// The OpenID Connect relying party: begins and completes sign-ins, validates and refreshes
/// sessions' tokens (one refresh per refresh token, across instances when the store is shared),
/// revokes refresh tokens and builds the end-session URL.
pub struct RelyingParty {
    provider: Arc<Provider>,
    settings: RelyingPartySettings,
    refreshes: SingleFlight<Result<Arc<Session>, RefreshError>>,
    /// Ended sessions, consumed transactions and the refresh lock, shared by every instance
    /// when Redis is configured.
    pub store: Store,
    /// Seals refresh results left in a shared store (the cookie key: never a token in clear).
    seal_key: tower_cookies::Key,
}

/// The associated data a refresh result is sealed under: bound to its flight (never a cookie
/// name, which has no colon).
fn refresh_seal(flight: &str) -> String {
    format!("skit-refresh-result:{flight}")
}
/// How often an instance waiting for another's refresh looks for its result.
const REFRESH_POLL: std::time::Duration = std::time::Duration::from_millis(100);

/// The provider's session id: the ID token's `sid`, else the access token's.
fn provider_session_id(
    id_claims: &serde_json::Map<String, serde_json::Value>,
    access_claims: &serde_json::Map<String, serde_json::Value>,
) -> Option<String> {
    [id_claims, access_claims]
        .iter()
        .find_map(|claims| claims.get("sid").and_then(serde_json::Value::as_str))
        .filter(|sid| !sid.is_empty() && sid.len() <= 256)
        .map(str::to_string)
}

/// How long a refresh result is shared: new tokens for the grace period, an outage briefly.
fn keep_refresh_result(result: &Result<Arc<Session>, RefreshError>) -> std::time::Duration {
    match result {
        Err(RefreshError::Unavailable(_)) => FAILURE_MEMORY,
        _ => GRACE,
    }
}

impl From<ProviderError> for SignInError {
    fn from(error: ProviderError) -> Self {
        SignInError::ProviderMisconfigured(error.to_string())
    }
}

fn token_error(error: TokenEndpointError) -> SignInError {
    match error {
        TokenEndpointError::InvalidGrant => SignInError::CodeRefused,
        TokenEndpointError::Refused { error, description } => {
            SignInError::ClientRefused(format!("{error}: {}", description.unwrap_or_default()))
        }
        TokenEndpointError::Unavailable(reason) => SignInError::ProviderUnavailable(reason),
    }
}

impl RelyingParty {
    /// A relying party for `provider`, recording in `store`; `seal_key` (the cookie key) seals the
    /// refresh results left in a shared store.
    pub fn new(
        provider: Arc<Provider>,
        settings: RelyingPartySettings,
        store: Store,
        seal_key: tower_cookies::Key,
    ) -> RelyingParty {
        RelyingParty {
            provider,
            settings,
            refreshes: SingleFlight::new(keep_refresh_result),
            store,
            seal_key,
        }
    }

    /// The idle and absolute session timeouts.
    pub fn policy(&self) -> &SessionPolicy {
        &self.settings.policy
    }

    /// The app's client id at the provider.
    pub fn client_id(&self) -> &str {
        self.provider.client_id()
    }

    /// The redirect URI registered at the provider (the callback is served at its path).
    pub fn redirect_uri(&self) -> &str {
        &self.settings.redirect_uri
    }

    /// The provider client, shared with the management API.
    pub fn provider(&self) -> &Arc<Provider> {
        &self.provider
    }

    /// The Scalekit environment URL.
    pub fn environment_url(&self) -> &str {
        self.provider.environment_url()
    }

    /// The provider's current endpoints (see [`Provider::endpoints`]).
    pub async fn endpoints(&self) -> Result<Arc<Endpoints>, ProviderError> {
        self.provider.endpoints().await
    }

    /// A new transaction and the authorization URL to send the browser to (checklist L1–L3).
    pub async fn begin_login(
        &self,
        return_to: ReturnPath,
        hints: &AuthorizationHints,
        now: u64,
    ) -> Result<(Transaction, String), SignInError> {
        let endpoints = self.provider.endpoints().await?;
        let transaction = Transaction::new(return_to, now);
        let url = transaction
            .authorization_url(
                &endpoints.metadata,
                self.provider.client_id(),
                &self.settings.redirect_uri,
                &self.settings.scopes,
                hints,
            )
            .map_err(|e| SignInError::ProviderMisconfigured(e.to_string()))?;
        Ok((transaction, url))
    }

    /// The issuer that responses must come from (RFC 9207 `iss`, checklist L8).
    pub async fn issuer(&self) -> Result<Issuer, SignInError> {
        Ok(Issuer::validated(
            &self.provider.endpoints().await?.metadata.issuer,
        ))
    }

    /// Exchanges the code and validates both tokens before using either (RFC 9700 §4.5.3.2).
    pub async fn complete_login(
        &self,
        transaction: &Transaction,
        code: &str,
        now: u64,
    ) -> Result<Session, SignInError> {
        let endpoints = self.provider.endpoints().await?;
        let tokens = endpoints
            .token
            .exchange_code(
                code,
                &self.settings.redirect_uri,
                transaction.code_verifier().expose(),
            )
            .await
            .map_err(token_error)?;
        let id_token = tokens.id_token.clone().ok_or(SignInError::NoIdToken)?;
        let id_claims = self
            .check_id_token(
                &endpoints,
                &id_token,
                Some(transaction.nonce().expose()),
                &tokens,
                now,
            )
            .await?;
        let access = self
            .check_access_token(&endpoints, &tokens.access_token, now)
            .await?;
        if access.sub != id_claims.sub {
            return Err(SignInError::SubjectMismatch);
        }
        let provider_sid = provider_session_id(&id_claims.other, &access.all);
        Ok(Session {
            id: new_session_id(),
            issuer: Issuer::validated(&endpoints.metadata.issuer),
            user: summarize(&id_claims.sub, &access.all, &id_claims.other),
            access_token: tokens.access_token,
            access_token_expires_at: access.exp,
            refresh_token: tokens.refresh_token,
            id_token: Some(id_token),
            signed_in_at: now,
            last_seen: now,
            provider_sid,
            fingerprints: None,
            ended_keys: Default::default(),
        }
        .with_fingerprints())
    }

    async fn check_id_token(
        &self,
        endpoints: &Endpoints,
        id_token: &str,
        nonce: Option<&str>,
        tokens: &TokenResponse,
        now: u64,
    ) -> Result<IdTokenClaims, SignInError> {
        let expected = Expected {
            issuer: &endpoints.metadata.issuer,
            client_id: self.provider.client_id(),
            nonce,
            access_token: Some(&tokens.access_token),
            now,
        };
        endpoints
            .jwks
            .validate_id_token(id_token, &expected)
            .await
            .map_err(|e| match e {
                KeyedValidationError::Invalid(e) => {
                    crate::telemetry::token_refused("id", e.reason());
                    SignInError::BadIdToken(e)
                }
                KeyedValidationError::KeysUnavailable(e) => {
                    SignInError::ProviderUnavailable(e.to_string())
                }
            })
    }

    async fn check_access_token(
        &self,
        endpoints: &Endpoints,
        access_token: &str,
        now: u64,
    ) -> Result<AccessClaims, SignInError> {
        let expected = AccessExpected {
            issuer: &endpoints.metadata.issuer,
            audience: self.provider.client_id(),
            now,
        };
        endpoints
            .jwks
            .validate_access_token(access_token, &expected)
            .await
            .map_err(|e| SignInError::ProviderUnavailable(e.to_string()))?
            .map_err(|e| {
                crate::telemetry::token_refused("access", e.reason());
                SignInError::BadAccessToken(e)
            })
    }

    /// Validates the session's access token against the provider's current keys.
    pub async fn validate_access_token(
        &self,
        session: &Session,
        now: u64,
    ) -> Result<AccessClaims, SignInError> {
        let endpoints = self.provider.endpoints().await?;
        self.check_access_token(&endpoints, &session.access_token, now)
            .await
    }

    /// Refreshes the session's tokens, once per refresh token however many requests ask
    /// (checklist R2–R6). The new ID token, if any, must name the same user (I15).
    pub async fn refresh(
        self: &Arc<Self>,
        session: &Session,
        now: u64,
    ) -> Result<Arc<Session>, RefreshError> {
        let Some(refresh_token) = session.refresh_token.clone() else {
            return Err(RefreshError::Ended("no refresh token".into()));
        };
        let rp = self.clone();
        let session = session.clone();
        let token = refresh_token.clone();
        self.refreshes
            .run(
                &refresh_token,
                move || async move { rp.refresh_shared(&session, &token, now).await },
                || Err(RefreshError::Unavailable("the refresh task failed".into())),
            )
            .await
    }

    /// With a shared store, one instance redeems the refresh token and leaves the sealed result
    /// for the grace period; the others wait for it (bounded) instead of redeeming the token again,
    /// which the provider's reuse detection would punish by ending the whole session.
    async fn refresh_shared(
        &self,
        session: &Session,
        refresh_token: &str,
        now: u64,
    ) -> Result<Arc<Session>, RefreshError> {
        let Some(shared) = self.store.shared() else {
            return self.refresh_once(session, refresh_token, now).await;
        };
        let unavailable = |e: StoreUnavailable| RefreshError::Unavailable(e.to_string());
        let flight = super::store::digest("flight", refresh_token);
        if let Some(done) = shared.refresh_result(&flight).await.map_err(unavailable)? {
            return self.open_refresh_result(&done, &flight, session);
        }
        // Discovery and the keys before the lock, so the locked section is only the token call
        // and the checks of its tokens (what `REFRESH_LOCK` is sized for).
        self.endpoints_with_keys().await?;
        if let Some(owner) = shared
            .claim_refresh(&flight, REFRESH_LOCK)
            .await
            .map_err(unavailable)?
        {
            let result = self.refresh_once(session, refresh_token, now).await;
            match self.shareable(&result, &flight) {
                Some(value) => {
                    if let Err(e) = shared.put_refresh_result(&flight, &value, GRACE).await {
                        tracing::warn!(error = %e, "could not share a refresh result; other instances will retry");
                    }
                }
                // An outage: the next try (here or elsewhere) must not wait out the lock.
                None => {
                    if let Err(e) = shared.release_refresh(&flight, &owner).await {
                        tracing::warn!(error = %e, "could not give up the refresh lock; it expires by itself");
                    }
                }
            }
            return result;
        }
        // Another instance is refreshing this session: wait for its result, within the request's
        // time limit. A holder that gave the lock up without a result met an outage.
        let deadline = tokio::time::Instant::now() + REFRESH_WAIT;
        while tokio::time::Instant::now() < deadline {
            tokio::time::sleep(REFRESH_POLL).await;
            if let Some(done) = shared.refresh_result(&flight).await.map_err(unavailable)? {
                return self.open_refresh_result(&done, &flight, session);
            }
            if !shared.refresh_claimed(&flight).await.map_err(unavailable)? {
                // Its result may have landed between the two reads.
                if let Some(done) = shared.refresh_result(&flight).await.map_err(unavailable)? {
                    return self.open_refresh_result(&done, &flight, session);
                }
                return Err(RefreshError::Unavailable(
                    "another instance's refresh of this session failed".into(),
                ));
            }
        }
        Err(RefreshError::Unavailable(
            "another instance's refresh of this session did not finish".into(),
        ))
    }

    /// A refresh outcome as other instances may read it: new tokens sealed with the cookie key,
    /// or that the session ended. An outage is not shared: each instance tries again itself.
    /// Sealed for `flight` only, so a result copied to another session's key does not open.
    fn shareable(
        &self,
        result: &Result<Arc<Session>, RefreshError>,
        flight: &str,
    ) -> Option<String> {
        match result {
            Ok(refreshed) => serde_json::to_string(refreshed.as_ref()).ok().map(|json| {
                format!(
                    "ok:{}",
                    super::sealed::seal(&self.seal_key, &refresh_seal(flight), &json)
                )
            }),
            Err(RefreshError::Ended(reason)) => Some(format!("ended:{reason}")),
            Err(RefreshError::Unavailable(_)) => None,
        }
    }

    /// A refresh result another instance (or this one) left in the shared store for `flight`,
    /// the refresh of `session`: it opens only under its own flight and must be that session's.
    fn open_refresh_result(
        &self,
        stored: &str,
        flight: &str,
        session: &Session,
    ) -> Result<Arc<Session>, RefreshError> {
        if let Some(reason) = stored.strip_prefix("ended:") {
            return Err(RefreshError::Ended(reason.to_string()));
        }
        stored
            .strip_prefix("ok:")
            .and_then(|sealed| super::sealed::open(&self.seal_key, &refresh_seal(flight), sealed))
            .and_then(|json| serde_json::from_str::<Session>(&json).ok())
            .filter(|refreshed| {
                refreshed.id == session.id && refreshed.user.sub == session.user.sub
            })
            .map(Arc::new)
            // Not ours to read (another key) or damaged: the safe answer is "try again".
            .ok_or_else(|| RefreshError::Unavailable("an unreadable shared refresh result".into()))
    }

    async fn refresh_once(
        &self,
        session: &Session,
        refresh_token: &str,
        now: u64,
    ) -> Result<Arc<Session>, RefreshError> {
        let result = self.redeem_refresh_token(session, refresh_token, now).await;
        crate::telemetry::refresh(match &result {
            Ok(_) => "ok",
            Err(RefreshError::Ended(_)) => "ended",
            Err(RefreshError::Unavailable(_)) => "unavailable",
        });
        result
    }

    /// The provider's endpoints with its signing keys at hand: with none cached and none to be
    /// had, the refresh stops here, before its token is spent. (Keys at hand but stale, while the
    /// key endpoint is down, still serve; a rotation in that moment ends the session.)
    async fn endpoints_with_keys(&self) -> Result<Arc<Endpoints>, RefreshError> {
        let unavailable = |e: &dyn std::fmt::Display| RefreshError::Unavailable(e.to_string());
        let endpoints = self
            .provider
            .endpoints()
            .await
            .map_err(|e| unavailable(&e))?;
        endpoints
            .jwks
            .ensure_loaded()
            .await
            .map_err(|e| unavailable(&e))?;
        Ok(endpoints)
    }

    async fn redeem_refresh_token(
        &self,
        session: &Session,
        refresh_token: &str,
        now: u64,
    ) -> Result<Arc<Session>, RefreshError> {
        let endpoints = self.endpoints_with_keys().await?;
        let tokens = match endpoints.token.refresh(refresh_token).await {
            Ok(tokens) => tokens,
            Err(TokenEndpointError::InvalidGrant) => {
                return Err(RefreshError::Ended("the refresh token was refused".into()))
            }
            Err(e) => return Err(RefreshError::Unavailable(e.to_string())),
        };
        // The refresh token is spent now (a rotating provider takes it once). A refreshed token
        // that fails validation is the provider's final word on this session (sign in again),
        // an unknown `kid` included: the keys were at hand, and fetched again for it unless a
        // fetch had just run (or failed, the key endpoint being down as the provider rotated).
        let access = match self
            .check_access_token(&endpoints, &tokens.access_token, now)
            .await
        {
            Ok(access) => access,
            Err(e @ SignInError::ProviderUnavailable(_)) => {
                return Err(RefreshError::Unavailable(e.to_string()))
            }
            Err(e) => {
                return Err(RefreshError::Ended(format!(
                    "the refreshed access token failed: {e}"
                )))
            }
        };
        if access.sub != session.user.sub || endpoints.metadata.issuer != session.issuer.as_str() {
            return Err(RefreshError::Ended(
                "the refreshed access token names another user".into(),
            ));
        }
        let mut id_other = Map::new();
        if let Some(id_token) = &tokens.id_token {
            let claims = self
                .check_id_token(&endpoints, id_token, None, &tokens, now)
                .await
                .map_err(|e| match e {
                    SignInError::ProviderUnavailable(_) => RefreshError::Unavailable(e.to_string()),
                    other => RefreshError::Ended(format!("the refreshed ID token failed: {other}")),
                })?;
            if claims.sub != session.user.sub {
                return Err(RefreshError::Ended(
                    "the refreshed ID token names another user".into(),
                ));
            }
            id_other = claims.other;
        }
        let mut user = summarize(&access.sub, &access.all, &id_other);
        // A refresh without a new ID token keeps the profile from the one we have.
        if tokens.id_token.is_none() {
            user.name = session.user.name.clone();
            user.email = session.user.email.clone();
        }
        Ok(Arc::new(
            Session {
                id: session.id.clone(),
                issuer: session.issuer.clone(),
                user,
                access_token: tokens.access_token,
                access_token_expires_at: access.exp,
                // R4: a rotated refresh token replaces the old one; none returned keeps the old.
                refresh_token: tokens
                    .refresh_token
                    .or_else(|| Some(refresh_token.to_string())),
                id_token: tokens.id_token.or_else(|| session.id_token.clone()),
                signed_in_at: session.signed_in_at,
                last_seen: now.max(session.last_seen),
                provider_sid: session.provider_sid.clone(),
                fingerprints: None,
                ended_keys: Default::default(),
            }
            .with_fingerprints(),
        ))
    }

    /// Revokes the session's refresh token at the provider (RFC 7009), where it offers that.
    /// Best effort: a failure is logged and sign-out goes on.
    pub async fn revoke(&self, session: &Session) {
        let Some(refresh_token) = &session.refresh_token else {
            return;
        };
        let Ok(endpoints) = self.provider.endpoints().await else {
            return;
        };
        let Some(endpoint) = &endpoints.metadata.revocation_endpoint else {
            return;
        };
        let credentials = self.provider.credentials();
        let request = self.provider.http().post(endpoint).form(&[
            ("token", refresh_token.as_str()),
            ("token_type_hint", "refresh_token"),
            ("client_id", credentials.client_id.as_str()),
            ("client_secret", credentials.client_secret.expose()),
        ]);
        let result = crate::telemetry::provider_call("revoke", request.send()).await;
        match result {
            Ok(response) if response.status().is_success() => {}
            Ok(response) => {
                tracing::warn!(
                    status = response.status().as_u16(),
                    "token revocation refused"
                )
            }
            Err(e) => {
                tracing::warn!(error = %super::http_client::error_chain(&e), "token revocation failed")
            }
        }
    }

    /// Where to send the browser to end the provider's session too (RP-initiated logout), with
    /// the ID token as hint, our post-logout address and `state`. `None` when the provider has no
    /// end-session endpoint (the app then just goes home).
    pub async fn end_session_url(&self, session: Option<&Session>, state: &str) -> Option<String> {
        let endpoints = self.provider.endpoints().await.ok()?;
        end_session_url(
            &endpoints.metadata,
            session.and_then(|s| s.id_token.as_deref()),
            &self.settings.post_logout_redirect_uri,
            state,
        )
    }
}

/// The RP-initiated logout URL: the provider's `end_session_endpoint` with `id_token_hint` (when
/// given), `post_logout_redirect_uri` and `state` added to its query. `None` when the metadata has
/// no end-session endpoint or it does not parse as a URL.
pub fn end_session_url(
    metadata: &ProviderMetadata,
    id_token_hint: Option<&str>,
    post_logout_redirect_uri: &str,
    state: &str,
) -> Option<String> {
    let mut url = url::Url::parse(metadata.end_session_endpoint.as_deref()?).ok()?;
    {
        let mut query = url.query_pairs_mut();
        if let Some(hint) = id_token_hint {
            query.append_pair("id_token_hint", hint);
        }
        query
            .append_pair("post_logout_redirect_uri", post_logout_redirect_uri)
            .append_pair("state", state);
    }
    Some(url.into())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::{RefreshError, Session};
    use crate::auth::Auth;

    fn session(id: &str, sub: &str) -> Session {
        Session {
            id_token: None,
            ..crate::session::test_session(id, sub, 0)
        }
    }

    /// R9: a refresh result left in the shared store opens only under its own flight (the
    /// refresh token's digest) and only for the session it refreshed: one copied to another
    /// session's key by whoever can write to Redis is refused, not served.
    #[test]
    fn r9_a_shared_refresh_result_opens_only_for_its_own_flight_and_session() {
        let settings = crate::settings::test_settings();
        let rp = Auth::new(settings).expect("builds").rp;
        let ada = session("s1", "usr_ada");
        let stored = rp
            .shareable(&Ok(Arc::new(ada.clone())), "flight-a")
            .expect("a success is shared");
        let opened = rp.open_refresh_result(&stored, "flight-a", &ada);
        assert_eq!(opened.map(|s| s.id.clone()).ok().as_deref(), Some("s1"));
        let max = session("s2", "usr_max");
        for (flight, whose) in [("flight-b", &max), ("flight-a", &max), ("flight-b", &ada)] {
            assert!(
                matches!(
                    rp.open_refresh_result(&stored, flight, whose),
                    Err(RefreshError::Unavailable(_))
                ),
                "{flight} for {}",
                whose.id
            );
        }
    }
}
