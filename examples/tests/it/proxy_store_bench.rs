//! Throughput of proxy mode's full login, in-memory store against Redis, in one
//! run: the `custom` example (the broker) as a process, once with its default
//! memory store and once with `MCP_AUTH_REDIS_URL` (a `redis-server` this test
//! starts), each driven by the same clients through `/authorize` (consent
//! remembered), the upstream, `/oauth/callback` and `/token`.
//!
//! Not part of the normal run (it is a benchmark). Run it with:
//!
//! ```text
//! cargo test --release -p mcp-auth-examples --test it proxy_store_bench -- --ignored --nocapture
//! ```
//!
//! It prints the figures recorded in BENCHMARKS.md.

use crate::common;

use std::time::{Duration, Instant};

use common::{Server, custom_broker};
use mcp_auth_testkit::{
    Algorithm, Browser, FakeIdp, ProxyClient, RedisServer, TestKey, claims, jwks,
};

/// Concurrent clients, each with its own browser.
const CLIENTS: usize = 16;
/// Logins per client (after one warm-up login that gives consent).
const ROUNDS: usize = 150;

/// One full login and code redemption; its duration.
async fn round_trip(client: &ProxyClient, browser: &mut Browser) -> Duration {
    let started = Instant::now();
    let back = client.log_in(browser, &[]).await;
    let (status, tokens) = client.redeem(&back["code"]).await;
    assert_eq!(status, 200, "{tokens}");
    started.elapsed()
}

struct Figures {
    per_second: f64,
    p50: Duration,
    p99: Duration,
}

/// `CLIENTS` clients doing `ROUNDS` logins each against `server`.
async fn measure(server: &Server) -> Figures {
    let base = server.url("");
    let mut workers = tokio::task::JoinSet::new();
    // Warm-up, not measured: registration and consent.
    let mut clients = Vec::new();
    for _ in 0..CLIENTS {
        let client = ProxyClient::register(&base, "http://127.0.0.1:9/callback").await;
        let mut browser = Browser::default();
        round_trip(&client, &mut browser).await;
        clients.push((client, browser));
    }
    let started = Instant::now();
    for (client, mut browser) in clients {
        workers.spawn(async move {
            let mut times = Vec::with_capacity(ROUNDS);
            for _ in 0..ROUNDS {
                times.push(round_trip(&client, &mut browser).await);
            }
            times
        });
    }
    let mut times: Vec<Duration> = workers.join_all().await.into_iter().flatten().collect();
    let elapsed = started.elapsed();
    times.sort();
    let at = |q: f64| times[((times.len() as f64 * q) as usize).min(times.len() - 1)];
    Figures {
        per_second: times.len() as f64 / elapsed.as_secs_f64(),
        p50: at(0.50),
        p99: at(0.99),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: run it in release with --ignored --nocapture"]
async fn full_logins_per_second_memory_store_against_redis() {
    let key = TestKey::rsa("k1", Algorithm::RS256);
    let idp = FakeIdp::start(jwks(&[key.jwk()])).await;
    let redis = RedisServer::start();
    let state_key = "c3RhdGUta2V5LWZvci10aGUtYmVuY2htYXJrLTAxMjM0NTY3ODk=";

    let memory = custom_broker(&idp, &[]).await;
    idp.set_access_token(key.sign(&claims(&idp.issuer(), "bench", "bench")));
    let in_memory = measure(&memory).await;
    drop(memory);

    let shared = custom_broker(
        &idp,
        &[
            ("MCP_AUTH_REDIS_URL", redis.url()),
            ("MCP_AUTH_STATE_KEY", state_key),
        ],
    )
    .await;
    let in_redis = measure(&shared).await;
    drop(shared);

    println!(
        "{CLIENTS} clients x {ROUNDS} logins (authorize -> upstream -> callback -> token) each"
    );
    for (name, f) in [("memory", &in_memory), ("redis", &in_redis)] {
        println!(
            "{name:>6}: {:>7.0} logins/s  p50 {:>6.2} ms  p99 {:>6.2} ms",
            f.per_second,
            f.p50.as_secs_f64() * 1e3,
            f.p99.as_secs_f64() * 1e3
        );
    }
    println!(
        "redis / memory: throughput x{:.2}, p99 x{:.2}",
        in_redis.per_second / in_memory.per_second,
        in_redis.p99.as_secs_f64() / in_memory.p99.as_secs_f64()
    );
}
