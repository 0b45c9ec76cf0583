//! The axum edges of sign-in (cargo feature `axum`): the callback, IdP-initiated login,
//! back-channel logout and the session middleware. Each is a thin handler around a verb of
//! [`Auth`]; an app on another HTTP framework calls those verbs itself.

mod backchannel;
mod callback;
mod initiate_login;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use tower_cookies::Cookies;

pub use backchannel::{backchannel_logout, BACKCHANNEL_LOGOUT_PATH};
pub use callback::callback;
pub use initiate_login::{initiate_login, INITIATE_LOGIN_PATH};

use crate::auth::Auth;
use crate::session::now_secs;

/// The session middleware (axum's `from_fn_with_state` with an [`Auth`]): resolves the request's
/// session with [`Auth::resolve`] and puts the [`RequestSession`](crate::RequestSession) into the
/// request's extensions before the inner service runs. Needs tower-cookies' `CookieManagerLayer`
/// outside it.
pub async fn session_middleware(
    State(auth): State<Auth>,
    cookies: Cookies,
    mut request: Request,
    next: Next,
) -> Response {
    let session = auth
        .resolve_with_headers(&cookies, request.headers(), now_secs())
        .await;
    request.extensions_mut().insert(session);
    next.run(request).await
}
