//! Single-flight refresh with a grace cache (checklist R2, R3). Requests that present the same
//! refresh token share one call to the token endpoint; for a short while afterwards, requests still
//! carrying the old cookie (other tabs, requests already in flight) get the same result instead of
//! redeeming the old token again, which a provider with reuse detection would punish by revoking
//! the whole token family.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use tokio::sync::OnceCell;

/// How long a refresh result is handed to late requests with the old refresh token.
pub const GRACE: Duration = Duration::from_secs(60);

struct Flight<T> {
    started: Instant,
    result: Arc<OnceCell<T>>,
}

/// Keyed by SHA-256 of the refresh token, so the map never holds a token.
pub struct SingleFlight<T> {
    flights: Mutex<HashMap<[u8; 32], Flight<T>>>,
    grace: Duration,
}

impl<T: Clone> Default for SingleFlight<T> {
    fn default() -> Self {
        SingleFlight::with_grace(GRACE)
    }
}

impl<T: Clone> SingleFlight<T> {
    pub fn with_grace(grace: Duration) -> SingleFlight<T> {
        SingleFlight {
            flights: Mutex::new(HashMap::new()),
            grace,
        }
    }

    /// Runs `refresh` unless a call for the same token is running or finished within the grace
    /// period, in which case its result is returned. `keep` says whether a result may be shared
    /// with later requests; results it rejects (a retryable outage) are dropped once delivered to
    /// the requests already waiting, so the next request tries again.
    pub async fn run<F, Fut>(&self, refresh_token: &str, keep: impl Fn(&T) -> bool, refresh: F) -> T
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = T>,
    {
        let key: [u8; 32] = Sha256::digest(refresh_token.as_bytes()).into();
        let cell = {
            let mut flights = self.flights.lock().unwrap_or_else(|p| p.into_inner());
            let grace = self.grace;
            flights.retain(|_, f| f.started.elapsed() < grace || !f.result.initialized());
            flights
                .entry(key)
                .or_insert_with(|| Flight {
                    started: Instant::now(),
                    result: Arc::new(OnceCell::new()),
                })
                .result
                .clone()
        };
        let result = cell.get_or_init(refresh).await.clone();
        if !keep(&result) {
            let mut flights = self.flights.lock().unwrap_or_else(|p| p.into_inner());
            if flights
                .get(&key)
                .is_some_and(|f| Arc::ptr_eq(&f.result, &cell))
            {
                flights.remove(&key);
            }
        }
        result
    }

    /// Entries held (running or within their grace period).
    pub fn len(&self) -> usize {
        self.flights.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[tokio::test]
    async fn r2_concurrent_refreshes_of_one_token_make_one_call() {
        let flights = Arc::new(SingleFlight::<Result<u32, ()>>::default());
        let calls = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..12 {
            let flights = flights.clone();
            let calls = calls.clone();
            tasks.push(tokio::spawn(async move {
                flights
                    .run(
                        "rt-1",
                        |_| true,
                        || async move {
                            calls.fetch_add(1, Ordering::SeqCst);
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            Ok(7)
                        },
                    )
                    .await
            }));
        }
        for task in tasks {
            assert_eq!(task.await.unwrap(), Ok(7));
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn r3_late_requests_within_the_grace_period_get_the_same_result() {
        let flights = SingleFlight::<u32>::default();
        assert_eq!(flights.run("rt", |_| true, || async { 1 }).await, 1);
        assert_eq!(flights.run("rt", |_| true, || async { 2 }).await, 1);
        assert_eq!(flights.run("other", |_| true, || async { 3 }).await, 3);
    }

    #[tokio::test]
    async fn r5_unkept_results_are_retried_and_the_grace_period_ends() {
        let flights = SingleFlight::<u32>::with_grace(Duration::from_millis(20));
        assert_eq!(flights.run("rt", |v| *v != 0, || async { 0 }).await, 0);
        assert_eq!(flights.run("rt", |v| *v != 0, || async { 5 }).await, 5);
        tokio::time::sleep(Duration::from_millis(30)).await;
        assert_eq!(flights.run("rt", |_| true, || async { 6 }).await, 6);
        assert_eq!(flights.len(), 1);
    }
}
