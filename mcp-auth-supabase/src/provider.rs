//! [`SupabaseProvider`]: a [`JwtProvider`] for a Supabase project.

use mcp_auth_core::{ConfigError, JwtProvider, jwt::HmacSecret};

use crate::claims::map_supabase_user;
use crate::config::{SUPABASE_JWT_SECRET_VAR, SupabaseConfig};

/// A problem with the HMAC secret, named as the user set it: the variable
/// [`SUPABASE_JWT_SECRET_VAR`] (or the field `SupabaseConfig::jwt_secret`).
fn name_the_secret_variable(error: ConfigError) -> ConfigError {
    match error {
        ConfigError::Invalid { name, reason } if name == "HMAC secret" => ConfigError::invalid(
            format!("{SUPABASE_JWT_SECRET_VAR} (SupabaseConfig::jwt_secret)"),
            format!("{reason}; use the project's JWT secret from the Supabase dashboard"),
        ),
        other => other,
    }
}

/// Supabase Auth as the identity provider of an MCP server.
///
/// Tokens must be issued by `{project_url}/auth/v1`, carry an accepted `aud`
/// (`authenticated` by default), and be signed either by a key of the project's
/// JWKS (ES256 or RS256) or, only when a legacy JWT secret is configured, with
/// HS256 and that secret. Claims are mapped by [`map_supabase_user`]. The mode is
/// proxy unless configured otherwise: this server names itself as the
/// authorization server and forwards to Supabase's OAuth 2.1 endpoints.
///
/// ```
/// use mcp_auth_core::{AuthProvider, Mode};
/// use mcp_auth_supabase::{SupabaseConfig, SupabaseProvider};
/// let provider = SupabaseProvider::new(SupabaseConfig::for_project("abcdefghijklmnopqrst"))?;
/// let meta = provider.metadata();
/// assert_eq!(meta.issuer, "https://abcdefghijklmnopqrst.supabase.co/auth/v1");
/// assert_eq!(meta.mode, Mode::Proxy);
/// assert_eq!(
///     meta.authorization_endpoint.as_deref(),
///     Some("https://abcdefghijklmnopqrst.supabase.co/auth/v1/oauth/authorize")
/// );
/// # Ok::<(), mcp_auth_core::ConfigError>(())
/// ```
#[derive(Debug, Clone)]
pub struct SupabaseProvider {
    config: SupabaseConfig,
    inner: JwtProvider,
}

impl SupabaseProvider {
    /// Builds the provider. Fails, naming the setting, when the project location
    /// is missing or malformed, the audience list is empty, a URL is not http(s),
    /// or the JWT rules cannot be honoured (e.g. a secret shorter than 32 bytes,
    /// named as [`SUPABASE_JWT_SECRET_VAR`], or an algorithm list that only names
    /// HS256 without a secret).
    pub fn new(config: SupabaseConfig) -> Result<Self, ConfigError> {
        let issuer = config.issuer()?;
        let mut rules = config.jwt.clone();
        rules.algorithms = Some(config.algorithms());
        let mut builder = JwtProvider::builder(issuer.clone(), config.mode)
            .jwks_url(config.jwks_url()?)
            .rules(rules)
            .jwks_config(config.jwks)
            .authorization_endpoint(format!("{issuer}/oauth/authorize"))
            .token_endpoint(format!("{issuer}/oauth/token"))
            .registration_endpoint(
                config
                    .dynamic_client_registration
                    .then(|| format!("{issuer}/oauth/clients/register")),
            )
            .scopes(config.scopes_supported.clone())
            .grant_types(config.grant_types_supported.clone())
            .client(config.client_id.clone(), config.client_secret.clone())
            .claim_mapper(map_supabase_user);
        if let Some(secret) = &config.jwt_secret {
            builder = builder.hmac_secret(HmacSecret::new(secret.secret()));
        }
        let builder = if config.accepts_any_audience() {
            tracing::warn!(
                %issuer,
                "Supabase audience check DISABLED (dangerously_accept_any_audience): tokens minted for any audience of this project are accepted"
            );
            builder.dangerously_accept_any_audience()
        } else {
            builder.audiences(config.audiences.clone())
        };
        Ok(SupabaseProvider {
            inner: builder.build().map_err(name_the_secret_variable)?,
            config,
        })
    }
}

mcp_auth_core::jwt_provider_newtype!(SupabaseProvider, SupabaseConfig);

/// The zero-config Supabase provider: [`SupabaseConfig::from_env`] (reading
/// `MCP_USE_OAUTH_SUPABASE_*` from the environment and `.env`) then build.
///
/// ```no_run
/// let auth = mcp_auth_core::McpAuth::builder(mcp_auth_supabase::supabase_provider()?)
///     .resource_url("https://mcp.example.com/mcp").build()?;
/// # Ok::<(), mcp_auth_core::ConfigError>(())
/// ```
pub fn supabase_provider() -> Result<SupabaseProvider, ConfigError> {
    SupabaseProvider::from_env()
}
