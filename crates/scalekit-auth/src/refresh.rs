//! Single-flight refresh with a grace cache (checklist R2, R3). Requests that present the same
//! refresh token share one call to the token endpoint; for a short while afterwards, requests still
//! carrying the old cookie (other tabs, requests already in flight) get the same result instead of
//! redeeming the old token again, which a provider with reuse detection would punish by revoking
//! the whole token family.
//!
//! The call runs in a task of its own, not in the request that started it: if that request goes
//! away (the browser aborts the page load) after the provider rotated the refresh token, the new
//! tokens still reach the waiting requests and the grace cache instead of being lost.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use tokio::sync::watch;

/// How long a refresh result is handed to late requests with the old refresh token.
pub const GRACE: Duration = Duration::from_secs(60);
/// How long a "provider unavailable" result is handed out before the provider is asked again:
/// during an outage every request of an expiring session would otherwise retry at once.
pub const FAILURE_MEMORY: Duration = Duration::from_secs(3);

struct Flight<T> {
    started: Instant,
    /// None while the call runs.
    result: watch::Receiver<Option<T>>,
}

/// Keyed by SHA-256 of the refresh token, so the map never holds a token.
pub struct SingleFlight<T> {
    flights: Mutex<HashMap<[u8; 32], Flight<T>>>,
    /// How long a finished result is kept for later requests.
    keep_for: fn(&T) -> Duration,
}

impl<T: Clone + Send + Sync + 'static> SingleFlight<T> {
    /// No flights yet; `keep_for` says how long a finished result is handed to later callers (the
    /// relying party keeps new tokens for [`GRACE`], an outage for [`FAILURE_MEMORY`]).
    pub fn new(keep_for: fn(&T) -> Duration) -> SingleFlight<T> {
        SingleFlight {
            flights: Mutex::new(HashMap::new()),
            keep_for,
        }
    }

    /// Runs `refresh` in its own task unless a call for the same token is running or finished
    /// within its keep time, in which case that call's result is returned. `lost` stands in for
    /// the result if the task died without one (a panic).
    pub async fn run<F, Fut>(&self, refresh_token: &str, refresh: F, lost: fn() -> T) -> T
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = T> + Send + 'static,
    {
        let key: [u8; 32] = Sha256::digest(refresh_token.as_bytes()).into();
        let mut result = {
            let mut flights = self.flights.lock().unwrap_or_else(|p| p.into_inner());
            let keep_for = self.keep_for;
            flights.retain(|_, f| match &*f.result.borrow() {
                // Running, unless its task died without a result (its sender is gone).
                None => f.result.has_changed().is_ok(),
                Some(result) => f.started.elapsed() < keep_for(result),
            });
            match flights.get(&key) {
                Some(flight) => flight.result.clone(),
                None => {
                    let (sender, receiver) = watch::channel(None);
                    let work = refresh();
                    tokio::spawn(async move {
                        let result = work.await;
                        // No receiver left is fine: the flight was dropped from the map.
                        let _ = sender.send(Some(result));
                    });
                    flights.insert(
                        key,
                        Flight {
                            started: Instant::now(),
                            result: receiver.clone(),
                        },
                    );
                    receiver
                }
            }
        };
        let finished = result.wait_for(Option::is_some).await;
        match finished {
            Ok(value) => value.clone().unwrap_or_else(lost),
            Err(_) => lost(),
        }
    }

    /// Entries held (running or within their keep time).
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.flights.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use super::*;

    fn keep_all(_: &u32) -> Duration {
        GRACE
    }

    fn lost() -> u32 {
        u32::MAX
    }

    #[tokio::test]
    async fn r2_concurrent_refreshes_of_one_token_make_one_call() {
        let flights = Arc::new(SingleFlight::<Result<u32, ()>>::new(|_| GRACE));
        let calls = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..12 {
            let flights = flights.clone();
            let calls = calls.clone();
            tasks.push(tokio::spawn(async move {
                flights
                    .run(
                        "rt-1",
                        || async move {
                            calls.fetch_add(1, Ordering::SeqCst);
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            Ok(7)
                        },
                        || Err(()),
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
        let flights = SingleFlight::<u32>::new(keep_all);
        assert_eq!(flights.run("rt", || async { 1 }, lost).await, 1);
        assert_eq!(flights.run("rt", || async { 2 }, lost).await, 1);
        assert_eq!(flights.run("other", || async { 3 }, lost).await, 3);
    }

    #[tokio::test]
    async fn r5_failures_are_remembered_briefly_and_the_grace_period_ends() {
        let flights = SingleFlight::<u32>::new(|v| {
            if *v == 0 {
                Duration::from_millis(30)
            } else {
                Duration::from_millis(60)
            }
        });
        assert_eq!(flights.run("rt", || async { 0 }, lost).await, 0);
        assert_eq!(
            flights.run("rt", || async { 5 }, lost).await,
            0,
            "an outage is not asked about again at once"
        );
        tokio::time::sleep(Duration::from_millis(40)).await;
        assert_eq!(flights.run("rt", || async { 5 }, lost).await, 5);
        assert_eq!(flights.run("rt", || async { 6 }, lost).await, 5);
        tokio::time::sleep(Duration::from_millis(70)).await;
        assert_eq!(flights.run("rt", || async { 6 }, lost).await, 6);
        assert_eq!(flights.len(), 1);
    }

    #[tokio::test]
    async fn r2_a_refresh_outlives_the_request_that_started_it() {
        let flights = Arc::new(SingleFlight::<u32>::new(keep_all));
        let calls = Arc::new(AtomicUsize::new(0));
        let started = {
            let flights = flights.clone();
            let calls = calls.clone();
            tokio::spawn(async move {
                flights
                    .run(
                        "rt",
                        || async move {
                            calls.fetch_add(1, Ordering::SeqCst);
                            tokio::time::sleep(Duration::from_millis(100)).await;
                            9
                        },
                        lost,
                    )
                    .await
            })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        started.abort(); // the browser went away mid-refresh
        let later = flights.run("rt", || async { 10 }, lost).await;
        assert_eq!(later, 9, "the next request gets the first call's result");
        assert_eq!(calls.load(Ordering::SeqCst), 1, "no second redemption");
    }

    #[tokio::test]
    async fn a_refresh_that_panics_answers_with_the_stand_in() {
        let flights = SingleFlight::<u32>::new(keep_all);
        let result = flights
            .run("rt", || async { panic!("provider client bug") }, lost)
            .await;
        assert_eq!(result, u32::MAX);
    }
}
