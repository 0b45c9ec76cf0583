//! Everything no route matches: a file from the site root (the wasm/JS/CSS bundle and `public/`),
//! or else the app's 404 page with status 404.
//!
//! Files are served before the session is looked at: a file response is the same for everyone
//! and publicly cacheable, so it must not refresh or touch a session and carry its Set-Cookie
//! (checklist C11). Only the 404 page, which shows the signed-in header, reads the session.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use http::header::{ACCEPT_ENCODING, CACHE_CONTROL, IF_MODIFIED_SINCE, VARY};
use http::{HeaderValue, Method, StatusCode};
use tower::ServiceExt;
use tower_cookies::Cookies;
use tower_http::services::ServeDir;

use crate::app::shell;
use crate::state::AppState;
use scalekit_auth::now_secs;

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
    State(state): State<AppState>,
    cookies: Cookies,
    mut request: Request<Body>,
) -> Response {
    if let Some(file) = site_file(&state, file_lookup(&request)).await {
        return file;
    }
    let session = state.auth.resolve(&cookies, now_secs()).await;
    request.extensions_mut().insert(session);
    let uri = request.uri().clone();
    let auth = state.auth.clone();
    let handler = leptos_axum::file_and_error_handler_with_context::<AppState, _>(
        move || {
            scalekit_leptos::provide_sign_in_context(&auth);
            crate::server::provide_csp_nonce();
        },
        shell,
    );
    handler(uri, State(state), request).await
}

/// The request as the file server needs it, or None when it is not a read. Only what choosing
/// the encoding and revalidating need: the file server sees no cookie.
fn file_lookup(request: &Request<Body>) -> Option<Request<Body>> {
    if !matches!(*request.method(), Method::GET | Method::HEAD) {
        return None;
    }
    let mut lookup = Request::builder()
        .method(request.method().clone())
        .uri(request.uri().clone());
    for name in [ACCEPT_ENCODING, IF_MODIFIED_SINCE] {
        if let Some(value) = request.headers().get(&name) {
            lookup = lookup.header(name, value);
        }
    }
    lookup.body(Body::empty()).ok()
}

/// The file at the request's path under the site root, with its cache policy; None when there is
/// none.
async fn site_file(state: &AppState, lookup: Option<Request<Body>>) -> Option<Response> {
    let lookup = lookup?;
    let path = lookup.uri().path().to_string();
    let files = ServeDir::new(&*state.leptos_options.site_root)
        .precompressed_br()
        .precompressed_gzip()
        .append_index_html_on_directories(false);
    let mut response = files.oneshot(lookup).await.ok()?.into_response();
    let status = response.status();
    if status != StatusCode::OK && status != StatusCode::NOT_MODIFIED {
        return None;
    }
    let pkg_route = state.leptos_options.site_pkg_dir_route_base();
    let headers = response.headers_mut();
    headers.insert(
        CACHE_CONTROL,
        HeaderValue::from_static(cache_policy(&path, &pkg_route)),
    );
    // Release builds ship brotli and gzip copies, chosen by the request's Accept-Encoding;
    // caches must not hand one client's encoding to another.
    headers.insert(VARY, HeaderValue::from_static("accept-encoding"));
    Some(response)
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
