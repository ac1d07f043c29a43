//! A real Redis for tests: `redis-server` started on a free port with nothing
//! saved to disk, killed on drop, and stoppable, restartable on the same port,
//! or frozen (SIGSTOP) to act as a hung server. Without `redis-server` on
//! `PATH`, the server at `MCP_AUTH_TEST_REDIS_URL` (which a test cannot stop);
//! without either, the test fails saying what to install.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The variable naming a Redis to use when `redis-server` is not installed.
pub const TEST_REDIS_URL_VAR: &str = "MCP_AUTH_TEST_REDIS_URL";

/// A Redis server for one test.
pub struct RedisServer {
    url: String,
    /// The local server, if the test started one.
    local: Option<Local>,
}

struct Local {
    port: u16,
    dir: std::path::PathBuf,
    child: Option<Child>,
}

/// Whether `redis-server` can be run.
fn redis_server_installed() -> bool {
    Command::new("redis-server")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// A port that was free a moment ago, in 10000-19999: below Linux's ephemeral
/// range (32768-60999), where the sockets of parallel tests bound to port 0
/// and outgoing connections take theirs, so it stays free while the server is
/// stopped, and apart from the 20000-31999 the example tests use.
fn free_port() -> u16 {
    use std::hash::{BuildHasher, RandomState};
    let random = RandomState::new();
    for attempt in 0u32..1000 {
        let port = 10_000 + (random.hash_one((std::process::id(), attempt)) % 10_000) as u16;
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free port found in 10000-19999 for redis-server");
}

/// Sends `PING` to `port`: whether a Redis answers `+PONG`.
fn answers_ping(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
    if stream.write_all(b"PING\r\n").is_err() {
        return false;
    }
    let mut reply = [0u8; 7];
    stream.read_exact(&mut reply).is_ok() && &reply == b"+PONG\r\n"
}

impl Local {
    fn spawn(&mut self) -> bool {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string()])
            .args(["--bind", "127.0.0.1"])
            .args(["--save", ""])
            .args(["--appendonly", "no"])
            .args(["--dir", &self.dir.display().to_string()])
            .args(["--loglevel", "warning"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start redis-server: {e}"));
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if answers_ping(self.port) {
                return true;
            }
            if let Some(child) = self.child.as_mut()
                && child.try_wait().ok().flatten().is_some()
            {
                self.child = None;
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.kill();
        false
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn signal(&self, signal: &str) {
        let pid = self
            .child
            .as_ref()
            .expect("redis-server is running")
            .id()
            .to_string();
        let status = Command::new("kill")
            .args([signal, &pid])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill {signal} {pid} failed");
    }
}

impl RedisServer {
    /// A Redis for this test: a fresh `redis-server` on a free port when it is
    /// installed, else the one at `MCP_AUTH_TEST_REDIS_URL`; panics saying what
    /// to install when there is neither.
    pub fn start() -> RedisServer {
        if redis_server_installed() {
            static STARTED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
            let dir = std::env::temp_dir().join(format!(
                "mcp-auth-redis-{}-{}",
                std::process::id(),
                STARTED.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            ));
            std::fs::create_dir_all(&dir).expect("redis-server work directory");
            for _ in 0..5 {
                let mut local = Local {
                    port: free_port(),
                    dir: dir.clone(),
                    child: None,
                };
                if local.spawn() {
                    return RedisServer {
                        url: format!("redis://127.0.0.1:{}", local.port),
                        local: Some(local),
                    };
                }
            }
            panic!("redis-server did not start (five ports tried)");
        }
        match std::env::var(TEST_REDIS_URL_VAR) {
            Ok(url) if !url.trim().is_empty() => RedisServer {
                url: url.trim().to_owned(),
                local: None,
            },
            _ => panic!(
                "the Redis tests need redis-server on PATH (Debian: apt-get install redis-server; \
                 .ci/install-redis.sh does it) or a disposable Redis at {TEST_REDIS_URL_VAR}"
            ),
        }
    }

    /// `redis://127.0.0.1:PORT` (or `MCP_AUTH_TEST_REDIS_URL`).
    pub fn url(&self) -> &str {
        &self.url
    }

    fn local(&mut self, what: &str) -> &mut Local {
        self.local.as_mut().unwrap_or_else(|| {
            panic!("{what} needs a local redis-server (install redis-server; {TEST_REDIS_URL_VAR} cannot be stopped)")
        })
    }

    /// Stops the server (its data is gone: nothing is saved).
    pub fn stop(&mut self) {
        self.local("stopping Redis").kill();
    }

    /// Starts the server again on the same port, empty.
    pub fn restart(&mut self) {
        let local = self.local("restarting Redis");
        local.kill();
        let deadline = Instant::now() + Duration::from_secs(10);
        while !local.spawn() {
            assert!(
                Instant::now() < deadline,
                "redis-server did not restart on port {}",
                local.port
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Freezes the server (SIGSTOP): it keeps its connections and answers
    /// nothing, as a hung server does.
    pub fn freeze(&mut self) {
        self.local("freezing Redis").signal("-STOP");
    }

    /// Lets a frozen server go on (SIGCONT).
    pub fn thaw(&mut self) {
        self.local("thawing Redis").signal("-CONT");
    }

    async fn connection(&self) -> redis::aio::MultiplexedConnection {
        redis::Client::open(self.url.as_str())
            .expect("Redis URL")
            .get_multiplexed_async_connection()
            .await
            .expect("connect to Redis")
    }

    /// The time to live of `key` in milliseconds (`PTTL`: -1 without one, -2
    /// for no such key).
    pub async fn pttl(&self, key: &str) -> i64 {
        redis::cmd("PTTL")
            .arg(key)
            .query_async(&mut self.connection().await)
            .await
            .expect("PTTL")
    }

    /// Every key starting with `prefix` and everything stored under it (the
    /// value of a string; the fields and values of a hash; the members of a
    /// sorted set, set or list), as raw bytes.
    pub async fn dump(&self, prefix: &str) -> Vec<(String, Vec<Vec<u8>>)> {
        let mut connection = self.connection().await;
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(format!("{prefix}*"))
            .query_async(&mut connection)
            .await
            .expect("KEYS");
        let mut out = Vec::new();
        for key in keys {
            let kind: String = redis::cmd("TYPE")
                .arg(&key)
                .query_async(&mut connection)
                .await
                .expect("TYPE");
            let command = match kind.as_str() {
                "string" => redis::cmd("GET").arg(&key).clone(),
                "hash" => redis::cmd("HGETALL").arg(&key).clone(),
                "zset" => redis::cmd("ZRANGE")
                    .arg(&key)
                    .arg(0)
                    .arg(-1)
                    .arg("WITHSCORES")
                    .clone(),
                "set" => redis::cmd("SMEMBERS").arg(&key).clone(),
                "list" => redis::cmd("LRANGE").arg(&key).arg(0).arg(-1).clone(),
                _ => continue, // expired between KEYS and TYPE
            };
            let values: Vec<Vec<u8>> = match kind.as_str() {
                "string" => command
                    .query_async::<Option<Vec<u8>>>(&mut connection)
                    .await
                    .expect("GET")
                    .into_iter()
                    .collect(),
                _ => command
                    .query_async(&mut connection)
                    .await
                    .expect("read a key"),
            };
            out.push((key, values));
        }
        out
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        if let Some(local) = self.local.as_mut() {
            // SIGKILL ends a frozen (stopped) server too.
            local.kill();
            let _ = std::fs::remove_dir_all(&local.dir);
        }
    }
}
