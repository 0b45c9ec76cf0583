//! `leptos-scalekit dev-idp`: the development identity provider on its own address, for pointing
//! other apps or Scalekit's SDKs at it. Its issuer is `http://{DEV_IDP_ADDR}` unless
//! `DEV_IDP_ISSUER` says otherwise.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use super::settings::IdpSettings;
use super::{standalone_router, DevIdp};
use crate::config::LogFormat;
use crate::server::{init_tracing, shutdown_signal};

fn var(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

pub async fn run() -> ExitCode {
    init_tracing(
        &var("RUST_LOG").unwrap_or_else(|| "info".into()),
        LogFormat::Text,
    );
    let raw_addr = var("DEV_IDP_ADDR").unwrap_or_else(|| "127.0.0.1:4000".into());
    let Ok(addr) = raw_addr.parse::<SocketAddr>() else {
        eprintln!("error: DEV_IDP_ADDR: `{raw_addr}` is not an IP address and port (example: DEV_IDP_ADDR=127.0.0.1:4000)");
        return ExitCode::FAILURE;
    };
    let issuer = var("DEV_IDP_ISSUER")
        .unwrap_or_else(|| format!("http://{addr}"))
        .trim_end_matches('/')
        .to_string();
    if url::Url::parse(&issuer).is_err() {
        eprintln!("error: DEV_IDP_ISSUER: `{issuer}` is not an absolute URL (example: DEV_IDP_ISSUER=http://127.0.0.1:4000)");
        return ExitCode::FAILURE;
    }
    let settings = match IdpSettings::load(var("DEV_IDP_CONFIG").map(PathBuf::from).as_deref()) {
        Ok(settings) => settings,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let state_dir = PathBuf::from(var("DEV_STATE_DIR").unwrap_or_else(|| ".dev-state".into()));
    let idp = match DevIdp::new(
        issuer.clone(),
        String::new(),
        settings,
        &state_dir.join("dev-idp-keys.json"),
    ) {
        Ok(idp) => Arc::new(idp),
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let listener = match tokio::net::TcpListener::bind(addr).await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("error: cannot listen on {addr} (DEV_IDP_ADDR): {e}");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!("development identity provider listening on http://{addr}, issuer {issuer}");
    match axum::serve(
        crate::server::without_nagle(listener),
        standalone_router(idp),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
    {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("server stopped: {e}");
            ExitCode::FAILURE
        }
    }
}
