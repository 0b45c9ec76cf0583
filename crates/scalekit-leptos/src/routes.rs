//! The one axum entry point: Leptos' pages and server functions with sign-in around them, in the
//! order the checks depend on. For a request to a page or a server function, from the outside in:
//!
//! 1. the cookie jar (tower-cookies), so everything inside can read and set cookies;
//! 2. the CSRF guard: a state-changing request must come from the app's own pages (X2–X4);
//! 3. the session middleware: who is this, refreshing or ending the session as needed, before
//!    the response starts (C6–C10);
//! 4. the render or the server function, with [`Auth`] in its Leptos context.
//!
//! The sign-in callback, IdP-initiated login (`/auth/initiate-login`) and back-channel logout sit
//! beside them: the callback opens the session cookie itself (a sign-in ends the session it
//! replaces) and is a GET, as is initiate-login, which only starts a sign-in, so they need neither
//! the middleware nor the guard; back-channel logout is server to server, with no cookie at all.

use axum::routing::{get, on, post, MethodFilter};
use axum::Router;
use leptos::prelude::*;
use leptos::server_fn::axum::server_fn_paths;
use leptos_axum::{AxumRouteListing, LeptosRoutes};
use leptos_router::SsrMode;
use scalekit_auth::axum_edge::{
    backchannel_logout, callback, initiate_login, BACKCHANNEL_LOGOUT_PATH, INITIATE_LOGIN_PATH,
};
use scalekit_auth::Auth;
use tower::ServiceBuilder;
use tower_cookies::CookieManagerLayer;

use crate::csrf::AppOrigin;
use crate::page_render::render_page;
use crate::request_guard::RequestGuardLayer;

/// What the sign-in routes need: the auth core's handle and the origin browsers reach the app at
/// (the CSRF guard compares against it). The callback is served at the redirect URI's path.
#[derive(Clone)]
pub struct SignIn {
    auth: Auth,
    origin: AppOrigin,
    callback_path: String,
}

impl SignIn {
    /// `app_url` is the app's public origin (`https://app.example.com`, no path).
    pub fn new(auth: Auth, app_url: &str) -> SignIn {
        let callback_path = url::Url::parse(auth.redirect_uri())
            .map(|uri| uri.path().to_string())
            .unwrap_or_else(|_| "/auth/callback".into());
        SignIn {
            auth,
            origin: AppOrigin(app_url.trim_end_matches('/').to_string()),
            callback_path,
        }
    }
}

/// The Leptos context every render and server function needs: [`Auth`], and a server redirect
/// that always answers 302 (Leptos' own answers 200 with a header only its client understands
/// unless the request asked for HTML, so a guarded page fetched by curl or a crawler would come
/// back blank instead of redirecting). The entry point provides it; call it yourself only where
/// you render outside it (a fallback's not-found page).
pub fn provide_sign_in_context(auth: &Auth) {
    provide_context(auth.clone());
    leptos_router::components::provide_server_redirect(|path: &str| {
        let response = use_context::<leptos_axum::ResponseOptions>();
        if let (Ok(location), Some(response)) = (http::HeaderValue::from_str(path), response) {
            response.insert_header(http::header::LOCATION, location);
            response.set_status(http::StatusCode::FOUND);
        }
    });
}

/// Adds Leptos' routes with sign-in to an axum router; see the module documentation for the
/// order of the layers.
pub trait SignInRoutes<S> {
    /// Like `leptos_axum::LeptosRoutes::leptos_routes_with_context`, behind the session
    /// middleware, the CSRF guard and the cookie jar, plus the sign-in callback, IdP-initiated
    /// login and back-channel logout beside those layers (with a cookie jar only).
    ///
    /// Only the pages in `paths` and the server functions get those layers: routes already on
    /// the router and routes added after get none (add health checks, static files and machine
    /// APIs before or after). Build `paths` without exclusions: every path in it is served here.
    fn leptos_routes_with_sign_in<IV>(
        self,
        state: &S,
        sign_in: &SignIn,
        paths: Vec<AxumRouteListing>,
        additional_context: impl Fn() + Clone + Send + Sync + 'static,
        app_fn: impl Fn() -> IV + Clone + Send + Sync + 'static,
    ) -> Self
    where
        IV: IntoView + 'static;
}

impl<S> SignInRoutes<S> for Router<S>
where
    S: Clone + Send + Sync + 'static,
    LeptosOptions: axum::extract::FromRef<S>,
{
    fn leptos_routes_with_sign_in<IV>(
        self,
        state: &S,
        sign_in: &SignIn,
        paths: Vec<AxumRouteListing>,
        additional_context: impl Fn() + Clone + Send + Sync + 'static,
        app_fn: impl Fn() -> IV + Clone + Send + Sync + 'static,
    ) -> Self
    where
        IV: IntoView + 'static,
    {
        let context = {
            let auth = sign_in.auth.clone();
            move || {
                provide_sign_in_context(&auth);
                additional_context();
            }
        };
        let edges = Router::new()
            .route(&sign_in.callback_path, get(callback))
            .route(INITIATE_LOGIN_PATH, get(initiate_login))
            .route(BACKCHANNEL_LOGOUT_PATH, post(backchannel_logout))
            .with_state(sign_in.auth.clone())
            .route_layer(CookieManagerLayer::new());
        let mut served: Vec<String> = paths.iter().map(|p| p.path().to_string()).collect();
        served.extend(server_fn_paths().map(|(path, _)| path.to_string()));
        served.sort();
        served.dedup();
        let pages = page_routes(state, paths, context, app_fn);
        // The layers wrap the pages' Router once, as one service, which each of its paths then
        // points to. `route_layer` would put a copy around every route instead, and axum clones
        // a route's whole stack of boxed services for each request: a tenth of a page's cost.
        let guarded = ServiceBuilder::new()
            .layer(CookieManagerLayer::new())
            // The CSRF guard, then the session middleware (2 and 3 above).
            .layer(RequestGuardLayer::new(
                sign_in.auth.clone(),
                sign_in.origin.clone(),
            ))
            .service(pages);
        let mut router = self.merge(edges);
        for path in &served {
            router = router.route_service(path, guarded.clone());
        }
        router
    }
}

/// The pages and server functions: `SsrMode::Async` pages through [`render_page`], every other
/// mode and the server functions through `leptos_axum` (`leptos_routes_with_context`), with the
/// same contexts: the router's state and the route's method, then `context`.
fn page_routes<S, IV>(
    state: &S,
    paths: Vec<AxumRouteListing>,
    context: impl Fn() + Clone + Send + Sync + 'static,
    app_fn: impl Fn() -> IV + Clone + Send + Sync + 'static,
) -> Router
where
    S: Clone + Send + Sync + 'static,
    LeptosOptions: axum::extract::FromRef<S>,
    IV: IntoView + 'static,
{
    let (whole, streamed): (Vec<_>, Vec<_>) = paths
        .into_iter()
        .partition(|listing| matches!(listing.mode(), SsrMode::Async));
    let mut router =
        Router::new().leptos_routes_with_context(state, streamed, context.clone(), app_fn.clone());
    for listing in &whole {
        for method in listing.methods() {
            let state = state.clone();
            let context = context.clone();
            let page_context = move || {
                provide_context(state.clone());
                provide_context(method);
                context();
            };
            router = router.route(
                listing.path(),
                on(
                    method_filter(method),
                    render_page(page_context, app_fn.clone()),
                ),
            );
        }
    }
    router.with_state(state.clone())
}

fn method_filter(method: leptos_router::Method) -> MethodFilter {
    match method {
        leptos_router::Method::Get => MethodFilter::GET,
        leptos_router::Method::Post => MethodFilter::POST,
        leptos_router::Method::Put => MethodFilter::PUT,
        leptos_router::Method::Delete => MethodFilter::DELETE,
        leptos_router::Method::Patch => MethodFilter::PATCH,
    }
}
