//! Where proxy mode keeps what it must remember between requests: clients
//! registered through this server, consent pages waiting for an answer,
//! authorization flows in flight upstream, the codes it issued, and refresh
//! handles.
//!
//! Every record has a [`RecordKind`], and every kind its own [`Budget`], so that
//! a flood of one kind (anyone may register or start an authorization) cannot
//! starve another (the codes and refresh handles of users who logged in). When a
//! kind is full, expired records go first, then the records of that kind closest
//! to expiry: a registration nobody used lives an hour and goes before one that
//! was used, which lives for months.
//!
//! [`ProxyStore`] is a key-value store with per-record expiry and an atomic
//! [`take`](ProxyStore::take) (states and codes are single-use); [`MemoryStore`]
//! is the in-process default, lost on restart. With the `redis` feature,
//! `redis_store::RedisStore` keeps the same semantics in Redis, shared by
//! replicas and kept across restarts.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::provider::BoxFuture;

/// The kinds of record proxy mode keeps, each with its own budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum RecordKind {
    /// A client registered through this server.
    Client,
    /// A consent page waiting for the user's answer.
    Consent,
    /// An authorization flow in flight upstream.
    Flow,
    /// An authorization code this server issued.
    Code,
    /// A refresh handle, a spent handle or a refresh chain.
    Refresh,
}

impl RecordKind {
    /// Every kind.
    pub const ALL: [RecordKind; 5] = [
        RecordKind::Client,
        RecordKind::Consent,
        RecordKind::Flow,
        RecordKind::Code,
        RecordKind::Refresh,
    ];

    /// A short name, used in store keys and logs.
    pub fn name(self) -> &'static str {
        match self {
            RecordKind::Client => "client",
            RecordKind::Consent => "consent",
            RecordKind::Flow => "flow",
            RecordKind::Code => "code",
            RecordKind::Refresh => "refresh",
        }
    }

    /// The budget of this kind in a [`MemoryStore::default`].
    pub fn default_budget(self) -> Budget {
        const MIB: usize = 1024 * 1024;
        match self {
            RecordKind::Client => Budget::new(20_000, 32 * MIB),
            RecordKind::Consent => Budget::new(20_000, 16 * MIB),
            RecordKind::Flow => Budget::new(20_000, 32 * MIB),
            RecordKind::Code => Budget::new(10_000, 32 * MIB),
            RecordKind::Refresh => Budget::new(100_000, 32 * MIB),
        }
    }
}

/// How much of one [`RecordKind`] a store holds at most.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// Records.
    pub max_entries: usize,
    /// Bytes of keys and values (plus a fixed overhead per record).
    pub max_bytes: usize,
}

impl Budget {
    /// A budget of `max_entries` records and `max_bytes` bytes.
    pub const fn new(max_entries: usize, max_bytes: usize) -> Self {
        Budget {
            max_entries,
            max_bytes,
        }
    }
}

/// Why the store could not serve a request. The routes answer 503
/// `temporarily_unavailable` for any of these.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// One record is larger than its kind's whole budget.
    #[error("a {kind} record of {bytes} bytes exceeds the store's budget for {kind} records")]
    TooLarge {
        /// The record's kind.
        kind: &'static str,
        /// Its size.
        bytes: usize,
    },
    /// The backend failed (connection lost, timeout, ...).
    #[error("store backend failed: {0}")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// A key-value store with expiry for proxy mode's records.
///
/// Identifiers are chosen by this crate (random tokens, or hashes of secrets);
/// values are opaque bytes. A record past its TTL must never be returned.
/// [`take`](Self::take) must be atomic: of two concurrent calls for one record,
/// at most one gets it. Each kind must stay within a budget of its own.
///
/// ```
/// use std::time::Duration;
/// use mcp_auth_core::proxy::{MemoryStore, ProxyStore, RecordKind};
/// # tokio_test_block_on(async {
/// let store = MemoryStore::default();
/// store.put(RecordKind::Code, "abc", b"{}".to_vec(), Duration::from_secs(60)).await?;
/// assert!(store.take(RecordKind::Code, "abc").await?.is_some());
/// assert!(store.take(RecordKind::Code, "abc").await?.is_none(), "single use");
/// # Ok::<(), mcp_auth_core::proxy::StoreError>(())
/// # });
/// # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     tokio::runtime::Builder::new_current_thread().build().expect("runtime").block_on(f)
/// # }
/// ```
pub trait ProxyStore: Send + Sync + 'static {
    /// The record, if present and not expired.
    fn get<'a>(
        &'a self,
        kind: RecordKind,
        id: &'a str,
    ) -> BoxFuture<'a, Result<Option<Vec<u8>>, StoreError>>;

    /// Stores `value` for `ttl`, replacing any previous record with this id.
    fn put<'a>(
        &'a self,
        kind: RecordKind,
        id: &'a str,
        value: Vec<u8>,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<(), StoreError>>;

    /// Removes the record and returns it, if present and not expired. Atomic.
    fn take<'a>(
        &'a self,
        kind: RecordKind,
        id: &'a str,
    ) -> BoxFuture<'a, Result<Option<Vec<u8>>, StoreError>>;

    /// Whether several processes may share this store (replicas, or one
    /// process after a restart). Proxy mode warns when such a store is used
    /// without a configured state key: each process would then draw its own,
    /// and the cookies and sealed tokens of one would not open in another.
    fn is_shared(&self) -> bool {
        false
    }
}

/// A shared store: one store behind several servers is one state.
impl<T: ProxyStore + ?Sized> ProxyStore for std::sync::Arc<T> {
    fn get<'a>(
        &'a self,
        kind: RecordKind,
        id: &'a str,
    ) -> BoxFuture<'a, Result<Option<Vec<u8>>, StoreError>> {
        (**self).get(kind, id)
    }

    fn put<'a>(
        &'a self,
        kind: RecordKind,
        id: &'a str,
        value: Vec<u8>,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        (**self).put(kind, id, value, ttl)
    }

    fn take<'a>(
        &'a self,
        kind: RecordKind,
        id: &'a str,
    ) -> BoxFuture<'a, Result<Option<Vec<u8>>, StoreError>> {
        (**self).take(kind, id)
    }

    fn is_shared(&self) -> bool {
        (**self).is_shared()
    }
}

/// Fixed bytes counted per record on top of its key and value (map slots,
/// expiry index, allocation headers).
const RECORD_OVERHEAD: usize = 96;

/// The bytes a record counts against its kind's [`Budget`]: its key twice (map
/// and expiry index), its value and [`RECORD_OVERHEAD`].
pub(crate) fn record_size(id: &str, value: &[u8]) -> usize {
    2 * id.len() + value.len() + RECORD_OVERHEAD
}

struct Record {
    value: Vec<u8>,
    expires: Instant,
    seq: u64,
}

/// The records of one kind, with an index by expiry for sweeping and eviction.
#[derive(Default)]
struct Shelf {
    records: HashMap<String, Record>,
    by_expiry: BTreeSet<(Instant, u64, String)>,
    bytes: usize,
    evicted: u64,
}

impl Shelf {
    fn size(id: &str, value: &[u8]) -> usize {
        record_size(id, value)
    }

    fn remove(&mut self, id: &str) -> Option<Record> {
        let record = self.records.remove(id)?;
        self.by_expiry
            .remove(&(record.expires, record.seq, id.to_owned()));
        self.bytes -= Self::size(id, &record.value);
        Some(record)
    }

    /// Removes the record closest to expiry (an expired one first).
    fn pop_soonest(&mut self) -> Option<(Instant, String)> {
        let (expires, _, id) = self.by_expiry.first()?.clone();
        self.remove(&id);
        Some((expires, id))
    }

    fn fits(&self, budget: Budget, extra: usize) -> bool {
        self.records.len() < budget.max_entries && self.bytes + extra <= budget.max_bytes
    }
}

/// The in-memory [`ProxyStore`]: one map per kind behind a mutex, each held to
/// its [`Budget`], evicting expired records and then those closest to expiry.
pub struct MemoryStore {
    shelves: Mutex<HashMap<RecordKind, Shelf>>,
    budgets: HashMap<RecordKind, Budget>,
    seq: std::sync::atomic::AtomicU64,
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryStore")
            .field("budgets", &self.budgets)
            .finish_non_exhaustive()
    }
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::with_budgets(|kind| kind.default_budget())
    }
}

impl MemoryStore {
    /// A store whose budget for each kind is `budget(kind)`.
    pub fn with_budgets(budget: impl Fn(RecordKind) -> Budget) -> Self {
        MemoryStore {
            shelves: Mutex::new(HashMap::new()),
            budgets: RecordKind::ALL.iter().map(|k| (*k, budget(*k))).collect(),
            seq: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// How many records of `kind` the store holds (expired ones included until swept).
    pub fn len(&self, kind: RecordKind) -> usize {
        self.lock().get(&kind).map_or(0, |s| s.records.len())
    }

    /// Whether the store holds no record of `kind`.
    pub fn is_empty(&self, kind: RecordKind) -> bool {
        self.len(kind) == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<RecordKind, Shelf>> {
        // Every update below leaves the maps consistent before it can panic
        // (none does), so a poisoned lock is still usable.
        self.shelves.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn get_now(&self, kind: RecordKind, id: &str) -> Option<Vec<u8>> {
        let shelves = self.lock();
        let record = shelves.get(&kind)?.records.get(id)?;
        (record.expires > Instant::now()).then(|| record.value.clone())
    }

    fn put_now(
        &self,
        kind: RecordKind,
        id: &str,
        value: Vec<u8>,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        let budget = self
            .budgets
            .get(&kind)
            .copied()
            .unwrap_or_else(|| kind.default_budget());
        let size = Shelf::size(id, &value);
        if size > budget.max_bytes || budget.max_entries == 0 {
            return Err(StoreError::TooLarge {
                kind: kind.name(),
                bytes: value.len(),
            });
        }
        let now = Instant::now();
        let expires = now.checked_add(ttl).unwrap_or(now);
        let seq = self.seq.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut shelves = self.lock();
        let shelf = shelves.entry(kind).or_default();
        shelf.remove(id);
        let mut evicted_live = 0u64;
        while !shelf.fits(budget, size) {
            match shelf.pop_soonest() {
                Some((at, _)) if at > now => evicted_live += 1,
                Some(_) => {}
                None => break,
            }
        }
        if evicted_live > 0 {
            if shelf.evicted == 0 || shelf.evicted.ilog2() != (shelf.evicted + evicted_live).ilog2()
            {
                tracing::warn!(
                    kind = kind.name(),
                    evicted = shelf.evicted + evicted_live,
                    "proxy store full: records closest to expiry were evicted (a flood of requests, or a budget too small)"
                );
            }
            shelf.evicted += evicted_live;
        }
        shelf.bytes += size;
        shelf.by_expiry.insert((expires, seq, id.to_owned()));
        shelf.records.insert(
            id.to_owned(),
            Record {
                value,
                expires,
                seq,
            },
        );
        Ok(())
    }

    fn take_now(&self, kind: RecordKind, id: &str) -> Option<Vec<u8>> {
        let record = self.lock().get_mut(&kind)?.remove(id)?;
        (record.expires > Instant::now()).then_some(record.value)
    }
}

impl ProxyStore for MemoryStore {
    fn get<'a>(
        &'a self,
        kind: RecordKind,
        id: &'a str,
    ) -> BoxFuture<'a, Result<Option<Vec<u8>>, StoreError>> {
        Box::pin(async move { Ok(self.get_now(kind, id)) })
    }

    fn put<'a>(
        &'a self,
        kind: RecordKind,
        id: &'a str,
        value: Vec<u8>,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move { self.put_now(kind, id, value, ttl) })
    }

    fn take<'a>(
        &'a self,
        kind: RecordKind,
        id: &'a str,
    ) -> BoxFuture<'a, Result<Option<Vec<u8>>, StoreError>> {
        Box::pin(async move { Ok(self.take_now(kind, id)) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: Duration = Duration::from_secs(60);

    #[tokio::test]
    async fn a_full_kind_evicts_its_own_records_closest_to_expiry_and_no_other_kind() {
        let store = MemoryStore::with_budgets(|_| Budget::new(3, 1 << 20));
        store
            .put(RecordKind::Code, "user-code", vec![], MIN * 10)
            .await
            .expect("put");
        store
            .put(RecordKind::Client, "used", vec![], MIN * 600)
            .await
            .expect("put");
        for i in 0..50 {
            store
                .put(RecordKind::Client, &format!("flood{i}"), vec![], MIN)
                .await
                .expect("a full kind still accepts");
        }
        assert_eq!(store.len(RecordKind::Client), 3);
        assert!(
            store
                .get(RecordKind::Client, "used")
                .await
                .expect("get")
                .is_some(),
            "longest-lived kept"
        );
        assert!(
            store
                .get(RecordKind::Client, "flood49")
                .await
                .expect("get")
                .is_some(),
            "newest kept"
        );
        assert!(
            store
                .get(RecordKind::Client, "flood0")
                .await
                .expect("get")
                .is_none()
        );
        assert!(
            store
                .get(RecordKind::Code, "user-code")
                .await
                .expect("get")
                .is_some(),
            "other kinds untouched"
        );
    }

    #[tokio::test]
    async fn byte_budgets_hold_and_oversized_records_are_refused() {
        let store =
            MemoryStore::with_budgets(|_| Budget::new(1000, 4 * (RECORD_OVERHEAD + 1024 + 6)));
        for i in 0..20 {
            store
                .put(RecordKind::Flow, &format!("f{i}"), vec![0; 1024], MIN)
                .await
                .expect("put");
        }
        assert_eq!(store.len(RecordKind::Flow), 4);
        let err = store
            .put(RecordKind::Flow, "huge", vec![0; 1 << 20], MIN)
            .await
            .expect_err("larger than the budget");
        assert!(err.to_string().contains("flow"), "{err}");
    }

    #[tokio::test]
    async fn replacing_a_record_keeps_the_accounting_exact() {
        let store = MemoryStore::with_budgets(|_| Budget::new(2, 1 << 20));
        for _ in 0..10 {
            store
                .put(RecordKind::Client, "same", vec![1; 100], MIN)
                .await
                .expect("put");
        }
        store
            .put(RecordKind::Client, "other", vec![], MIN)
            .await
            .expect("put");
        assert_eq!(store.len(RecordKind::Client), 2);
        assert!(
            store
                .get(RecordKind::Client, "same")
                .await
                .expect("get")
                .is_some()
        );
    }
}
