//! What a page or server-function request passes, inside the cookie jar and before Leptos: the
//! CSRF check ([`crate::csrf::judge`]), then the session, read, refreshed or ended as needed
//! ([`Auth::resolve_with_headers`]) and left in the request's extensions.
//!
//! One service rather than a CSRF layer and `session_middleware` as two `from_fn` layers: each of
//! those cloned the rest of the stack, boxed it, and boxed its own future and the inner one, per
//! request. This boxes one future and calls the inner service directly.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use scalekit_auth::{now_secs, Auth};
use tower::{Layer, Service};
use tower_cookies::Cookies;

use crate::csrf::{judge, refuse, AppOrigin, CsrfVerdict};

/// The guard around the pages' Router (see [`crate::routes`]).
#[derive(Clone)]
pub struct RequestGuardLayer {
    auth: Auth,
    origin: AppOrigin,
}

impl RequestGuardLayer {
    pub fn new(auth: Auth, origin: AppOrigin) -> RequestGuardLayer {
        RequestGuardLayer { auth, origin }
    }
}

impl<S> Layer<S> for RequestGuardLayer {
    type Service = RequestGuard<S>;

    fn layer(&self, inner: S) -> RequestGuard<S> {
        RequestGuard {
            inner,
            auth: self.auth.clone(),
            origin: self.origin.clone(),
        }
    }
}

#[derive(Clone)]
pub struct RequestGuard<S> {
    inner: S,
    auth: Auth,
    origin: AppOrigin,
}

impl<S> Service<Request> for RequestGuard<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request) -> Self::Future {
        if let CsrfVerdict::Refused(reason) =
            judge(request.method(), request.headers(), &self.origin.0)
        {
            return Box::pin(std::future::ready(Ok(refuse(reason, &request))));
        }
        let Some(cookies) = request.extensions().get::<Cookies>().cloned() else {
            // A wiring bug (no CookieManagerLayer outside), never a state of the request.
            tracing::error!("the request guard runs without tower-cookies' CookieManagerLayer");
            return Box::pin(std::future::ready(Ok(
                StatusCode::INTERNAL_SERVER_ERROR.into_response()
            )));
        };
        let auth = self.auth.clone();
        // The inner service was made ready above; a fresh clone takes its place for the next call.
        let inner = self.inner.clone();
        let mut ready = std::mem::replace(&mut self.inner, inner);
        Box::pin(async move {
            let session = auth
                .resolve_with_headers(&cookies, request.headers(), now_secs())
                .await;
            request.extensions_mut().insert(session);
            ready.call(request).await
        })
    }
}
