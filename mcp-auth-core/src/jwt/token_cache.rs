//! A cache of already-verified tokens: a repeat token skips parsing and the
//! signature check. Keyed by the SHA-256 of the token (the token itself is never
//! a key), each entry lives until the token's `exp` or the configured maximum
//! age, whichever comes first, and the cache is bounded in entries.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_lc_rs::digest;
use moka::Expiry;

use crate::user::AuthContext;

/// Settings of the verified-token cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenCacheConfig {
    /// Most entries kept (least recently used are evicted). Default 10,000.
    pub max_entries: u64,
    /// Longest an entry is trusted, whatever its `exp`. Bounds how long a token
    /// stays accepted after its signing key is withdrawn. Default 5 min.
    pub max_age: Duration,
}

impl Default for TokenCacheConfig {
    fn default() -> Self {
        TokenCacheConfig {
            max_entries: 10_000,
            max_age: Duration::from_secs(300),
        }
    }
}

#[derive(Clone)]
struct Entry {
    ctx: AuthContext,
    ttl: Duration,
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
        TokenCache {
            cache: moka::sync::Cache::builder()
                .max_capacity(config.max_entries)
                .expire_after(EntryExpiry)
                .build(),
            max_age: config.max_age,
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
        if !ttl.is_zero() {
            self.cache.insert(
                key(token),
                Entry {
                    ctx: ctx.clone(),
                    ttl,
                },
            );
        }
    }
}
