//! [`McpAuthBuilder`]: every setting of [`McpAuth`], checked and turned into the
//! layer policy and the routes once, by [`McpAuthBuilder::build`].

use std::sync::Arc;

use axum::Router;

use super::McpAuth;
use crate::env::{EnvReader, EnvSource};
use crate::error::ConfigError;
use crate::fetch::{FetchLimits, Fetcher};
use crate::http::challenge::Challenges;
use crate::http::discovery::{self, Discovery};
use crate::http::layer::{DEFAULT_MAX_BODY_BYTES, DEFAULT_PUBLIC_PATHS, LoopbackAliases, Policy};
use crate::http::resource::ResourceUrl;
use crate::http::scope_policy::ScopePolicy;
use crate::jwt::MAX_TOKEN_BYTES_CEILING;
use crate::oidc::IssuerMetadata;
use crate::provider::{DynVerifier, Mode};
use crate::proxy::{
    self, MIN_STATE_KEY_BYTES, MemoryStore, ProxySettings, ProxyStore, STATE_KEY_VAR,
    decode_state_key,
};
use crate::user::ScopeHierarchy;

/// Default of [`McpAuthBuilder::max_token_bytes`]: 8 KiB.
pub const DEFAULT_MAX_TOKEN_BYTES: usize = 8 * 1024;

/// Binds a provider to the resource URL and wraps it for the layer; called
/// once, by `build`, on the provider before it is shared.
pub(super) type BindProvider = Box<dyn FnOnce(&str) -> Arc<dyn DynVerifier> + Send>;

/// What verifies tokens: a provider still to be bound to the resource URL, or a
/// plain verifier.
pub(super) enum Protection {
    /// A provider, bound by `build`.
    Provider(BindProvider),
    /// A plain verifier: nothing to bind.
    Verifier(Arc<dyn DynVerifier>),
}

/// The settings of an [`McpAuth`], made by [`McpAuth::builder`] or
/// [`McpAuth::builder_with_verifier`]. Every setter is infallible and the order
/// of calls does not matter; [`build`](Self::build) checks everything at once
/// and reports every problem it finds.
///
/// ```
/// use mcp_auth_core::{AuthUser, McpAuth, ScopePolicy, StaticApiKeys};
/// let keys = StaticApiKeys::new().key("sk-abc123", AuthUser::new("alice"));
/// let auth = McpAuth::builder_with_verifier(keys)
///     .scope_policy(ScopePolicy::new().tool("admin-action", ["admin"]))
///     .public_path("/status")
///     .build()?;
/// # let _ = auth;
/// # Ok::<(), mcp_auth_core::ConfigError>(())
/// ```
#[must_use = "an McpAuthBuilder does nothing until `build()` is called"]
pub struct McpAuthBuilder {
    protection: Protection,
    resource_url: Option<String>,
    resource_name: Option<String>,
    required_scopes: Vec<String>,
    /// `None`: the defaults ([`DEFAULT_PUBLIC_PATHS`]).
    public_paths: Option<Vec<String>>,
    /// Added to the public paths above, whichever they are.
    extra_public_paths: Vec<String>,
    max_token_bytes: usize,
    proxy_store: Option<Arc<dyn ProxyStore>>,
    proxy_state_key: Option<Vec<u8>>,
    /// From [`MCP_AUTH_STATE_KEY`](McpAuthBuilder::STATE_KEY_VAR): the decoded
    /// key, or why the value is not one.
    proxy_state_key_from_env: Option<Result<Vec<u8>, ConfigError>>,
    scope_policy: Option<Arc<ScopePolicy>>,
    scope_hierarchy: Option<Arc<ScopeHierarchy>>,
    challenge_scopes: Option<Vec<String>>,
    max_body_bytes: usize,
}

impl std::fmt::Debug for McpAuthBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let protection = match self.protection {
            Protection::Provider(_) => "provider",
            Protection::Verifier(_) => "verifier",
        };
        f.debug_struct("McpAuthBuilder")
            .field("protection", &protection)
            .field("resource_url", &self.resource_url)
            .field("required_scopes", &self.required_scopes)
            .field("public_paths", &self.public_paths)
            .field("extra_public_paths", &self.extra_public_paths)
            .field("max_token_bytes", &self.max_token_bytes)
            .field(
                "proxy_state_key",
                &self.proxy_state_key.as_ref().map(|_| "[redacted]"),
            )
            .finish_non_exhaustive()
    }
}

impl McpAuthBuilder {
    /// The variable [`proxy_state_key_from_env`](Self::proxy_state_key_from_env) reads.
    pub const STATE_KEY_VAR: &'static str = STATE_KEY_VAR;

    pub(super) fn new(protection: Protection) -> Self {
        McpAuthBuilder {
            protection,
            resource_url: None,
            resource_name: None,
            required_scopes: Vec::new(),
            public_paths: None,
            extra_public_paths: Vec::new(),
            max_token_bytes: DEFAULT_MAX_TOKEN_BYTES,
            proxy_store: None,
            proxy_state_key: None,
            proxy_state_key_from_env: None,
            scope_policy: None,
            scope_hierarchy: None,
            challenge_scopes: None,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
        }
    }

    /// This server's public URL, e.g. `https://mcp.example.com/mcp`: the resource
    /// identifier in metadata and challenges, and the default token audience of
    /// providers that bind to it. Required with an identity provider; checked
    /// (https, or http on a loopback host) by [`build`](Self::build).
    pub fn resource_url(mut self, url: impl Into<String>) -> Self {
        self.resource_url = Some(url.into());
        self
    }

    /// A human-readable name for the protected-resource metadata (`resource_name`).
    pub fn resource_name(mut self, name: impl Into<String>) -> Self {
        self.resource_name = Some(name.into());
        self
    }

    /// Scopes every request must carry (all of them): others get 403
    /// `insufficient_scope`, and 401 challenges advertise them in `scope`.
    pub fn required_scopes<I: IntoIterator<Item = S>, S: Into<String>>(
        mut self,
        scopes: I,
    ) -> Self {
        self.required_scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// Another path that passes without a token (the path and everything below
    /// it), added to the public paths whether [`public_paths`](Self::public_paths)
    /// is called before or after. `/health`, `/docs`, `/inspector` and
    /// `/openmcp.json` are public by default.
    pub fn public_path(mut self, path: impl Into<String>) -> Self {
        self.extra_public_paths.push(path.into());
        self
    }

    /// Replaces the default public paths (pass an empty list, and no
    /// [`public_path`](Self::public_path), to protect everything).
    pub fn public_paths<I: IntoIterator<Item = S>, S: Into<String>>(mut self, paths: I) -> Self {
        self.public_paths = Some(paths.into_iter().map(Into::into).collect());
        self
    }

    /// Largest bearer token accepted, in bytes: a longer one gets 401 before any
    /// parsing. Default 8 KiB; at most
    /// [`MAX_TOKEN_BYTES_CEILING`](crate::jwt::MAX_TOKEN_BYTES_CEILING) (64 KiB),
    /// and not 0: [`build`](Self::build) refuses other values. This is the one
    /// place the limit is set.
    pub fn max_token_bytes(mut self, max: usize) -> Self {
        self.max_token_bytes = max;
        self
    }

    /// The scopes each MCP operation needs, checked by the
    /// [`layer`](McpAuth::layer) before the MCP service runs: a token without
    /// them gets HTTP 403 `insufficient_scope` naming every scope the operation
    /// needs, the signal MCP clients step up on. See [`ScopePolicy`].
    ///
    /// ```
    /// use mcp_auth_core::{AuthUser, McpAuth, ScopePolicy, StaticApiKeys};
    /// let keys = StaticApiKeys::new().key("sk-abc123", AuthUser::new("alice"));
    /// let auth = McpAuth::builder_with_verifier(keys)
    ///     .scope_policy(ScopePolicy::new().tool("admin-action", ["admin"]))
    ///     .build()?;
    /// # let _ = auth;
    /// # Ok::<(), mcp_auth_core::ConfigError>(())
    /// ```
    pub fn scope_policy(mut self, policy: ScopePolicy) -> Self {
        self.scope_policy = Some(Arc::new(policy));
        self
    }

    /// Which scopes imply which (e.g. `mcp:admin` ⊃ `mcp:write` ⊃ `mcp:read`),
    /// applied by every scope check: `required_scopes`, the scope policy, and
    /// [`AuthContext::has_scope`](crate::AuthContext::has_scope) and its
    /// `require_*` siblings in tools and handlers behind the layer.
    ///
    /// ```
    /// use mcp_auth_core::{AuthUser, McpAuth, ScopeHierarchy, StaticApiKeys};
    /// let keys = StaticApiKeys::new().key("sk-abc123", AuthUser::new("alice"));
    /// let auth = McpAuth::builder_with_verifier(keys)
    ///     .scope_hierarchy(ScopeHierarchy::chain(["mcp:admin", "mcp:write", "mcp:read"]))
    ///     .build()?;
    /// # let _ = auth;
    /// # Ok::<(), mcp_auth_core::ConfigError>(())
    /// ```
    pub fn scope_hierarchy(mut self, hierarchy: ScopeHierarchy) -> Self {
        self.scope_hierarchy = (!hierarchy.is_empty()).then(|| Arc::new(hierarchy));
        self
    }

    /// The scopes the 401 challenge advertises in `scope`: what a client should
    /// ask for to use the server at all. Default: the
    /// [`required_scopes`](Self::required_scopes) plus the scope policy's
    /// [`base`](ScopePolicy::base) scopes; none when neither is set.
    /// `offline_access` is never advertised.
    pub fn challenge_scopes<I: IntoIterator<Item = S>, S: Into<String>>(
        mut self,
        scopes: I,
    ) -> Self {
        self.challenge_scopes = Some(scopes.into_iter().map(Into::into).collect());
        self
    }

    /// Largest request body the scope policy reads, in bytes; a larger one gets
    /// 413 before the MCP service sees it. Default
    /// 4 MiB.
    /// Without a scope policy no body is read.
    pub fn max_body_bytes(mut self, max: usize) -> Self {
        self.max_body_bytes = max;
        self
    }

    /// Where proxy mode keeps its state (clients registered through this server,
    /// consents, authorization flows in flight, codes, refresh handles). By
    /// default [`build`](Self::build) makes one [`MemoryStore`] with the default
    /// budgets, shared by every copy of [`McpAuth::routes`] and lost on restart:
    /// clients then get `invalid_client` and register again. A shared,
    /// persistent store keeps them across restarts and replicas.
    pub fn proxy_store(mut self, store: impl ProxyStore) -> Self {
        self.proxy_store = Some(Arc::new(store));
        self
    }

    /// The secret proxy mode MACs its cookies and seals the upstream tokens it
    /// keeps with (at least 32 random bytes; [`build`](Self::build) refuses a
    /// shorter one). By default a key is drawn at random by `build`: with a
    /// store shared by replicas, or one that outlives the process, give every
    /// process the same secret, or their cookies, codes and refresh tokens do
    /// not carry over. A key read by
    /// [`proxy_state_key_from_env`](Self::proxy_state_key_from_env) takes
    /// precedence.
    pub fn proxy_state_key(mut self, secret: impl AsRef<[u8]>) -> Self {
        self.proxy_state_key = Some(secret.as_ref().to_vec());
        self
    }

    /// Reads the state key from [`MCP_AUTH_STATE_KEY`](Self::STATE_KEY_VAR) in
    /// `source`, if set: base64 of at least 32 random bytes (`openssl rand
    /// -base64 32`); anything else makes [`build`](Self::build) fail with an
    /// error naming the variable. Set, it takes precedence over
    /// [`proxy_state_key`](Self::proxy_state_key); unset, the key stays as it
    /// was (that one, or one drawn per process). Every replica sharing a proxy
    /// store needs the same.
    ///
    /// ```
    /// use mcp_auth_core::env::EnvSource;
    /// use mcp_auth_core::{AuthUser, McpAuth, StaticApiKeys};
    /// let keys = StaticApiKeys::new().key("sk-abc123", AuthUser::new("alice"));
    /// let source = EnvSource::from_vars([("MCP_AUTH_STATE_KEY", "too short")]);
    /// let err = McpAuth::builder_with_verifier(keys)
    ///     .proxy_state_key_from_env(&source)
    ///     .build()
    ///     .unwrap_err();
    /// assert!(err.to_string().contains("MCP_AUTH_STATE_KEY"));
    /// ```
    pub fn proxy_state_key_from_env(mut self, source: &EnvSource) -> Self {
        let mut env = EnvReader::with_source(source);
        let value = env.optional(Self::STATE_KEY_VAR);
        let read = env.finish().and_then(|()| {
            value
                .map(|value| {
                    decode_state_key(&value)
                        .map_err(|reason| ConfigError::invalid(Self::STATE_KEY_VAR, reason))
                })
                .transpose()
        });
        match read {
            Ok(None) => {}
            Ok(Some(secret)) => self.proxy_state_key_from_env = Some(Ok(secret)),
            Err(error) => self.proxy_state_key_from_env = Some(Err(error)),
        }
        self
    }

    /// Checks every setting and builds the [`McpAuth`]: parses the resource URL
    /// (required with an identity provider) and binds the provider to it,
    /// checks the token-size limit and the proxy state key, and builds the
    /// layer policy, the upstream-metadata fetcher, the discovery routes and,
    /// in proxy mode, the OAuth proxy. Every problem found is reported, each
    /// naming its setting.
    pub fn build(self) -> Result<McpAuth, ConfigError> {
        let mut errors = Vec::new();
        let is_provider = matches!(self.protection, Protection::Provider(_));
        let resource = match &self.resource_url {
            Some(url) => ResourceUrl::parse(url).map_err(|e| errors.push(e)).ok(),
            None if is_provider => {
                errors.push(ConfigError::invalid(
                    "resource_url",
                    "not set, and a server protected by an identity provider needs it: clients \
                     find the authorization server through the protected-resource metadata \
                     published under this server's public URL (e.g. \
                     McpAuth::builder(provider).resource_url(\"https://mcp.example.com/mcp\"))",
                ));
                None
            }
            None => None,
        };
        if self.max_token_bytes == 0 || self.max_token_bytes > MAX_TOKEN_BYTES_CEILING {
            errors.push(ConfigError::invalid(
                "max_token_bytes",
                format!(
                    "{} is out of range: use 1 to {MAX_TOKEN_BYTES_CEILING} bytes \
                     (the verifier's ceiling); the default is {DEFAULT_MAX_TOKEN_BYTES}",
                    self.max_token_bytes
                ),
            ));
        }
        let state_key = self.state_key(&mut errors);
        let verifier = match (self.protection, &resource) {
            (Protection::Provider(bind), Some(resource)) => Some(bind(resource.as_str())),
            (Protection::Provider(_), None) => None,
            (Protection::Verifier(verifier), _) => Some(verifier),
        };
        let (Some(verifier), true) = (verifier, errors.is_empty()) else {
            return Err(match errors.len() {
                1 => errors.remove(0),
                _ => ConfigError::Several(errors),
            });
        };

        let has_metadata = verifier.metadata_dyn().is_some();
        let resource_metadata = resource
            .as_ref()
            .filter(|_| has_metadata)
            .map(ResourceUrl::metadata_url);
        let hint = self.challenge_scopes.clone().unwrap_or_else(|| {
            let mut hint = self.required_scopes.clone();
            for s in self.scope_policy.iter().flat_map(|p| p.base_scopes()) {
                if !hint.contains(s) {
                    hint.push(s.clone());
                }
            }
            hint
        });
        // A loopback resource answers to each loopback name: the challenge
        // points at the metadata under the name the client used.
        let loopback = resource
            .as_ref()
            .filter(|r| r.is_loopback())
            .map(|resource| LoopbackAliases {
                canonical: resource.as_str().to_owned(),
                aliases: resource
                    .loopback_aliases()
                    .into_iter()
                    .map(|alias| {
                        let metadata = resource_metadata.as_ref().map(|_| alias.metadata_url());
                        (alias, Challenges::new(metadata, &hint))
                    })
                    .collect(),
            });
        let mut public_paths = self.public_paths.unwrap_or_else(|| {
            DEFAULT_PUBLIC_PATHS
                .iter()
                .map(|p| (*p).to_owned())
                .collect()
        });
        public_paths.extend(self.extra_public_paths);
        let policy = Arc::new(Policy {
            verifier: Arc::clone(&verifier),
            loopback,
            challenges: Challenges::new(resource_metadata, &hint),
            required_scopes: self.required_scopes,
            public_paths,
            max_token_bytes: self.max_token_bytes,
            scope_policy: self.scope_policy,
            hierarchy: self.scope_hierarchy,
            max_body_bytes: self.max_body_bytes,
        });
        let routes = match (verifier.metadata_dyn(), &resource) {
            (Some(_), Some(resource)) => routes(
                verifier.as_ref(),
                resource,
                self.resource_name,
                self.proxy_store,
                state_key,
            )?,
            _ => Router::new(),
        };
        Ok(McpAuth {
            policy,
            resource,
            routes,
        })
    }

    /// The configured state key, if any (the one from the environment first);
    /// a malformed or short one is pushed to `errors`. A key from the
    /// environment was checked when it was read (`decode_state_key`: length
    /// and variety of its bytes).
    fn state_key(&self, errors: &mut Vec<ConfigError>) -> Option<Arc<[u8]>> {
        let from_bytes = match &self.proxy_state_key {
            Some(secret) if secret.len() < MIN_STATE_KEY_BYTES => {
                errors.push(ConfigError::invalid(
                    "proxy_state_key",
                    format!(
                        "{} bytes is too short: use at least {MIN_STATE_KEY_BYTES} random bytes",
                        secret.len()
                    ),
                ));
                None
            }
            Some(secret) => Some(Arc::from(secret.as_slice())),
            None => None,
        };
        let from_env = match &self.proxy_state_key_from_env {
            Some(Err(error)) => {
                errors.push(error.clone());
                None
            }
            Some(Ok(secret)) => Some(Arc::from(secret.as_slice())),
            None => None,
        };
        from_env.or(from_bytes)
    }
}

/// The discovery routes of a provider and, in proxy mode, the OAuth proxy.
fn routes(
    verifier: &dyn DynVerifier,
    resource: &ResourceUrl,
    resource_name: Option<String>,
    store: Option<Arc<dyn ProxyStore>>,
    state_key: Option<Arc<[u8]>>,
) -> Result<Router, ConfigError> {
    let Some(metadata) = verifier.metadata_dyn() else {
        return Ok(Router::new());
    };
    let fetcher = Fetcher::new(FetchLimits::default())?;
    let upstream = Arc::new(IssuerMetadata::new(metadata.issuer.clone(), fetcher));
    let router = discovery::routes(Arc::new(Discovery {
        resource: resource.clone(),
        resource_name,
        metadata: metadata.clone(),
        upstream: Arc::clone(&upstream),
    }));
    if metadata.mode != Mode::Proxy {
        return Ok(router);
    }
    let store = store.unwrap_or_else(|| Arc::new(MemoryStore::default()));
    if store.is_shared() && state_key.is_none() {
        tracing::warn!(
            "proxy mode keeps its state in a shared store but has no state key ({STATE_KEY_VAR}): \
             this process draws its own, so consent cookies, codes and refresh tokens issued by \
             other replicas (or before a restart) will not work here; set the same {STATE_KEY_VAR} \
             on every replica"
        );
    }
    let proxy_routes = proxy::routes(ProxySettings {
        metadata: metadata.clone(),
        issuer: resource.base().to_owned(),
        resource: resource.as_str().to_owned(),
        store,
        upstream_metadata: upstream,
        state_key,
    })?;
    Ok(router.merge(proxy_routes))
}
