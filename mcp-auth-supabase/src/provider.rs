//! [`SupabaseProvider`]: a [`JwtProvider`] for a Supabase project.

use std::sync::Arc;

use mcp_auth_core::{
    Audience, AuthContext, AuthProvider, ConfigError, HmacSecret, JwksCache, JwtProvider,
    JwtVerifier, KeySource, ProviderMetadata, TokenVerifier, VerifyError,
};

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
/// use mcp_auth_supabase::SupabaseConfig;
/// let provider = SupabaseConfig::for_project("abcdefghijklmnopqrst").build()?;
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
        let jwks_uri = config.jwks_uri()?;
        let jwks = JwksCache::new(jwks_uri.clone(), config.jwks)?;
        let keys = match &config.jwt_secret {
            Some(secret) => {
                KeySource::JwksAndSecret(jwks, HmacSecret::new(secret.secret().as_bytes()))
            }
            None => KeySource::Jwks(jwks),
        };
        let audience = if config.accepts_any_audience() {
            tracing::warn!(
                %issuer,
                "Supabase audience check DISABLED (dangerously_accept_any_audience): tokens minted for any audience of this project are accepted"
            );
            Audience::DangerouslyAcceptAny
        } else {
            Audience::OneOf(config.audiences.clone())
        };
        let mut rules = config.jwt.clone();
        rules.issuer = issuer.clone();
        rules.audience = audience;
        rules.algorithms = Some(config.algorithms());
        let verifier = JwtVerifier::new(rules, keys)
            .map_err(name_the_secret_variable)?
            .with_claim_mapper(Arc::new(map_supabase_user));

        let mut metadata = ProviderMetadata::new(issuer.clone(), config.mode);
        metadata.authorization_endpoint = Some(format!("{issuer}/oauth/authorize"));
        metadata.token_endpoint = Some(format!("{issuer}/oauth/token"));
        metadata.registration_endpoint = config
            .dynamic_client_registration
            .then(|| format!("{issuer}/oauth/clients/register"));
        metadata.jwks_uri = Some(jwks_uri);
        metadata.scopes_supported = config.scopes_supported.clone();
        metadata.grant_types_supported = config.grant_types_supported.clone();
        Ok(SupabaseProvider {
            inner: JwtProvider::new(metadata, verifier),
            config,
        })
    }

    /// [`SupabaseConfig::from_env`] then [`SupabaseProvider::new`].
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::new(SupabaseConfig::from_env()?)
    }

    /// [`SupabaseConfig::from_source`] then [`SupabaseProvider::new`]: the settings from
    /// `source` instead of the process environment.
    pub fn from_source(source: &mcp_auth_core::env::EnvSource) -> Result<Self, ConfigError> {
        Self::new(SupabaseConfig::from_source(source)?)
    }

    /// The settings the provider was built from.
    pub fn config(&self) -> &SupabaseConfig {
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

impl TokenVerifier for SupabaseProvider {
    async fn verify_token(&self, token: &str) -> Result<AuthContext, VerifyError> {
        self.inner.verify_token(token).await
    }
}

impl AuthProvider for SupabaseProvider {
    fn metadata(&self) -> &ProviderMetadata {
        self.inner.metadata()
    }

    fn bind_resource(&mut self, resource: &str) {
        self.inner.bind_resource(resource);
    }
}
