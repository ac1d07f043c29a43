//! [`Auth0Provider`]: Auth0 as a [`mcp_auth_core::AuthProvider`].

use mcp_auth_core::{ConfigError, JwtProvider, Mode};

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
        let issuer = config.issuer()?;
        let roles_claim = config.effective_roles_claim();
        let builder = JwtProvider::builder(issuer.clone(), Mode::Proxy)
            .jwks_url(config.jwks_url()?)
            .rules(config.jwt.clone())
            .jwks_config(config.jwks)
            .authorization_endpoint(format!("{base}/authorize"))
            .token_endpoint(format!("{base}/oauth/token"))
            .registration_endpoint(Some(format!("{base}/oidc/register")))
            .scopes(config.scopes_supported.clone())
            .grant_types(config.grant_types_supported.clone())
            .client(config.client_id.clone(), config.client_secret.clone())
            // Without `audience` Auth0 issues opaque tokens.
            .authorize_param("audience", config.audience.clone())
            .claim_mapper(move |claims| map_auth0_user(claims, roles_claim.as_deref()));
        let builder = if config.accepts_any_audience() {
            tracing::warn!(
                %issuer,
                "Auth0 audience check DISABLED (dangerously_accept_any_audience): tokens the tenant issued for any other API will be accepted"
            );
            builder.dangerously_accept_any_audience()
        } else {
            builder.audiences([config.audience.clone()])
        };
        Ok(Auth0Provider {
            userinfo_url: config.userinfo_url()?,
            inner: builder.build()?,
            config,
        })
    }

    /// The tenant's OpenID userinfo endpoint, `https://{domain}/userinfo`, which
    /// accepts the caller's access token (Auth0 lists it in the token's `aud`).
    pub fn userinfo_url(&self) -> &str {
        &self.userinfo_url
    }
}

mcp_auth_core::jwt_provider_newtype!(Auth0Provider, Auth0Config);

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
