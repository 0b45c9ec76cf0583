//! Serving connections, with the time limits a server facing the internet needs (review: slow
//! clients). `axum::serve` gives hyper no timer, so hyper's header-read timeout never fires and a
//! few hundred clients trickling their headers would hold connections forever. This is axum's
//! own accept loop with that timer set: hyper-util's connection builder (the one axum uses) and
//! its graceful-shutdown watcher, so nothing here reimplements HTTP.

use std::convert::Infallible;
use std::future::Future;
use std::pin::pin;
use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::response::Response;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tower::{Service, ServiceExt};

/// A client must send a request's whole header block within this time, or its connection is
/// closed. Generous for any real client, short enough that idle tricklers cannot pile up.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

fn connection_builder() -> Builder<TokioExecutor> {
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
    builder
        .http2()
        .timer(TokioTimer::new())
        // CONNECT for HTTP/2 websockets, as axum::serve enables it.
        .enable_connect_protocol();
    builder
}

/// Serves `app` on `listener` until `shutdown` resolves: then accepts no new connection, lets
/// requests in flight finish, and returns when they have or after `grace`, whichever is first.
pub async fn serve<S>(
    listener: TcpListener,
    app: S,
    shutdown: impl Future<Output = ()>,
    grace: Duration,
) where
    // The app (`server::AppService`), or the standalone development provider's Router.
    S: Service<Request<Body>, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    let builder = connection_builder();
    let graceful = GracefulShutdown::new();
    let mut shutdown = pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        let tcp = match accepted {
            Ok((tcp, _peer)) => tcp,
            Err(e) => {
                // Out of file descriptors and the like: wait instead of spinning, as axum does.
                tracing::warn!(error = %e, "cannot accept a connection");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        // Sends every write at once: without it a response written in two parts (headers, then
        // a file body) waits for the client's delayed ACK, about 40 ms per static file.
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!("cannot set TCP_NODELAY: {e}");
        }
        let service = TowerToHyperService::new(
            app.clone()
                .map_request(|request: http::Request<Incoming>| request.map(Body::new)),
        );
        let connection = builder
            .serve_connection_with_upgrades(TokioIo::new(tcp), service)
            .into_owned();
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!("connection ended with an error: {e}");
            }
        });
    }
    // The listener goes first, so new connections are refused while the old ones drain.
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(grace) => {
            tracing::warn!("requests still running after {grace:?}; stopping anyway");
        }
    }
}
