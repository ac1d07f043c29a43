//! The proxy-mode state budgets under a flood, against the `custom` example as a
//! process (the broker, from the environment): 200,000 registrations and
//! 100,000 `/authorize` calls, every stored field at its maximum, then a
//! legitimate client's full flow, and the server's peak RSS.
//!
//! Not part of the normal run (it sends 300,000 requests). Run it with:
//!
//! ```text
//! cargo test --release -p mcp-auth-examples --test it proxy_flood -- --ignored --nocapture
//! ```
//!
//! It prints the figures recorded in BENCHMARKS.md and fails if the peak RSS
//! exceeds 256 MiB or the legitimate flow does not complete.

use crate::common;

use std::sync::Arc;
use std::time::Instant;

use common::custom_broker;
use mcp_auth_testkit::{Algorithm, Browser, FakeIdp, ProxyClient, TestKey, claims, jwks};
use serde_json::{Value, json};
use tokio::sync::Semaphore;

const REGISTRATIONS: usize = 200_000;
const AUTHORIZATIONS: usize = 100_000;
const IN_FLIGHT: usize = 64;
/// Longest stored field (2 KiB).
const FIELD: usize = 2048;

/// The server's peak resident set (VmHWM), in KiB.
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM")
}

/// Sends `count` requests made by `request`, `IN_FLIGHT` at a time; returns
/// how many answered with each status class.
async fn flood<F>(count: usize, request: F) -> [usize; 6]
where
    F: Fn(usize) -> reqwest::RequestBuilder + Send + Sync + 'static,
{
    let request = Arc::new(request);
    let gate = Arc::new(Semaphore::new(IN_FLIGHT));
    let mut tasks = tokio::task::JoinSet::new();
    let mut classes = [0usize; 6];
    for i in 0..count {
        let permit = Arc::clone(&gate).acquire_owned().await.expect("semaphore");
        let request = Arc::clone(&request);
        tasks.spawn(async move {
            let status = request(i).send().await.map_or(0, |r| r.status().as_u16());
            drop(permit);
            usize::from(status / 100)
        });
        while let Some(done) = tasks.try_join_next() {
            classes[done.expect("task").min(5)] += 1;
        }
    }
    while let Some(done) = tasks.join_next().await {
        classes[done.expect("task").min(5)] += 1;
    }
    classes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a flood of 300,000 requests: run it on purpose (see the module doc)"]
async fn a_flood_of_maximal_registrations_and_authorizations_stays_bounded() {
    let key = TestKey::rsa("k1", Algorithm::RS256);
    let idp = FakeIdp::start(jwks(&[key.jwk()])).await;
    let server = custom_broker(&idp, &[("RUST_LOG", "warn")]).await;
    let port = server.port;
    let base = format!("http://localhost:{port}");
    let resource = format!("{base}/mcp");
    idp.set_access_token(key.sign(&claims(&idp.issuer(), &resource, "legit-user")));
    let idle_kib = peak_rss_kib(server.pid());

    // A client that logged in before the flood.
    let before = ProxyClient::register(&base, "http://127.0.0.1:9/callback").await;
    let back = before.log_in(&mut Browser::default(), &[]).await;
    let (status, tokens) = before.redeem(&back["code"]).await;
    assert_eq!(status, 200, "{tokens}");
    let handle = tokens["refresh_token"].as_str().expect("handle").to_owned();

    let http = reqwest::Client::new();
    let started = Instant::now();
    let register_url = format!("{base}/register");
    let h = http.clone();
    let registered = flood(REGISTRATIONS, move |i| {
        let uris: Vec<String> = (0..6)
            .map(|n| {
                format!(
                    "https://flood{i}-{n}.example.com/{}",
                    "p".repeat(FIELD - 40)
                )
            })
            .collect();
        h.post(&register_url)
            .json(&json!({"client_name": "n".repeat(FIELD), "redirect_uris": uris}))
    })
    .await;
    let registration_secs = started.elapsed().as_secs_f64();

    // Every /authorize stores a consent record with maximal fields.
    let victim_of_flood = ProxyClient::register(
        &base,
        &format!("https://app.example.com/{}", "r".repeat(FIELD - 30)),
    )
    .await;
    let authorize_url =
        victim_of_flood.authorize_url(&[("scope", &"s".repeat(FIELD)), ("resource", &resource)]);
    let authorize_url = authorize_url.replace(
        "state=client-state",
        &format!("state={}", "t".repeat(FIELD)),
    );
    let h = http.clone();
    let started = Instant::now();
    let authorized = flood(AUTHORIZATIONS, move |_| h.get(&authorize_url)).await;
    let authorize_secs = started.elapsed().as_secs_f64();
    let peak_kib = peak_rss_kib(server.pid());

    // Afterwards: the earlier client refreshes, logs in again, and a new client
    // registers and completes a whole flow.
    let (status, refreshed) = before
        .token(&[("grant_type", "refresh_token"), ("refresh_token", &handle)])
        .await;
    assert_eq!(status, 200, "refresh after the flood: {refreshed}");
    let back = before.log_in(&mut Browser::default(), &[]).await;
    assert!(back.contains_key("code"), "{back:?}");
    let after = ProxyClient::register(&base, "http://127.0.0.1:9/callback").await;
    let back = after.log_in(&mut Browser::default(), &[]).await;
    let (status, tokens) = after.redeem(&back["code"]).await;
    assert_eq!(status, 200, "{tokens}");
    let answer: Value = server
        .call_tool(tokens["access_token"].as_str().expect("token"), "whoami")
        .await;
    assert_eq!(
        answer["result"]["structuredContent"]["user_id"], "legit-user",
        "{answer}"
    );

    println!(
        "registrations: {REGISTRATIONS} in {registration_secs:.1} s, status classes {registered:?}\n\
         authorizations: {AUTHORIZATIONS} in {authorize_secs:.1} s, status classes {authorized:?}\n\
         server RSS: idle peak {} MiB, peak after the flood {} MiB\n\
         legitimate flows after the flood: refresh, login, new client: OK",
        idle_kib / 1024,
        peak_kib / 1024,
    );
    assert!(peak_kib <= 256 * 1024, "peak RSS {peak_kib} KiB");
}
