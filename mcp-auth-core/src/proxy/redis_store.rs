//! [`RedisStore`]: proxy-mode state in Redis, shared by every replica behind a
//! load balancer and kept across restarts (feature `redis`).
//!
//! Each operation keeps [`MemoryStore`](super::MemoryStore)'s semantics:
//!
//! - every record is written with its TTL (`SET … PX`), so Redis itself never
//!   returns an expired record;
//! - [`take`](ProxyStore::take) is one Lua script around `GETDEL` (Redis 6.2
//!   or newer): of any number of concurrent takers, on any replicas, exactly
//!   one gets the record;
//! - the per-kind [`Budget`]s hold across replicas: every write is one Lua
//!   script, atomic in Redis, that keeps per kind a sorted set of the kind's
//!   records scored by expiry (server time, so replica clocks do not matter)
//!   and a byte count, drops expired members, and evicts the records closest
//!   to expiry while the kind is over its entry or byte budget. Replicas that
//!   share a Redis share one budget per kind (configure the same budgets on
//!   all of them: each write enforces the budgets of the replica making it).
//!
//! Every call is bounded by the configured timeouts: a Redis that is down,
//! unreachable or hung makes the operation fail with
//! [`StoreError::Backend`] (the proxy routes answer 503 with `Retry-After`),
//! never hang a request. The connection manager reconnects by itself once
//! Redis is back.
//!
//! Keys are `{prefix}{kind}:…` (default prefix `mcp-auth:`): the kind in
//! braces is a Redis Cluster hash tag, so the keys one script touches share a
//! slot.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use super::store::{Budget, ProxyStore, RecordKind, StoreError, record_size};
use crate::env::EnvSource;
use crate::error::ConfigError;
use crate::provider::BoxFuture;

/// The variable naming the Redis server of proxy-mode state:
/// `redis://[:password@]host[:port][/db]`, or `rediss://` for TLS.
pub const REDIS_URL_VAR: &str = "MCP_AUTH_REDIS_URL";
/// The variable naming the key prefix in Redis (default `mcp-auth:`).
pub const REDIS_KEY_PREFIX_VAR: &str = "MCP_AUTH_REDIS_KEY_PREFIX";

/// The key prefix when none is configured.
pub const DEFAULT_KEY_PREFIX: &str = "mcp-auth:";
/// How long connecting to Redis may take by default.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// How long Redis may take to answer one command by default.
pub const DEFAULT_RESPONSE_TIMEOUT: Duration = Duration::from_secs(1);

/// The longest TTL written (ten years): longer ones are capped.
const MAX_TTL_MS: u64 = 10 * 365 * 86_400 * 1000;
/// At most this many expired index entries are dropped per write (the rest go
/// on the next writes, or when the kind is full).
const SWEEP_PER_WRITE: u32 = 64;

/// A Redis URL. It may carry a password: `Debug` and `Display` show it with the
/// password replaced by `***`, and [`expose`](Self::expose) is the only way to
/// the full value.
#[derive(Clone, PartialEq, Eq)]
pub struct RedisUrl(String);

impl RedisUrl {
    /// Checks that `url` is a `redis://` or `rediss://` URL with a host.
    pub fn parse(url: &str) -> Result<Self, ConfigError> {
        let name = "Redis URL";
        let parsed = url::Url::parse(url.trim()).map_err(|e| {
            ConfigError::invalid(
                name,
                format!("{} is not a URL: {e}", RedisUrl(url.to_owned())),
            )
        })?;
        let shown = RedisUrl(url.trim().to_owned());
        match parsed.scheme() {
            "redis" | "rediss" => {}
            other => {
                return Err(ConfigError::invalid(
                    name,
                    format!(
                        "{shown} has the scheme {other:?}: use redis:// (or rediss:// for TLS)"
                    ),
                ));
            }
        }
        if parsed.host_str().is_none_or(str::is_empty) {
            return Err(ConfigError::invalid(name, format!("{shown} names no host")));
        }
        Ok(shown)
    }

    /// The URL, password included: for connecting only.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The URL with any password replaced by `***`.
    pub fn redacted(&self) -> String {
        match url::Url::parse(&self.0) {
            Ok(mut url) => {
                if url.password().is_some() {
                    // Only fails for URLs that cannot have credentials, which
                    // then have no password to hide.
                    let _ = url.set_password(Some("***"));
                }
                url.to_string()
            }
            // Unparsable: show nothing after the scheme that could be a secret.
            Err(_) => match self.0.split_once("://") {
                Some((scheme, _)) => format!("{scheme}://[unparsable URL]"),
                None => "[unparsable URL]".to_owned(),
            },
        }
    }
}

impl std::fmt::Debug for RedisUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RedisUrl({:?})", self.redacted())
    }
}

impl std::fmt::Display for RedisUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// How to reach Redis and how much each kind of record may take there.
///
/// ```
/// use std::time::Duration;
/// use mcp_auth_core::proxy::RedisStoreConfig;
/// let config = RedisStoreConfig::new("redis://:hunter2@127.0.0.1:6379/0")?
///     .key_prefix("my-server:")
///     .response_timeout(Duration::from_millis(500));
/// assert!(!format!("{config:?}").contains("hunter2"));
/// # Ok::<(), mcp_auth_core::ConfigError>(())
/// ```
#[derive(Debug, Clone)]
pub struct RedisStoreConfig {
    url: RedisUrl,
    key_prefix: String,
    connect_timeout: Duration,
    response_timeout: Duration,
    budgets: [Budget; RecordKind::ALL.len()],
}

impl RedisStoreConfig {
    /// Redis at `url` (`redis://[:password@]host[:port][/db]`, `rediss://` for
    /// TLS), with the default prefix, timeouts and budgets.
    pub fn new(url: &str) -> Result<Self, ConfigError> {
        Ok(RedisStoreConfig {
            url: RedisUrl::parse(url)?,
            key_prefix: DEFAULT_KEY_PREFIX.to_owned(),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            response_timeout: DEFAULT_RESPONSE_TIMEOUT,
            budgets: RecordKind::ALL.map(RecordKind::default_budget),
        })
    }

    /// The configuration `source` describes: `None` when
    /// [`MCP_AUTH_REDIS_URL`](REDIS_URL_VAR) is unset, an error naming the
    /// variable when it is malformed. [`MCP_AUTH_REDIS_KEY_PREFIX`](REDIS_KEY_PREFIX_VAR)
    /// sets the key prefix.
    pub fn from_env(source: &EnvSource) -> Result<Option<Self>, ConfigError> {
        let mut env = crate::env::EnvReader::with_source(source);
        let url = env.optional(REDIS_URL_VAR);
        let prefix = env.optional(REDIS_KEY_PREFIX_VAR);
        env.finish()?;
        let Some(url) = url else {
            return Ok(None);
        };
        let config = RedisStoreConfig::new(&url).map_err(|e| match e {
            ConfigError::Invalid { reason, .. } => ConfigError::invalid(REDIS_URL_VAR, reason),
            other => other,
        })?;
        Ok(Some(match prefix {
            Some(prefix) => config.key_prefix(prefix),
            None => config,
        }))
    }

    /// The prefix of every key this store writes (default `mcp-auth:`): give
    /// each server sharing one Redis database its own.
    pub fn key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.key_prefix = prefix.into();
        self
    }

    /// How long connecting may take (default 2 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How long Redis may take to answer one operation (default 1 s).
    pub fn response_timeout(mut self, timeout: Duration) -> Self {
        self.response_timeout = timeout;
        self
    }

    /// The budget of `kind` (default [`RecordKind::default_budget`]), shared by
    /// every replica using this Redis and prefix.
    pub fn budget(mut self, kind: RecordKind, budget: Budget) -> Self {
        self.budgets[kind_index(kind)] = budget;
        self
    }

    /// The URL (its `Display` hides the password).
    pub fn url(&self) -> &RedisUrl {
        &self.url
    }
}

/// Why the Redis store failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RedisStoreError {
    /// Redis could not be reached at start.
    #[error("cannot reach Redis at {url}: {reason}")]
    Unreachable {
        /// The URL, password redacted.
        url: String,
        /// Why.
        reason: String,
    },
    /// An operation did not complete within the timeouts.
    #[error("Redis did not answer {operation} within {after:?}")]
    Timeout {
        /// What was attempted.
        operation: &'static str,
        /// The time allowed.
        after: Duration,
    },
    /// Redis answered with an error, or the connection failed.
    #[error("Redis failed {operation}: {source}")]
    Redis {
        /// What was attempted.
        operation: &'static str,
        /// Redis's error.
        #[source]
        source: redis::RedisError,
    },
}

impl From<RedisStoreError> for StoreError {
    fn from(error: RedisStoreError) -> Self {
        StoreError::Backend(Box::new(error))
    }
}

/// One write: replace, sweep expired members, evict while over budget, write.
///
/// KEYS: record, index (sorted set id -> expiry in ms), sizes (hash id ->
/// bytes), byte count. ARGV: id, value, ttl ms, size, max entries, max bytes,
/// record key prefix, sweep limit. Returns the number of live records evicted.
const PUT_SCRIPT: &str = r"
local record, index, sizes, total = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local id, value = ARGV[1], ARGV[2]
local ttl, size = tonumber(ARGV[3]), tonumber(ARGV[4])
local max_entries, max_bytes = tonumber(ARGV[5]), tonumber(ARGV[6])
local record_prefix, sweep = ARGV[7], tonumber(ARGV[8])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function drop(member)
  local s = redis.call('HGET', sizes, member)
  if s then
    redis.call('DECRBY', total, s)
    redis.call('HDEL', sizes, member)
  end
  redis.call('ZREM', index, member)
  redis.call('DEL', record_prefix .. member)
end
drop(id)
for _, member in ipairs(redis.call('ZRANGEBYSCORE', index, '-inf', string.format('%d', now), 'LIMIT', 0, sweep)) do
  drop(member)
end
local evicted = 0
while true do
  local count = redis.call('ZCARD', index)
  local bytes = tonumber(redis.call('GET', total) or '0')
  if count < max_entries and bytes + size <= max_bytes then break end
  local first = redis.call('ZRANGE', index, 0, 0, 'WITHSCORES')
  if #first == 0 then break end
  if tonumber(first[2]) > now then evicted = evicted + 1 end
  drop(first[1])
end
redis.call('SET', record, value, 'PX', ttl)
redis.call('ZADD', index, string.format('%d', now + ttl), id)
redis.call('HSET', sizes, id, size)
redis.call('INCRBY', total, size)
return evicted
";

/// The single-use read: `GETDEL` and the index entry's removal, atomically.
///
/// KEYS: record, index, sizes, byte count. ARGV: id.
const TAKE_SCRIPT: &str = r"
local value = redis.call('GETDEL', KEYS[1])
local s = redis.call('HGET', KEYS[3], ARGV[1])
if s then
  redis.call('DECRBY', KEYS[4], s)
  redis.call('HDEL', KEYS[3], ARGV[1])
end
redis.call('ZREM', KEYS[2], ARGV[1])
return value
";

/// A replace with a zero TTL: the old record goes, nothing is written.
///
/// KEYS and ARGV as [`TAKE_SCRIPT`].
const DELETE_SCRIPT: &str = r"
redis.call('DEL', KEYS[1])
local s = redis.call('HGET', KEYS[3], ARGV[1])
if s then
  redis.call('DECRBY', KEYS[4], s)
  redis.call('HDEL', KEYS[3], ARGV[1])
end
redis.call('ZREM', KEYS[2], ARGV[1])
return 1
";

/// The [`ProxyStore`] in Redis, for several replicas (see the module docs).
/// Cheap to clone: clones share one connection.
#[derive(Clone)]
pub struct RedisStore {
    connection: ConnectionManager,
    url: RedisUrl,
    key_prefix: String,
    /// The most one operation may take, connection included.
    deadline: Duration,
    budgets: [Budget; RecordKind::ALL.len()],
    put: redis::Script,
    take: redis::Script,
    delete: redis::Script,
    evicted: std::sync::Arc<[AtomicU64; RecordKind::ALL.len()]>,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("url", &self.url)
            .field("key_prefix", &self.key_prefix)
            .field("budgets", &self.budgets)
            .finish_non_exhaustive()
    }
}

fn kind_index(kind: RecordKind) -> usize {
    RecordKind::ALL
        .iter()
        .position(|k| *k == kind)
        .unwrap_or_default()
}

/// The keys of one record: the record, the kind's index, sizes and byte count.
struct Keys {
    record: String,
    index: String,
    sizes: String,
    total: String,
    record_prefix: String,
}

impl RedisStore {
    /// Connects to Redis and checks that it answers (`PING`) within the connect
    /// and response timeouts: an unreachable Redis is an error naming the URL
    /// (password redacted). Once connected, the store reconnects by itself.
    pub async fn connect(config: RedisStoreConfig) -> Result<Self, RedisStoreError> {
        let unreachable = |reason: String| RedisStoreError::Unreachable {
            url: config.url.redacted(),
            reason,
        };
        let client =
            redis::Client::open(config.url.expose()).map_err(|e| unreachable(e.to_string()))?;
        let manager_config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(config.connect_timeout))
            .set_response_timeout(Some(config.response_timeout))
            // Reconnecting is retried briefly; a request waiting for it is
            // bounded by `deadline` anyway, and the next request after a
            // failed reconnection starts another.
            .set_number_of_retries(1)
            .set_min_delay(Duration::from_millis(50))
            .set_max_delay(Duration::from_millis(500));
        let connection = ConnectionManager::new_lazy_with_config(client, manager_config)
            .map_err(|e| unreachable(e.to_string()))?;
        let store = RedisStore {
            connection,
            url: config.url.clone(),
            key_prefix: config.key_prefix,
            deadline: config.connect_timeout + config.response_timeout,
            budgets: config.budgets,
            put: redis::Script::new(PUT_SCRIPT),
            take: redis::Script::new(TAKE_SCRIPT),
            delete: redis::Script::new(DELETE_SCRIPT),
            evicted: std::sync::Arc::new([const { AtomicU64::new(0) }; RecordKind::ALL.len()]),
        };
        store.ping().await.map_err(|e| unreachable(e.to_string()))?;
        Ok(store)
    }

    /// Sends `PING`: whether Redis answers now.
    pub async fn ping(&self) -> Result<(), RedisStoreError> {
        self.bounded("PING", |mut connection| async move {
            redis::cmd("PING")
                .query_async::<String>(&mut connection)
                .await
        })
        .await
        .map(drop)
    }

    /// The URL (its `Display` hides the password).
    pub fn url(&self) -> &RedisUrl {
        &self.url
    }

    fn keys(&self, kind: RecordKind, id: &str) -> Keys {
        let base = format!("{}{{{}}}:", self.key_prefix, kind.name());
        Keys {
            record: format!("{base}r:{id}"),
            index: format!("{base}index"),
            sizes: format!("{base}sizes"),
            total: format!("{base}bytes"),
            record_prefix: format!("{base}r:"),
        }
    }

    /// Runs `attempt` on the connection, within the deadline. An attempt that
    /// fails on a broken connection (Redis restarted, or back after an
    /// outage: the manager reconnects on that failure) is made once more, so
    /// the first request after Redis returns is served. For a take, a retry
    /// after a first attempt that reached Redis finds nothing: a lost code,
    /// never one redeemed twice.
    async fn bounded<T, F, Fut>(
        &self,
        operation: &'static str,
        attempt: F,
    ) -> Result<T, RedisStoreError>
    where
        F: Fn(ConnectionManager) -> Fut,
        Fut: Future<Output = redis::RedisResult<T>>,
    {
        let attempts = async {
            match attempt(self.connection.clone()).await {
                Err(e) if e.is_io_error() && !e.is_timeout() => {
                    attempt(self.connection.clone()).await
                }
                done => done,
            }
        };
        match tokio::time::timeout(self.deadline, attempts).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(source)) if source.is_timeout() => Err(RedisStoreError::Timeout {
                operation,
                after: self.deadline,
            }),
            Ok(Err(source)) => Err(RedisStoreError::Redis { operation, source }),
            Err(_) => Err(RedisStoreError::Timeout {
                operation,
                after: self.deadline,
            }),
        }
    }

    async fn get_now(&self, kind: RecordKind, id: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let key = &self.keys(kind, id).record;
        Ok(self
            .bounded("GET", |mut connection| async move {
                redis::cmd("GET")
                    .arg(key)
                    .query_async::<Option<Vec<u8>>>(&mut connection)
                    .await
            })
            .await?)
    }

    async fn put_now(
        &self,
        kind: RecordKind,
        id: &str,
        value: Vec<u8>,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        let budget = self.budgets[kind_index(kind)];
        let size = record_size(id, &value);
        if size > budget.max_bytes || budget.max_entries == 0 {
            return Err(StoreError::TooLarge {
                kind: kind.name(),
                bytes: value.len(),
            });
        }
        let keys = self.keys(kind, id);
        let ttl_ms = u64::try_from(ttl.as_millis())
            .unwrap_or(u64::MAX)
            .min(MAX_TTL_MS);
        if ttl_ms == 0 {
            // Expired on arrival: replacing means removing the old record.
            let mut invocation = self.delete.prepare_invoke();
            invocation
                .key(&keys.record)
                .key(&keys.index)
                .key(&keys.sizes)
                .key(&keys.total)
                .arg(id);
            let invocation = &invocation;
            self.bounded("a delete", |mut connection| async move {
                invocation.invoke_async::<i64>(&mut connection).await
            })
            .await?;
            return Ok(());
        }
        let mut invocation = self.put.prepare_invoke();
        invocation
            .key(&keys.record)
            .key(&keys.index)
            .key(&keys.sizes)
            .key(&keys.total)
            .arg(id)
            .arg(value)
            .arg(ttl_ms)
            .arg(size)
            .arg(budget.max_entries)
            .arg(budget.max_bytes)
            .arg(&keys.record_prefix)
            .arg(SWEEP_PER_WRITE);
        let invocation = &invocation;
        let evicted = self
            .bounded("a write", |mut connection| async move {
                invocation.invoke_async::<u64>(&mut connection).await
            })
            .await?;
        if evicted > 0 {
            let counter = &self.evicted[kind_index(kind)];
            let before = counter.fetch_add(evicted, Ordering::Relaxed);
            if before == 0 || before.ilog2() != (before + evicted).ilog2() {
                tracing::warn!(
                    kind = kind.name(),
                    evicted = before + evicted,
                    "proxy store (Redis) full: records closest to expiry were evicted (a flood of requests, or a budget too small)"
                );
            }
        }
        Ok(())
    }

    async fn take_now(&self, kind: RecordKind, id: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let keys = self.keys(kind, id);
        let mut invocation = self.take.prepare_invoke();
        invocation
            .key(&keys.record)
            .key(&keys.index)
            .key(&keys.sizes)
            .key(&keys.total)
            .arg(id);
        let invocation = &invocation;
        Ok(self
            .bounded("a take", |mut connection| async move {
                invocation
                    .invoke_async::<Option<Vec<u8>>>(&mut connection)
                    .await
            })
            .await?)
    }
}

impl ProxyStore for RedisStore {
    fn get<'a>(
        &'a self,
        kind: RecordKind,
        id: &'a str,
    ) -> BoxFuture<'a, Result<Option<Vec<u8>>, StoreError>> {
        Box::pin(self.get_now(kind, id))
    }

    fn put<'a>(
        &'a self,
        kind: RecordKind,
        id: &'a str,
        value: Vec<u8>,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(self.put_now(kind, id, value, ttl))
    }

    fn take<'a>(
        &'a self,
        kind: RecordKind,
        id: &'a str,
    ) -> BoxFuture<'a, Result<Option<Vec<u8>>, StoreError>> {
        Box::pin(self.take_now(kind, id))
    }

    fn is_shared(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_print_without_their_password() {
        let url = RedisUrl::parse("redis://user:hunter2@cache.internal:6380/2").expect("url");
        for shown in [format!("{url}"), format!("{url:?}"), url.redacted()] {
            assert!(!shown.contains("hunter2"), "{shown}");
            assert!(shown.contains("cache.internal:6380"), "{shown}");
        }
        assert_eq!(url.expose(), "redis://user:hunter2@cache.internal:6380/2");
        let config = RedisStoreConfig::new("rediss://:hunter2@cache.internal").expect("config");
        assert!(!format!("{config:?}").contains("hunter2"));
    }

    #[test]
    fn only_redis_urls_with_a_host_are_accepted() {
        for bad in [
            "http://cache.internal",
            "redis://",
            "cache.internal:6379",
            "not a url",
        ] {
            let err = RedisUrl::parse(bad).expect_err(bad).to_string();
            assert!(err.contains("Redis URL"), "{err}");
        }
        let err = RedisUrl::parse("http://u:hunter2@cache.internal")
            .expect_err("scheme")
            .to_string();
        assert!(!err.contains("hunter2"), "{err}");
    }

    #[test]
    fn the_environment_names_the_variable() {
        let source = EnvSource::from_vars([(REDIS_URL_VAR, "http://u:hunter2@x")]);
        let err = RedisStoreConfig::from_env(&source)
            .expect_err("scheme")
            .to_string();
        assert!(
            err.contains(REDIS_URL_VAR) && !err.contains("hunter2"),
            "{err}"
        );
        assert!(
            RedisStoreConfig::from_env(&EnvSource::empty())
                .expect("unset is fine")
                .is_none()
        );
        let source = EnvSource::from_vars([
            (REDIS_URL_VAR, "redis://127.0.0.1:6399"),
            (REDIS_KEY_PREFIX_VAR, "tenant-a:"),
        ]);
        let config = RedisStoreConfig::from_env(&source)
            .expect("valid")
            .expect("set");
        assert_eq!(config.key_prefix, "tenant-a:");
    }
}
