//! [`JwksCache`]: the issuer's signing keys, fetched over HTTP and cached.
//!
//! - One fetch for any number of concurrent misses (moka's single-flight loader).
//! - Kept for `Cache-Control: max-age` clamped to `[min_ttl, max_ttl]`, else `ttl`.
//! - An unknown `kid` forces one refetch, then no other for `unknown_kid_cooldown`,
//!   so a flood of random kids cannot hammer the identity provider.
//! - When a fetch fails, the last good set keeps serving; with nothing cached the
//!   caller gets [`VerifyError::KeysUnavailable`] (a 503), and no new fetch is
//!   tried before `retry_backoff`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use moka::Expiry;

use super::keyset::KeySet;
use crate::env::check_secure_url;
use crate::error::{ConfigError, FetchError, VerifyError};
use crate::fetch::{FetchLimits, Fetcher};
use crate::oidc::IssuerMetadata;

/// Settings of a [`JwksCache`]. `JwksConfig::default()` documents the defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JwksConfig {
    /// How long a key set is kept when the response says nothing. Default 10 min.
    pub ttl: Duration,
    /// Lower bound applied to `Cache-Control: max-age`. Default 1 min.
    pub min_ttl: Duration,
    /// Upper bound applied to `Cache-Control: max-age`. Default 24 h.
    pub max_ttl: Duration,
    /// After an unknown `kid` forced a refetch, no other is forced for this long. Default 30 s.
    pub unknown_kid_cooldown: Duration,
    /// After a failed fetch, no new fetch for this long; also the `Retry-After`
    /// sent with a 503. Default 30 s.
    pub retry_backoff: Duration,
    /// Timeouts and the response size cap (default 256 KiB).
    pub fetch: FetchLimits,
}

impl Default for JwksConfig {
    fn default() -> Self {
        JwksConfig {
            ttl: Duration::from_secs(600),
            min_ttl: Duration::from_secs(60),
            max_ttl: Duration::from_secs(86_400),
            unknown_kid_cooldown: Duration::from_secs(30),
            retry_backoff: Duration::from_secs(30),
            fetch: FetchLimits::default(),
        }
    }
}

/// Where the JWKS URL comes from.
#[derive(Debug)]
enum Source {
    Url(String),
    Discovery(IssuerMetadata),
}

#[derive(Clone)]
struct Cached {
    keys: Arc<KeySet>,
    ttl: Duration,
}

struct CachedExpiry;

impl Expiry<(), Cached> for CachedExpiry {
    fn expire_after_create(
        &self,
        _key: &(),
        value: &Cached,
        _created_at: Instant,
    ) -> Option<Duration> {
        Some(value.ttl)
    }
}

struct Inner {
    source: Source,
    fetcher: Fetcher,
    config: JwksConfig,
    cache: moka::future::Cache<(), Cached>,
    last_good: Mutex<Option<Arc<KeySet>>>,
    last_failure: Mutex<Option<(Instant, String)>>,
    forced_refresh: tokio::sync::Mutex<Option<Instant>>,
    fetches: AtomicU64,
}

/// The signing keys of one issuer, fetched from its JWKS URL and cached.
/// Cloning shares the cache.
#[derive(Clone)]
pub struct JwksCache {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for JwksCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwksCache")
            .field("source", &self.inner.source)
            .field("config", &self.inner.config)
            .finish()
    }
}

impl JwksCache {
    /// A cache over the JWKS at `url`. Nothing is fetched until a key is needed.
    ///
    /// ```
    /// use mcp_auth_core::jwt::{JwksCache, JwksConfig};
    /// let jwks = JwksCache::new("https://idp.example.com/.well-known/jwks.json", JwksConfig::default())?;
    /// # Ok::<(), mcp_auth_core::ConfigError>(())
    /// ```
    pub fn new(url: impl Into<String>, config: JwksConfig) -> Result<Self, ConfigError> {
        let url = url.into();
        check_url("JWKS URL", &url)?;
        let fetcher = Fetcher::new(config.fetch)?;
        Ok(Self::with_source(Source::Url(url), fetcher, config))
    }

    /// A cache whose JWKS URL is the `jwks_uri` of the issuer's OpenID discovery
    /// document, after checking that the document names the same issuer.
    pub fn from_issuer(issuer: impl Into<String>, config: JwksConfig) -> Result<Self, ConfigError> {
        let issuer = issuer.into();
        check_url("issuer", &issuer)?;
        let fetcher = Fetcher::new(config.fetch)?;
        let source = Source::Discovery(IssuerMetadata::new(issuer, fetcher.clone()));
        Ok(Self::with_source(source, fetcher, config))
    }

    fn with_source(source: Source, fetcher: Fetcher, config: JwksConfig) -> Self {
        let cache = moka::future::Cache::builder()
            .max_capacity(1)
            .expire_after(CachedExpiry)
            .build();
        JwksCache {
            inner: Arc::new(Inner {
                source,
                fetcher,
                config,
                cache,
                last_good: Mutex::new(None),
                last_failure: Mutex::new(None),
                forced_refresh: tokio::sync::Mutex::new(None),
                fetches: AtomicU64::new(0),
            }),
        }
    }

    /// The settings.
    pub fn config(&self) -> &JwksConfig {
        &self.inner.config
    }

    /// How many HTTP fetches of the key set have been attempted.
    pub fn fetch_count(&self) -> u64 {
        self.inner.fetches.load(Ordering::Relaxed)
    }

    /// The current key set: from the cache, else fetched (once, however many callers wait).
    pub async fn keys(&self) -> Result<Arc<KeySet>, VerifyError> {
        if let Some(hit) = self.inner.cache.get(&()).await {
            return Ok(hit.keys);
        }
        let inner = Arc::clone(&self.inner);
        match self
            .inner
            .cache
            .try_get_with((), async move { inner.load().await })
            .await
        {
            Ok(cached) => Ok(cached.keys),
            Err(source) => Err(VerifyError::KeysUnavailable {
                source,
                retry_after: self.inner.config.retry_backoff,
            }),
        }
    }

    /// Called when a token names a key `seen` does not hold. Forces one refetch
    /// unless another happened within the cool-down, and returns the newest set.
    pub async fn refresh_for_unknown_kid(
        &self,
        seen: &Arc<KeySet>,
    ) -> Result<Arc<KeySet>, VerifyError> {
        let mut last_forced = self.inner.forced_refresh.lock().await;
        if let Some(current) = self.inner.cache.get(&()).await
            && !Arc::ptr_eq(&current.keys, seen)
        {
            return Ok(current.keys);
        }
        if last_forced.is_some_and(|at| at.elapsed() < self.inner.config.unknown_kid_cooldown) {
            return Ok(Arc::clone(seen));
        }
        *last_forced = Some(Instant::now());
        self.inner.cache.invalidate(&()).await;
        self.keys().await
    }
}

impl Inner {
    fn remember_failure(&self, error: &FetchError) {
        *self
            .last_failure
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some((Instant::now(), error.to_string()));
    }

    async fn load(&self) -> Result<Cached, FetchError> {
        let last_good = self
            .last_good
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let backing_off = self
            .last_failure
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .filter(|(at, _)| at.elapsed() < self.config.retry_backoff)
            .map(|(at, msg)| {
                (
                    self.config.retry_backoff.saturating_sub(at.elapsed()),
                    msg.clone(),
                )
            });
        if let Some((remaining, msg)) = backing_off {
            return match last_good {
                Some(keys) => Ok(Cached {
                    keys,
                    ttl: remaining.max(Duration::from_secs(1)),
                }),
                None => Err(FetchError::BackingOff(msg)),
            };
        }
        match self.fetch().await {
            Ok((keys, ttl)) => {
                let keys = Arc::new(keys);
                *self
                    .last_good
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner) = Some(Arc::clone(&keys));
                *self
                    .last_failure
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner) = None;
                Ok(Cached { keys, ttl })
            }
            Err(error) => {
                self.remember_failure(&error);
                match last_good {
                    Some(keys) => {
                        tracing::warn!(%error, "JWKS refresh failed; serving the last good key set");
                        Ok(Cached {
                            keys,
                            ttl: self.config.retry_backoff,
                        })
                    }
                    None => {
                        tracing::error!(%error, "JWKS fetch failed and no key set is cached");
                        Err(error)
                    }
                }
            }
        }
    }

    async fn fetch(&self) -> Result<(KeySet, Duration), FetchError> {
        let url = match &self.source {
            Source::Url(url) => url.clone(),
            Source::Discovery(meta) => meta.jwks_uri().await?,
        };
        self.fetches.fetch_add(1, Ordering::Relaxed);
        let (doc, max_age) = self.fetcher.get_json_object(&url, "JWKS").await?;
        let keys = KeySet::from_jwks(&doc).map_err(|detail| FetchError::InvalidDocument {
            url: url.clone(),
            what: "JWKS",
            detail,
        })?;
        if keys.is_empty() {
            return Err(FetchError::NoUsableKeys {
                url,
                skipped: keys.skipped().len(),
            });
        }
        let ttl = match max_age {
            Some(secs) => Duration::from_secs(secs).clamp(self.config.min_ttl, self.config.max_ttl),
            None => self.config.ttl,
        };
        tracing::debug!(%url, bindings = keys.len(), ttl_secs = ttl.as_secs(), "JWKS loaded");
        Ok((keys, ttl))
    }
}

/// Keys and the documents naming them travel over https only; plain http is
/// accepted for loopback hosts (a local test server), see [`check_secure_url`].
pub(crate) fn check_url(name: &str, value: &str) -> Result<(), ConfigError> {
    check_secure_url(value)
        .map(drop)
        .map_err(|reason| ConfigError::invalid(name, reason))
}
