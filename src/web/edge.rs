//! The layer every request passes first: its id, span and log line (`request_log`), its script
//! nonce and the security headers (`security_headers`), the ceilings on its line and headers
//! (`header_limit`) and its time limit, in that order, so a refused or timed-out request is logged
//! and carries the headers too; with `METRICS_ADDR`, its count and duration (`metrics`).
//!
//! One hand-written service and future rather than `axum::middleware::from_fn` layers and tower's
//! timeout: each `from_fn` layer cloned the rest of the stack and boxed it, its own future and the
//! inner one, per request, and `TimeoutLayer` made a timer (a runtime handle, a clock read) for
//! every request, though most finish in their first poll. This one boxes nothing and starts the
//! timer only when the request first has to wait.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use http::header::RETRY_AFTER;
use http::{HeaderValue, Method, StatusCode};
use pin_project_lite::pin_project;
use tokio::time::Sleep;
use tower::{Layer, Service};

use super::header_limit;
use super::request_log::RequestLog;
use super::security_headers::{self, SecurityHeaderSettings};

#[derive(Clone)]
pub struct EdgeLayer {
    headers: Arc<SecurityHeaderSettings>,
    timeout: Duration,
    count_requests: bool,
}

impl EdgeLayer {
    /// `timeout`: how long a request may wait (a client trickling its body, a stuck call) before
    /// it is answered 503 and its work dropped.
    pub fn new(headers: SecurityHeaderSettings, timeout: Duration) -> EdgeLayer {
        EdgeLayer {
            headers: Arc::new(headers),
            timeout,
            count_requests: false,
        }
    }

    /// Also counts and times every request for the metrics (`web::metrics`, with `METRICS_ADDR`).
    pub fn counting_requests(mut self) -> EdgeLayer {
        self.count_requests = true;
        self
    }
}

impl<S> Layer<S> for EdgeLayer {
    type Service = Edge<S>;

    fn layer(&self, inner: S) -> Edge<S> {
        Edge {
            inner,
            headers: self.headers.clone(),
            timeout: self.timeout,
            count_requests: self.count_requests,
        }
    }
}

#[derive(Clone)]
pub struct Edge<S> {
    inner: S,
    headers: Arc<SecurityHeaderSettings>,
    timeout: Duration,
    count_requests: bool,
}

impl<S> Service<Request> for Edge<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone,
{
    type Response = Response;
    type Error = Infallible;
    type Future = EdgeFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request) -> Self::Future {
        let log = RequestLog::begin(&mut request);
        let counted = self.count_requests.then(|| request.method().clone());
        let nonce = security_headers::provide_nonce(&mut request);
        let work = match header_limit::refusal(&request) {
            Some(refusal) => Work::Refused {
                answer: std::future::ready(refusal),
            },
            None => {
                // The inner service was made ready above; a fresh clone takes its place for the
                // next call.
                let fresh = self.inner.clone();
                let mut ready = std::mem::replace(&mut self.inner, fresh);
                let _entered = log.span().enter();
                Work::Running {
                    inner: ready.call(request),
                }
            }
        };
        EdgeFuture {
            work,
            deadline: None,
            timeout: self.timeout,
            finish: Some(Finish {
                log,
                nonce,
                headers: self.headers.clone(),
                counted,
            }),
        }
    }
}

/// What the response gets on its way out.
struct Finish {
    log: RequestLog,
    nonce: security_headers::CspNonce,
    headers: Arc<SecurityHeaderSettings>,
    /// The request's method, when requests are counted.
    counted: Option<Method>,
}

impl Finish {
    fn complete(self, mut response: Response) -> Response {
        // Its lines carry the request's id too. (A clone: `finish` consumes the log.)
        let span = self.log.span().clone();
        let _entered = span.enter();
        security_headers::apply(response.headers_mut(), &self.nonce, &self.headers);
        let took = self.log.finish(&mut response);
        if let Some(method) = self.counted {
            super::metrics::count(&method, &response, took);
        }
        response
    }
}

pin_project! {
    /// What answers the request: the inner service, or the refusal made before it was called.
    #[project = WorkProjection]
    enum Work<F> {
        Refused { answer: std::future::Ready<Response> },
        Running { #[pin] inner: F },
    }
}

impl<F> Future for Work<F>
where
    F: Future<Output = Result<Response, Infallible>>,
{
    type Output = Response;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Response> {
        match self.project() {
            WorkProjection::Refused { answer } => Pin::new(answer).poll(cx),
            WorkProjection::Running { inner } => inner.poll(cx).map(|answer| match answer {
                Ok(response) => response,
                Err(never) => match never {},
            }),
        }
    }
}

pin_project! {
    /// The work's answer, or 503 once the request has waited `timeout`. The work is dropped with
    /// this future, which hyper drops as soon as it is ready (so a timed-out call is abandoned).
    pub struct EdgeFuture<F> {
        #[pin]
        work: Work<F>,
        #[pin]
        deadline: Option<Sleep>,
        timeout: Duration,
        finish: Option<Finish>,
    }
}

impl<F> Future for EdgeFuture<F>
where
    F: Future<Output = Result<Response, Infallible>>,
{
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        // Polled again after it answered: there is nothing left to give.
        let Some(finish) = this.finish.take() else {
            return Poll::Pending;
        };
        let answer = {
            let _entered = finish.log.span().enter();
            match this.work.poll(cx) {
                Poll::Ready(response) => Some(response),
                Poll::Pending => {
                    if this.deadline.is_none() {
                        this.deadline.set(Some(tokio::time::sleep(*this.timeout)));
                    }
                    match this.deadline.as_mut().as_pin_mut().map(|d| d.poll(cx)) {
                        Some(Poll::Ready(())) => Some(timed_out()),
                        _ => None,
                    }
                }
            }
        };
        match answer {
            // The work and its deadline go with this future, which hyper drops once it is ready.
            Some(response) => Poll::Ready(Ok(finish.complete(response))),
            None => {
                *this.finish = Some(finish);
                Poll::Pending
            }
        }
    }
}

/// 503 with `Retry-After`, as the app answers any passing outage.
fn timed_out() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(RETRY_AFTER, HeaderValue::from_static("5"))],
        "The request took too long. Try again in a moment.",
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use tower::ServiceExt;

    fn settings() -> SecurityHeaderSettings {
        SecurityHeaderSettings::new(false, None)
    }

    async fn answer(
        service: impl Service<Request, Response = Response, Error = Infallible> + Clone,
    ) -> Response {
        let edge = EdgeLayer::new(settings(), Duration::from_secs(30)).layer(service);
        match edge.oneshot(Request::new(Body::empty())).await {
            Ok(response) => response,
            Err(never) => match never {},
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_request_that_waits_past_the_limit_gets_503_with_the_headers() {
        let stuck = tower::service_fn(|_: Request| async {
            std::future::pending::<()>().await;
            Ok::<_, Infallible>(Response::new(Body::empty()))
        });
        let response = answer(stuck).await;
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()["retry-after"], "5");
        assert!(response.headers().contains_key("content-security-policy"));
        assert!(response.headers().contains_key("x-request-id"));
    }

    #[tokio::test(start_paused = true)]
    async fn a_request_that_waits_less_than_the_limit_gets_its_answer() {
        let slow = tower::service_fn(|_: Request| async {
            tokio::time::sleep(Duration::from_secs(29)).await;
            Ok::<_, Infallible>(StatusCode::ACCEPTED.into_response())
        });
        assert_eq!(answer(slow).await.status(), StatusCode::ACCEPTED);
    }

    #[tokio::test]
    async fn an_oversized_request_is_refused_with_the_headers_and_never_reaches_the_app() {
        let called = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let app = {
            let called = called.clone();
            tower::service_fn(move |_: Request| {
                called.store(true, std::sync::atomic::Ordering::SeqCst);
                async { Ok::<_, Infallible>(StatusCode::OK.into_response()) }
            })
        };
        let edge = EdgeLayer::new(settings(), Duration::from_secs(30)).layer(app);
        let long = format!("/?q={}", "a".repeat(header_limit::MAX_URI_BYTES));
        let request = Request::builder()
            .uri(long)
            .body(Body::empty())
            .expect("a request");
        let response = match edge.oneshot(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        };
        assert_eq!(response.status(), StatusCode::URI_TOO_LONG);
        assert!(response.headers().contains_key("content-security-policy"));
        assert!(response.headers().contains_key("x-request-id"));
        assert!(!called.load(std::sync::atomic::Ordering::SeqCst));
    }

    #[tokio::test]
    async fn an_answer_ready_at_once_gets_the_headers() {
        let ready = tower::service_fn(|_: Request| async {
            Ok::<_, Infallible>(StatusCode::OK.into_response())
        });
        let response = answer(ready).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["x-frame-options"], "DENY");
        // It rendered no page, so no nonce was made for it.
        assert!(response.headers()["content-security-policy"]
            .to_str()
            .is_ok_and(|policy| !policy.contains("'nonce-") && policy.contains("script-src")));
    }

    #[tokio::test]
    async fn h1_a_handler_that_takes_the_nonce_gets_it_named_in_the_policy() {
        let renders = tower::service_fn(|request: Request| async move {
            let nonce = request
                .extensions()
                .get::<security_headers::CspNonce>()
                .map(security_headers::CspNonce::take)
                .unwrap_or_default();
            Ok::<_, Infallible>(nonce.to_string().into_response())
        });
        let response = answer(renders).await;
        let policy = response.headers()["content-security-policy"]
            .to_str()
            .expect("ASCII")
            .to_owned();
        let body = axum::body::to_bytes(response.into_body(), 1024)
            .await
            .expect("a body");
        let nonce = String::from_utf8_lossy(&body);
        assert_eq!(nonce.len(), 22);
        assert!(policy.contains(&format!("'nonce-{nonce}'")), "{policy}");
    }
}
