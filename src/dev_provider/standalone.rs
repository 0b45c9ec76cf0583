//! `leptos-scalekit dev-idp`: the development identity provider on its own address, for pointing
//! other apps or Scalekit's SDKs at it. Its issuer is `http://{DEV_IDP_ADDR}` unless
//! `DEV_IDP_ISSUER` says otherwise. It signs anyone in as any persona, so it refuses production and
//! stays on loopback unless `DEV_IDP_ALLOW_REMOTE=true`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use scalekit_dev_idp::{standalone_router, DevIdp, IdpSettings};

use crate::config::{is_loopback_addr, parse_bool, parse_mode, LogFormat, Mode};
use crate::server::{init_tracing, shutdown_signal};

fn var(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// Where and as whom the provider answers, checked.
#[derive(Debug)]
struct Listen {
    addr: SocketAddr,
    /// No trailing slash.
    issuer: String,
    /// `DEV_IDP_ALLOW_REMOTE=true`: a non-loopback address or issuer is allowed.
    allow_remote: bool,
}

/// Reads `APP_ENV`, `DEV_IDP_ALLOW_REMOTE`, `DEV_IDP_ADDR` and `DEV_IDP_ISSUER` through `var`;
/// every problem is reported, each naming its variable with an example.
fn read_listen(var: &dyn Fn(&str) -> Option<String>) -> Result<Listen, Vec<String>> {
    let mut problems: Vec<String> = production_problem(var).into_iter().collect();
    let allow_remote = read_allow_remote(var).unwrap_or_else(|problem| {
        problems.push(problem);
        false
    });
    match read_endpoint(var) {
        Ok((addr, issuer, issuer_url)) => {
            if !allow_remote {
                problems.extend(remote_problems(&addr, &issuer, &issuer_url));
            }
            if problems.is_empty() {
                return Ok(Listen {
                    addr,
                    issuer,
                    allow_remote,
                });
            }
        }
        Err(problem) => problems.push(problem),
    }
    Err(problems)
}

/// `APP_ENV=production` (or `prod`, any case): the provider never runs there.
fn production_problem(var: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    var("APP_ENV")
        .filter(|raw| parse_mode(raw) == Some(Mode::Production))
        .map(|raw| format!("APP_ENV: `{raw}`: the development identity provider never runs in production (example: APP_ENV=development)"))
}

fn read_allow_remote(var: &dyn Fn(&str) -> Option<String>) -> Result<bool, String> {
    match var("DEV_IDP_ALLOW_REMOTE") {
        None => Ok(false),
        Some(raw) => parse_bool(&raw).ok_or_else(|| {
            format!("DEV_IDP_ALLOW_REMOTE: must be true or false, got `{raw}` (example: DEV_IDP_ALLOW_REMOTE=false)")
        }),
    }
}

/// The listen address and the issuer (without trailing slash), parsed.
fn read_endpoint(
    var: &dyn Fn(&str) -> Option<String>,
) -> Result<(SocketAddr, String, url::Url), String> {
    let raw_addr = var("DEV_IDP_ADDR").unwrap_or_else(|| "127.0.0.1:4000".into());
    let addr = raw_addr.parse::<SocketAddr>().map_err(|_| {
        format!("DEV_IDP_ADDR: `{raw_addr}` is not an IP address and port (example: DEV_IDP_ADDR=127.0.0.1:4000)")
    })?;
    let issuer = var("DEV_IDP_ISSUER")
        .unwrap_or_else(|| format!("http://{addr}"))
        .trim_end_matches('/')
        .to_string();
    let issuer_url = url::Url::parse(&issuer).map_err(|_| {
        format!("DEV_IDP_ISSUER: `{issuer}` is not an absolute URL (example: DEV_IDP_ISSUER=http://127.0.0.1:4000)")
    })?;
    Ok((addr, issuer, issuer_url))
}

/// Without `DEV_IDP_ALLOW_REMOTE=true`, both where it listens and where browsers are sent must be
/// this machine: the provider signs anyone in as any persona.
fn remote_problems(addr: &SocketAddr, issuer: &str, issuer_url: &url::Url) -> Vec<String> {
    const WHY: &str = "the provider signs anyone in, so it stays on this machine unless DEV_IDP_ALLOW_REMOTE=true";
    let mut problems = Vec::new();
    if !is_loopback_addr(addr) {
        problems.push(format!("DEV_IDP_ADDR: `{addr}` is not a loopback address; {WHY} (example: DEV_IDP_ADDR=127.0.0.1:4000)"));
    }
    if !scalekit_auth::settings::is_loopback_url(issuer_url) {
        problems.push(format!("DEV_IDP_ISSUER: `{issuer}` is not on a loopback host; {WHY} (example: DEV_IDP_ISSUER=http://127.0.0.1:4000)"));
    }
    problems
}

pub async fn run() -> ExitCode {
    init_tracing(
        &var("RUST_LOG").unwrap_or_else(|| "info".into()),
        LogFormat::Text,
    );
    let Listen {
        addr,
        issuer,
        allow_remote,
    } = match read_listen(&var) {
        Ok(listen) => listen,
        Err(problems) => {
            for problem in problems {
                eprintln!("error: {problem}");
            }
            return ExitCode::FAILURE;
        }
    };
    if allow_remote {
        tracing::warn!(
            listen = %addr,
            issuer = %issuer,
            "DEV_IDP_ALLOW_REMOTE=true: this DEVELOPMENT identity provider signs anyone in as any persona and may be reachable from other machines; use it only on a private development box"
        );
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
    let grace = crate::config::operations::DEFAULT_SHUTDOWN_GRACE;
    crate::web::serve::serve(listener, standalone_router(idp), shutdown_signal(), grace).await;
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn read(vars: &[(&str, &str)]) -> Result<Listen, Vec<String>> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        read_listen(&move |name| map.get(name).cloned())
    }

    fn refused_naming(vars: &[(&str, &str)], variable: &str) {
        let problems = read(vars).expect_err("should be refused");
        assert!(
            problems
                .iter()
                .any(|p| p.starts_with(&format!("{variable}: "))),
            "expected a problem with {variable}: {problems:?}"
        );
    }

    #[test]
    fn defaults_to_loopback() {
        let listen = read(&[]).unwrap();
        assert_eq!(listen.addr.to_string(), "127.0.0.1:4000");
        assert_eq!(listen.issuer, "http://127.0.0.1:4000");
        assert!(!listen.allow_remote);
    }

    #[test]
    fn refuses_production_and_remote_addresses_unless_allowed() {
        for env in ["production", "PROD", "Production"] {
            refused_naming(&[("APP_ENV", env)], "APP_ENV");
        }
        refused_naming(
            &[("APP_ENV", "prod"), ("DEV_IDP_ALLOW_REMOTE", "true")],
            "APP_ENV",
        );
        refused_naming(&[("DEV_IDP_ADDR", "0.0.0.0:4000")], "DEV_IDP_ADDR");
        refused_naming(&[("DEV_IDP_ADDR", "[::]:4000")], "DEV_IDP_ADDR");
        refused_naming(
            &[("DEV_IDP_ISSUER", "https://idp.example.com")],
            "DEV_IDP_ISSUER",
        );
        refused_naming(
            &[("DEV_IDP_ALLOW_REMOTE", "perhaps")],
            "DEV_IDP_ALLOW_REMOTE",
        );
        let allowed = read(&[
            ("DEV_IDP_ADDR", "0.0.0.0:4000"),
            ("DEV_IDP_ISSUER", "https://idp.example.com/"),
            ("DEV_IDP_ALLOW_REMOTE", "true"),
        ])
        .unwrap();
        assert!(allowed.allow_remote);
        assert_eq!(allowed.issuer, "https://idp.example.com");
        assert!(read(&[
            ("APP_ENV", "development"),
            ("DEV_IDP_ISSUER", "http://localhost:4000")
        ])
        .is_ok());
    }
}
