//! What every proxy store does, checked by one function against each store: the
//! memory store here, the Redis store in `redis_store`.

use std::time::Duration;

use mcp_auth_core::proxy::{MemoryStore, ProxyStore, RecordKind};

const MIN: Duration = Duration::from_secs(60);

/// Every operation of `store`: kinds apart, replacement, single-use takes, a
/// zero TTL that stores nothing and removes what was there, binary values and
/// ids with separators.
pub async fn assert_store_semantics(store: &impl ProxyStore) {
    store
        .put(RecordKind::Code, "a", b"1".to_vec(), MIN)
        .await
        .expect("put");
    assert_eq!(
        store.get(RecordKind::Code, "a").await.expect("get"),
        Some(b"1".to_vec())
    );
    assert_eq!(
        store.get(RecordKind::Flow, "a").await.expect("get"),
        None,
        "kinds are apart"
    );
    store
        .put(RecordKind::Code, "a", b"2".to_vec(), MIN)
        .await
        .expect("replace");
    assert_eq!(
        store.take(RecordKind::Code, "a").await.expect("take"),
        Some(b"2".to_vec())
    );
    assert_eq!(
        store.take(RecordKind::Code, "a").await.expect("take"),
        None,
        "single use"
    );
    assert_eq!(store.get(RecordKind::Code, "a").await.expect("get"), None);
    assert_eq!(
        store.take(RecordKind::Code, "never").await.expect("take"),
        None
    );
    // A zero TTL stores nothing and removes what was there.
    store
        .put(RecordKind::Code, "b", b"2".to_vec(), Duration::ZERO)
        .await
        .expect("put");
    assert_eq!(store.get(RecordKind::Code, "b").await.expect("get"), None);
    assert_eq!(store.take(RecordKind::Code, "b").await.expect("take"), None);
    store
        .put(RecordKind::Client, "c", b"x".to_vec(), MIN)
        .await
        .expect("put");
    store
        .put(RecordKind::Client, "c", b"y".to_vec(), Duration::ZERO)
        .await
        .expect("put");
    assert_eq!(store.get(RecordKind::Client, "c").await.expect("get"), None);
    // Binary values and ids with separators round-trip.
    let value: Vec<u8> = (0..=255).collect();
    store
        .put(RecordKind::Refresh, "x:y{z}", value.clone(), MIN)
        .await
        .expect("put");
    assert_eq!(
        store.get(RecordKind::Refresh, "x:y{z}").await.expect("get"),
        Some(value)
    );
}

#[tokio::test]
async fn take_is_single_use_and_expiry_hides_records() {
    assert_store_semantics(&MemoryStore::default()).await;
}
