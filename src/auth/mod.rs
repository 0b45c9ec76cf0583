//! The relying-party core: talking to the OpenID provider, keys and cookies. Deliberately free of
//! Leptos types so it could become a crate of its own.

pub mod cookie_key;
pub mod discovery;
pub mod http_client;
pub mod id_token;
pub mod jwks_cache;
pub mod keys;
pub mod return_to;
pub mod token_client;
pub mod transaction;
