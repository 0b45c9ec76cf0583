//! The page handler for `SsrMode::Async` routes: the whole page rendered, then sent as one body
//! with its length.
//!
//! It does what `leptos_axum::render_app_async_with_context` does, in the same order and with
//! the same contexts, minus the work that mode never needs. Leptos' handler is built for
//! streaming: it joins the rendered chunks into a string, wraps every hydration-data chunk in its
//! own `format!`, clones the request's parts, draws a CSP nonce of its own (which the app's
//! context then replaces), and sends the page as a stream behind a chunked transfer encoding,
//! with the reactive owner torn down in the stream's last poll. Here the page, its hydration data
//! and its scripts are written into one buffer, the request's parts are moved, and the response
//! carries a `Content-Length`. On the dashboard that saves about 7% of a request's instructions
//! (`docs/performance.md`).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, HeaderValue, Request, Response};
use futures::StreamExt;
use hydration_context::{SharedContext, SsrSharedContext};
use leptos::nonce::use_nonce;
use leptos::prelude::*;
use leptos::reactive::owner::{Owner, Sandboxed};
use leptos::PrefetchLazyFn;
use leptos_axum::ResponseOptions;
use leptos_meta::ServerMetaContext;
use leptos_router::location::RequestUrl;

/// What a page response is answered with when no header says otherwise.
const HTML: HeaderValue = HeaderValue::from_static("text/html; charset=utf-8");

/// A boxed page response, as axum's `Handler` for a closure wants it.
pub type PageFuture = Pin<Box<dyn Future<Output = Response<Body>> + Send>>;

/// An axum handler rendering `app_fn` whole for each request, as
/// `leptos_axum::render_app_async_with_context` does, with `context` provided after the
/// request's own contexts (its `Parts`, `ResponseOptions`, the meta context, the request URL).
/// [`SignInRoutes::leptos_routes_with_sign_in`](crate::SignInRoutes) serves every
/// `SsrMode::Async` page with it; use it yourself for a page outside that entry point.
pub fn render_page<IV>(
    context: impl Fn() + Clone + Send + Sync + 'static,
    app_fn: impl Fn() -> IV + Clone + Send + Sync + 'static,
) -> impl Fn(Request<Body>) -> PageFuture + Clone + Send + Sync + 'static
where
    IV: IntoView + 'static,
{
    move |request| Box::pin(render(request, context.clone(), app_fn.clone()))
}

async fn render<IV>(
    request: Request<Body>,
    context: impl Fn() + Send + 'static,
    app_fn: impl Fn() -> IV + Send + 'static,
) -> Response<Body>
where
    IV: IntoView + 'static,
{
    let response_options = ResponseOptions::default();
    let prefetches = PrefetchLazyFn::default();
    let (meta_context, meta_output) = ServerMetaContext::new();
    let shared_context: Arc<dyn SharedContext + Send + Sync> = Arc::new(SsrSharedContext::new());
    let owner = Owner::new_root(Some(Arc::clone(&shared_context)));
    // Made after the root, so it keeps that root's arena for every poll (as Leptos' handler).
    let page = Sandboxed::new({
        let owner = owner.clone();
        let response_options = response_options.clone();
        let prefetches = prefetches.clone();
        async move {
            let (html, nonce) = owner.with(|| {
                let (parts, _body) = request.into_parts();
                // As Leptos' handler: the path and query on a fixed origin, so a path starting
                // with `//` stays a path rather than naming a host.
                let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
                provide_context(RequestUrl::new(&format!("http://leptos.dev{path}")));
                provide_context(meta_context);
                provide_context(parts);
                provide_context(response_options);
                provide_context(prefetches);
                leptos_router::components::provide_server_redirect(leptos_axum::redirect);
                context();
                (app_fn().to_html_stream_in_order(), use_nonce())
            });
            let mut html = html.fold(String::new(), append).await;
            while let Some(pending) = shared_context.await_deferred() {
                pending.await;
            }
            if let Some(mut data) = shared_context.pending_data() {
                while let Some(chunk) = data.next().await {
                    write_script(&mut html, nonce.as_deref(), &chunk);
                }
            }
            html
        }
    })
    .await;
    let preloads = owner.with(|| crate::chunk_preloads::for_page(&prefetches));
    let page =
        crate::page_meta::with_meta(meta_output, page, preloads.as_deref().unwrap_or("")).await;
    owner.unset_with_forced_cleanup();
    respond(page, &response_options)
}

/// Joins a page's chunks, taking the first as the buffer (an in-order render is mostly one).
async fn append(mut html: String, chunk: String) -> String {
    if html.is_empty() {
        chunk
    } else {
        html.push_str(&chunk);
        html
    }
}

/// One piece of the resources' hydration data as an inline script, as Leptos writes it.
fn write_script(html: &mut String, nonce: Option<&str>, data: &str) {
    html.push_str("<script");
    if let Some(nonce) = nonce {
        html.push_str(" nonce=\"");
        html.push_str(nonce);
        html.push('"');
    }
    html.push('>');
    html.push_str(data);
    html.push_str("</script>");
}

/// The response: the status and headers the render set, then the page with its length.
fn respond(page: String, options: &ResponseOptions) -> Response<Body> {
    let mut response = Response::new(Body::from(page));
    let mut set = options
        .0
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(status) = set.status {
        *response.status_mut() = status;
    }
    let headers = response.headers_mut();
    headers.extend(std::mem::take(&mut set.headers));
    headers.entry(header::CONTENT_TYPE).or_insert(HTML);
    response
}
