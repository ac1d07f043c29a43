//! [`McpAuth`]: the one value a server builds to protect itself.

use std::sync::{Arc, OnceLock};

use axum::Router;

use crate::env::{EnvReader, EnvSource};
use crate::error::ConfigError;
use crate::fetch::{FetchLimits, Fetcher};
use crate::http::challenge::Challenges;
use crate::http::discovery::{self, Discovery};
use crate::http::layer::{
    AuthLayer, DEFAULT_MAX_BODY_BYTES, DEFAULT_PUBLIC_PATHS, LoopbackAliases, Policy,
};
use crate::http::resource::ResourceUrl;
use crate::http::scope_policy::ScopePolicy;
use crate::oidc::IssuerMetadata;
use crate::provider::{AuthProvider, DynVerifier, ProviderOnly, TokenVerifier, VerifierOnly};
use crate::proxy::{self, MemoryStore, ProxySettings, ProxyStore, STATE_KEY_VAR, decode_state_key};
use crate::user::ScopeHierarchy;

/// Protection for an MCP server: the [`layer`](Self::layer) that verifies every
/// request and the [`routes`](Self::routes) that let clients discover how to log in.
///
/// ```
/// use mcp_auth_core::{AuthUser, McpAuth, StaticApiKeys};
/// let keys = StaticApiKeys::new().key("sk-abc123", AuthUser::new("alice"));
/// let auth = McpAuth::from_verifier(keys);
/// let app: axum::Router = axum::Router::new()
///     .route("/mcp", axum::routing::post(|| async { "tools" }))
///     .layer(auth.layer())
///     .merge(auth.routes());
/// ```
pub struct McpAuth {
    verifier: Arc<dyn DynVerifier>,
    resource: Option<ResourceUrl>,
    resource_name: Option<String>,
    required_scopes: Vec<String>,
    public_paths: Vec<String>,
    max_token_bytes: usize,
    upstream: OnceLock<Arc<IssuerMetadata>>,
    proxy_store: Option<Arc<dyn ProxyStore>>,
    proxy_state_key: Option<Arc<[u8]>>,
    scope_policy: Option<Arc<ScopePolicy>>,
    scope_hierarchy: Option<Arc<ScopeHierarchy>>,
    challenge_scopes: Option<Vec<String>>,
    max_body_bytes: usize,
}

impl std::fmt::Debug for McpAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McpAuth")
            .field("metadata", &self.verifier.metadata_dyn())
            .field("resource", &self.resource)
            .field("required_scopes", &self.required_scopes)
            .field("public_paths", &self.public_paths)
            .finish()
    }
}

impl McpAuth {
    /// Protection backed by an identity provider: tokens are verified by it, and
    /// the discovery documents describe it.
    pub fn new(provider: impl AuthProvider) -> Self {
        Self::from_dyn(Arc::new(ProviderOnly(provider)))
    }

    /// Protection by a plain [`TokenVerifier`] (API keys, introspection). There is
    /// no authorization server to describe, so [`routes`](Self::routes) is empty.
    pub fn from_verifier(verifier: impl TokenVerifier) -> Self {
        Self::from_dyn(Arc::new(VerifierOnly(verifier)))
    }

    fn from_dyn(verifier: Arc<dyn DynVerifier>) -> Self {
        McpAuth {
            verifier,
            resource: None,
            resource_name: None,
            required_scopes: Vec::new(),
            public_paths: DEFAULT_PUBLIC_PATHS
                .iter()
                .map(|p| (*p).to_owned())
                .collect(),
            max_token_bytes: 8 * 1024,
            upstream: OnceLock::new(),
            proxy_store: None,
            proxy_state_key: None,
            scope_policy: None,
            scope_hierarchy: None,
            challenge_scopes: None,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
        }
    }

    /// This server's public URL, e.g. `https://mcp.example.com/mcp`: the resource
    /// identifier in metadata and challenges, and the default token audience of
    /// providers that bind to it. Call it before [`layer`](Self::layer) and [`routes`](Self::routes).
    pub fn resource_url(mut self, url: &str) -> Result<Self, ConfigError> {
        let resource = ResourceUrl::parse(url)?;
        let verifier = Arc::get_mut(&mut self.verifier).ok_or_else(|| {
            ConfigError::invalid("resource URL", "set it before calling layer() or routes()")
        })?;
        verifier.bind_resource_dyn(resource.as_str());
        self.resource = Some(resource);
        Ok(self)
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

    /// Another path that passes without a token (the path and everything below it).
    /// `/health`, `/docs`, `/inspector` and `/openmcp.json` are public by default.
    pub fn public_path(mut self, path: impl Into<String>) -> Self {
        self.public_paths.push(path.into());
        self
    }

    /// Replaces the public paths entirely (pass an empty list to protect everything).
    pub fn public_paths<I: IntoIterator<Item = S>, S: Into<String>>(mut self, paths: I) -> Self {
        self.public_paths = paths.into_iter().map(Into::into).collect();
        self
    }

    /// Largest bearer token accepted, in bytes. Default 8 KiB.
    pub fn max_token_bytes(mut self, max: usize) -> Self {
        self.max_token_bytes = max;
        self
    }

    /// The scopes each MCP operation needs, checked by the [`layer`](Self::layer)
    /// before the MCP service runs: a token without them gets HTTP 403
    /// `insufficient_scope` naming every scope the operation needs, the signal
    /// MCP clients step up on. See [`ScopePolicy`].
    ///
    /// ```
    /// use mcp_auth_core::{AuthUser, McpAuth, ScopePolicy, StaticApiKeys};
    /// let keys = StaticApiKeys::new().key("sk-abc123", AuthUser::new("alice"));
    /// let auth = McpAuth::from_verifier(keys)
    ///     .scope_policy(ScopePolicy::new().tool("admin-action", ["admin"]));
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
    /// let auth = McpAuth::from_verifier(keys)
    ///     .scope_hierarchy(ScopeHierarchy::chain(["mcp:admin", "mcp:write", "mcp:read"]));
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
    /// [`crate::http::DEFAULT_MAX_BODY_BYTES`] (4 MiB).
    /// Without a scope policy no body is read.
    pub fn max_body_bytes(mut self, max: usize) -> Self {
        self.max_body_bytes = max;
        self
    }

    /// The resource URL, if set.
    pub fn resource(&self) -> Option<&ResourceUrl> {
        self.resource.as_ref()
    }

    /// The layer that protects every route it wraps (`Router::layer`).
    ///
    /// For browser-based clients, wrap it in [`crate::McpCors`] (a later
    /// `Router::layer` call), so that its refusals carry the CORS headers.
    /// With a resource URL on a loopback host, its challenges point at the
    /// metadata under the loopback name the client used, and a token whose
    /// audience is one loopback alias of the resource is refused on requests
    /// to another (see [`ResourceUrl::loopback_alias`]).
    pub fn layer(&self) -> AuthLayer {
        if self.resource.is_none() && self.verifier.metadata_dyn().is_some() {
            tracing::warn!(
                "McpAuth has no resource_url: 401 challenges will not point clients at the metadata"
            );
        }
        let resource_metadata = self
            .resource
            .as_ref()
            .filter(|_| self.verifier.metadata_dyn().is_some())
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
        let loopback = self
            .resource
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
        AuthLayer::new(Arc::new(Policy {
            verifier: Arc::clone(&self.verifier),
            loopback,
            challenges: Challenges::new(resource_metadata, &hint),
            required_scopes: self.required_scopes.clone(),
            public_paths: self.public_paths.clone(),
            max_token_bytes: self.max_token_bytes,
            scope_policy: self.scope_policy.clone(),
            hierarchy: self.scope_hierarchy.clone(),
            max_body_bytes: self.max_body_bytes,
        }))
    }

    /// Where proxy mode keeps its state (clients registered through this server,
    /// consents, authorization flows in flight, codes, refresh handles). By
    /// default each call to [`routes`](Self::routes) gets its own
    /// [`MemoryStore`] with the default budgets, lost on restart: clients then
    /// get `invalid_client` and register again. A shared, persistent store keeps
    /// them across restarts and replicas.
    pub fn proxy_store(mut self, store: impl ProxyStore) -> Self {
        self.proxy_store = Some(Arc::new(store));
        self
    }

    /// The variable [`proxy_state_key_from_env`](Self::proxy_state_key_from_env) reads.
    pub const STATE_KEY_VAR: &'static str = STATE_KEY_VAR;

    /// The secret proxy mode MACs its cookies and seals the upstream tokens it
    /// keeps with (at least 32 random bytes). By default a key is drawn at
    /// random when [`routes`](Self::routes) is called: with a store shared by
    /// replicas, or one that outlives the process, give every process the same
    /// secret, or their cookies, codes and refresh tokens do not carry over.
    pub fn proxy_state_key(mut self, secret: &[u8]) -> Result<Self, ConfigError> {
        if secret.len() < 32 {
            return Err(ConfigError::invalid(
                "proxy state key",
                format!(
                    "{} bytes is too short: use at least 32 random bytes",
                    secret.len()
                ),
            ));
        }
        self.proxy_state_key = Some(Arc::from(secret));
        Ok(self)
    }

    /// Reads the state key from [`MCP_AUTH_STATE_KEY`](Self::STATE_KEY_VAR) in
    /// `source`, if set: base64 of at least 32 random bytes (`openssl rand
    /// -base64 32`); anything else is an error naming the variable. Unset, the
    /// key stays as it was ([`proxy_state_key`](Self::proxy_state_key), or one
    /// drawn per process). Every replica sharing a proxy store needs the same.
    ///
    /// ```
    /// use mcp_auth_core::env::EnvSource;
    /// use mcp_auth_core::{AuthUser, McpAuth, StaticApiKeys};
    /// let keys = StaticApiKeys::new().key("sk-abc123", AuthUser::new("alice"));
    /// let source = EnvSource::from_vars([("MCP_AUTH_STATE_KEY", "too short")]);
    /// let err = McpAuth::from_verifier(keys).proxy_state_key_from_env(&source).unwrap_err();
    /// assert!(err.to_string().contains("MCP_AUTH_STATE_KEY"));
    /// ```
    pub fn proxy_state_key_from_env(self, source: &EnvSource) -> Result<Self, ConfigError> {
        let mut env = EnvReader::with_source(source);
        let value = env.optional(Self::STATE_KEY_VAR);
        env.finish()?;
        let Some(value) = value else {
            return Ok(self);
        };
        let secret = decode_state_key(&value)
            .map_err(|reason| ConfigError::invalid(Self::STATE_KEY_VAR, reason))?;
        self.proxy_state_key(&secret)
            .map_err(|e| ConfigError::invalid(Self::STATE_KEY_VAR, e.to_string()))
    }

    /// The discovery routes: protected-resource metadata at the root and
    /// path-scoped, and authorization-server metadata. Merge them outside the layer.
    /// Empty for a plain verifier or without a resource URL.
    pub fn routes<S: Clone + Send + Sync + 'static>(&self) -> Router<S> {
        let (Some(metadata), Some(resource)) =
            (self.verifier.metadata_dyn(), self.resource.clone())
        else {
            return Router::new();
        };
        let upstream = match self.upstream.get() {
            Some(u) => Arc::clone(u),
            None => match Fetcher::new(FetchLimits::default()) {
                Ok(fetcher) => {
                    let fresh = Arc::new(IssuerMetadata::new(metadata.issuer.clone(), fetcher));
                    Arc::clone(self.upstream.get_or_init(|| fresh))
                }
                Err(error) => {
                    tracing::error!(%error, "cannot build the HTTP client for upstream metadata");
                    return Router::new();
                }
            },
        };
        let mode = metadata.mode;
        let proxy_metadata = metadata.clone();
        let issuer = resource.base().to_owned();
        let resource_url = resource.as_str().to_owned();
        let router = discovery::routes(Arc::new(Discovery {
            resource,
            resource_name: self.resource_name.clone(),
            metadata: metadata.clone(),
            upstream: Arc::clone(&upstream),
        }));
        if mode != crate::provider::Mode::Proxy {
            return router;
        }
        let store = self
            .proxy_store
            .clone()
            .unwrap_or_else(|| Arc::new(MemoryStore::default()));
        if store.is_shared() && self.proxy_state_key.is_none() {
            tracing::warn!(
                "proxy mode keeps its state in a shared store but has no state key ({STATE_KEY_VAR}): \
                 this process draws its own, so consent cookies, codes and refresh tokens issued by \
                 other replicas (or before a restart) will not work here; set the same {STATE_KEY_VAR} \
                 on every replica"
            );
        }
        let settings = ProxySettings {
            metadata: proxy_metadata,
            issuer,
            resource: resource_url,
            store,
            upstream_metadata: upstream,
            state_key: self.proxy_state_key.clone(),
        };
        match proxy::routes(settings) {
            Ok(proxy_routes) => router.merge(proxy_routes),
            Err(error) => {
                tracing::error!(%error, "cannot build the OAuth proxy; /authorize and /token are not served");
                router
            }
        }
    }
}
