//! [`WorkosProvider`]: WorkOS AuthKit as a [`mcp_auth_core::AuthProvider`].

use mcp_auth_core::{ConfigError, JwtProvider, Mode};

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
        let builder = JwtProvider::builder(base.clone(), Mode::Direct)
            .jwks_url(config.jwks_url()?)
            .rules(config.jwt.clone())
            .jwks_config(config.jwks)
            .authorization_endpoint(format!("{base}/oauth2/authorize"))
            .token_endpoint(format!("{base}/oauth2/token"))
            .registration_endpoint(Some(format!("{base}/oauth2/register")))
            .scopes(config.scopes_supported.clone())
            .grant_types(config.grant_types_supported.clone())
            .client(config.client_id.clone(), config.client_secret.clone())
            .claim_mapper(map_workos_user);
        let builder = if config.accepts_any_audience() {
            tracing::warn!(
                issuer = %base,
                "WorkOS audience check DISABLED (dangerously_accept_any_audience): tokens AuthKit issued for any other application will be accepted"
            );
            builder.dangerously_accept_any_audience()
        } else {
            builder
                .audiences(
                    config
                        .client_id
                        .iter()
                        .chain(&config.extra_audiences)
                        .cloned(),
                )
                // The resource URL, once bound.
                .accept_resource_audience(true)
        };
        Ok(WorkosProvider {
            inner: builder.build()?,
            config,
        })
    }

    /// The WorkOS API key, if configured, for your own calls to the WorkOS API.
    pub fn api_key(&self) -> Option<&WorkosApiKey> {
        self.config.api_key.as_ref()
    }

    /// The WorkOS API base URL (default `https://api.workos.com`).
    pub fn api_base_url(&self) -> &str {
        self.config.api_base_url.trim_end_matches('/')
    }
}

mcp_auth_core::jwt_provider_newtype!(WorkosProvider, WorkosConfig);

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
