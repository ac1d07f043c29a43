//! [`McpAuth`]: the one value a server builds to protect itself, made by
//! [`McpAuthBuilder`] in one fallible step.

mod builder;

use std::sync::Arc;

use axum::Router;

pub use builder::McpAuthBuilder;

use crate::http::layer::{AuthLayer, Policy};
use crate::http::resource::ResourceUrl;
use crate::provider::{AuthProvider, ProviderOnly, TokenVerifier, VerifierOnly};

/// Protection for an MCP server: the [`layer`](Self::layer) that verifies every
/// request and the [`routes`](Self::routes) that let clients discover how to log in.
///
/// Made by [`McpAuth::builder`] (an identity provider) or
/// [`McpAuth::builder_with_verifier`] (API keys, introspection), then
/// [`McpAuthBuilder::build`], which checks the whole configuration at once.
/// Once built, nothing can fail any more and the order of calls does not matter.
///
/// ```
/// use mcp_auth_core::{AuthUser, McpAuth, StaticApiKeys};
/// let keys = StaticApiKeys::new().key("sk-abc123", AuthUser::new("alice"));
/// let auth = McpAuth::builder_with_verifier(keys).build()?;
/// let app: axum::Router = axum::Router::new()
///     .route("/mcp", axum::routing::post(|| async { "tools" }))
///     .layer(auth.layer())
///     .merge(auth.routes());
/// # Ok::<(), mcp_auth_core::ConfigError>(())
/// ```
#[derive(Clone)]
pub struct McpAuth {
    policy: Arc<Policy>,
    resource: Option<ResourceUrl>,
    /// The discovery (and, in proxy mode, OAuth proxy) routes, built once.
    routes: Router,
}

impl std::fmt::Debug for McpAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McpAuth")
            .field("metadata", &self.policy.verifier.metadata_dyn())
            .field("resource", &self.resource)
            .field("required_scopes", &self.policy.required_scopes)
            .field("public_paths", &self.policy.public_paths)
            .finish()
    }
}

impl McpAuth {
    /// Protection backed by an identity provider: tokens are verified by it, and
    /// the discovery documents describe it. [`McpAuthBuilder::resource_url`] is
    /// required: clients find the provider through the protected-resource
    /// metadata published under it.
    ///
    /// ```
    /// use mcp_auth_core::{CustomConfig, CustomProvider, McpAuth};
    /// let provider = CustomProvider::new(CustomConfig::new("https://auth.example.com"))?;
    /// let auth = McpAuth::builder(provider)
    ///     .resource_url("https://mcp.example.com/mcp")
    ///     .required_scopes(["mcp"])
    ///     .build()?;
    /// assert_eq!(auth.resource().map(|r| r.as_str()), Some("https://mcp.example.com/mcp"));
    /// # Ok::<(), mcp_auth_core::ConfigError>(())
    /// ```
    pub fn builder(provider: impl AuthProvider) -> McpAuthBuilder {
        McpAuthBuilder::new(builder::Protection::Provider(Box::new(
            move |resource: &str| {
                let mut provider = provider;
                provider.bind_resource(resource);
                Arc::new(ProviderOnly(provider))
            },
        )))
    }

    /// Protection by a plain [`TokenVerifier`] (API keys, introspection). There is
    /// no authorization server to describe, so [`routes`](Self::routes) is empty;
    /// the resource URL is optional.
    pub fn builder_with_verifier(verifier: impl TokenVerifier) -> McpAuthBuilder {
        McpAuthBuilder::new(builder::Protection::Verifier(Arc::new(VerifierOnly(
            verifier,
        ))))
    }

    /// The resource URL, if set.
    pub fn resource(&self) -> Option<&ResourceUrl> {
        self.resource.as_ref()
    }

    /// The layer that protects every route it wraps (`Router::layer`). Every
    /// call returns a handle on the same policy, computed once by
    /// [`McpAuthBuilder::build`].
    ///
    /// For browser-based clients, wrap it in [`crate::McpCors`] (a later
    /// `Router::layer` call), so that its refusals carry the CORS headers.
    /// With a resource URL on a loopback host, its challenges point at the
    /// metadata under the loopback name the client used, and a token whose
    /// audience is one loopback alias of the resource is refused on requests
    /// to another (see [`ResourceUrl::loopback_alias`]).
    pub fn layer(&self) -> AuthLayer {
        AuthLayer::new(Arc::clone(&self.policy))
    }

    /// The discovery routes: protected-resource metadata at the root and
    /// path-scoped, and authorization-server metadata; in proxy mode also the
    /// OAuth proxy (`/authorize`, `/token`, `/register`, ...). Merge them
    /// outside the layer. Empty for a plain verifier.
    ///
    /// The routes are built once, by [`McpAuthBuilder::build`]: every call
    /// returns the same routes, sharing one proxy store and one state key, so
    /// a client registered through one copy is known to every other.
    pub fn routes<S: Clone + Send + Sync + 'static>(&self) -> Router<S> {
        self.routes.clone().with_state(())
    }
}
