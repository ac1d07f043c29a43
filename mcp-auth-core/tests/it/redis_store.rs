//! The Redis proxy store against a real `redis-server` the tests start (see
//! `mcp_auth_testkit::RedisServer`): every operation, single-use takes under
//! concurrency, TTLs, per-kind budgets shared by two store instances (two
//! replicas), and Redis stopped, frozen (hung) and back.

#![cfg(feature = "redis")]

use std::time::Duration;

use mcp_auth_core::proxy::RedisStoreError;
use mcp_auth_core::proxy::{
    Budget, ProxyStore, RecordKind, RedisStore, RedisStoreConfig, StoreError,
};
use mcp_auth_testkit::RedisServer;

const MIN: Duration = Duration::from_secs(60);
const PREFIX: &str = "test:";

fn config(redis: &RedisServer) -> RedisStoreConfig {
    RedisStoreConfig::new(redis.url())
        .expect("URL")
        .key_prefix(PREFIX)
        .connect_timeout(Duration::from_millis(500))
        .response_timeout(Duration::from_millis(500))
}

async fn store(redis: &RedisServer) -> RedisStore {
    RedisStore::connect(config(redis)).await.expect("connect")
}

/// The value of one string key, as a number.
async fn counter(redis: &RedisServer, key: &str) -> i64 {
    redis
        .dump(key)
        .await
        .into_iter()
        .find(|(k, _)| k == key)
        .map_or(0, |(_, v)| {
            String::from_utf8(v[0].clone())
                .expect("utf-8")
                .parse()
                .expect("a number")
        })
}

#[tokio::test]
async fn every_operation_keeps_the_memory_store_semantics() {
    let redis = RedisServer::start();
    let store = store(&redis).await;
    crate::store_semantics::assert_store_semantics(&store).await;
    // Every record is written with its TTL.
    let ttl = redis.pttl(&format!("{PREFIX}{{refresh}}:r:x:y{{z}}")).await;
    assert!(ttl > 0 && ttl <= 60_000, "PTTL {ttl}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_takers_of_one_code_on_two_replicas_exactly_one_wins() {
    let redis = RedisServer::start();
    let replicas = [store(&redis).await, store(&redis).await];
    for round in 0..5 {
        let id = format!("code-{round}");
        replicas[0]
            .put(RecordKind::Code, &id, b"the code".to_vec(), MIN)
            .await
            .expect("put");
        let takers = (0..50).map(|i| {
            let replica = replicas[i % 2].clone();
            let id = id.clone();
            tokio::spawn(async move { replica.take(RecordKind::Code, &id).await })
        });
        let results = futures::future::join_all(takers).await;
        let winners = results
            .into_iter()
            .map(|r| r.expect("task").expect("take"))
            .filter(Option::is_some)
            .count();
        assert_eq!(winners, 1, "round {round}");
    }
}

#[tokio::test]
async fn records_past_their_ttl_are_never_returned() {
    let redis = RedisServer::start();
    let store = store(&redis).await;
    store
        .put(
            RecordKind::Flow,
            "short",
            b"x".to_vec(),
            Duration::from_millis(100),
        )
        .await
        .expect("put");
    store
        .put(RecordKind::Flow, "long", b"y".to_vec(), MIN)
        .await
        .expect("put");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        store.get(RecordKind::Flow, "short").await.expect("get"),
        None
    );
    assert_eq!(
        store.take(RecordKind::Flow, "short").await.expect("take"),
        None
    );
    assert!(
        store
            .get(RecordKind::Flow, "long")
            .await
            .expect("get")
            .is_some()
    );
    // The next write sweeps the expired record out of the kind's accounting.
    store
        .put(RecordKind::Flow, "next", b"z".to_vec(), MIN)
        .await
        .expect("put");
    let index = redis.dump(&format!("{PREFIX}{{flow}}:index")).await;
    let members: Vec<&[u8]> = index[0].1.iter().step_by(2).map(Vec::as_slice).collect();
    assert_eq!(members, [&b"long"[..], b"next"]);
}

#[tokio::test]
async fn a_full_kind_evicts_its_records_closest_to_expiry_across_replicas() {
    let redis = RedisServer::start();
    let budget = |c: RedisStoreConfig| c.budget(RecordKind::Client, Budget::new(3, 1 << 20));
    let one = RedisStore::connect(budget(config(&redis)))
        .await
        .expect("connect");
    let two = RedisStore::connect(budget(config(&redis)))
        .await
        .expect("connect");
    one.put(RecordKind::Code, "user-code", vec![], MIN * 10)
        .await
        .expect("put");
    one.put(RecordKind::Client, "used", vec![], MIN * 600)
        .await
        .expect("put");
    for i in 0..50 {
        let replica = if i % 2 == 0 { &one } else { &two };
        replica
            .put(RecordKind::Client, &format!("flood{i}"), vec![], MIN)
            .await
            .expect("a full kind still accepts");
    }
    let mut live = 0;
    for id in std::iter::once("used".to_owned()).chain((0..50).map(|i| format!("flood{i}"))) {
        if one
            .get(RecordKind::Client, &id)
            .await
            .expect("get")
            .is_some()
        {
            live += 1;
        }
    }
    assert_eq!(live, 3, "one budget for both replicas");
    assert!(
        two.get(RecordKind::Client, "used")
            .await
            .expect("get")
            .is_some(),
        "longest-lived kept"
    );
    assert!(
        two.get(RecordKind::Client, "flood49")
            .await
            .expect("get")
            .is_some(),
        "newest kept"
    );
    assert!(
        two.get(RecordKind::Code, "user-code")
            .await
            .expect("get")
            .is_some(),
        "other kinds untouched"
    );
}

#[tokio::test]
async fn byte_budgets_hold_with_exact_accounting_and_oversized_records_are_refused() {
    let redis = RedisServer::start();
    // Room for four records of 1 KiB (record size: 2 x id + value + 96).
    let per_record = 2 * 3 + 1024 + 96;
    let store = RedisStore::connect(
        config(&redis).budget(RecordKind::Flow, Budget::new(1000, 4 * per_record)),
    )
    .await
    .expect("connect");
    for i in 10..30 {
        store
            .put(RecordKind::Flow, &format!("f{i}"), vec![0; 1024], MIN)
            .await
            .expect("put");
    }
    let bytes_key = format!("{PREFIX}{{flow}}:bytes");
    assert_eq!(counter(&redis, &bytes_key).await, 4 * per_record as i64);
    for i in 26..30 {
        assert!(
            store
                .take(RecordKind::Flow, &format!("f{i}"))
                .await
                .expect("take")
                .is_some(),
            "the newest four are kept"
        );
    }
    assert_eq!(
        counter(&redis, &bytes_key).await,
        0,
        "takes give bytes back"
    );
    // Replacing a record many times counts it once.
    for _ in 0..10 {
        store
            .put(RecordKind::Flow, "f00", vec![1; 1024], MIN)
            .await
            .expect("put");
    }
    assert_eq!(counter(&redis, &bytes_key).await, per_record as i64);
    let err = store
        .put(RecordKind::Flow, "huge", vec![0; 1 << 20], MIN)
        .await
        .expect_err("larger than the budget");
    assert!(
        matches!(err, StoreError::TooLarge { kind: "flow", .. }),
        "{err}"
    );
}

#[tokio::test]
async fn an_unreachable_redis_at_start_is_an_error_naming_the_url_without_its_password() {
    let redis = RedisServer::start();
    let port = url::Url::parse(redis.url())
        .expect("url")
        .port()
        .expect("port");
    drop(redis);
    let url = format!("redis://:hunter2@127.0.0.1:{port}/0");
    let err = RedisStore::connect(
        RedisStoreConfig::new(&url)
            .expect("URL")
            .connect_timeout(Duration::from_millis(300)),
    )
    .await
    .expect_err("nothing listens");
    assert!(
        matches!(err, RedisStoreError::Unreachable { .. }),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(
        message.contains(&format!("127.0.0.1:{port}")) && !message.contains("hunter2"),
        "{message}"
    );
}

/// `future`, guarded against a hang (the store's own deadline is about a second).
async fn bounded<T>(future: impl Future<Output = T>) -> Result<T, tokio::time::error::Elapsed> {
    tokio::time::timeout(Duration::from_secs(30), future).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_stopped_or_hung_fails_each_operation_and_the_store_recovers_by_itself() {
    let mut redis = RedisServer::start();
    let store = store(&redis).await;
    store
        .put(RecordKind::Client, "c", b"1".to_vec(), MIN)
        .await
        .expect("put");

    redis.stop();
    let err = bounded(store.get(RecordKind::Client, "c"))
        .await
        .expect("a stopped Redis does not hang the caller")
        .expect_err("Redis is down");
    assert!(matches!(err, StoreError::Backend(_)), "{err}");
    bounded(store.put(RecordKind::Client, "d", b"2".to_vec(), MIN))
        .await
        .expect("no hang")
        .expect_err("Redis is down");
    bounded(store.take(RecordKind::Code, "x"))
        .await
        .expect("no hang")
        .expect_err("Redis is down");

    redis.restart();
    let mut recovered = false;
    for _ in 0..50 {
        if store
            .put(RecordKind::Client, "c", b"3".to_vec(), MIN)
            .await
            .is_ok()
        {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(recovered, "the store reconnects by itself");
    assert_eq!(
        store.get(RecordKind::Client, "c").await.expect("get"),
        Some(b"3".to_vec())
    );

    redis.freeze();
    let err = bounded(store.get(RecordKind::Client, "c"))
        .await
        .expect("a hung Redis does not hang the caller")
        .expect_err("Redis answers nothing");
    assert!(err.to_string().contains("did not answer"), "{err}");
    redis.thaw();
    let mut back = false;
    for _ in 0..50 {
        if let Ok(Some(value)) = store.get(RecordKind::Client, "c").await {
            assert_eq!(value, b"3");
            back = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(back, "the store answers again once Redis does");
}
