//! The store for several instances: Redis 7 or Valkey, through the `redis` crate's
//! ConnectionManager (one multiplexed connection that reconnects by itself). Short timeouts, so an
//! outage answers 503 quickly instead of holding requests; the outage is logged once per interval.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use super::StoreUnavailable;

/// How long a command may take before the store counts as unavailable.
const COMMAND_TIMEOUT: Duration = Duration::from_millis(500);
/// How often an ongoing outage is logged.
const OUTAGE_LOG_INTERVAL_SECS: u64 = 30;

/// `REDIS_URL` and `REDIS_KEY_PREFIX`, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RedisSettings {
    /// `redis://` or `rediss://` (TLS); may carry a password, so never logged whole.
    pub url: crate::secret::Secret,
    /// Put before every key, so several apps can share one server.
    pub key_prefix: String,
}

/// `SET key max(current, ARGV[1]) EX max(current TTL, ARGV[2])`, atomically (Lua runs alone on
/// the server; Valkey runs the same scripts).
const RAISE_SCRIPT: &str = "local value = tonumber(ARGV[1]) \
    local ttl = tonumber(ARGV[2]) \
    local current = redis.call('GET', KEYS[1]) \
    if current and tonumber(current) and tonumber(current) > value then value = tonumber(current) end \
    local left = redis.call('TTL', KEYS[1]) \
    if left > ttl then ttl = left end \
    redis.call('SET', KEYS[1], value, 'EX', ttl) \
    return 1";

/// Deletes the refresh lock `KEYS[1]` only if it still holds this owner's token `ARGV[1]`: a lock
/// that expired and was taken by another instance is not ours to release.
const RELEASE_SCRIPT: &str = "if redis.call('GET', KEYS[1]) == ARGV[1] then \
    return redis.call('DEL', KEYS[1]) else return 0 end";

/// The Redis (or Valkey) store: every key under the configured prefix, every command bounded by a
/// short timeout, an ongoing outage logged at most every 30 s.
pub struct RedisStore {
    connection: ConnectionManager,
    prefix: String,
    /// When the outage was last logged (Unix seconds), and whether one is going on.
    outage_logged_at: AtomicU64,
    down: AtomicBool,
}

fn now_secs() -> u64 {
    crate::session::now_secs()
}

impl RedisStore {
    /// Connects lazily: the app starts (and serves public pages) while Redis is down.
    pub fn connect(settings: &RedisSettings) -> Result<RedisStore, String> {
        use redis::IntoConnectionInfo;
        // TCP_NODELAY: the crate leaves Nagle's algorithm on, and every request's one small
        // command would then wait for the server's delayed ACK (the bench's Redis dashboard sat
        // at 55% CPU, waiting).
        let info = settings
            .url
            .expose()
            .into_connection_info()
            .map_err(|e| format!("REDIS_URL is not usable: {:?}", e.kind()))?;
        let tcp = info.tcp_settings().clone().set_nodelay(true);
        let client = redis::Client::open(info.set_tcp_settings(tcp))
            .map_err(|e| format!("REDIS_URL is not usable: {:?}", e.kind()))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(COMMAND_TIMEOUT))
            .set_response_timeout(Some(COMMAND_TIMEOUT))
            // Reconnect attempts happen in the background; a request never waits for many.
            .set_number_of_retries(1);
        let connection = ConnectionManager::new_lazy_with_config(client, config)
            .map_err(|e| format!("cannot set up the Redis connection: {:?}", e.kind()))?;
        Ok(RedisStore {
            connection,
            prefix: settings.key_prefix.clone(),
            outage_logged_at: AtomicU64::new(0),
            down: AtomicBool::new(false),
        })
    }

    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    /// Runs `cmd`, bounded by the command timeout, noting outages and recoveries.
    async fn run<T: redis::FromRedisValue>(&self, cmd: &redis::Cmd) -> Result<T, StoreUnavailable> {
        let mut connection = self.connection.clone();
        let result =
            tokio::time::timeout(COMMAND_TIMEOUT * 2, cmd.query_async::<T>(&mut connection))
                .await
                .map_err(|_| "timed out".to_string())
                .and_then(|r| r.map_err(|e| format!("{:?}", e.kind())));
        match result {
            Ok(value) => {
                if self.down.swap(false, Ordering::Relaxed) {
                    tracing::info!("the session store (Redis) is reachable again");
                }
                Ok(value)
            }
            Err(reason) => {
                crate::telemetry::store_error();
                self.down.store(true, Ordering::Relaxed);
                let now = now_secs();
                let last = self.outage_logged_at.load(Ordering::Relaxed);
                if now >= last + OUTAGE_LOG_INTERVAL_SECS
                    && self
                        .outage_logged_at
                        .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                        .is_ok()
                {
                    tracing::error!(%reason, "the session store (Redis) is unavailable; signed-in pages answer 503 until it is back");
                }
                Err(StoreUnavailable(reason))
            }
        }
    }

    pub(super) async fn mark(
        &self,
        key: &str,
        value: u64,
        ttl: u64,
    ) -> Result<(), StoreUnavailable> {
        // One atomic step that only ever raises the value and lengthens the TTL: a later, older
        // cutoff (a logout token issued before a "sign out everywhere") must not revive sessions.
        let mut cmd = redis::cmd("EVAL");
        cmd.arg(RAISE_SCRIPT)
            .arg(1)
            .arg(self.key(key))
            .arg(value)
            .arg(ttl);
        self.run::<()>(&cmd).await
    }

    /// The values of `keys` (None where absent), in one round trip.
    pub(super) async fn values(
        &self,
        keys: &[String],
    ) -> Result<Vec<Option<u64>>, StoreUnavailable> {
        let mut cmd = redis::cmd("MGET");
        for key in keys {
            cmd.arg(self.key(key));
        }
        self.run::<Vec<Option<u64>>>(&cmd).await
    }

    pub(super) async fn ping(&self) -> Result<(), StoreUnavailable> {
        self.run::<String>(&redis::cmd("PING")).await.map(|_| ())
    }

    pub(super) async fn first_use(&self, key: &str, ttl: u64) -> Result<bool, StoreUnavailable> {
        let mut cmd = redis::cmd("SET");
        cmd.arg(self.key(key)).arg(1).arg("NX").arg("EX").arg(ttl);
        Ok(self.run::<Option<String>>(&cmd).await?.is_some())
    }

    pub(super) async fn push_recent(
        &self,
        key: &str,
        entry: &str,
        keep: usize,
        ttl: u64,
    ) -> Result<(), StoreUnavailable> {
        let mut cmd = redis::cmd("EVAL");
        cmd.arg(super::recent::PUSH_SCRIPT)
            .arg(1)
            .arg(self.key(key))
            .arg(entry)
            .arg(keep.max(1))
            .arg(ttl);
        self.run::<()>(&cmd).await
    }

    pub(super) async fn recent(
        &self,
        key: &str,
        keep: usize,
    ) -> Result<Vec<String>, StoreUnavailable> {
        let mut cmd = redis::cmd("LRANGE");
        cmd.arg(self.key(key)).arg(0).arg(keep.max(1) as i64 - 1);
        self.run::<Vec<String>>(&cmd).await
    }

    /// Takes the refresh of `flight` for `hold`: the lock's owner token, for
    /// [`release_refresh`](Self::release_refresh), or None when another instance holds it.
    pub async fn claim_refresh(
        &self,
        flight: &str,
        hold: Duration,
    ) -> Result<Option<String>, StoreUnavailable> {
        let owner = crate::secret::random_token(16);
        let mut cmd = redis::cmd("SET");
        cmd.arg(self.refresh_lock_key(flight))
            .arg(&owner)
            .arg("NX")
            .arg("PX")
            .arg(hold.as_millis().max(1) as u64);
        Ok(self.run::<Option<String>>(&cmd).await?.map(|_| owner))
    }

    /// Gives the refresh of `flight` up, if `owner` still holds it: a refresh that failed with
    /// nothing to share, so that the next try, on any instance, need not wait out the lock.
    pub async fn release_refresh(&self, flight: &str, owner: &str) -> Result<(), StoreUnavailable> {
        let mut cmd = redis::cmd("EVAL");
        cmd.arg(RELEASE_SCRIPT)
            .arg(1)
            .arg(self.refresh_lock_key(flight))
            .arg(owner);
        self.run::<i64>(&cmd).await.map(|_| ())
    }

    /// Whether some instance holds the refresh of `flight`.
    pub async fn refresh_claimed(&self, flight: &str) -> Result<bool, StoreUnavailable> {
        let mut cmd = redis::cmd("EXISTS");
        cmd.arg(self.refresh_lock_key(flight));
        Ok(self.run::<i64>(&cmd).await? > 0)
    }

    fn refresh_lock_key(&self, flight: &str) -> String {
        self.key(&format!("refresh:lock:{flight}"))
    }

    /// Leaves the sealed outcome of the refresh of `flight` for the grace period.
    pub async fn put_refresh_result(
        &self,
        flight: &str,
        sealed: &str,
        keep: Duration,
    ) -> Result<(), StoreUnavailable> {
        let mut cmd = redis::cmd("SET");
        cmd.arg(self.key(&format!("refresh:result:{flight}")))
            .arg(sealed)
            .arg("EX")
            .arg(keep.as_secs().max(1));
        self.run::<()>(&cmd).await
    }

    /// The sealed outcome of the refresh of `flight`, if one instance finished it.
    pub async fn refresh_result(&self, flight: &str) -> Result<Option<String>, StoreUnavailable> {
        let mut cmd = redis::cmd("GET");
        cmd.arg(self.key(&format!("refresh:result:{flight}")));
        self.run::<Option<String>>(&cmd).await
    }
}
