//! [`WorkosProvider`]: WorkOS AuthKit as a [`mcp_auth_core::AuthProvider`].

use std::sync::Arc;

use mcp_auth_core::jwt_provider::UNBOUND_RESOURCE_AUDIENCE;
use mcp_auth_core::{
    Audience, AuthContext, AuthProvider, ConfigError, JwksCache, JwtProvider, JwtVerifier,
    KeySource, Mode, ProviderMetadata, TokenVerifier, VerifyError,
};

use crate::claims::map_workos_user;
use crate::config::{WorkosApiKey, WorkosConfig};

/// WorkOS AuthKit as the identity provider of an MCP server, in direct mode.
///
/// MCP clients find AuthKit through this server's protected-resource metadata and
/// register and log in there directly; this server only verifies the access tokens
/// and serves the discovery documents. Tokens are verified against
/// `https://{subdomain}.authkit.app/oauth2/jwks`, with `iss` =
/// `https://{subdomain}.authkit.app`, and must be bound to this server: `aud` must
/// be the resource URL (set with [`McpAuthBuilder::resource_url`](mcp_auth_core::McpAuthBuilder::resource_url)),
/// the configured client id, or one of the extra audiences. Turning that off takes
/// [`WorkosConfig::dangerously_accept_any_audience`].
///
/// ```
/// use mcp_auth_core::{AuthProvider, McpAuth, Mode};
/// use mcp_auth_workos::{WorkosConfig, WorkosProvider};
///
/// let provider = WorkosProvider::new(WorkosConfig::new("your-company"))?;
/// assert_eq!(provider.metadata().mode, Mode::Direct);
/// assert_eq!(provider.metadata().issuer, "https://your-company.authkit.app");
/// // Tokens for https://mcp.example.com/mcp are accepted from here on.
/// let auth = McpAuth::builder(provider).resource_url("https://mcp.example.com/mcp").build()?;
/// # Ok::<(), mcp_auth_core::ConfigError>(())
/// ```
#[derive(Debug, Clone)]
pub struct WorkosProvider {
    config: WorkosConfig,
    inner: JwtProvider,
}

impl WorkosProvider {
    /// The provider for `config`. Fails when the subdomain (or AuthKit URL) is not
    /// usable or the JWT settings cannot be honoured. Nothing is fetched yet: the
    /// JWKS is read on the first token.
    pub fn new(config: WorkosConfig) -> Result<Self, ConfigError> {
        let base = config.resolved_authkit_url()?;
        let jwks_url = format!("{base}/oauth2/jwks");

        let mut jwt = config.jwt.clone();
        jwt.issuer = base.clone();
        jwt.audience = if config.dangerously_accept_any_audience {
            tracing::warn!(
                issuer = %base,
                "WorkOS audience check DISABLED (dangerously_accept_any_audience): tokens AuthKit issued for any other application will be accepted"
            );
            Audience::DangerouslyAcceptAny
        } else {
            let mut accepted: Vec<String> = config
                .client_id
                .iter()
                .chain(&config.extra_audiences)
                .filter(|a| !a.is_empty())
                .cloned()
                .collect();
            if accepted.is_empty() {
                // Replaced by the resource URL when McpAuthBuilder::resource_url binds it.
                accepted.push(UNBOUND_RESOURCE_AUDIENCE.to_owned());
            }
            Audience::OneOf(accepted)
        };
        let jwks = JwksCache::new(jwks_url.clone(), config.jwks)?;
        let verifier = JwtVerifier::new(jwt, KeySource::Jwks(jwks))?
            .with_claim_mapper(Arc::new(map_workos_user));

        let mut metadata = ProviderMetadata::new(base.clone(), Mode::Direct);
        metadata.authorization_endpoint = Some(format!("{base}/oauth2/authorize"));
        metadata.token_endpoint = Some(format!("{base}/oauth2/token"));
        metadata.registration_endpoint = Some(format!("{base}/oauth2/register"));
        metadata.jwks_uri = Some(jwks_url);
        metadata.scopes_supported = config.scopes_supported.clone();
        metadata.grant_types_supported = config.grant_types_supported.clone();
        metadata.client_id = config.client_id.clone();

        let mut inner = JwtProvider::new(metadata, verifier);
        if !config.dangerously_accept_any_audience {
            inner = inner.accept_resource_audience();
        }
        Ok(WorkosProvider { config, inner })
    }

    /// [`WorkosConfig::from_env`] then [`WorkosProvider::new`]; the same as [`workos_provider`].
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::new(WorkosConfig::from_env()?)
    }

    /// [`WorkosConfig::from_source`] then [`WorkosProvider::new`]: the settings from
    /// `source` instead of the process environment.
    pub fn from_source(source: &mcp_auth_core::env::EnvSource) -> Result<Self, ConfigError> {
        Self::new(WorkosConfig::from_source(source)?)
    }

    /// The settings.
    pub fn config(&self) -> &WorkosConfig {
        &self.config
    }

    /// The issuer tokens must carry, `https://{subdomain}.authkit.app`.
    pub fn issuer(&self) -> &str {
        &self.inner.metadata().issuer
    }

    /// The WorkOS API key, if configured, for your own calls to the WorkOS API.
    pub fn api_key(&self) -> Option<&WorkosApiKey> {
        self.config.api_key.as_ref()
    }

    /// The WorkOS API base URL (default `https://api.workos.com`).
    pub fn api_base_url(&self) -> &str {
        self.config.api_base_url.trim_end_matches('/')
    }

    /// The JWT verifier (rules, key cache, claim mapping). Its audience rule gains
    /// the resource URL once [`McpAuthBuilder::resource_url`](mcp_auth_core::McpAuthBuilder::resource_url) binds it.
    pub fn verifier(&self) -> &JwtVerifier {
        self.inner.verifier()
    }

    /// Token signatures are no longer checked (issuer, audience and expiry still
    /// are). Logs a warning now and on every request. Only with the cargo feature
    /// `dangerous-skip-verification`; never in production.
    #[cfg(feature = "dangerous-skip-verification")]
    pub fn dangerously_skip_signature_verification(mut self) -> Self {
        let verifier = self
            .inner
            .verifier()
            .dangerously_skip_signature_verification();
        let mut inner = JwtProvider::new(self.inner.metadata().clone(), verifier);
        if !self.config.dangerously_accept_any_audience {
            inner = inner.accept_resource_audience();
        }
        self.inner = inner;
        self
    }
}

/// The zero-config WorkOS provider: `MCP_USE_OAUTH_WORKOS_SUBDOMAIN` (and the
/// optional `_CLIENT_ID` and `_API_KEY`) from the environment or `.env`.
///
/// ```no_run
/// use mcp_auth_core::McpAuth;
/// let auth = McpAuth::builder(mcp_auth_workos::workos_provider()?)
///     .resource_url("https://mcp.example.com/mcp").build()?; // the audience tokens must carry
/// # Ok::<(), mcp_auth_core::ConfigError>(())
/// ```
///
/// The error names every variable that is missing or malformed.
pub fn workos_provider() -> Result<WorkosProvider, ConfigError> {
    WorkosProvider::from_env()
}

impl TokenVerifier for WorkosProvider {
    async fn verify_token(&self, token: &str) -> Result<AuthContext, VerifyError> {
        self.inner.verify_token(token).await
    }
}

impl AuthProvider for WorkosProvider {
    fn metadata(&self) -> &ProviderMetadata {
        self.inner.metadata()
    }

    /// Adds the resource URL to the accepted audiences (unless the audience check
    /// was turned off).
    fn bind_resource(&mut self, resource: &str) {
        self.inner.bind_resource(resource);
    }
}
