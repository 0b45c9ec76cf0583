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

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::routing::get;
    use axum::{Extension, Router};
    use http::{header, Request, StatusCode};
    use tower::ServiceExt;
    use tower_cookies::{CookieManagerLayer, Cookies};

    use super::session_middleware;
    use crate::auth::{Auth, RequestSession};
    use crate::session::{now_secs, test_session};

    /// What the handler behind the middleware was told about the request's session.
    async fn seen(Extension(session): Extension<RequestSession>) -> String {
        match session {
            RequestSession::SignedIn(session) => format!("signed in as {}", session.user.sub),
            RequestSession::SignedOut => "signed out".into(),
            RequestSession::Ended => "ended".into(),
            RequestSession::Stale(_) => "stale".into(),
            RequestSession::Unverified(_) => "unverified".into(),
        }
    }

    async fn answer(auth: &Auth, cookie: Option<String>) -> String {
        let app = Router::new()
            .route("/", get(seen))
            .layer(axum::middleware::from_fn_with_state(
                auth.clone(),
                session_middleware,
            ))
            .layer(CookieManagerLayer::new());
        let mut request = Request::builder().uri("/");
        if let Some(cookie) = cookie {
            request = request.header(header::COOKIE, cookie);
        }
        let request = request.body(Body::empty()).expect("a request");
        let response = app.oneshot(request).await.expect("an answer");
        assert_eq!(response.status(), StatusCode::OK);
        let body = axum::body::to_bytes(response.into_body(), 4096)
            .await
            .expect("a body");
        String::from_utf8_lossy(&body).into_owned()
    }

    #[tokio::test]
    async fn the_session_middleware_gives_the_handler_the_requests_session() {
        let auth = Auth::new(crate::settings::test_settings()).expect("builds");
        assert_eq!(answer(&auth, None).await, "signed out");

        // The cookies a sign-in sets, sent back as a browser sends them.
        let jar = Cookies::default();
        let session = test_session("s1", "usr_ada", now_secs());
        auth.cookies.write_session(&jar, &auth.key, &session, 3600);
        let sent: Vec<String> = jar
            .list()
            .iter()
            .map(|cookie| format!("{}={}", cookie.name(), cookie.value()))
            .collect();
        assert!(!sent.is_empty());
        assert_eq!(
            answer(&auth, Some(sent.join("; "))).await,
            "signed in as usr_ada"
        );

        let forged = format!("{}=forged", auth.cookies.session_name());
        assert_eq!(answer(&auth, Some(forged)).await, "signed out");
    }
}
