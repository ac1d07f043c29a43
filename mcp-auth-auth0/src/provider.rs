//! [`Auth0Provider`]: Auth0 as a [`mcp_auth_core::AuthProvider`].

use std::sync::Arc;

use mcp_auth_core::{
    Audience, AuthContext, AuthProvider, ConfigError, JwksCache, JwtProvider, JwtVerifier,
    KeySource, Mode, ProviderMetadata, TokenVerifier, VerifyError,
};

use crate::claims::map_auth0_user;
use crate::config::Auth0Config;

/// An Auth0 tenant as the identity provider of an MCP server, in proxy mode.
///
/// Access tokens are verified against the tenant's JWKS
/// (`https://{domain}/.well-known/jwks.json`): `iss` must be `https://{domain}/`
/// (with the trailing slash) and `aud` must contain the configured API identifier.
/// The MCP server names itself as the authorization server and forwards
/// `/authorize` (adding `audience={AUDIENCE}`), `/token` and `/register` to
/// `https://{domain}/authorize`, `/oauth/token` and `/oidc/register`.
///
/// ```
/// use mcp_auth_auth0::{Auth0Config, Auth0Provider};
/// use mcp_auth_core::{AuthProvider, McpAuth, Mode};
///
/// let provider = Auth0Provider::new(Auth0Config::new("your-tenant.auth0.com", "https://api.example.com"))?;
/// assert_eq!(provider.metadata().mode, Mode::Proxy);
/// assert_eq!(provider.metadata().issuer, "https://your-tenant.auth0.com/");
/// let auth = McpAuth::builder(provider).resource_url("https://mcp.example.com/mcp").build()?;
/// # Ok::<(), mcp_auth_core::ConfigError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Auth0Provider {
    config: Auth0Config,
    inner: JwtProvider,
    userinfo_url: String,
}

impl Auth0Provider {
    /// The provider for `config`. Fails when the domain (or base URL) is not a
    /// usable host, the audience is empty, or the JWT settings cannot be honoured.
    /// Nothing is fetched yet: the JWKS is read on the first token.
    pub fn new(config: Auth0Config) -> Result<Self, ConfigError> {
        let base = config.resolved_base_url()?;
        if config.audience.trim().is_empty() {
            return Err(ConfigError::invalid(
                "Auth0Config::audience",
                format!(
                    "is empty: set the Auth0 API identifier, or {} and use Auth0Config::with_env",
                    crate::AUTH0_AUDIENCE_VAR
                ),
            ));
        }
        let issuer = format!("{base}/");
        let jwks_url = format!("{base}/.well-known/jwks.json");

        let mut jwt = config.jwt.clone();
        jwt.issuer = issuer.clone();
        jwt.audience = Audience::exactly(config.audience.clone());
        let jwks = JwksCache::new(jwks_url.clone(), config.jwks)?;
        let roles_claim = config.effective_roles_claim();
        let verifier = JwtVerifier::new(jwt, KeySource::Jwks(jwks))?.with_claim_mapper(Arc::new(
            move |claims| map_auth0_user(claims, roles_claim.as_deref()),
        ));

        let mut metadata = ProviderMetadata::new(issuer, Mode::Proxy);
        metadata.authorization_endpoint = Some(format!("{base}/authorize"));
        metadata.token_endpoint = Some(format!("{base}/oauth/token"));
        metadata.registration_endpoint = Some(format!("{base}/oidc/register"));
        metadata.jwks_uri = Some(jwks_url);
        metadata.scopes_supported = config.scopes_supported.clone();
        metadata.grant_types_supported = config.grant_types_supported.clone();
        metadata.extra_authorize_params = vec![("audience".into(), config.audience.clone())];
        metadata.client_id = config.client_id.clone();
        metadata.client_secret = config.client_secret.clone();

        Ok(Auth0Provider {
            userinfo_url: format!("{base}/userinfo"),
            inner: JwtProvider::new(metadata, verifier),
            config,
        })
    }

    /// [`Auth0Config::from_env`] then [`Auth0Provider::new`]; the same as [`auth0_provider`].
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::new(Auth0Config::from_env()?)
    }

    /// [`Auth0Config::from_source`] then [`Auth0Provider::new`]: the settings from
    /// `source` instead of the process environment.
    pub fn from_source(source: &mcp_auth_core::env::EnvSource) -> Result<Self, ConfigError> {
        Self::new(Auth0Config::from_source(source)?)
    }

    /// The settings.
    pub fn config(&self) -> &Auth0Config {
        &self.config
    }

    /// The issuer tokens must carry, `https://{domain}/`.
    pub fn issuer(&self) -> &str {
        &self.inner.metadata().issuer
    }

    /// The tenant's OpenID userinfo endpoint, `https://{domain}/userinfo`, which
    /// accepts the caller's access token (Auth0 lists it in the token's `aud`).
    pub fn userinfo_url(&self) -> &str {
        &self.userinfo_url
    }

    /// The JWT verifier (rules, key cache, claim mapping).
    pub fn verifier(&self) -> &JwtVerifier {
        self.inner.verifier()
    }

    /// The seed libraries' `verifyJwt: false`: token signatures are no longer
    /// checked (issuer, audience and expiry still are). Logs a warning now and on
    /// every request. Only with the cargo feature `dangerous-skip-verification`;
    /// never in production.
    #[cfg(feature = "dangerous-skip-verification")]
    pub fn dangerously_skip_signature_verification(mut self) -> Self {
        let verifier = self
            .inner
            .verifier()
            .dangerously_skip_signature_verification();
        self.inner = JwtProvider::new(self.inner.metadata().clone(), verifier);
        self
    }
}

/// The zero-config Auth0 provider: `MCP_USE_OAUTH_AUTH0_DOMAIN` and
/// `MCP_USE_OAUTH_AUTH0_AUDIENCE` from the environment or `.env`.
///
/// ```no_run
/// use mcp_auth_core::McpAuth;
/// let auth = McpAuth::builder(mcp_auth_auth0::auth0_provider()?)
///     .resource_url("https://mcp.example.com/mcp").build()?;
/// # Ok::<(), mcp_auth_core::ConfigError>(())
/// ```
///
/// The error names every variable that is missing or malformed.
pub fn auth0_provider() -> Result<Auth0Provider, ConfigError> {
    Auth0Provider::from_env()
}

impl TokenVerifier for Auth0Provider {
    async fn verify_token(&self, token: &str) -> Result<AuthContext, VerifyError> {
        self.inner.verify_token(token).await
    }
}

impl AuthProvider for Auth0Provider {
    fn metadata(&self) -> &ProviderMetadata {
        self.inner.metadata()
    }

    /// Auth0 tokens are bound to the API identifier, not to the resource URL: nothing to do.
    fn bind_resource(&mut self, resource: &str) {
        self.inner.bind_resource(resource);
    }
}
