//! Helpers shared by the integration tests.

#![allow(dead_code)]

pub mod browser;
pub mod provider;
pub mod redis_server;

use std::collections::HashMap;
use std::convert::Infallible;

use axum::body::Body;
use http::{Request, Response};
use http_body_util::BodyExt;
use leptos_scalekit::config::Config;
use leptos_scalekit::dev_provider::start as start_dev_idp;
use leptos_scalekit::server::{build_router, AppService};
use leptos_scalekit::state::AppState;
use tower::{Service, ServiceExt};

/// A configuration from the given variables only (the real environment is ignored).
pub fn config_from(vars: &[(&str, &str)]) -> Config {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Config::from_lookup(&move |name| map.get(name).cloned())
        .expect("test configuration must be valid")
}

/// A state directory for this test process (development keys), shared by its tests. Under
/// cargo's scratch directory for integration tests (in `target/`), not the shared `/tmp`, where
/// every run left a private signing key behind.
pub fn test_state_dir() -> String {
    std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("leptos-scalekit-tests-{}", std::process::id()))
        .display()
        .to_string()
}

/// The app as configured by `vars`, with its development identity provider when the configuration
/// asks for one, and a throwaway cookie key.
pub fn app_from(vars: &[(&str, &str)]) -> AppService {
    let state_dir = test_state_dir();
    let mut all = vec![
        ("LEPTOS_SITE_ROOT", "target/no-site-in-router-tests"),
        ("DEV_STATE_DIR", state_dir.as_str()),
    ];
    all.extend_from_slice(vars);
    let config = config_from(&all);
    let idp = start_dev_idp(&config).expect("dev identity provider starts");
    build_router(
        AppState::new(config, tower_cookies::Key::generate(), idp).expect("app state builds"),
    )
}

/// The app as it runs in development with nothing configured.
pub fn dev_app() -> AppService {
    app_from(&[])
}

/// One request to the app, or to a Router of the development provider's.
pub async fn send<S>(app: S, request: Request<Body>) -> Response<Body>
where
    S: Service<Request<Body>, Response = Response<Body>, Error = Infallible>,
{
    match app.oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    }
}

pub async fn get<S>(app: S, path: &str) -> Response<Body>
where
    S: Service<Request<Body>, Response = Response<Body>, Error = Infallible>,
{
    send(app, Request::get(path).body(Body::empty()).unwrap()).await
}

pub async fn body_text(response: Response<Body>) -> String {
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    String::from_utf8(bytes.to_vec()).expect("utf-8 body")
}
