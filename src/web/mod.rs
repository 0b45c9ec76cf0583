//! HTTP plumbing shared by every route: request ids and logs, security headers, static files,
//! liveness and readiness, metrics.

#[cfg(feature = "bench-baselines")]
pub mod bench_baselines;
pub mod edge;
pub mod header_limit;
pub mod health;
pub mod metrics;
pub mod ready;
pub mod request_log;
pub mod security_headers;
pub mod serve;
pub mod static_files;
