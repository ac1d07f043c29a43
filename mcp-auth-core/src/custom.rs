//! [`CustomProvider`]: bring your own OAuth provider from explicit settings.

use std::future::Future;
use std::sync::Arc;

use crate::claims::{self, ClaimMapper};
use crate::env::{EnvReader, EnvSource, check_secure_url, split_list};
use crate::error::{ConfigError, VerifyError};
use crate::jwt::JwtRules;
use crate::jwt::{JwksConfig, JwtVerifier};
use crate::jwt_provider::JwtProvider;
use crate::provider::{AuthProvider, BoxFuture, Mode, ProviderMetadata, TokenVerifier};
use crate::secret::ClientSecret;
use crate::user::{AuthContext, Claims};

/// A user-supplied verification function: token in, verified claims out.
pub type VerifyFn =
    Arc<dyn Fn(String) -> BoxFuture<'static, Result<Claims, VerifyError>> + Send + Sync>;

/// Settings of a [`CustomProvider`]. Only `issuer` is required.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CustomConfig {
    /// Issuer identifier, exactly as in the tokens' `iss`.
    pub issuer: String,
    /// Accepted audience. `None` binds tokens to this server's resource URL (set
    /// with [`crate::McpAuthBuilder::resource_url`]), as RFC 8707 intends.
    pub audience: Option<String>,
    /// JWKS URL. `None` takes `jwks_uri` from the issuer's OpenID discovery document.
    pub jwks_url: Option<String>,
    /// Upstream authorization endpoint.
    pub authorization_endpoint: Option<String>,
    /// Upstream token endpoint.
    pub token_endpoint: Option<String>,
    /// Upstream registration endpoint (RFC 7591).
    pub registration_endpoint: Option<String>,
    /// Scopes advertised to clients.
    pub scopes_supported: Vec<String>,
    /// Grant types advertised to clients. Default: authorization_code, refresh_token.
    pub grant_types_supported: Vec<String>,
    /// Direct (the default: clients log in at the issuer) or proxy.
    pub mode: Mode,
    /// A client pre-registered at the provider. In proxy mode it makes the
    /// broker: MCP clients register and consent here, and this server logs in
    /// upstream as this client (what providers without dynamic registration need).
    pub client_id: Option<String>,
    /// The secret of [`client_id`](Self::client_id), for a confidential client.
    pub client_secret: Option<ClientSecret>,
    /// JWT rules beyond issuer and audience: leeway, algorithms, strict `typ`,
    /// token cache.
    pub jwt: JwtRules,
    /// JWKS cache settings.
    pub jwks: JwksConfig,
}

impl CustomConfig {
    /// Settings for `issuer` with every default.
    pub fn new(issuer: impl Into<String>) -> Self {
        let issuer = issuer.into();
        CustomConfig {
            jwt: JwtRules::default(),
            issuer,
            audience: None,
            jwks_url: None,
            authorization_endpoint: None,
            token_endpoint: None,
            registration_endpoint: None,
            scopes_supported: Vec::new(),
            grant_types_supported: crate::provider::default_grant_types(),
            mode: Mode::Direct,
            client_id: None,
            client_secret: None,
            jwks: JwksConfig::default(),
        }
    }

    /// Reads `MCP_USE_OAUTH_CUSTOM_ISSUER` (required), `_AUDIENCE`, `_JWKS_URL`,
    /// `_AUTH_ENDPOINT`, `_TOKEN_ENDPOINT`, `_REGISTRATION_ENDPOINT`, `_SCOPES`
    /// (space-separated), `_MODE` (`direct` or `proxy`), `_CLIENT_ID` and
    /// `_CLIENT_SECRET` (a pre-registered upstream client), after loading `.env`.
    /// The error names every variable that is missing or malformed.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_source(&EnvSource::process())
    }

    /// [`CustomConfig::from_env`] over the variables of `source` instead of the
    /// process environment.
    ///
    /// ```
    /// use mcp_auth_core::CustomConfig;
    /// use mcp_auth_core::env::EnvSource;
    /// let source = EnvSource::from_vars([("MCP_USE_OAUTH_CUSTOM_ISSUER", "https://auth.example.com")]);
    /// let config = CustomConfig::from_source(&source)?;
    /// assert_eq!(config.issuer, "https://auth.example.com");
    /// # Ok::<(), mcp_auth_core::ConfigError>(())
    /// ```
    pub fn from_source(source: &EnvSource) -> Result<Self, ConfigError> {
        let mut env = EnvReader::with_source(source);
        let issuer = env.required_url("MCP_USE_OAUTH_CUSTOM_ISSUER");
        let audience = env.optional("MCP_USE_OAUTH_CUSTOM_AUDIENCE");
        let jwks_url = env.optional_url("MCP_USE_OAUTH_CUSTOM_JWKS_URL");
        let authorization_endpoint = env.optional_url("MCP_USE_OAUTH_CUSTOM_AUTH_ENDPOINT");
        let token_endpoint = env.optional_url("MCP_USE_OAUTH_CUSTOM_TOKEN_ENDPOINT");
        let registration_endpoint = env.optional_url("MCP_USE_OAUTH_CUSTOM_REGISTRATION_ENDPOINT");
        let scopes = env
            .optional("MCP_USE_OAUTH_CUSTOM_SCOPES")
            .map(|s| split_list(&s))
            .unwrap_or_default();
        let mode = match env
            .optional("MCP_USE_OAUTH_CUSTOM_MODE")
            .as_deref()
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            None | Some("direct") => Mode::Direct,
            Some("proxy") => Mode::Proxy,
            Some(other) => {
                env.invalid(
                    "MCP_USE_OAUTH_CUSTOM_MODE",
                    format!("{other:?} is neither \"direct\" nor \"proxy\""),
                );
                Mode::Direct
            }
        };
        let client_id = env.optional("MCP_USE_OAUTH_CUSTOM_CLIENT_ID");
        let client_secret = env.optional("MCP_USE_OAUTH_CUSTOM_CLIENT_SECRET");
        if client_secret.is_some() && client_id.is_none() {
            env.invalid(
                "MCP_USE_OAUTH_CUSTOM_CLIENT_SECRET",
                "is set without MCP_USE_OAUTH_CUSTOM_CLIENT_ID: a secret belongs to a client",
            );
        }
        env.finish()?;
        let mut config = CustomConfig::new(issuer.unwrap_or_default());
        config.client_id = client_id;
        config.client_secret = client_secret.map(ClientSecret::new);
        config.audience = audience;
        config.jwks_url = jwks_url;
        config.authorization_endpoint = authorization_endpoint;
        config.token_endpoint = token_endpoint;
        config.registration_endpoint = registration_endpoint;
        config.scopes_supported = scopes;
        config.mode = mode;
        Ok(config)
    }
}

/// A provider built from explicit settings, with optional closures for token
/// verification and for the claims -> [`AuthUser`](crate::AuthUser) mapping.
///
/// ```no_run
/// use mcp_auth_core::{CustomConfig, CustomProvider, McpAuth};
/// let mut config = CustomConfig::new("https://auth.example.com");
/// config.jwks_url = Some("https://auth.example.com/.well-known/jwks.json".into());
/// config.audience = Some("my-api".into());
/// let provider = CustomProvider::new(config)?
///     .with_claim_mapper(|claims| mcp_auth_core::AuthUser::new(
///         claims.get("uid").and_then(|v| v.as_str()).unwrap_or_default(),
///     ));
/// let auth = McpAuth::builder(provider).resource_url("https://mcp.example.com/mcp").build()?;
/// # Ok::<(), mcp_auth_core::ConfigError>(())
/// ```
pub struct CustomProvider {
    /// Metadata, and the JWT verification used unless `verify_fn` replaces it.
    inner: JwtProvider,
    config: CustomConfig,
    verify_fn: Option<VerifyFn>,
    mapper: ClaimMapper,
}

impl std::fmt::Debug for CustomProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CustomProvider")
            .field("config", &self.config)
            .finish()
    }
}

impl CustomProvider {
    /// A provider verifying JWTs from `config.issuer` with its JWKS.
    ///
    /// Fails, naming the setting and its variable, when a URL is not https (plain
    /// http only for loopback hosts), when proxy mode lacks its upstream endpoints,
    /// or when the JWT rules cannot be honoured.
    pub fn new(config: CustomConfig) -> Result<Self, ConfigError> {
        let urls = [
            ("issuer", "ISSUER", Some(&config.issuer)),
            ("jwks_url", "JWKS_URL", config.jwks_url.as_ref()),
            (
                "authorization_endpoint",
                "AUTH_ENDPOINT",
                config.authorization_endpoint.as_ref(),
            ),
            (
                "token_endpoint",
                "TOKEN_ENDPOINT",
                config.token_endpoint.as_ref(),
            ),
            (
                "registration_endpoint",
                "REGISTRATION_ENDPOINT",
                config.registration_endpoint.as_ref(),
            ),
        ];
        for (field, var, url) in urls {
            if let Some(url) = url
                && let Err(reason) = check_secure_url(url)
            {
                return Err(ConfigError::invalid(
                    format!("CustomConfig::{field} (MCP_USE_OAUTH_CUSTOM_{var})"),
                    reason,
                ));
            }
        }
        if config.mode == Mode::Proxy
            && (config.authorization_endpoint.is_none() || config.token_endpoint.is_none())
        {
            return Err(ConfigError::invalid(
                "mode",
                "proxy mode needs the upstream authorization and token endpoints (MCP_USE_OAUTH_CUSTOM_AUTH_ENDPOINT, MCP_USE_OAUTH_CUSTOM_TOKEN_ENDPOINT)",
            ));
        }
        let mut builder = JwtProvider::builder(config.issuer.clone(), config.mode)
            .audiences(config.audience.clone())
            // No audience configured: bound to the resource URL (RFC 8707).
            .accept_resource_audience(config.audience.is_none())
            .rules(config.jwt.clone())
            .jwks_config(config.jwks)
            .registration_endpoint(config.registration_endpoint.clone())
            .scopes(config.scopes_supported.clone())
            .grant_types(config.grant_types_supported.clone())
            .client(config.client_id.clone(), config.client_secret.clone());
        if let Some(url) = &config.jwks_url {
            builder = builder.jwks_url(url.clone());
        }
        if let Some(url) = &config.authorization_endpoint {
            builder = builder.authorization_endpoint(url.clone());
        }
        if let Some(url) = &config.token_endpoint {
            builder = builder.token_endpoint(url.clone());
        }
        Ok(CustomProvider {
            inner: builder.build()?,
            config,
            verify_fn: None,
            mapper: Arc::new(claims::map_default_user),
        })
    }

    /// [`CustomConfig::from_env`] then [`CustomProvider::new`].
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::new(CustomConfig::from_env()?)
    }

    /// [`CustomConfig::from_source`] then [`CustomProvider::new`].
    pub fn from_source(source: &EnvSource) -> Result<Self, ConfigError> {
        Self::new(CustomConfig::from_source(source)?)
    }

    /// Replaces JWT verification with your own function (e.g. token introspection).
    /// It returns the verified claims; the claim mapper still builds the user.
    pub fn with_verify_fn<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn(String) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Claims, VerifyError>> + Send + 'static,
    {
        let f = Arc::new(f);
        self.verify_fn = Some(Arc::new(move |token| {
            let f = Arc::clone(&f);
            Box::pin(async move { f(token).await })
        }));
        self
    }

    /// Replaces the default claims -> user mapping.
    pub fn with_claim_mapper<F>(mut self, f: F) -> Self
    where
        F: Fn(&Arc<Claims>) -> crate::AuthUser + Send + Sync + 'static,
    {
        self.mapper = Arc::new(f);
        self.inner.set_claim_mapper(Arc::clone(&self.mapper));
        self
    }

    /// The seed's `verifyJwt: false`: token signatures are no longer checked (every
    /// other rule still is). Logs a warning now and on every request. Only with the
    /// cargo feature `dangerous-skip-verification`; never in production.
    #[cfg(feature = "dangerous-skip-verification")]
    pub fn dangerously_skip_signature_verification(mut self) -> Self {
        self.inner = self.inner.dangerously_skip_signature_verification();
        self
    }

    /// A client pre-registered at the provider: in proxy mode its secret is added
    /// to token requests that name it.
    pub fn with_proxy_client(
        mut self,
        client_id: impl Into<String>,
        secret: Option<ClientSecret>,
    ) -> Self {
        let metadata = self.inner.metadata_mut();
        metadata.client_id = Some(client_id.into());
        metadata.client_secret = secret;
        self
    }

    /// A parameter the proxy adds to every upstream authorization request.
    pub fn with_authorize_param(
        mut self,
        name: impl Into<String>,
        value: impl Into<String>,
    ) -> Self {
        self.inner
            .metadata_mut()
            .extra_authorize_params
            .push((name.into(), value.into()));
        self
    }

    /// The JWT verifier, unless a custom verification function replaced it.
    pub fn jwt_verifier(&self) -> Option<&JwtVerifier> {
        match &self.verify_fn {
            None => Some(self.inner.verifier()),
            Some(_) => None,
        }
    }

    /// The settings.
    pub fn config(&self) -> &CustomConfig {
        &self.config
    }
}

impl TokenVerifier for CustomProvider {
    async fn verify_token(&self, token: &str) -> Result<AuthContext, VerifyError> {
        match &self.verify_fn {
            None => self.inner.verify_token(token).await,
            Some(f) => {
                let claims = Arc::new(f(token.to_owned()).await?);
                Ok(claims::build_context(token, claims, &self.mapper))
            }
        }
    }
}

impl AuthProvider for CustomProvider {
    fn metadata(&self) -> &ProviderMetadata {
        self.inner.metadata()
    }

    /// Without a configured audience, tokens for `resource` are accepted from here on.
    fn bind_resource(&mut self, resource: &str) {
        self.inner.bind_resource(resource);
    }
}
