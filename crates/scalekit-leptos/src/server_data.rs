//! Data that only the server fetches: resources whose value the server renders into the page and
//! the browser takes from the hydration data, never fetching again (their sources never change).
//! In the browser the fetch is never called, so the server function's client code (request
//! building, response decoding) stays out of the first-load bundle.

use std::future::Future;

use crate::error::ServerError;

/// `fetch()` on the server. In the browser this runs only if the page arrived without the
/// server's value, which the server render always includes; it answers an error rather than
/// fetching.
#[cfg(feature = "ssr")]
pub async fn from_server<T, F>(fetch: impl FnOnce() -> F) -> Result<T, ServerError>
where
    F: Future<Output = Result<T, ServerError>>,
{
    fetch().await
}

/// In the browser: an error, never a fetch (see the server's twin above).
#[cfg(not(feature = "ssr"))]
pub async fn from_server<T, F>(_fetch: impl FnOnce() -> F) -> Result<T, ServerError>
where
    F: Future<Output = Result<T, ServerError>>,
{
    Err(ServerError::Internal)
}
