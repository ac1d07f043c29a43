//! [`KeycloakProvider`]: a [`JwtProvider`] for one Keycloak realm.

use std::sync::Arc;

use mcp_auth_core::jwt_provider::UNBOUND_RESOURCE_AUDIENCE;
use mcp_auth_core::{
    Audience, AuthContext, AuthProvider, ConfigError, JwksCache, JwtProvider, JwtVerifier,
    KeySource, ProviderMetadata, TokenVerifier, VerifyError,
};

use crate::claims::map_keycloak_user;
use crate::config::KeycloakConfig;

/// A Keycloak realm as the identity provider of an MCP server.
///
/// Tokens must be issued by `{server_url}/realms/{realm}` and signed by a key of
/// the realm's certs (`{issuer}/protocol/openid-connect/certs`). With a client id
/// configured, `aud` must contain it or `azp` must equal it; without one, `aud`
/// must contain this server's resource URL (bound when
/// [`McpAuthBuilder::resource_url`](mcp_auth_core::McpAuthBuilder::resource_url) is called).
/// Claims are mapped by [`map_keycloak_user`]: realm roles plus the configured
/// client's roles. The mode is proxy unless configured otherwise.
///
/// ```
/// use mcp_auth_core::{AuthProvider, Mode};
/// use mcp_auth_keycloak::KeycloakConfig;
/// let provider = KeycloakConfig::new("https://sso.example.com", "acme")
///     .client_id("mcp-server")
///     .build()?;
/// let meta = provider.metadata();
/// assert_eq!(meta.issuer, "https://sso.example.com/realms/acme");
/// assert_eq!(meta.mode, Mode::Proxy);
/// assert_eq!(
///     meta.token_endpoint.as_deref(),
///     Some("https://sso.example.com/realms/acme/protocol/openid-connect/token")
/// );
/// assert!(meta.grant_types_supported.iter().any(|g| g == "client_credentials"));
/// # Ok::<(), mcp_auth_core::ConfigError>(())
/// ```
#[derive(Debug, Clone)]
pub struct KeycloakProvider {
    config: KeycloakConfig,
    inner: JwtProvider,
}

impl KeycloakProvider {
    /// Builds the provider. Fails, naming the setting, when the server URL or
    /// realm is missing or malformed, a client secret is given without a client
    /// id, or the JWT rules cannot be honoured.
    pub fn new(config: KeycloakConfig) -> Result<Self, ConfigError> {
        let issuer = config.issuer()?;
        let jwks_uri = config.jwks_uri()?;
        let client_id = config.client_id.clone().filter(|c| !c.trim().is_empty());
        if config.client_secret.is_some() && client_id.is_none() {
            return Err(ConfigError::invalid(
                "client_secret",
                "is set without a client_id: a secret belongs to a client",
            ));
        }
        let audience = if config.accepts_any_audience() {
            tracing::warn!(
                %issuer,
                "Keycloak audience check DISABLED (dangerously_accept_any_audience): tokens issued to any client of this realm are accepted"
            );
            Audience::DangerouslyAcceptAny
        } else {
            match &client_id {
                Some(id) => Audience::OneOfOrAuthorizedParty(vec![id.clone()]),
                None => Audience::exactly(UNBOUND_RESOURCE_AUDIENCE),
            }
        };
        let mut rules = config.jwt.clone();
        rules.issuer = issuer.clone();
        rules.audience = audience;
        let jwks = JwksCache::new(jwks_uri.clone(), config.jwks)?;
        let mapper_client = client_id.clone();
        let verifier = JwtVerifier::new(rules, KeySource::Jwks(jwks))?.with_claim_mapper(Arc::new(
            move |claims| map_keycloak_user(claims, mapper_client.as_deref()),
        ));

        let oidc = format!("{issuer}/protocol/openid-connect");
        let mut metadata = ProviderMetadata::new(issuer.clone(), config.mode);
        metadata.authorization_endpoint = Some(format!("{oidc}/auth"));
        metadata.token_endpoint = Some(format!("{oidc}/token"));
        metadata.registration_endpoint = config
            .dynamic_client_registration
            .then(|| format!("{issuer}/clients-registrations/openid-connect"));
        metadata.jwks_uri = Some(jwks_uri);
        metadata.scopes_supported = config.scopes_supported.clone();
        metadata.grant_types_supported = config.grant_types_supported.clone();
        metadata.client_id = client_id.clone();
        metadata.client_secret = config.client_secret.clone();

        let mut inner = JwtProvider::new(metadata, verifier);
        if client_id.is_none() {
            inner = inner.accept_resource_audience();
        }
        Ok(KeycloakProvider { config, inner })
    }

    /// [`KeycloakConfig::from_env`] then [`KeycloakProvider::new`].
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::new(KeycloakConfig::from_env()?)
    }

    /// [`KeycloakConfig::from_source`] then [`KeycloakProvider::new`]: the settings from
    /// `source` instead of the process environment.
    pub fn from_source(source: &mcp_auth_core::env::EnvSource) -> Result<Self, ConfigError> {
        Self::new(KeycloakConfig::from_source(source)?)
    }

    /// The settings the provider was built from.
    pub fn config(&self) -> &KeycloakConfig {
        &self.config
    }

    /// The JWT verifier (its rules, allowed algorithms and key cache).
    pub fn verifier(&self) -> &JwtVerifier {
        self.inner.verifier()
    }

    /// The underlying core provider.
    pub fn into_jwt_provider(self) -> JwtProvider {
        self.inner
    }
}

/// The zero-config Keycloak provider: [`KeycloakConfig::from_env`] (reading
/// `MCP_USE_OAUTH_KEYCLOAK_*` from the environment and `.env`) then build.
///
/// ```no_run
/// let auth = mcp_auth_core::McpAuth::builder(mcp_auth_keycloak::keycloak_provider()?)
///     .resource_url("https://mcp.example.com/mcp").build()?;
/// # Ok::<(), mcp_auth_core::ConfigError>(())
/// ```
pub fn keycloak_provider() -> Result<KeycloakProvider, ConfigError> {
    KeycloakProvider::from_env()
}

impl TokenVerifier for KeycloakProvider {
    async fn verify_token(&self, token: &str) -> Result<AuthContext, VerifyError> {
        self.inner.verify_token(token).await
    }
}

impl AuthProvider for KeycloakProvider {
    fn metadata(&self) -> &ProviderMetadata {
        self.inner.metadata()
    }

    fn bind_resource(&mut self, resource: &str) {
        self.inner.bind_resource(resource);
    }
}
