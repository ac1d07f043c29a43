//! The one small store the proxy's callback broker keeps its state in: clients it
//! registered, pending consents, authorization flows in flight, codes it issued.
//!
//! Everything goes through [`BrokerStore`], a key-value store with per-entry
//! expiry and an atomic `take`, so a shared store (Redis: `GET`, `SET … PX`,
//! `GETDEL`) can serve several replicas without touching the routes.
//! [`MemoryStore`] is the in-process default: enough for one replica, and its
//! content is lost on restart (clients then re-register, which MCP clients do on
//! `invalid_client`).

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::provider::BoxFuture;

/// Why the store could not serve a request. The routes answer
/// `503 temporarily_unavailable` for any of these.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The store holds as many entries as it may; nothing new is accepted until
    /// some expire.
    #[error("the store is full ({0} entries)")]
    Full(usize),
    /// The backend failed (connection lost, timeout, ...).
    #[error("store backend failed: {0}")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// A key-value store with expiry, shared by every request of the broker.
///
/// Keys are short ASCII strings chosen by the broker (`client:…`, `flow:…`,
/// `code:…`); values are opaque bytes (JSON). An entry past its TTL must never
/// be returned. [`take`](Self::take) must be atomic: of two concurrent calls for
/// one key, at most one gets the value. That is what makes states and codes
/// single-use.
///
/// ```
/// use std::time::Duration;
/// use mcp_auth_core::http::{BrokerStore, MemoryStore};
/// # tokio_test_block_on(async {
/// let store = MemoryStore::default();
/// store.put("code:abc", b"{}".to_vec(), Duration::from_secs(60)).await?;
/// assert!(store.take("code:abc").await?.is_some());
/// assert!(store.take("code:abc").await?.is_none(), "single use");
/// # Ok::<(), mcp_auth_core::http::StoreError>(())
/// # });
/// # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     tokio::runtime::Builder::new_current_thread().build().expect("runtime").block_on(f)
/// # }
/// ```
pub trait BrokerStore: Send + Sync + 'static {
    /// The value under `key`, if present and not expired.
    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Vec<u8>>, StoreError>>;

    /// Stores `value` under `key` for `ttl`, replacing any previous value.
    fn put<'a>(
        &'a self,
        key: &'a str,
        value: Vec<u8>,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<(), StoreError>>;

    /// Removes the value under `key` and returns it, if present and not expired.
    /// Atomic: at most one caller ever gets a given value.
    fn take<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Vec<u8>>, StoreError>>;
}

/// The in-memory [`BrokerStore`]: a map behind a mutex, bounded in entries,
/// expired entries swept as it fills.
#[derive(Debug)]
pub struct MemoryStore {
    entries: Mutex<HashMap<String, (Vec<u8>, Instant)>>,
    max_entries: usize,
}

/// How many entries a [`MemoryStore::default`] holds at most.
pub const DEFAULT_MAX_ENTRIES: usize = 100_000;

impl Default for MemoryStore {
    fn default() -> Self {
        Self::with_max_entries(DEFAULT_MAX_ENTRIES)
    }
}

impl MemoryStore {
    /// A store that refuses new keys ([`StoreError::Full`]) once it holds
    /// `max_entries` unexpired entries.
    pub fn with_max_entries(max_entries: usize) -> Self {
        MemoryStore {
            entries: Mutex::new(HashMap::new()),
            max_entries,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Vec<u8>, Instant)>> {
        // A panic while holding the lock cannot leave the map half-updated
        // (every update is one insert or remove), so a poisoned lock is usable.
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn get_now(&self, key: &str) -> Option<Vec<u8>> {
        let entries = self.lock();
        let (value, expires) = entries.get(key)?;
        (*expires > Instant::now()).then(|| value.clone())
    }

    fn put_now(&self, key: &str, value: Vec<u8>, ttl: Duration) -> Result<(), StoreError> {
        let now = Instant::now();
        let mut entries = self.lock();
        if entries.len() >= self.max_entries && !entries.contains_key(key) {
            entries.retain(|_, (_, expires)| *expires > now);
            if entries.len() >= self.max_entries {
                return Err(StoreError::Full(self.max_entries));
            }
        }
        entries.insert(key.to_owned(), (value, now + ttl));
        Ok(())
    }

    fn take_now(&self, key: &str) -> Option<Vec<u8>> {
        let (value, expires) = self.lock().remove(key)?;
        (expires > Instant::now()).then_some(value)
    }
}

impl BrokerStore for MemoryStore {
    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Vec<u8>>, StoreError>> {
        Box::pin(async move { Ok(self.get_now(key)) })
    }

    fn put<'a>(
        &'a self,
        key: &'a str,
        value: Vec<u8>,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move { self.put_now(key, value, ttl) })
    }

    fn take<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Vec<u8>>, StoreError>> {
        Box::pin(async move { Ok(self.take_now(key)) })
    }
}

/// A shared store: one store behind several servers (or several
/// [`McpAuth::routes`](crate::McpAuth::routes) calls) is one state.
impl<T: BrokerStore + ?Sized> BrokerStore for std::sync::Arc<T> {
    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Vec<u8>>, StoreError>> {
        (**self).get(key)
    }

    fn put<'a>(
        &'a self,
        key: &'a str,
        value: Vec<u8>,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        (**self).put(key, value, ttl)
    }

    fn take<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Vec<u8>>, StoreError>> {
        (**self).take(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn take_is_single_use_and_expiry_hides_entries() {
        let store = MemoryStore::default();
        store
            .put("a", b"1".to_vec(), Duration::from_secs(60))
            .await
            .expect("put");
        assert_eq!(store.get("a").await.expect("get"), Some(b"1".to_vec()));
        assert_eq!(store.take("a").await.expect("take"), Some(b"1".to_vec()));
        assert_eq!(store.take("a").await.expect("take"), None);
        store
            .put("b", b"2".to_vec(), Duration::ZERO)
            .await
            .expect("put");
        assert_eq!(store.get("b").await.expect("get"), None);
        assert_eq!(store.take("b").await.expect("take"), None);
    }

    #[tokio::test]
    async fn a_full_store_sweeps_expired_entries_then_refuses() {
        let store = MemoryStore::with_max_entries(2);
        store.put("old", vec![], Duration::ZERO).await.expect("put");
        store
            .put("a", vec![], Duration::from_secs(60))
            .await
            .expect("put");
        store
            .put("b", vec![], Duration::from_secs(60))
            .await
            .expect("expired entry swept");
        assert!(matches!(
            store.put("c", vec![], Duration::from_secs(60)).await,
            Err(StoreError::Full(2))
        ));
        store
            .put("a", b"x".to_vec(), Duration::from_secs(60))
            .await
            .expect("replacing an existing key is allowed when full");
    }
}
