//! [`Auth::begin_idp_initiated_sign_in`]: the app's initiate-login URL. A valid, unused
//! `idp_initiated_login` token (see `idp_initiated`) becomes an ordinary sign-in through its
//! connection or organization, with its login hint; its `relay_state` is the return path when it
//! is a local path (the rules of `next`), otherwise it is ignored.
//!
//! Scalekit also sends browsers here without a token: from a bookmarked login page whose
//! transaction expired, after a password reset or an email verification, with an invitation, or
//! when its own cookies are off. Those start an ordinary sign-in, passing on the routing
//! parameters they carry (`connection_id`, `organization_id`, `domain_hint`, `login_hint`,
//! `provider`, `prompt`) once checked, as `/login` does. Scalekit's SDK examples pass
//! `relay_state` as the authorization `state`; we do not, because our `state` is the sign-in's
//! CSRF defence and must be fresh and ours.

use tower_cookies::Cookies;

use crate::auth::Auth;
use crate::authorization_hints::AuthorizationHints;
use crate::idp_initiated::{validate_idp_initiated_token, IdpInitiatedError};
use crate::log_text::untrusted;
use crate::sign_in::SignInFailure;
use crate::store::OneTime;
use crate::values::ReturnPath;

/// The query parameter Scalekit sends.
pub const IDP_INITIATED_LOGIN_PARAM: &str = "idp_initiated_login";

fn refused(status: u16, message: &str) -> SignInFailure {
    SignInFailure::new(status, "Sign-in failed", message)
}

fn unavailable() -> SignInFailure {
    refused(
        503,
        "The identity provider cannot be reached right now. Please try again in a moment.",
    )
}

impl Auth {
    /// Answers the initiate-login URL's query: the provider's authorization URL for a fresh
    /// sign-in (its transaction cookie written), or the failure to show: 400 for a bad, expired
    /// or replayed token, a provider `error` or a routing parameter that is not valid, 503 when
    /// the provider's keys or the store cannot be reached. Without a token, the sign-in is an
    /// ordinary one with the query's routing parameters. Nothing here signs anyone in.
    pub async fn begin_idp_initiated_sign_in(
        &self,
        cookies: &Cookies,
        query: Option<&str>,
        now: u64,
    ) -> Result<String, SignInFailure> {
        let pairs = crate::sign_in::params(query)?;
        let param = |name: &str| {
            pairs
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
        };
        if let Some(error) = param("error") {
            tracing::info!(error = %untrusted(error), "the provider sent an error to the initiate-login URL");
            return Err(refused(
                400,
                "Your identity provider could not start the sign-in. Please sign in from this application instead.",
            ));
        }
        let Some(token) = param(IDP_INITIATED_LOGIN_PARAM) else {
            let owned = |name: &str| param(name).map(str::to_string);
            let hints = AuthorizationHints {
                connection_id: owned("connection_id"),
                organization_id: owned("organization_id"),
                domain_hint: owned("domain_hint"),
                login_hint: owned("login_hint"),
                provider: owned("provider"),
                prompt: owned("prompt"),
            };
            if let Err(invalid) = hints.check() {
                tracing::info!(%invalid, "initiate-login: a routing parameter is not valid");
                return Err(refused(
                    400,
                    "This sign-in link is not valid. Please sign in from this application instead.",
                ));
            }
            return self.begin_routed_sign_in(cookies, None, &hints, now).await;
        };
        let endpoints = self.rp.endpoints().await.map_err(|e| {
            tracing::warn!(error = %e, "IdP-initiated login: the provider is unavailable");
            unavailable()
        })?;
        let issuer = endpoints.metadata.issuer.clone();
        let client_id = self.rp.client_id().to_string();
        let claims = endpoints
            .jwks
            .check_with_keys(
                |keys| validate_idp_initiated_token(token, keys, &issuer, &client_id, now),
                |e| {
                    matches!(
                        e,
                        IdpInitiatedError::Invalid(crate::jwt::JwtError::UnknownKey(_))
                    )
                },
            )
            .await
            .map_err(|e| {
                tracing::warn!(error = %e, "IdP-initiated login: the provider's keys are unavailable");
                unavailable()
            })?
            .map_err(|e| {
                crate::telemetry::token_refused("idp_initiated_login", e.reason());
                tracing::info!(reason = e.reason(), "IdP-initiated login token refused");
                refused(
                    400,
                    "This sign-in link is not valid or has expired. Please sign in from your identity provider again, or from this application.",
                )
            })?;
        let first = self
            .store()
            .first_use(
                OneTime::IdpInitiatedLogin,
                &claims.replay_key,
                claims.remember_until,
                now,
            )
            .await
            .map_err(|_| unavailable())?;
        if !first {
            crate::telemetry::token_refused("idp_initiated_login", "replayed");
            return Err(refused(
                400,
                "This sign-in link was already used. Please sign in from your identity provider again.",
            ));
        }
        let hints = AuthorizationHints {
            connection_id: claims.connection_id,
            organization_id: claims.organization_id,
            login_hint: claims.login_hint,
            ..AuthorizationHints::default()
        };
        self.begin_routed_sign_in(cookies, claims.relay_state.as_deref(), &hints, now)
            .await
    }

    /// A sign-in through `hints`, returning to `relay_state` when it is a local path (the rules
    /// of `next`), else to the default page.
    async fn begin_routed_sign_in(
        &self,
        cookies: &Cookies,
        relay_state: Option<&str>,
        hints: &AuthorizationHints,
        now: u64,
    ) -> Result<String, SignInFailure> {
        let pages = self.pages();
        let local = relay_state
            .and_then(ReturnPath::parse)
            // The rules of `next` (`login`): a local path, and not back into sign-in itself.
            .filter(|path| !self.is_sign_in_machinery(path));
        if relay_state.is_some() && local.is_none() {
            tracing::info!(
                "IdP-initiated login: a relay state that is not a local path was ignored"
            );
        }
        let return_to = local
            .or_else(|| ReturnPath::parse(&pages.default_return_to))
            .unwrap_or_else(ReturnPath::root);
        self.begin_sign_in(cookies, return_to, hints, now)
            .await
            .map_err(|e| {
                tracing::warn!(error = %e, "initiate-login: could not start the sign-in");
                unavailable()
            })
    }
}
