//! [`JwtVerifier`]: the rules a JWT access token must pass (RFC 8725, RFC 9068).

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use serde_json::Value;

use super::algorithm::{self, Algorithm, AlgorithmSet};
use super::jwks::JwksCache;
use super::token_cache::{TokenCache, TokenCacheConfig};
use crate::claims::{self, ClaimMapper};
use crate::error::{ConfigError, TokenRejection, VerifyError};
use crate::provider::TokenVerifier;
use crate::secret::HmacSecret;
use crate::user::{AuthContext, Claims};

/// Which `aud` values a token may carry.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Audience {
    /// `aud` (a string or an array) must contain at least one of these.
    OneOf(Vec<String>),
    /// As `OneOf`, or `azp` equals one of these: the Keycloak convention, where
    /// access tokens carry `aud: "account"` and name their client in `azp`.
    OneOfOrAuthorizedParty(Vec<String>),
    /// No audience check at all. Any token the issuer minted for any service is
    /// accepted, which lets one service replay its tokens at another: only for
    /// development. A warning is logged when the verifier is built.
    DangerouslyAcceptAny,
}

impl Audience {
    /// A single accepted audience.
    pub fn exactly(aud: impl Into<String>) -> Self {
        Audience::OneOf(vec![aud.into()])
    }
}

/// Every rule a [`JwtVerifier`] applies, in one plain value. Build it with
/// [`JwtConfig::new`] and change fields as needed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwtConfig {
    /// `iss` must equal this exactly (no trailing-slash tolerance; no arrays).
    pub issuer: String,
    /// The audience rule. `aud` is always required unless `DangerouslyAcceptAny`.
    pub audience: Audience,
    /// The algorithm allowlist. `None` (the default) allows every asymmetric
    /// algorithm the key set supports, plus HS256/384/512 when a shared secret is
    /// configured. HMAC algorithms are never allowed without a secret, whatever this says.
    pub algorithms: Option<Vec<Algorithm>>,
    /// Clock skew tolerated on `exp` and `nbf`. Default 60 s; at most 5 min.
    pub leeway: Duration,
    /// Strict RFC 9068 mode: the header `typ` must be `at+jwt` (or
    /// `application/at+jwt`), so an ID token is never taken as an access token. Default off.
    pub require_access_token_type: bool,
    /// Cache of verified tokens (a repeat token skips the signature check), or
    /// `None` to verify every request in full. Default on (10,000 entries, at
    /// most 32 MiB of them, 5 min).
    pub token_cache: Option<TokenCacheConfig>,
}

/// The longest token a [`JwtVerifier`] parses, in bytes (64 KiB): a longer one
/// is refused before any parsing. A fixed safety ceiling for a verifier used
/// on its own; a server sets its limit (default 8 KiB, at most this) with
/// [`McpAuthBuilder::max_token_bytes`](crate::McpAuthBuilder::max_token_bytes),
/// which the auth layer applies before the verifier runs.
pub const MAX_TOKEN_BYTES_CEILING: usize = 64 * 1024;

/// The most leeway a configuration may ask for.
pub const MAX_LEEWAY: Duration = Duration::from_secs(300);

impl JwtConfig {
    /// Rules for tokens from `issuer` for `audience`, with the defaults above.
    pub fn new(issuer: impl Into<String>, audience: Audience) -> Self {
        JwtConfig {
            issuer: issuer.into(),
            audience,
            algorithms: None,
            leeway: Duration::from_secs(60),
            require_access_token_type: false,
            token_cache: Some(TokenCacheConfig::default()),
        }
    }
}

/// Where verification keys come from.
#[derive(Clone)]
pub enum KeySource {
    /// The issuer's JWKS (asymmetric keys only).
    Jwks(JwksCache),
    /// A shared secret for HS256/384/512 (e.g. a legacy Supabase project).
    Secret(HmacSecret),
    /// Both: asymmetric algorithms use the JWKS, HMAC algorithms the secret.
    JwksAndSecret(JwksCache, HmacSecret),
}

/// The shortest secret `alg` may be used with (its hash output, RFC 7518 §3.2),
/// or `None` for a non-HMAC algorithm.
fn hmac_min_secret_len(alg: Algorithm) -> Option<usize> {
    match alg {
        Algorithm::HS256 => Some(32),
        Algorithm::HS384 => Some(48),
        Algorithm::HS512 => Some(64),
        _ => None,
    }
}

struct HmacKeys {
    hs256: aws_lc_rs::hmac::Key,
    hs384: aws_lc_rs::hmac::Key,
    hs512: aws_lc_rs::hmac::Key,
}

impl HmacKeys {
    fn new(secret: &HmacSecret) -> Self {
        HmacKeys {
            hs256: aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret.secret()),
            hs384: aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA384, secret.secret()),
            hs512: aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA512, secret.secret()),
        }
    }

    fn get(&self, alg: Algorithm) -> Option<&aws_lc_rs::hmac::Key> {
        match alg {
            Algorithm::HS256 => Some(&self.hs256),
            Algorithm::HS384 => Some(&self.hs384),
            Algorithm::HS512 => Some(&self.hs512),
            _ => None,
        }
    }
}

struct Inner {
    config: JwtConfig,
    allowed: AlgorithmSet,
    jwks: Option<JwksCache>,
    hmac: Option<HmacKeys>,
    mapper: ClaimMapper,
    token_cache: Option<TokenCache>,
    #[cfg(feature = "dangerous-skip-verification")]
    skip_signature: bool,
}

/// Verifies JWT access tokens against one issuer's keys and one [`JwtConfig`].
/// Cheap to clone (shared state behind an `Arc`).
///
/// ```no_run
/// use mcp_auth_core::jwt::{Audience, JwksCache, JwksConfig, JwtConfig, JwtVerifier, KeySource};
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let jwks = JwksCache::new("https://idp.example.com/.well-known/jwks.json", JwksConfig::default())?;
/// let config = JwtConfig::new("https://idp.example.com/", Audience::exactly("https://mcp.example.com/mcp"));
/// let verifier = JwtVerifier::new(config, KeySource::Jwks(jwks))?;
/// let claims = verifier.verify("eyJ...").await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct JwtVerifier {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for JwtVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtVerifier")
            .field("config", &self.inner.config)
            .field(
                "allowed",
                &self
                    .inner
                    .allowed
                    .iter()
                    .map(algorithm::name_of)
                    .collect::<Vec<_>>(),
            )
            .field("jwks", &self.inner.jwks)
            .field("hmac", &self.inner.hmac.is_some())
            .finish()
    }
}

#[derive(Deserialize)]
struct Header {
    alg: Option<String>,
    kid: Option<String>,
    typ: Option<String>,
    crit: Option<Value>,
}

impl JwtVerifier {
    /// A verifier applying `config` with keys from `keys`.
    ///
    /// Fails when the configuration cannot be honoured: an empty issuer, an
    /// empty audience list, a leeway over [`MAX_LEEWAY`], an HMAC secret shorter
    /// than the hash output of an HMAC algorithm it is allowed for (32, 48 and 64
    /// bytes for HS256, HS384 and HS512; RFC 7518 §3.2), or an allowlist with no
    /// algorithm the key source can serve. Without an explicit allowlist, a secret
    /// of 32 to 63 bytes serves only the HMAC algorithms it is long enough for.
    pub fn new(config: JwtConfig, keys: KeySource) -> Result<Self, ConfigError> {
        Self::build(config, keys, false)
    }

    /// [`JwtVerifier::new`], except that with `allow_empty_audience` an empty
    /// audience list is taken as it is (accepting no token): the state of a
    /// provider whose only audience is the resource URL before it is bound.
    pub(crate) fn build(
        config: JwtConfig,
        keys: KeySource,
        allow_empty_audience: bool,
    ) -> Result<Self, ConfigError> {
        if config.issuer.is_empty() {
            return Err(ConfigError::invalid("issuer", "must not be empty"));
        }
        match &config.audience {
            Audience::OneOf(a) | Audience::OneOfOrAuthorizedParty(a)
                if !allow_empty_audience && a.iter().all(String::is_empty) =>
            {
                return Err(ConfigError::invalid(
                    "audience",
                    "no audience configured; set one (usually this server's resource URL)",
                ));
            }
            Audience::DangerouslyAcceptAny => {
                tracing::warn!(issuer = %config.issuer, "audience check DISABLED: tokens minted for any other service of this issuer will be accepted");
            }
            _ => {}
        }
        if config.leeway > MAX_LEEWAY {
            return Err(ConfigError::invalid(
                "leeway",
                format!("{:?} exceeds the maximum of {MAX_LEEWAY:?}", config.leeway),
            ));
        }
        let (jwks, secret) = match keys {
            KeySource::Jwks(j) => (Some(j), None),
            KeySource::Secret(s) => (None, Some(s)),
            KeySource::JwksAndSecret(j, s) => (Some(j), Some(s)),
        };
        let secret_len = secret.as_ref().map(|s| s.len());
        if let Some(len) = secret_len
            && len < HmacSecret::MIN_BYTES
        {
            return Err(ConfigError::invalid(
                "HMAC secret",
                format!(
                    "is {len} bytes; HS256 needs at least {} (RFC 7518 §3.2: a key at least as long as the hash output)",
                    HmacSecret::MIN_BYTES
                ),
            ));
        }
        let mut servable = AlgorithmSet::empty();
        if jwks.is_some() {
            servable = servable.union(AlgorithmSet::asymmetric());
        }
        if let Some(len) = secret_len {
            // Only the HMAC algorithms the secret is long enough for (RFC 7518 §3.2).
            servable = servable.union(
                AlgorithmSet::hmac()
                    .iter()
                    .filter(|&alg| hmac_min_secret_len(alg).is_some_and(|min| len >= min))
                    .collect(),
            );
        }
        let allowed = match &config.algorithms {
            None => servable,
            Some(list) => {
                if let Some(len) = secret_len
                    && let Some((alg, min)) = list.iter().find_map(|&alg| {
                        hmac_min_secret_len(alg)
                            .map(|min| (alg, min))
                            .filter(|&(_, min)| len < min)
                    })
                {
                    return Err(ConfigError::invalid(
                        "HMAC secret",
                        format!(
                            "is {len} bytes; {} needs at least {min} (RFC 7518 §3.2: a key at least as long as the hash output)",
                            algorithm::name_of(alg)
                        ),
                    ));
                }
                list.iter()
                    .copied()
                    .collect::<AlgorithmSet>()
                    .intersection(servable)
            }
        };
        if allowed.is_empty() {
            return Err(ConfigError::invalid(
                "algorithms",
                "no allowed algorithm can be verified with the configured keys (HMAC needs a secret, the others a JWKS)",
            ));
        }
        let token_cache = config.token_cache.map(TokenCache::new);
        Ok(JwtVerifier {
            inner: Arc::new(Inner {
                config,
                allowed,
                jwks,
                hmac: secret.as_ref().map(HmacKeys::new),
                mapper: Arc::new(claims::map_default_user),
                token_cache,
                #[cfg(feature = "dangerous-skip-verification")]
                skip_signature: false,
            }),
        })
    }

    /// The same verifier (same key cache) with another claims -> user mapping.
    pub fn with_claim_mapper(&self, mapper: ClaimMapper) -> Self {
        self.rebuild(|inner| inner.mapper = mapper)
    }

    /// The same verifier (same key cache) with another audience rule.
    pub fn with_audience(&self, audience: Audience) -> Self {
        self.rebuild(|inner| inner.config.audience = audience)
    }

    /// Signatures are no longer checked; every other rule still applies. Logs a
    /// warning now and on every verified token. Exists only with the cargo feature
    /// `dangerous-skip-verification`; never enable it in production.
    #[cfg(feature = "dangerous-skip-verification")]
    pub fn dangerously_skip_signature_verification(&self) -> Self {
        tracing::warn!(issuer = %self.inner.config.issuer, "JWT SIGNATURE VERIFICATION IS DISABLED: anyone can forge tokens for this server");
        self.rebuild(|inner| inner.skip_signature = true)
    }

    fn rebuild(&self, change: impl FnOnce(&mut Inner)) -> Self {
        let mut inner = Inner {
            config: self.inner.config.clone(),
            allowed: self.inner.allowed,
            jwks: self.inner.jwks.clone(),
            hmac: self.inner.hmac.as_ref().map(|h| HmacKeys {
                hs256: h.hs256.clone(),
                hs384: h.hs384.clone(),
                hs512: h.hs512.clone(),
            }),
            mapper: Arc::clone(&self.inner.mapper),
            token_cache: None,
            #[cfg(feature = "dangerous-skip-verification")]
            skip_signature: self.inner.skip_signature,
        };
        change(&mut inner);
        // Other rules, other cache: nothing verified under the old rules carries over.
        inner.token_cache = inner.config.token_cache.map(TokenCache::new);
        JwtVerifier {
            inner: Arc::new(inner),
        }
    }

    /// The rules applied.
    pub fn config(&self) -> &JwtConfig {
        &self.inner.config
    }

    /// The algorithms accepted.
    pub fn allowed_algorithms(&self) -> AlgorithmSet {
        self.inner.allowed
    }

    /// The key cache, when keys come from a JWKS.
    pub fn jwks(&self) -> Option<&JwksCache> {
        self.inner.jwks.as_ref()
    }

    /// Verifies `token` and returns its claims.
    pub async fn verify(&self, token: &str) -> Result<Arc<Claims>, VerifyError> {
        let cfg = &self.inner.config;
        if token.len() > MAX_TOKEN_BYTES_CEILING {
            return Err(TokenRejection::TooLarge {
                len: token.len(),
                max: MAX_TOKEN_BYTES_CEILING,
            }
            .into());
        }
        let parts = split(token)?;
        let header: Header = decode_json(parts.header, "header")?;
        let alg_name = header
            .alg
            .as_deref()
            .ok_or(TokenRejection::MissingClaim("alg"))?;
        let alg = algorithm::parse(alg_name)
            .filter(|a| self.inner.allowed.contains(*a))
            .ok_or_else(|| TokenRejection::AlgorithmNotAllowed(alg_name.to_owned()))?;
        if let Some(crit) = &header.crit {
            return Err(TokenRejection::CriticalHeader(crit.to_string()).into());
        }
        if cfg.require_access_token_type {
            let ok = header.typ.as_deref().is_some_and(|t| {
                t.eq_ignore_ascii_case("at+jwt") || t.eq_ignore_ascii_case("application/at+jwt")
            });
            if !ok {
                return Err(TokenRejection::WrongType(header.typ).into());
            }
        }
        let signature = URL_SAFE_NO_PAD
            .decode(parts.signature)
            .map_err(|_| TokenRejection::Malformed("signature is not base64url".into()))?;
        // The claims are checked before the signature: the outcome is the same (both
        // must pass), but an expired or foreign token costs no signature check and
        // can never trigger a JWKS refetch.
        let claims: Claims = decode_json(parts.payload, "payload")?;
        self.check_claims(&claims)?;
        #[cfg(feature = "dangerous-skip-verification")]
        let skip = self.inner.skip_signature;
        #[cfg(not(feature = "dangerous-skip-verification"))]
        let skip = false;
        if skip {
            tracing::warn!(
                "accepting a token WITHOUT checking its signature (dangerous-skip-verification)"
            );
        } else {
            self.check_signature(alg, header.kid.as_deref(), parts.signed, &signature)
                .await?;
        }
        Ok(Arc::new(claims))
    }

    async fn check_signature(
        &self,
        alg: Algorithm,
        kid: Option<&str>,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), VerifyError> {
        if algorithm::is_hmac(alg) {
            let key = self.inner.hmac.as_ref().and_then(|h| h.get(alg));
            let key = key.ok_or_else(|| {
                TokenRejection::AlgorithmNotAllowed(algorithm::name_of(alg).into())
            })?;
            return aws_lc_rs::hmac::verify(key, message, signature)
                .map_err(|_| TokenRejection::BadSignature.into());
        }
        let jwks =
            self.inner.jwks.as_ref().ok_or_else(|| {
                TokenRejection::AlgorithmNotAllowed(algorithm::name_of(alg).into())
            })?;
        let mut keys = jwks.keys().await?;
        if keys.find(kid, alg).is_none() {
            keys = jwks.refresh_for_unknown_kid(&keys).await?;
        }
        let key = keys
            .find(kid, alg)
            .ok_or_else(|| TokenRejection::UnknownKey {
                kid: kid.map(str::to_owned),
                alg: algorithm::name_of(alg).into(),
            })?;
        key.key
            .verify_sig(message, signature)
            .map_err(|_| TokenRejection::BadSignature.into())
    }

    fn check_claims(&self, claims: &Claims) -> Result<(), TokenRejection> {
        let cfg = &self.inner.config;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let leeway = cfg.leeway.as_secs();
        let exp = numeric(claims, "exp")?.ok_or(TokenRejection::MissingClaim("exp"))?;
        if now >= exp.saturating_add(leeway) {
            return Err(TokenRejection::Expired { exp, now, leeway });
        }
        if let Some(nbf) = numeric(claims, "nbf")?
            && nbf > now.saturating_add(leeway)
        {
            return Err(TokenRejection::NotYetValid { nbf, now, leeway });
        }
        match claims.get("iss") {
            None => return Err(TokenRejection::MissingClaim("iss")),
            Some(Value::String(iss)) if *iss == cfg.issuer => {}
            Some(other) => {
                return Err(TokenRejection::WrongIssuer {
                    found: other
                        .as_str()
                        .map_or_else(|| other.to_string(), str::to_owned),
                    expected: cfg.issuer.clone(),
                });
            }
        }
        let (accepted, azp_ok) = match &cfg.audience {
            Audience::DangerouslyAcceptAny => return Ok(()),
            Audience::OneOf(a) => (a, false),
            Audience::OneOfOrAuthorizedParty(a) => (a, true),
        };
        let aud = claims.get("aud");
        let aud_matches = match aud {
            Some(Value::String(s)) => accepted.contains(s),
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(Value::as_str)
                .any(|s| accepted.iter().any(|a| a == s)),
            None => false,
            Some(_) => return Err(TokenRejection::InvalidClaim("aud")),
        };
        let azp_matches = azp_ok
            && claims
                .get("azp")
                .and_then(Value::as_str)
                .is_some_and(|azp| accepted.iter().any(|a| a == azp));
        if aud_matches || azp_matches {
            return Ok(());
        }
        match aud {
            None if !azp_ok => Err(TokenRejection::MissingClaim("aud")),
            _ => Err(TokenRejection::WrongAudience {
                found: aud.map_or_else(|| "null".to_owned(), Value::to_string),
                expected: accepted.clone(),
            }),
        }
    }

    /// Verifies `token` and maps it to an [`AuthContext`].
    ///
    /// With the token cache on, a token verified before (and not yet expired, nor
    /// older than the cache's maximum age) is answered from the cache.
    pub async fn verify_context(&self, token: &str) -> Result<AuthContext, VerifyError> {
        if let Some(cache) = &self.inner.token_cache
            && let Some(ctx) = cache.get(token)
        {
            return Ok(ctx);
        }
        let claims = self.verify(token).await?;
        let ctx = self.context_from_claims(token, claims);
        #[cfg(feature = "dangerous-skip-verification")]
        let cacheable = !self.inner.skip_signature;
        #[cfg(not(feature = "dangerous-skip-verification"))]
        let cacheable = true;
        if cacheable && let Some(cache) = &self.inner.token_cache {
            cache.insert(token, &ctx);
        }
        Ok(ctx)
    }

    /// Builds the [`AuthContext`] for already-verified claims with this verifier's mapper.
    pub fn context_from_claims(&self, token: &str, claims: Arc<Claims>) -> AuthContext {
        claims::build_context(token, claims, &self.inner.mapper)
    }
}

impl TokenVerifier for JwtVerifier {
    async fn verify_token(&self, token: &str) -> Result<AuthContext, VerifyError> {
        self.verify_context(token).await
    }
}

struct Parts<'a> {
    header: &'a str,
    payload: &'a str,
    signature: &'a str,
    signed: &'a [u8],
}

fn split(token: &str) -> Result<Parts<'_>, TokenRejection> {
    let mut it = token.split('.');
    match (it.next(), it.next(), it.next(), it.next()) {
        (Some(header), Some(payload), Some(signature), None)
            if !header.is_empty() && !payload.is_empty() =>
        {
            let signed = &token.as_bytes()[..header.len() + 1 + payload.len()];
            Ok(Parts {
                header,
                payload,
                signature,
                signed,
            })
        }
        _ => Err(TokenRejection::Malformed(
            "expected three dot-separated segments".into(),
        )),
    }
}

fn decode_json<T: serde::de::DeserializeOwned>(
    segment: &str,
    what: &str,
) -> Result<T, TokenRejection> {
    let bytes = URL_SAFE_NO_PAD
        .decode(segment)
        .map_err(|_| TokenRejection::Malformed(format!("{what} is not base64url")))?;
    serde_json::from_slice(&bytes)
        .map_err(|e| TokenRejection::Malformed(format!("{what} is not a JSON object: {e}")))
}

/// A NumericDate claim: absent, or a non-negative number (fractions truncated).
fn numeric(claims: &Claims, name: &'static str) -> Result<Option<u64>, TokenRejection> {
    match claims.get(name) {
        None => Ok(None),
        Some(Value::Number(n)) => {
            if let Some(u) = n.as_u64() {
                Ok(Some(u))
            } else {
                match n.as_f64() {
                    Some(f) if f.is_finite() && f >= 0.0 => Ok(Some(f as u64)),
                    _ => Err(TokenRejection::InvalidClaim(name)),
                }
            }
        }
        Some(_) => Err(TokenRejection::InvalidClaim(name)),
    }
}
