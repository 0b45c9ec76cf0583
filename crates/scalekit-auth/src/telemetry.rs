//! What the core counts, through the `metrics` facade: the most used metrics API in Rust, and a
//! no-op until the app installs a recorder (the app's Prometheus exporter), so a library user
//! who wants none pays nothing. Labels are fixed words: never a token, a user or a URL.
//!
//! | metric | labels |
//! |---|---|
//! | `scalekit_sign_ins_total` | `outcome`: `ok`, or the failure page's status (`400`, `502`, `503`…) |
//! | `scalekit_refreshes_total` | `outcome`: `ok`, `ended`, `unavailable` (one per token-endpoint refresh) |
//! | `scalekit_tokens_refused_total` | `token`: `id`, `access`, `logout`, `bearer`; `reason`: the error's `reason()` |
//! | `scalekit_provider_requests_total` | `endpoint`: `discovery`, `jwks`, `token`, `revoke`, `management`; `outcome`: `ok`, `error` |
//! | `scalekit_provider_request_duration_seconds` | `endpoint` (histogram) |
//! | `scalekit_store_errors_total` | `store`: `redis` |

use std::future::Future;
use std::time::Instant;

/// A sign-in finished at the callback: `ok`, or the failure's HTTP status.
pub(crate) fn sign_in(outcome: &'static str) {
    metrics::counter!("scalekit_sign_ins_total", "outcome" => outcome).increment(1);
}

/// A refresh at the token endpoint ended: `ok`, `ended` or `unavailable`.
pub(crate) fn refresh(outcome: &'static str) {
    metrics::counter!("scalekit_refreshes_total", "outcome" => outcome).increment(1);
}

/// A token was refused: which kind, and why (the error's `reason()`).
pub(crate) fn token_refused(token: &'static str, reason: &'static str) {
    metrics::counter!("scalekit_tokens_refused_total", "token" => token, "reason" => reason)
        .increment(1);
}

/// A command to the shared store failed.
pub(crate) fn store_error() {
    metrics::counter!("scalekit_store_errors_total", "store" => "redis").increment(1);
}

/// Runs one call to the provider's `endpoint`, counting it and timing it.
pub(crate) async fn provider_call<T, E>(
    endpoint: &'static str,
    call: impl Future<Output = Result<T, E>>,
) -> Result<T, E> {
    let started = Instant::now();
    let result = call.await;
    let outcome = if result.is_ok() { "ok" } else { "error" };
    metrics::counter!("scalekit_provider_requests_total", "endpoint" => endpoint, "outcome" => outcome)
        .increment(1);
    metrics::histogram!("scalekit_provider_request_duration_seconds", "endpoint" => endpoint)
        .record(started.elapsed().as_secs_f64());
    result
}
