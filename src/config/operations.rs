//! Settings for running the app in production: where Prometheus scrapes its metrics
//! (`METRICS_ADDR`, off unless set, on a listener of its own so it is never public by accident),
//! how long a shutdown waits for requests in flight (`SHUTDOWN_GRACE_SECS`), and extra root
//! certificates for reaching the provider (`SCALEKIT_CA_FILE`).

use std::net::SocketAddr;
use std::time::Duration;

use scalekit_auth::protocol::ExtraRoots;

use super::Reader;

/// How long a shutdown waits for requests in flight unless `SHUTDOWN_GRACE_SECS` says otherwise:
/// below the 30 s a container runtime gives before it kills the process.
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(20);
/// Longest accepted `SHUTDOWN_GRACE_SECS`.
const MAX_SHUTDOWN_GRACE_SECS: u64 = 600;

/// `METRICS_ADDR`: an IP address and port for the metrics listener, never the app's own.
pub(super) fn read_metrics_addr(
    r: &mut Reader,
    site_addr: Option<SocketAddr>,
) -> Option<Option<SocketAddr>> {
    let Some(raw) = r.get("METRICS_ADDR") else {
        return Some(None);
    };
    match raw.parse::<SocketAddr>() {
        Ok(addr) if Some(addr) == site_addr => {
            r.problem(
                "METRICS_ADDR",
                "must differ from LEPTOS_SITE_ADDR: metrics get a listener of their own, which the proxy does not publish",
                "127.0.0.1:9464",
            );
            None
        }
        Ok(addr) => Some(Some(addr)),
        Err(_) => {
            r.problem(
                "METRICS_ADDR",
                format!("`{raw}` is not an IP address and port"),
                "127.0.0.1:9464",
            );
            None
        }
    }
}

/// `SHUTDOWN_GRACE_SECS`: 1 to 600 seconds.
pub(super) fn read_shutdown_grace(r: &mut Reader) -> Option<Duration> {
    let Some(raw) = r.get("SHUTDOWN_GRACE_SECS") else {
        return Some(DEFAULT_SHUTDOWN_GRACE);
    };
    match raw.parse::<u64>() {
        Ok(secs) if (1..=MAX_SHUTDOWN_GRACE_SECS).contains(&secs) => {
            Some(Duration::from_secs(secs))
        }
        _ => {
            r.problem(
                "SHUTDOWN_GRACE_SECS",
                format!("`{raw}` must be a number of seconds from 1 to {MAX_SHUTDOWN_GRACE_SECS}"),
                "20",
            );
            None
        }
    }
}

/// `SCALEKIT_CA_FILE`: a PEM bundle of root certificates trusted for the Scalekit environment
/// beside the public ones (a TLS-inspecting proxy, a private certificate authority).
pub(super) fn read_provider_roots(r: &mut Reader) -> Option<ExtraRoots> {
    let Some(path) = r.get("SCALEKIT_CA_FILE") else {
        return Some(ExtraRoots::default());
    };
    let loaded = std::fs::read(&path)
        .map_err(|e| format!("cannot read `{path}`: {e}"))
        .and_then(|pem| ExtraRoots::from_pem(&pem).map_err(|e| format!("`{path}`: {e}")));
    match loaded {
        Ok(roots) => Some(roots),
        Err(problem) => {
            r.problem(
                "SCALEKIT_CA_FILE",
                problem,
                "/etc/ssl/certs/corporate-root.pem",
            );
            None
        }
    }
}
