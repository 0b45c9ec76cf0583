//! Whether this instance can sign anyone in: the provider's discovery document and signing keys
//! have been fetched (cached ones count: a provider blip must not take every instance out of the
//! load balancer at once), and the session store answers. For a readiness probe.

use std::time::Duration;

use crate::auth::Auth;

/// Longest a check may take: a probe must answer before its own timeout.
const CHECK_TIMEOUT: Duration = Duration::from_secs(3);

/// The outcome of [`Auth::readiness`]: each check, and why it failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Readiness {
    checks: Vec<(&'static str, Result<(), String>)>,
}

impl Readiness {
    /// True when every check passed.
    pub fn is_ready(&self) -> bool {
        self.checks.iter().all(|(_, result)| result.is_ok())
    }

    /// Each check by name (`provider`, `keys`, `store`), with the reason it failed.
    pub fn checks(&self) -> impl Iterator<Item = (&'static str, Result<(), &str>)> + '_ {
        self.checks
            .iter()
            .map(|(name, result)| (*name, result.as_ref().map(|_| ()).map_err(String::as_str)))
    }
}

async fn bounded<T, E: std::fmt::Display>(
    check: impl std::future::Future<Output = Result<T, E>>,
) -> Result<T, String> {
    match tokio::time::timeout(CHECK_TIMEOUT, check).await {
        Ok(result) => result.map_err(|e| e.to_string()),
        Err(_) => Err(format!("no answer within {CHECK_TIMEOUT:?}")),
    }
}

impl Auth {
    /// Checks, each within three seconds, that the provider's discovery document and signing keys
    /// are at hand (fetching them if this instance has none yet) and that the session store
    /// answers.
    pub async fn readiness(&self) -> Readiness {
        let (provider, keys) = match bounded(self.endpoints()).await {
            Ok(endpoints) => {
                let keys = bounded(endpoints.jwks.ensure_loaded()).await;
                // Scalekit's standard paths serve sign-ins while discovery is down, but an
                // instance that has never read the document is not known to be configured right.
                let discovered = match endpoints.discovered {
                    true => Ok(()),
                    false => Err("the discovery document has not been fetched yet".to_string()),
                };
                (discovered, keys.map(|_| ()))
            }
            Err(e) => (
                Err(e),
                Err("waiting for the provider's discovery".to_string()),
            ),
        };
        let store = bounded(self.store().ping()).await;
        Readiness {
            checks: vec![("provider", provider), ("keys", keys), ("store", store)],
        }
    }
}
