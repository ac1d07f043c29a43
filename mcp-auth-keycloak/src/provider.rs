//! [`KeycloakProvider`]: a [`JwtProvider`] for one Keycloak realm.

use mcp_auth_core::{ConfigError, JwtProvider};

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
/// use mcp_auth_keycloak::{KeycloakConfig, KeycloakProvider};
/// let provider = KeycloakProvider::new(
///     KeycloakConfig::new("https://sso.example.com", "acme").with_client_id("mcp-server"),
/// )?;
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
        let client_id = config.client_id.clone().filter(|c| !c.trim().is_empty());
        if config.client_secret.is_some() && client_id.is_none() {
            return Err(ConfigError::invalid(
                "client_secret",
                "is set without a client_id: a secret belongs to a client",
            ));
        }
        let oidc = format!("{issuer}/protocol/openid-connect");
        let mapper_client = client_id.clone();
        let builder = JwtProvider::builder(issuer.clone(), config.mode)
            .jwks_url(config.jwks_url()?)
            .rules(config.jwt.clone())
            .jwks_config(config.jwks)
            .authorization_endpoint(format!("{oidc}/auth"))
            .token_endpoint(format!("{oidc}/token"))
            .registration_endpoint(
                config
                    .dynamic_client_registration
                    .then(|| format!("{issuer}/clients-registrations/openid-connect")),
            )
            .scopes(config.scopes_supported.clone())
            .grant_types(config.grant_types_supported.clone())
            .client(client_id.clone(), config.client_secret.clone())
            .claim_mapper(move |claims| map_keycloak_user(claims, mapper_client.as_deref()));
        let builder = if config.accepts_any_audience() {
            tracing::warn!(
                %issuer,
                "Keycloak audience check DISABLED (dangerously_accept_any_audience): tokens issued to any client of this realm are accepted"
            );
            builder.dangerously_accept_any_audience()
        } else {
            match &client_id {
                Some(id) => builder.audiences_or_authorized_party([id.clone()]),
                // Without a client, tokens must be for this server's resource URL.
                None => builder.accept_resource_audience(true),
            }
        };
        Ok(KeycloakProvider {
            inner: builder.build()?,
            config,
        })
    }
}

mcp_auth_core::jwt_provider_newtype!(KeycloakProvider, KeycloakConfig);

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
