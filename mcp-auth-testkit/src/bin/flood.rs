//! The flood benchmark's driver (`benches/flood.sh`): serves a JWKS it counts
//! the fetches of, starts `bench_server` against it, and floods it, bounded in
//! count and in time, while a separate low-rate stream of valid requests (the
//! probe) measures what a legitimate client sees:
//!
//! 1. **baseline**: the probe alone (the latency baseline);
//! 2. **one valid token repeated**: the flood's traffic without the distinct
//!    tokens, every request a token cache hit (the memory baseline: the same
//!    connections and requests in flight);
//! 3. **distinct valid tokens**: every request a new, validly signed token
//!    (EdDSA), so each one is verified and offered to the token cache; the
//!    server's peak RSS (`VmHWM`) must stay under the memory baseline's plus
//!    the token cache's bound;
//! 4. **unknown kids**: every request a token with valid claims under a random
//!    `kid` the JWKS does not hold, inside one unknown-kid cool-down; the JWKS
//!    may be fetched at most once.
//!
//! Prints a Markdown table and the checks; exits with 1 when a check fails, 2 on
//! a usage or start-up error.
//!
//! `flood --server PATH [--server-cpu LIST] [--valid-tokens N] [--kid-tokens N]
//! [--repeat-requests N] [--max-seconds S] [--concurrency C] [--probe-rate R]
//! [--baseline-seconds S] [--cooldown S]`

use std::collections::BTreeMap;
use std::io::Write as _;
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair};
use axum::Router;
use axum::routing::get;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use mcp_auth_core::jwt::TokenCacheConfig;
use serde_json::json;

/// Why the run could not be carried out (as opposed to a check that failed).
#[derive(Debug, thiserror::Error)]
enum RunError {
    /// The command line is wrong.
    #[error("usage: {0}")]
    Usage(String),
    /// The bench server did not start or did not serve as expected.
    #[error("bench_server: {0}")]
    Server(String),
    /// A local I/O operation failed (a socket, `/proc`).
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
    /// An HTTP request of the warm-up failed.
    #[error("HTTP: {0}")]
    Http(#[from] reqwest::Error),
    /// The signing key could not be generated.
    #[error("key generation failed: {0}")]
    Key(String),
    /// The probe thread failed.
    #[error("probe: {0}")]
    Probe(String),
}

fn usage(msg: impl Into<String>) -> RunError {
    RunError::Usage(msg.into())
}

fn server_error(msg: impl Into<String>) -> RunError {
    RunError::Server(msg.into())
}

/// The command line.
#[derive(Debug, Clone)]
struct Options {
    server: String,
    server_cpu: Option<String>,
    valid_tokens: u64,
    kid_tokens: u64,
    repeat_requests: u64,
    max_seconds: u64,
    concurrency: usize,
    probe_rate: u32,
    baseline_seconds: u64,
    cooldown: u64,
}

impl Options {
    fn parse(args: &[String]) -> Result<Self, RunError> {
        let mut o = Options {
            server: String::new(),
            server_cpu: None,
            valid_tokens: 1_000_000,
            kid_tokens: 100_000,
            repeat_requests: 50_000,
            max_seconds: 240,
            concurrency: 32,
            probe_rate: 50,
            baseline_seconds: 10,
            cooldown: 600,
        };
        let mut it = args.iter();
        while let Some(name) = it.next() {
            let value = it
                .next()
                .ok_or_else(|| usage(format!("{name} needs a value")))?;
            let number = |what: &str| {
                value
                    .parse::<u64>()
                    .map_err(|e| usage(format!("{what} {value:?}: {e}")))
            };
            match name.as_str() {
                "--server" => o.server.clone_from(value),
                "--server-cpu" => o.server_cpu = Some(value.clone()),
                "--valid-tokens" => o.valid_tokens = number(name)?,
                "--kid-tokens" => o.kid_tokens = number(name)?,
                "--repeat-requests" => o.repeat_requests = number(name)?,
                "--max-seconds" => o.max_seconds = number(name)?.max(1),
                "--concurrency" => {
                    o.concurrency = usize::try_from(number(name)?.clamp(1, 4096)).unwrap_or(1);
                }
                "--probe-rate" => {
                    o.probe_rate = u32::try_from(number(name)?.clamp(1, 10_000)).unwrap_or(1);
                }
                "--baseline-seconds" => o.baseline_seconds = number(name)?.max(1),
                "--cooldown" => o.cooldown = number(name)?,
                other => return Err(usage(format!("unknown option {other}"))),
            }
        }
        if o.server.is_empty() {
            return Err(usage("--server PATH (the bench_server binary) is required"));
        }
        Ok(o)
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Signs EdDSA tokens fast enough for a million of them: the header of the
/// published key is encoded once.
struct Signer {
    pair: Ed25519KeyPair,
    kid: String,
    header: String,
}

impl Signer {
    fn new() -> Result<Self, RunError> {
        let rng = SystemRandom::new();
        let key = |e: aws_lc_rs::error::Unspecified| RunError::Key(e.to_string());
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).map_err(key)?;
        let pair =
            Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).map_err(|e| RunError::Key(e.to_string()))?;
        let kid = "flood".to_owned();
        let header = Self::encoded_header(&kid);
        Ok(Signer { pair, kid, header })
    }

    fn encoded_header(kid: &str) -> String {
        URL_SAFE_NO_PAD.encode(json!({"alg": "EdDSA", "typ": "JWT", "kid": kid}).to_string())
    }

    fn jwks(&self) -> serde_json::Value {
        json!({"keys": [{
            "kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig", "kid": self.kid,
            "x": URL_SAFE_NO_PAD.encode(self.pair.public_key().as_ref()),
        }]})
    }

    /// A token of `claims` under the published kid, or under `kid` when given.
    fn sign(&self, claims: &serde_json::Value, kid: Option<&str>) -> String {
        let header = kid.map_or_else(|| self.header.clone(), Self::encoded_header);
        let input = format!("{header}.{}", URL_SAFE_NO_PAD.encode(claims.to_string()));
        let signature = self.pair.sign(input.as_bytes());
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.as_ref()))
    }
}

/// The bench server as a child process; killed when dropped.
struct Server {
    child: Child,
    url: String,
    health: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn start(opts: &Options, issuer: &str, jwks_url: &str) -> Result<Self, RunError> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let url = format!("http://127.0.0.1:{port}/mcp");
        let mut command = match &opts.server_cpu {
            Some(cpus) => {
                let mut c = Command::new("taskset");
                c.args(["-c", cpus, &opts.server]);
                c
            }
            None => Command::new(&opts.server),
        };
        command
            .env("PORT", port.to_string())
            .env("MCP_URL", &url)
            .env("MCP_AUTH_BENCH_AUTH", "on")
            .env("MCP_AUTH_BENCH_TOKEN_CACHE", "on")
            .env(
                "MCP_AUTH_BENCH_UNKNOWN_KID_COOLDOWN",
                opts.cooldown.to_string(),
            )
            .env("MCP_USE_OAUTH_CUSTOM_ISSUER", issuer)
            .env("MCP_USE_OAUTH_CUSTOM_JWKS_URL", jwks_url)
            .env("TOKIO_WORKER_THREADS", "1")
            .env("RUST_LOG", "error")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        let child = command
            .spawn()
            .map_err(|e| server_error(format!("cannot start {}: {e}", opts.server)))?;
        Ok(Server {
            child,
            health: format!("http://127.0.0.1:{port}/health"),
            url,
        })
    }

    async fn wait_ready(&mut self, client: &reqwest::Client) -> Result<(), RunError> {
        for _ in 0..200 {
            if let Some(status) = self.child.try_wait()? {
                return Err(server_error(format!("exited with {status}")));
            }
            if client
                .get(&self.health)
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Err(server_error("did not answer /health within 10 s"))
    }

    /// `VmHWM` (peak RSS) and `VmRSS` of the server, in KiB.
    fn memory_kib(&self) -> Result<(u64, u64), RunError> {
        memory_kib(self.child.id())
    }
}

/// `VmHWM` (peak RSS) and `VmRSS` of process `pid`, in KiB.
fn memory_kib(pid: u32) -> Result<(u64, u64), RunError> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse::<u64>().ok())
            .ok_or_else(|| server_error(format!("no {name} in /proc/PID/status")))
    };
    Ok((field("VmHWM:")?, field("VmRSS:")?))
}

/// A POST of `tools/list` with `token`.
fn tools_list(client: &reqwest::Client, url: &str, token: &str) -> reqwest::RequestBuilder {
    client
        .post(url)
        .bearer_auth(token)
        .header("Content-Type", "application/json")
        .header("Accept", "application/json, text/event-stream")
        .header("MCP-Protocol-Version", "2025-06-18")
        .body(r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#)
}

/// What the probe saw: latencies of answered requests, and failures.
#[derive(Debug, Default)]
struct ProbeResult {
    latencies: Vec<Duration>,
    failures: u64,
}

impl ProbeResult {
    fn percentile(&self, p: f64) -> Duration {
        let mut sorted = self.latencies.clone();
        sorted.sort();
        if sorted.is_empty() {
            return Duration::ZERO;
        }
        let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
        sorted[rank.clamp(1, sorted.len()) - 1]
    }
}

/// The probe: `rate` valid requests a second, one at a time, on its own thread
/// and runtime (so the flood's tasks do not delay it), until `stop` is set.
fn start_probe(
    url: String,
    token: String,
    rate: u32,
    stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<Result<ProbeResult, String>> {
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        rt.block_on(async move {
            let client = reqwest::Client::new();
            let mut result = ProbeResult::default();
            let mut tick = tokio::time::interval(Duration::from_secs(1) / rate);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            while !stop.load(Ordering::Relaxed) {
                tick.tick().await;
                let started = Instant::now();
                let answer = tools_list(&client, &url, &token).send().await;
                match answer {
                    Ok(resp) if resp.status().is_success() => {
                        let _ = resp.bytes().await;
                        result.latencies.push(started.elapsed());
                    }
                    _ => result.failures += 1,
                }
            }
            Ok(result)
        })
    })
}

/// The probe running for as long as `work` takes.
async fn probed<T>(
    url: &str,
    token: &str,
    rate: u32,
    work: impl std::future::Future<Output = T>,
) -> Result<(T, ProbeResult), RunError> {
    let stop = Arc::new(AtomicBool::new(false));
    let probe = start_probe(url.to_owned(), token.to_owned(), rate, Arc::clone(&stop));
    let out = work.await;
    stop.store(true, Ordering::Relaxed);
    let result = probe
        .join()
        .map_err(|_| RunError::Probe("the probe thread panicked".into()))?
        .map_err(RunError::Probe)?;
    Ok((out, result))
}

/// What a flood sent and got back.
#[derive(Debug, Default)]
struct FloodResult {
    sent: u64,
    statuses: BTreeMap<u16, u64>,
    errors: u64,
    elapsed: Duration,
}

impl FloodResult {
    fn statuses(&self) -> String {
        let mut parts: Vec<String> = self
            .statuses
            .iter()
            .map(|(status, n)| format!("{n} × {status}"))
            .collect();
        if self.errors > 0 {
            parts.push(format!("{} network errors", self.errors));
        }
        parts.join(", ")
    }

    fn only(&self, status: u16) -> bool {
        self.errors == 0 && self.statuses.keys().all(|s| *s == status)
    }
}

/// Sends `count` requests, `concurrency` at a time, the `i`-th with the token
/// `make(i)`, stopping early at `deadline`.
async fn flood(
    url: &str,
    count: u64,
    concurrency: usize,
    limit: Duration,
    make: Arc<dyn Fn(u64) -> String + Send + Sync>,
) -> FloodResult {
    flood_counted(url, count, concurrency, limit, make, Arc::default()).await
}

/// [`flood`], counting the requests started in `next`.
async fn flood_counted(
    url: &str,
    count: u64,
    concurrency: usize,
    limit: Duration,
    make: Arc<dyn Fn(u64) -> String + Send + Sync>,
    next: Arc<AtomicU64>,
) -> FloodResult {
    let client = reqwest::Client::new();
    let totals = Arc::new(Mutex::new(FloodResult::default()));
    let started = Instant::now();
    let deadline = started + limit;
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (client, url, next, totals, make) = (
            client.clone(),
            url.to_owned(),
            Arc::clone(&next),
            Arc::clone(&totals),
            Arc::clone(&make),
        );
        tasks.push(tokio::spawn(async move {
            let mut mine = FloodResult::default();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count || Instant::now() >= deadline {
                    break;
                }
                mine.sent += 1;
                match tools_list(&client, &url, &make(i)).send().await {
                    Ok(resp) => {
                        *mine.statuses.entry(resp.status().as_u16()).or_default() += 1;
                        let _ = resp.bytes().await;
                    }
                    Err(_) => mine.errors += 1,
                }
            }
            let mut t = totals.lock().unwrap_or_else(PoisonError::into_inner);
            t.sent += mine.sent;
            t.errors += mine.errors;
            for (status, n) in mine.statuses {
                *t.statuses.entry(status).or_default() += n;
            }
        }));
    }
    for task in tasks {
        let _ = task.await;
    }
    let mut result = std::mem::take(&mut *totals.lock().unwrap_or_else(PoisonError::into_inner));
    result.elapsed = started.elapsed();
    result
}

/// Samples the RSS of `pid` every `every` while a flood of `total` requests
/// runs (`started` counts them), until aborted; the samples are in the task's
/// shared list, readable after the abort.
fn sample_rss(pid: u32, started: Arc<AtomicU64>, total: u64, every: Duration) -> SampleTask {
    let samples = Arc::new(Mutex::new(Vec::new()));
    let list = Arc::clone(&samples);
    let task = tokio::spawn(async move {
        loop {
            tokio::time::sleep(every).await;
            if let Ok((_, rss)) = memory_kib(pid) {
                let sent = started.load(Ordering::Relaxed).min(total);
                list.lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push((sent, rss));
            }
        }
    });
    SampleTask { task, samples }
}

/// A running [`sample_rss`].
struct SampleTask {
    task: tokio::task::JoinHandle<()>,
    samples: Arc<Mutex<Vec<(u64, u64)>>>,
}

impl SampleTask {
    fn abort(&self) {
        self.task.abort();
    }

    /// The samples taken (after [`abort`](Self::abort)).
    async fn finish(self) -> Arc<Mutex<Vec<(u64, u64)>>> {
        let _ = self.task.await;
        self.samples
    }
}

/// The JWKS endpoint, counting its fetches; its base URL is the issuer.
async fn serve_jwks(jwks: serde_json::Value) -> Result<(String, Arc<AtomicU64>), RunError> {
    let hits = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&hits);
    let body = jwks.to_string();
    let app = Router::new().route(
        "/jwks.json",
        get(move || {
            counter.fetch_add(1, Ordering::Relaxed);
            let body = body.clone();
            async move {
                (
                    [
                        ("content-type", "application/json"),
                        // Kept for an hour: no refetch but the ones unknown kids force.
                        ("cache-control", "max-age=3600"),
                    ],
                    body,
                )
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok((base, hits))
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

async fn run(opts: Options) -> Result<bool, RunError> {
    let signer = Arc::new(Signer::new()?);
    let (issuer, jwks_hits) = serve_jwks(signer.jwks()).await?;
    let jwks_url = format!("{issuer}/jwks.json");
    let mut server = Server::start(&opts, &issuer, &jwks_url)?;
    let client = reqwest::Client::new();
    server.wait_ready(&client).await?;
    let url = server.url.clone();
    let exp = now() + 3 * 3600;
    let claims = {
        let (issuer, url) = (issuer.clone(), url.clone());
        move |sub: &str| json!({"iss": issuer, "aud": url, "sub": sub, "exp": exp, "iat": now(), "scope": "mcp:tools"})
    };
    let probe_token = signer.sign(&claims("probe-user"), None);

    // Warm-up: the JWKS is fetched, connections are set up.
    for _ in 0..50 {
        let resp = tools_list(&client, &url, &probe_token).send().await?;
        if !resp.status().is_success() {
            return Err(server_error(format!(
                "a valid token was refused during the warm-up: HTTP {}",
                resp.status()
            )));
        }
    }

    let limit = Duration::from_secs(opts.max_seconds);
    let cache = TokenCacheConfig::default();
    let bound_kib = cache.max_bytes / 1024;

    let ((), baseline) = probed(
        &url,
        &probe_token,
        opts.probe_rate,
        tokio::time::sleep(Duration::from_secs(opts.baseline_seconds)),
    )
    .await?;
    let (base_hwm, _) = server.memory_kib()?;

    let repeated = {
        let token = probe_token.clone();
        Arc::new(move |_: u64| token.clone()) as Arc<dyn Fn(u64) -> String + Send + Sync>
    };
    let (repeat_flood, repeat_probe) = probed(
        &url,
        &probe_token,
        opts.probe_rate,
        flood(
            &url,
            opts.repeat_requests,
            opts.concurrency,
            limit,
            repeated,
        ),
    )
    .await?;
    let (repeat_hwm, repeat_rss) = server.memory_kib()?;

    let fetches_before = jwks_hits.load(Ordering::Relaxed);
    let valid = {
        let (signer, claims) = (Arc::clone(&signer), claims.clone());
        Arc::new(move |i: u64| signer.sign(&claims(&format!("flood-{i}")), None))
            as Arc<dyn Fn(u64) -> String + Send + Sync>
    };
    let started_count = Arc::new(AtomicU64::new(0));
    let sampler = sample_rss(
        server.child.id(),
        Arc::clone(&started_count),
        opts.valid_tokens,
        limit / 8,
    );
    let (valid_flood, valid_probe) = probed(
        &url,
        &probe_token,
        opts.probe_rate,
        flood_counted(
            &url,
            opts.valid_tokens,
            opts.concurrency,
            limit,
            valid,
            started_count,
        ),
    )
    .await?;
    sampler.abort();
    let rss_samples = sampler.finish().await;
    let (valid_hwm, valid_rss) = server.memory_kib()?;
    let valid_fetches = jwks_hits.load(Ordering::Relaxed) - fetches_before;

    let fetches_before = jwks_hits.load(Ordering::Relaxed);
    let unknown_kid = {
        let (signer, claims) = (Arc::clone(&signer), claims.clone());
        let rng = SystemRandom::new();
        Arc::new(move |i: u64| {
            let mut kid = [0u8; 12];
            // A failed draw still leaves a kid unknown to the JWKS.
            let _ = rng.fill(&mut kid);
            let kid = URL_SAFE_NO_PAD.encode(kid);
            signer.sign(&claims(&format!("kid-flood-{i}")), Some(&kid))
        }) as Arc<dyn Fn(u64) -> String + Send + Sync>
    };
    let (kid_flood, kid_probe) = probed(
        &url,
        &probe_token,
        opts.probe_rate,
        flood(&url, opts.kid_tokens, opts.concurrency, limit, unknown_kid),
    )
    .await?;
    let (kid_hwm, _) = server.memory_kib()?;
    let kid_fetches = jwks_hits.load(Ordering::Relaxed) - fetches_before;

    let base_p99 = baseline.percentile(99.0);
    let ratio = |p: &ProbeResult| {
        if base_p99.is_zero() {
            "n/a".to_owned()
        } else {
            format!(
                "{:.0} %",
                100.0 * p.percentile(99.0).as_secs_f64() / base_p99.as_secs_f64()
            )
        }
    };
    println!(
        "| phase | requests | time | req/s | answers | probe requests (failed) | probe p50 | probe p99 | p99 / baseline | server peak RSS (VmHWM) | JWKS fetches |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    println!(
        "| baseline (probe only) | – | {} s | – | – | {} ({}) | {} | {} | 100 % | {} | – |",
        opts.baseline_seconds,
        baseline.latencies.len(),
        baseline.failures,
        ms(baseline.percentile(50.0)),
        ms(base_p99),
        mib(base_hwm),
    );
    for (name, f, p, hwm, fetches) in [
        (
            "one valid token repeated (memory baseline)",
            &repeat_flood,
            &repeat_probe,
            repeat_hwm,
            0,
        ),
        (
            "distinct valid tokens",
            &valid_flood,
            &valid_probe,
            valid_hwm,
            valid_fetches,
        ),
        ("unknown kids", &kid_flood, &kid_probe, kid_hwm, kid_fetches),
    ] {
        println!(
            "| {name} | {} | {:.1} s | {:.0} | {} | {} ({}) | {} | {} | {} | {} | {fetches} |",
            f.sent,
            f.elapsed.as_secs_f64(),
            f.sent as f64 / f.elapsed.as_secs_f64().max(1e-9),
            f.statuses(),
            p.latencies.len(),
            p.failures,
            ms(p.percentile(50.0)),
            ms(p.percentile(99.0)),
            ratio(p),
            mib(hwm),
        );
    }
    println!();
    println!(
        "Server RSS after the repeated token {}, after the distinct valid tokens {} (peak growth {}).",
        mib(repeat_rss),
        mib(valid_rss),
        mib(valid_hwm.saturating_sub(repeat_hwm))
    );
    println!(
        "Server RSS during the distinct valid tokens (tokens sent: VmRSS): {}.",
        rss_samples
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|(sent, kib)| format!("{sent}: {}", mib(*kib)))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!(
        "Token cache bound: {} entries, at most {} of estimated entry bytes.",
        cache.max_entries,
        mib(bound_kib)
    );
    println!();

    let checks = [
        (
            format!("{} distinct valid tokens sent", opts.valid_tokens),
            valid_flood.sent == opts.valid_tokens,
        ),
        (
            "every valid request answered 200".to_owned(),
            repeat_flood.only(200) && valid_flood.only(200),
        ),
        (
            format!(
                "peak RSS {} <= memory baseline's peak {} + token cache bound {}",
                mib(valid_hwm),
                mib(repeat_hwm),
                mib(bound_kib)
            ),
            valid_hwm <= repeat_hwm + bound_kib,
        ),
        (
            format!("{} unknown-kid tokens sent", opts.kid_tokens),
            kid_flood.sent == opts.kid_tokens,
        ),
        (
            "every unknown-kid token answered 401".to_owned(),
            kid_flood.only(401),
        ),
        (
            format!(
                "unknown-kid flood inside the {} s cool-down ({:.1} s)",
                opts.cooldown,
                kid_flood.elapsed.as_secs_f64()
            ),
            kid_flood.elapsed < Duration::from_secs(opts.cooldown),
        ),
        (
            format!("at most 1 JWKS fetch during the unknown-kid flood ({kid_fetches})"),
            kid_fetches <= 1,
        ),
        (
            "no probe request failed".to_owned(),
            baseline.failures + repeat_probe.failures + valid_probe.failures + kid_probe.failures
                == 0,
        ),
    ];
    let mut all = true;
    for (what, ok) in &checks {
        println!("- {}: {what}", if *ok { "met" } else { "NOT MET" });
        all &= *ok;
    }
    let _ = std::io::stdout().flush();
    Ok(all)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let opts = match Options::parse(&args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("flood: {e}");
            return ExitCode::from(2);
        }
    };
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("flood: cannot start the runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match rt.block_on(run(opts)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("flood: {e}");
            ExitCode::from(2)
        }
    }
}
