//! Scalekit sign-in as a backend-for-frontend, without a UI framework: the relying party
//! (discovery, JWKS, the token endpoint, ID-, access- and logout-token validation, the sign-in
//! transaction with state, nonce and PKCE, refresh with single flight across instances), sealed
//! session cookies, the session store (in process or Redis), bearer-token validation for APIs,
//! Scalekit's management and user-sessions APIs, and the axum edges that need them: the sign-in
//! callback, back-channel logout and the session middleware.
//!
//! It knows nothing of Leptos or of any app: the app gives it its settings and builds its own
//! views from [`session::Session`] and [`user::User`].

#![deny(missing_docs)]

pub mod access_token;
pub mod api_token;
pub mod backchannel;
pub mod callback;
pub mod discovery;
pub mod expiring_set;
pub mod http_client;
pub mod id_token;
pub mod jwks_cache;
pub mod jwt;
pub mod keys;
pub mod log_text;
pub mod logout;
pub mod logout_token;
pub mod management;
pub mod middleware;
pub mod provider;
pub mod refresh;
pub mod relying_party;
pub mod return_to;
pub mod sealed;
pub mod secret;
pub mod session;
pub mod session_cookies;
pub mod settings;
pub mod store;
pub mod time;
pub mod token_client;
pub mod transaction;
pub mod user;
pub mod user_sessions;
pub mod verified_tokens;

pub use middleware::{Auth, RequestSession};

/// `Cache-Control: no-store`, for every answer that depends on who asks or on a secret.
pub const NO_STORE: http::HeaderValue = http::HeaderValue::from_static("no-store");
pub use settings::AuthSettings;

#[cfg(test)]
mod test_keys;
