//! Scalekit sign-in as a backend-for-frontend, without a UI framework.
//!
//! An app builds one [`Auth`] from [`AuthSettings`] and calls its verbs:
//!
//! | verb | what it does |
//! |---|---|
//! | [`Auth::begin_sign_in`] | a fresh state, nonce and PKCE verifier in a sealed cookie; the provider's authorization URL |
//! | [`Auth::finish_sign_in`] | the callback: state, issuer, code exchange, ID- and access-token validation, the session cookie |
//! | [`Auth::resolve`] / [`Auth::resolve_with_headers`] | who is making this request: cookie opened (from the jar, or straight from the `Cookie` header), timeouts and ended-session records checked, tokens refreshed once across instances |
//! | [`Auth::refresh`] | refresh now (single flight shared with `resolve`) |
//! | [`Auth::sign_out`] / [`Auth::end_session_url`] | end this session everywhere, then at the provider |
//! | [`Auth::end_user_sessions`] / [`Auth::end_provider_session`] | end a user's sessions on every instance (retried in the background) |
//! | [`Auth::try_end_user_sessions`] / [`Auth::try_end_provider_session`] / [`Auth::try_end_member_sessions`] | the same once, with the store's answer; the last by organization and email, as a directory names a member |
//! | [`Auth::accept_logout_token`] | back-channel logout |
//! | [`webhook::WebhookVerifier::verify`], then [`Auth::record_webhook`] | a Scalekit webhook: verified, acted on, then recorded once |
//!
//! The facade's types are at the crate root: the handle and its settings, the [`Session`] and its
//! [`User`], the [`RequestSession`] a request resolves to, the errors, and the protocol values as
//! types ([`State`], [`Nonce`], [`PkceVerifier`], [`Issuer`], and [`ReturnPath`], which only the
//! open-redirect check makes). Beside it: [`store`] (in process or Redis), [`bearer`] (access
//! tokens of machine clients), [`management`] and [`user_sessions`] (Scalekit's APIs), and with the
//! `axum` feature `axum_edge` (the callback, back-channel logout and session middleware as axum
//! handlers). [`protocol`] holds the lower-level pieces the facade is made of, for tools and tests
//! that need one step on its own.
//!
//! It knows nothing of Leptos or of any app: the app gives it its settings and builds its own
//! views from [`Session`] and [`User`].
//!
//! ```
//! use scalekit_auth::{Auth, AuthSettings, Key, ReturnPath, Secret};
//!
//! let settings = AuthSettings::new(
//!     "https://acme.scalekit.dev",
//!     "skc_123",
//!     Secret::new("the client secret"),
//!     "https://app.example.com",
//!     Key::generate(), // keep one key across restarts and instances
//! );
//! let auth = Auth::new(settings).expect("an HTTP client");
//! assert_eq!(auth.redirect_uri(), "https://app.example.com/auth/callback");
//! assert!(ReturnPath::parse("/reports?q=1").is_some());
//! assert!(ReturnPath::parse("//evil.example").is_none());
//! ```

#![deny(missing_docs)]

mod access_token;
mod api_token;
mod auth;
mod authorization_hints;
#[cfg(feature = "axum")]
pub mod axum_edge;
mod discovery;
mod expiring_set;
mod hex;
mod http_client;
mod id_token;
mod idp_initiated;
mod idp_sign_in;
mod jwks_cache;
mod jwt;
mod keys;
mod log_text;
mod logout_token;
pub mod management;
mod opened_sessions;
mod provider;
mod readiness;
mod refresh;
mod relying_party;
mod return_to;
mod sealed;
mod secret;
mod session;
mod session_cookies;
pub mod settings;
mod sign_in;
mod sign_out;
pub mod store;
mod telemetry;
mod time;
mod token_client;
mod transaction;
mod user;
pub mod user_sessions;
mod values;
mod verified_tokens;
mod webhooks;

pub use auth::{Auth, RequestSession};
pub use authorization_hints::{AuthorizationHints, InvalidHint};
pub use idp_sign_in::IDP_INITIATED_LOGIN_PARAM;
pub use readiness::Readiness;
pub use relying_party::{RefreshError, SignInError};
pub use secret::Secret;
pub use session::{now_secs, Session, SessionPolicy, TokenFingerprints};
pub use session_cookies::CookieSettings;
pub use settings::AuthSettings;
pub use sign_in::{SignInFailure, SignInPages};
pub use sign_out::LogoutTokenRefusal;
pub use store::Store;
pub use user::User;
pub use values::{Issuer, Nonce, PkceVerifier, ReturnPath, State};

/// The key that seals the cookies (64 bytes; the `cookie` crate's, through tower-cookies).
pub use tower_cookies::Key;

/// `Cache-Control: no-store`, for every answer that depends on who asks or on a secret.
pub const NO_STORE: http::HeaderValue = http::HeaderValue::from_static("no-store");

/// Access tokens of machine clients (RFC 6750): validation against the provider's keys with the
/// claims an API checks, and a bounded cache of tokens already verified.
pub mod bearer {
    pub use crate::api_token::{
        record_refusal, scopes_of, validate_api_token, ApiCaller, ApiExpected, ApiTokenError,
    };
    pub use crate::jwt::JwtError;
    pub use crate::verified_tokens::{VerifiedTokens, MAX_AGE};
}

/// Scalekit's signed webhooks: verification as its SDKs do it, and each delivery recorded once
/// it was acted on ([`Auth::record_webhook`](crate::Auth::record_webhook)).
pub mod webhook {
    pub use crate::webhooks::{
        Delivery, WebhookHeaders, WebhookRefusal, WebhookVerifier, WEBHOOK_TOLERANCE_SECS,
    };
}

/// The lower-level pieces [`Auth`] is made of: discovery, the provider client and
/// its key cache, the token endpoint, token validation, the sign-in transaction, sealing, and the
/// bounded HTTP reads. Apps rarely need them; tools (`doctor`) and tests do.
pub mod protocol {
    pub use crate::access_token::{AccessClaims, AccessExpected, AccessTokenError};
    pub use crate::discovery::{fetch_jwks, fetch_provider_metadata, FetchError, ProviderMetadata};
    pub use crate::http_client::{
        error_chain, provider_http_client, provider_http_client_trusting, read_limited, ExtraRoots,
        MAX_PROVIDER_RESPONSE_BYTES,
    };
    pub use crate::id_token::{half_hash, Expected, IdTokenClaims, IdTokenError};
    pub use crate::idp_initiated::{
        validate_idp_initiated_token, IdpInitiatedClaims, IdpInitiatedError,
    };
    pub use crate::jwks_cache::{lower_max_age_floor_for_tests, JwksCache, KeyedValidationError};
    pub use crate::jwt::{check_rs256, string_array, JwtError};
    pub use crate::keys::KeySet;
    pub use crate::log_text::untrusted;
    pub use crate::logout_token::{LogoutClaims, LogoutTokenError};
    pub use crate::provider::{DiscoveryTimes, Endpoints, Provider, ProviderError};
    pub use crate::refresh::FAILURE_MEMORY;
    pub use crate::sealed::{open, seal};
    pub use crate::secret::{constant_time_eq, random_token};
    pub use crate::session::fingerprint;
    pub use crate::token_client::{ClientCredentials, TokenClient, TokenEndpointError};
    pub use crate::transaction::{Transaction, TRANSACTION_TTL_SECS};
    pub use crate::user::summarize;
}

#[cfg(test)]
mod test_keys;
