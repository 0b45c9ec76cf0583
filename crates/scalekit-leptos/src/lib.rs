//! Scalekit sign-in for a Leptos 0.8 + axum app, as a backend-for-frontend: tokens stay on the
//! server, the browser holds one sealed session in `__Host-` cookies, and pages see the signed-in
//! user through a session value the server writes into the page and the browser reads back as it
//! hydrates.
//!
//! Built on [`scalekit_auth`] (the OpenID Connect relying party, cookies, session store). This
//! crate adds what a Leptos app needs on top:
//!
//! - **server functions** under `/_app/`: [`Login`], [`Logout`], [`GetSession`],
//!   [`RefreshSession`], [`ValidateToken`] and [`CheckSignedOut`], posted by plain forms or called
//!   by the hydrated app;
//! - **pages**: [`provide_session`] once at the root, [`use_session`], the [`RequireSignIn`] guard
//!   (a real 302 to sign-in, 403 without the permission, 503 while the provider is down, with
//!   JavaScript or without) and [`when_allowed`] for a guarded page's own data;
//! - **your own server functions**: [`require_session`] and [`require_permission`] (feature
//!   `ssr`), deciding exactly as the guard does, and [`ServerError`] with HTTP statuses;
//! - **one axum entry point**, [`SignInRoutes::leptos_routes_with_sign_in`] (feature `ssr`):
//!   Leptos' routes behind the session middleware, the CSRF guard and the cookie jar, in that
//!   order, plus the sign-in callback, IdP-initiated login and back-channel logout beside those
//!   layers (with a cookie jar only). Its `SsrMode::Async` pages are rendered by
//!   [`render_page`]: the whole page, sent as one body with its length;
//! - **the page's scripts**, [`hydration_scripts`] (feature `ssr`): Leptos' `AutoReload` and
//!   `HydrationScripts` written once per process around each response's nonce, with preloads for
//!   the chunks of the lazy routes a page reached.
//!
//! Features: `ssr` for the server build, `hydrate` for the browser bundle (as in Leptos'
//! start-axum template). Guarded routes must render with `SsrMode::Async`, so the status and
//! any refreshed cookie are set before the response starts.
//!
//! ```ignore
//! // The server (feature `ssr`): the app's pages with sign-in around them.
//! let sign_in = SignIn::new(auth, "https://app.example.com");
//! let app = Router::new()
//!     .leptos_routes_with_sign_in(&options, &sign_in, routes, || (), {
//!         let options = options.clone();
//!         move || shell(options.clone())
//!     })
//!     .with_state(options);
//!
//! // A page: only for a signed-in user holding the permission.
//! view! {
//!     <RequireSignIn permission="reports:read" children=|session: SessionView| view! {
//!         <p>{session.user.name}</p>
//!     }/>
//! }
//! ```
//! `examples/minimal` in the repository is a whole app in about 170 lines.

#![deny(missing_docs)]

pub mod codec;
mod error;
mod guard;
mod server_data;
// `#[server]` makes a struct per function whose fields, the arguments, cannot carry docs.
#[allow(missing_docs)]
mod server_fns;
mod session;

#[cfg(feature = "ssr")]
mod chunk_preloads;
#[cfg(feature = "ssr")]
mod csrf;
#[cfg(feature = "ssr")]
mod hydration_scripts;
#[cfg(feature = "ssr")]
mod page_meta;
#[cfg(feature = "ssr")]
mod page_render;
#[cfg(feature = "ssr")]
mod request_guard;
#[cfg(feature = "ssr")]
mod routes;
#[cfg(feature = "ssr")]
pub mod server;

pub use error::ServerError;
pub use guard::{
    login_url_for, provide_session, session_now, set_page_status, use_session, when_allowed,
    GuardPages, RequireSignIn, SessionData,
};
pub use server_data::from_server;
pub use server_fns::{
    check_signed_out, get_session, login, logout, refresh_session, validate_token, CheckSignedOut,
    GetSession, Login, Logout, RefreshSession, ValidateToken, ROUTING_PARAMETERS,
};
pub use session::{Access, AuthState, SessionView, TokenCheck, TokenFingerprints, UserSummary};

#[cfg(feature = "ssr")]
pub use csrf::{judge as judge_cross_site, CsrfVerdict};
#[cfg(feature = "ssr")]
pub use hydration_scripts::hydration_scripts;
#[cfg(feature = "ssr")]
pub use page_render::render_page;
#[cfg(feature = "ssr")]
pub use routes::{provide_sign_in_context, SignIn, SignInRoutes};
#[cfg(feature = "ssr")]
pub use server::{require_permission, require_session};
