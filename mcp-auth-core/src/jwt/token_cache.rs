//! A cache of already-verified tokens: a repeat token skips parsing and the
//! signature check. Keyed by the SHA-256 of the token (the token itself is never
//! a key), each entry lives until the token's `exp` or the configured maximum
//! age, whichever comes first, and the cache is bounded twice: in entries, and
//! in the estimated bytes of its entries (a large token, or one with many
//! claims, counts for what it holds), so its memory has a bound that does not
//! depend on what the tokens carry:
//! [`TokenCacheConfig::max_bytes`] plus a fixed overhead per entry.

use std::mem::size_of;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_lc_rs::digest;
use moka::Expiry;
use serde_json::Value;

use crate::user::{AuthContext, AuthUser, Claims};

/// Settings of the verified-token cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenCacheConfig {
    /// Most entries kept (least recently used are evicted). Default 10,000.
    pub max_entries: u64,
    /// Most bytes the entries may hold, as estimated by the cache (the token,
    /// its claims, the user and scopes read from them, and the cache's own
    /// bookkeeping per entry). Every entry counts for at least
    /// `max_bytes / max_entries`, so both bounds hold at once. Default 32 MiB.
    pub max_bytes: u64,
    /// Longest an entry is trusted, whatever its `exp`. Bounds how long a token
    /// stays accepted after its signing key is withdrawn. Default 5 min.
    pub max_age: Duration,
}

impl Default for TokenCacheConfig {
    fn default() -> Self {
        TokenCacheConfig {
            max_entries: 10_000,
            max_bytes: 32 * 1024 * 1024,
            max_age: Duration::from_secs(300),
        }
    }
}

#[derive(Clone)]
struct Entry {
    ctx: AuthContext,
    ttl: Duration,
    /// [`estimated_bytes`] of `ctx`, charged against `max_bytes`.
    bytes: u32,
}

struct EntryExpiry;

impl Expiry<[u8; 32], Entry> for EntryExpiry {
    fn expire_after_create(
        &self,
        _key: &[u8; 32],
        value: &Entry,
        _created_at: Instant,
    ) -> Option<Duration> {
        Some(value.ttl)
    }
}

pub(crate) struct TokenCache {
    cache: moka::sync::Cache<[u8; 32], Entry>,
    max_age: Duration,
    /// The weight budget of the whole cache: `max_entries` × the minimum weight.
    capacity: u64,
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn key(token: &str) -> [u8; 32] {
    let d = digest::digest(&digest::SHA256, token.as_bytes());
    let mut k = [0u8; 32];
    k.copy_from_slice(d.as_ref());
    k
}

impl TokenCache {
    pub fn new(config: TokenCacheConfig) -> Self {
        let max_entries = config.max_entries.max(1);
        // Every entry weighs at least `min_weight`: at most `max_entries` fit in
        // `capacity`, and their estimated bytes never exceed it either.
        let min_weight =
            u32::try_from(config.max_bytes.div_ceil(max_entries).max(1)).unwrap_or(u32::MAX);
        let capacity = u64::from(min_weight).saturating_mul(max_entries);
        TokenCache {
            cache: moka::sync::Cache::builder()
                .max_capacity(capacity)
                .weigher(move |_key, entry: &Entry| entry.bytes.max(min_weight))
                .expire_after(EntryExpiry)
                .build(),
            max_age: config.max_age,
            capacity,
        }
    }

    /// The cached context of `token`, if it is there, unexpired, and really this token.
    pub fn get(&self, token: &str) -> Option<AuthContext> {
        let entry = self.cache.get(&key(token))?;
        let fresh = entry.ctx.expires_at().is_some_and(|exp| exp > now());
        (fresh && entry.ctx.access_token().secret() == token).then_some(entry.ctx)
    }

    /// Remembers a verified context until its `exp` (never past `max_age`).
    /// Tokens without `exp` are not cached.
    pub fn insert(&self, token: &str, ctx: &AuthContext) {
        let Some(exp) = ctx.expires_at() else { return };
        let remaining = Duration::from_secs(exp.saturating_sub(now()));
        let ttl = remaining.min(self.max_age);
        let bytes = estimated_bytes(ctx);
        // An entry larger than the whole budget is not kept (it would evict everything).
        if ttl.is_zero() || bytes as u64 > self.capacity {
            return;
        }
        self.cache.insert(
            key(token),
            Entry {
                ctx: ctx.clone(),
                ttl,
                bytes: u32::try_from(bytes).unwrap_or(u32::MAX),
            },
        );
    }

    /// Entries and the sum of their weights, after pending evictions ran.
    #[cfg(test)]
    fn usage(&self) -> (u64, u64) {
        self.cache.run_pending_tasks();
        (self.cache.entry_count(), self.cache.weighted_size())
    }
}

/// What the allocator keeps beside each heap block (size and alignment), counted
/// on top of the block.
const ALLOCATION_OVERHEAD: usize = 16;
/// What the cache keeps per entry beside the entry itself: the key, its hash,
/// the hash-table bucket, the access-order and write-order nodes, the expiry
/// timer node. Measured: 10,000 contexts of a typical access token (~330 bytes,
/// six claims) take 2.2 KiB each in RSS; with this overhead the estimate is 2.3 KiB.
const CACHE_ENTRY_OVERHEAD: usize = 512;

/// An estimate, on the high side, of the bytes one cached context holds: the
/// token, the claims as parsed, the user and scopes read from them, the
/// context itself and the cache's bookkeeping. Capacities, not lengths, are
/// counted where they are known; a map entry counts twice its size (tree nodes
/// are at least half full).
fn estimated_bytes(ctx: &AuthContext) -> usize {
    CACHE_ENTRY_OVERHEAD
        + size_of::<Entry>()
        // The shared context: the user, the token, scopes, client id, expiry.
        + size_of::<AuthUser>() + 128 + ALLOCATION_OVERHEAD
        + ctx.access_token().secret().len() + ALLOCATION_OVERHEAD
        + strings_bytes(ctx.scopes())
        + ctx.client_id().map_or(0, string_bytes)
        + user_bytes(ctx.user())
}

fn user_bytes(user: &AuthUser) -> usize {
    string_bytes(&user.user_id)
        + [
            &user.email,
            &user.name,
            &user.username,
            &user.nickname,
            &user.picture,
        ]
        .into_iter()
        .flatten()
        .map(|s| string_bytes(s))
        .sum::<usize>()
        + strings_bytes(&user.roles)
        + strings_bytes(&user.permissions)
        + size_of::<Claims>()
        + 2 * size_of::<usize>()
        + ALLOCATION_OVERHEAD
        + map_bytes(&user.claims)
}

fn string_bytes(s: &str) -> usize {
    if s.is_empty() {
        0
    } else {
        s.len() + ALLOCATION_OVERHEAD
    }
}

fn strings_bytes(list: &[String]) -> usize {
    if list.is_empty() {
        return 0;
    }
    std::mem::size_of_val(list)
        + ALLOCATION_OVERHEAD
        + list.iter().map(|s| string_bytes(s)).sum::<usize>()
}

fn map_bytes(map: &serde_json::Map<String, Value>) -> usize {
    if map.is_empty() {
        return 0;
    }
    ALLOCATION_OVERHEAD
        + map
            .iter()
            .map(|(k, v)| {
                2 * (size_of::<String>() + size_of::<Value>() + size_of::<usize>())
                    + string_bytes(k)
                    + value_bytes(v)
            })
            .sum::<usize>()
}

/// The heap bytes a JSON value owns (not counting the value itself).
fn value_bytes(value: &Value) -> usize {
    match value {
        Value::String(s) => {
            if s.capacity() == 0 {
                0
            } else {
                s.capacity() + ALLOCATION_OVERHEAD
            }
        }
        Value::Array(items) => {
            if items.capacity() == 0 {
                0
            } else {
                items.capacity() * size_of::<Value>()
                    + ALLOCATION_OVERHEAD
                    + items.iter().map(value_bytes).sum::<usize>()
            }
        }
        Value::Object(map) => map_bytes(map),
        Value::Null | Value::Bool(_) | Value::Number(_) => 0,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::json;

    use super::*;

    /// A verified context for `token` whose claims carry `padding` bytes of roles.
    fn context(token: &str, padding: usize) -> AuthContext {
        let roles: Vec<Value> = (0..padding / 8)
            .map(|i| Value::String(format!("r{i:06}")))
            .collect();
        let claims = json!({"sub": "u", "exp": now() + 3600, "roles": roles});
        let Value::Object(claims) = claims else {
            unreachable!("an object literal")
        };
        let claims = Arc::new(claims);
        let user = crate::claims::map_default_user(&claims);
        AuthContext::builder(user, token)
            .expires_at(Some(now() + 3600))
            .build()
    }

    fn config(max_entries: u64, max_bytes: u64) -> TokenCacheConfig {
        TokenCacheConfig {
            max_entries,
            max_bytes,
            max_age: Duration::from_secs(60),
        }
    }

    #[test]
    fn small_entries_are_bounded_by_max_entries() {
        let cache = TokenCache::new(config(100, 10 * 1024 * 1024));
        for i in 0..2_000 {
            let token = format!("token-{i}");
            cache.insert(&token, &context(&token, 0));
        }
        let (entries, _) = cache.usage();
        assert!(
            entries <= 100,
            "{entries} entries kept, at most 100 allowed"
        );
        assert!(entries > 0, "the cache kept nothing");
    }

    #[test]
    fn large_entries_are_bounded_by_max_bytes() {
        let max_bytes = 1024 * 1024;
        let cache = TokenCache::new(config(10_000, max_bytes));
        let one = estimated_bytes(&context("probe", 64 * 1024));
        assert!(one > 64 * 1024, "estimate {one} below the claims it holds");
        for i in 0..200 {
            let token = format!("token-{i}");
            cache.insert(&token, &context(&token, 64 * 1024));
        }
        let (entries, weight) = cache.usage();
        assert!(
            weight <= max_bytes,
            "{weight} bytes kept, budget {max_bytes}"
        );
        assert!(
            entries <= max_bytes / one as u64,
            "{entries} entries of {one} bytes in a {max_bytes}-byte budget"
        );
        assert!(entries > 0, "the cache kept nothing");
    }

    #[test]
    fn an_entry_larger_than_the_budget_is_not_kept() {
        let cache = TokenCache::new(config(10, 4 * 1024));
        let token = "big";
        cache.insert(token, &context(token, 16 * 1024));
        assert!(cache.get(token).is_none());
        assert_eq!(cache.usage().0, 0);
        let small = "small";
        cache.insert(small, &context(small, 0));
        assert!(cache.get(small).is_some());
    }

    #[test]
    fn the_estimate_grows_with_every_part_of_the_entry() {
        let base = estimated_bytes(&context("t", 0));
        assert!(estimated_bytes(&context(&"t".repeat(4096), 0)) >= base + 4095);
        assert!(estimated_bytes(&context("t", 4096)) >= base + 4096);
    }
}
