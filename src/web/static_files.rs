//! Everything no route matches: a file from the site root (the wasm/JS/CSS bundle and `public/`),
//! or else the app's 404 page with status 404.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::Uri;
use axum::response::Response;
use http::header::{CACHE_CONTROL, VARY};
use http::{HeaderValue, StatusCode};

use crate::app::shell;
use crate::server::AppState;

/// Bundle files keep their names between builds, so the browser must revalidate them (cheap: the
/// file server answers `304 Not Modified`). Other public assets change rarely.
fn cache_policy(path: &str, pkg_route: &str) -> &'static str {
    if path.starts_with(pkg_route) {
        "no-cache"
    } else {
        "public, max-age=86400"
    }
}

pub async fn static_or_not_found(
    uri: Uri,
    State(state): State<AppState>,
    request: Request<Body>,
) -> Response {
    let pkg_route = state.leptos_options.site_pkg_dir_route_base();
    let path = uri.path().to_string();
    let handler = leptos_axum::file_and_error_handler_with_context::<AppState, _>(
        crate::server::provide_request_context,
        shell,
    );
    let mut response = handler(uri, State(state), request).await;
    let status = response.status();
    if status.is_success() || status == StatusCode::NOT_MODIFIED {
        let headers = response.headers_mut();
        headers.insert(
            CACHE_CONTROL,
            HeaderValue::from_static(cache_policy(&path, &pkg_route)),
        );
        // Release builds ship brotli and gzip copies, chosen by the request's Accept-Encoding;
        // caches must not hand one client's encoding to another.
        headers.insert(VARY, HeaderValue::from_static("accept-encoding"));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::cache_policy;

    #[test]
    fn bundle_files_are_revalidated_and_public_assets_cached() {
        assert_eq!(
            cache_policy("/pkg/leptos-scalekit.wasm", "/pkg/"),
            "no-cache"
        );
        assert_eq!(
            cache_policy("/favicon.svg", "/pkg/"),
            "public, max-age=86400"
        );
    }
}
