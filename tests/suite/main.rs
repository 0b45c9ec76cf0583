//! The integration tests, as one test binary: linking each file as its own binary cost a link of
//! the whole server per file, in time and in disk (CI once ran out of space). `tests/logs.rs` stays
//! apart because it installs the process's global log subscriber.
//! Run one part with a filter: `cargo test --features ssr --test suite bff::`.

#[cfg(feature = "ssr")]
#[path = "../common/mod.rs"]
mod common;

mod api;
mod bff;
mod cookie_policy;
mod dev_idp;
mod doctor;
mod fuzz;
mod hostile_http;
mod interop_oidc_provider;
mod jwks_cache;
mod mcp;
mod mock_provider;
mod multi_instance;
mod operations;
mod provider_discovery;
mod router;
mod source_rules;
mod startup_faults;
mod token_client;
mod webhooks;
