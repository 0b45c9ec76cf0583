//! The relying-party core: talking to the OpenID provider, keys, sessions and cookies.
//! Deliberately free of Leptos types so it could become a crate of its own; the axum edges
//! (callback handler, session middleware) live here too, Leptos' own edges in `session_api`.

pub mod access_token;
pub mod api_token;
pub mod backchannel;
pub mod callback;
pub mod claims_table;
pub mod cookie_key;
pub mod discovery;
pub mod expiring_set;
pub mod http_client;
pub mod id_token;
pub mod jwks_cache;
pub mod jwt;
pub mod keys;
pub mod logout;
pub mod logout_token;
pub mod management;
pub mod middleware;
pub mod provider;
pub mod refresh;
pub mod relying_party;
pub mod return_to;
pub mod sealed;
pub mod session;
pub mod session_cookies;
pub mod store;
pub mod token_client;
pub mod transaction;
pub mod user;
pub mod user_sessions;
pub mod verified_tokens;

#[cfg(test)]
mod test_keys;
