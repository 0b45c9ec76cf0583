//! [`Auth::begin_idp_initiated_sign_in`]: the app's initiate-login URL. A valid, unused
//! `idp_initiated_login` token (see `idp_initiated`) sends the browser to the app's login page
//! with the token's connection, organization and login hint; its `relay_state` is the return
//! path when it is a local path (the rules of `next`), otherwise it is ignored.
//!
//! Scalekit also sends browsers here without a token: from a bookmarked login page whose
//! transaction expired, after a password reset or an email verification, with an invitation, or
//! when its own cookies are off. Those go to the login page too, with the routing parameters they
//! carry (`connection_id`, `organization_id`, `domain_hint`, `login_hint`, `provider`, `prompt`)
//! once checked.
//!
//! Why the login page and not the provider at once: this URL is a plain GET that any site can
//! send a browser to. Started from here, a sign-in through a connection the link names (an
//! organization whose identity provider signs in without asking, run by whoever sent the link)
//! would sign the visitor in as someone else, ending their own session: login CSRF. The login
//! page's **Sign in** is a same-origin form post, checked by the CSRF guard, so nothing starts
//! without the user's click; a visitor already signed in is sent on by the login page instead.
//! Scalekit's SDK examples pass `relay_state` as the authorization `state`; we do not, because
//! our `state` is the sign-in's CSRF defence and must be fresh and ours.

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
    /// Answers the initiate-login URL's query: where to send the browser, the login page
    /// (`SignInPages::login_path`) with the routing parameters and `next` to pass on, or the
    /// failure to show: 400 for a bad, expired or replayed token, a provider `error` or a routing
    /// parameter that is not valid, 503 when the provider's keys or the store cannot be reached.
    /// Nothing here starts a sign-in (see the module's documentation): the login page must pass
    /// its query's `next`, `connection_id`, `organization_id`, `domain_hint`, `login_hint`,
    /// `provider` and `prompt` on to its sign-in form.
    pub async fn begin_idp_initiated_sign_in(
        &self,
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
            // Empty means "not given", as the login form's fields do.
            let owned = |name: &str| param(name).filter(|v| !v.is_empty()).map(str::to_string);
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
            return Ok(self.login_page_with(None, &hints));
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
        Ok(self.login_page_with(claims.relay_state.as_deref(), &hints))
    }

    /// The login page with `hints` and, when `relay_state` is a local path a sign-in may land
    /// on (the rules of `next`), that as `next`.
    fn login_page_with(&self, relay_state: Option<&str>, hints: &AuthorizationHints) -> String {
        let local = relay_state
            .and_then(ReturnPath::parse)
            .filter(|path| !self.is_sign_in_machinery(path));
        if relay_state.is_some() && local.is_none() {
            tracing::info!(
                "IdP-initiated login: a relay state that is not a local path was ignored"
            );
        }
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        if let Some(next) = &local {
            query.append_pair("next", next.as_str());
        }
        for (name, value) in hints.pairs() {
            query.append_pair(name, value);
        }
        let query = query.finish();
        let login = &self.pages().login_path;
        if query.is_empty() {
            login.clone()
        } else {
            format!("{login}?{query}")
        }
    }
}
