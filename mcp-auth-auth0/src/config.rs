//! [`Auth0Config`]: the settings of the Auth0 preset, explicit or from the environment.

use std::time::Duration;

use mcp_auth_core::default_grant_types;
use mcp_auth_core::env::{EnvReader, EnvSource};
use mcp_auth_core::{ClientSecret, ConfigError, jwt::JwksConfig, jwt::JwtRules};

use mcp_auth_core::env::domain_base_url as base_url;

/// `MCP_USE_OAUTH_AUTH0_DOMAIN`: the tenant domain, e.g. `your-tenant.auth0.com`.
pub const AUTH0_DOMAIN_VAR: &str = "MCP_USE_OAUTH_AUTH0_DOMAIN";
/// `MCP_USE_OAUTH_AUTH0_AUDIENCE`: the identifier of the Auth0 API that stands for
/// this MCP server, e.g. `https://api.example.com`.
pub const AUTH0_AUDIENCE_VAR: &str = "MCP_USE_OAUTH_AUTH0_AUDIENCE";
/// The environment variables this preset reads (both required).
pub const AUTH0_ENV_VARS: &[&str] = &[AUTH0_DOMAIN_VAR, AUTH0_AUDIENCE_VAR];
/// Scopes advertised to MCP clients by default.
pub const AUTH0_DEFAULT_SCOPES: &[&str] = &["openid", "profile", "email", "offline_access"];

/// Settings of the Auth0 preset.
///
/// Build it with [`Auth0Config::new`] (everything explicit), [`Auth0Config::from_env`]
/// (everything from `MCP_USE_OAUTH_AUTH0_*` and `.env`), or mix the two with
/// [`Auth0Config::with_env`]: values you set win, the environment fills the rest.
///
/// ```
/// use mcp_auth_auth0::Auth0Config;
/// let config = Auth0Config::new("your-tenant.auth0.com", "https://api.example.com")
///     .with_roles_claim("https://example.com/roles");
/// assert_eq!(config.issuer()?, "https://your-tenant.auth0.com/");
/// assert_eq!(config.jwks_url()?, "https://your-tenant.auth0.com/.well-known/jwks.json");
/// # Ok::<(), mcp_auth_core::ConfigError>(())
/// ```
///
/// `Debug` never prints the client secret.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Auth0Config {
    /// The tenant domain (`your-tenant.auth0.com`, a regional
    /// `your-tenant.eu.auth0.com`, or a custom domain such as `login.example.com`).
    /// An `https://` prefix and a trailing `/` are tolerated. Plain `http://` is
    /// accepted for `localhost` / `127.0.0.1` only (a local mock of Auth0).
    /// Environment: [`AUTH0_DOMAIN_VAR`].
    pub domain: String,
    /// The API identifier ("audience") configured in the Auth0 dashboard for this
    /// server. Access tokens must list it in `aud`, and the proxy adds it to every
    /// authorization request (without it Auth0 issues opaque tokens).
    /// Environment: [`AUTH0_AUDIENCE_VAR`].
    pub audience: String,
    /// Overrides the base URL `https://{domain}` that every Auth0 URL (issuer,
    /// JWKS, authorize, token, registration, userinfo) is built from. For tests and
    /// local mocks: `http://127.0.0.1:PORT`. Default `None`.
    pub base_url: Option<String>,
    /// The namespaced custom claim your Auth0 Action or Rule writes the user's roles
    /// into (Auth0 requires custom claims to be namespaced by a URL), e.g.
    /// `https://example.com/roles`. `None` (the default) uses `{audience}/roles` when
    /// the audience is an http(s) URL. A plain `roles` claim is read as well.
    pub roles_claim: Option<String>,
    /// Scopes advertised to clients. Default: [`AUTH0_DEFAULT_SCOPES`].
    pub scopes_supported: Vec<String>,
    /// Grant types advertised to clients. Default: `authorization_code`, `refresh_token`.
    pub grant_types_supported: Vec<String>,
    /// A client pre-registered in Auth0 that the proxy uses for clients that do not
    /// register themselves. Default `None` (clients register through `/register`,
    /// which needs Dynamic Client Registration enabled on the tenant).
    pub client_id: Option<String>,
    /// The secret of [`client_id`](Self::client_id), for confidential clients.
    /// Never printed by `Debug`.
    pub client_secret: Option<ClientSecret>,
    /// JWT rules beyond issuer and audience (which come from the fields above):
    /// leeway, algorithm allowlist, strict `typ: at+jwt` (Auth0's RFC 9068 token
    /// profile), token cache. Default: [`JwtRules::default`] (every asymmetric
    /// algorithm the tenant's JWKS publishes, each key bound to its own).
    pub jwt: JwtRules,
    /// JWKS cache settings (TTL, refetch cool-down, timeouts, size cap).
    pub jwks: JwksConfig,
    accept_any_audience: bool,
}

impl Default for Auth0Config {
    /// No domain and no audience (set them, or call [`Auth0Config::with_env`]),
    /// every other setting at its default.
    fn default() -> Self {
        Auth0Config {
            domain: String::new(),
            audience: String::new(),
            base_url: None,
            roles_claim: None,
            scopes_supported: AUTH0_DEFAULT_SCOPES
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
            grant_types_supported: default_grant_types(),
            client_id: None,
            client_secret: None,
            jwt: JwtRules::default(),
            jwks: JwksConfig::default(),
            accept_any_audience: false,
        }
    }
}

impl Auth0Config {
    /// Settings for the tenant `domain` and the API identifier `audience`, every
    /// other setting at its default.
    pub fn new(domain: impl Into<String>, audience: impl Into<String>) -> Self {
        Auth0Config {
            domain: domain.into(),
            audience: audience.into(),
            ..Self::default()
        }
    }

    /// Loads `.env`, then reads [`AUTH0_DOMAIN_VAR`] and [`AUTH0_AUDIENCE_VAR`]
    /// (both required). The error names every variable that is missing or malformed.
    ///
    /// ```no_run
    /// let config = mcp_auth_auth0::Auth0Config::from_env()?;
    /// # Ok::<(), mcp_auth_core::ConfigError>(())
    /// ```
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_source(&EnvSource::process())
    }

    /// [`Auth0Config::from_env`] over the variables of `source` instead of the
    /// process environment.
    ///
    /// ```
    /// use mcp_auth_auth0::Auth0Config;
    /// use mcp_auth_core::env::EnvSource;
    /// let source = EnvSource::from_vars([
    ///     ("MCP_USE_OAUTH_AUTH0_DOMAIN", "your-tenant.auth0.com"),
    ///     ("MCP_USE_OAUTH_AUTH0_AUDIENCE", "https://api.example.com"),
    /// ]);
    /// let config = Auth0Config::from_source(&source)?;
    /// assert_eq!(config.issuer()?, "https://your-tenant.auth0.com/");
    /// # Ok::<(), mcp_auth_core::ConfigError>(())
    /// ```
    pub fn from_source(source: &EnvSource) -> Result<Self, ConfigError> {
        Self::default().with_source(source)
    }

    /// Fills the settings that are still unset from the environment (after loading
    /// `.env`): the domain from [`AUTH0_DOMAIN_VAR`] unless `domain` or `base_url`
    /// is set, the audience from [`AUTH0_AUDIENCE_VAR`] unless `audience` is set.
    /// Explicit values always win. The error names every variable that is needed
    /// and missing or malformed.
    ///
    /// ```no_run
    /// use mcp_auth_auth0::Auth0Config;
    /// // The audience is fixed in code; the domain comes from MCP_USE_OAUTH_AUTH0_DOMAIN.
    /// let mut config = Auth0Config::default();
    /// config.audience = "https://api.example.com".into();
    /// let config = config.with_env()?;
    /// # Ok::<(), mcp_auth_core::ConfigError>(())
    /// ```
    pub fn with_env(self) -> Result<Self, ConfigError> {
        let needs_domain = self.domain.trim().is_empty() && self.base_url.is_none();
        if !needs_domain && !self.audience.is_empty() {
            return Ok(self);
        }
        self.with_source(&EnvSource::process())
    }

    /// [`Auth0Config::with_env`] over the variables of `source` instead of the
    /// process environment.
    pub fn with_source(mut self, source: &EnvSource) -> Result<Self, ConfigError> {
        let needs_domain = self.domain.trim().is_empty() && self.base_url.is_none();
        let needs_audience = self.audience.is_empty();
        if !needs_domain && !needs_audience {
            return Ok(self);
        }
        let mut env = EnvReader::with_source(source);
        if needs_domain && let Some(domain) = env.required(AUTH0_DOMAIN_VAR) {
            match base_url(&domain) {
                Ok(_) => self.domain = domain,
                Err(reason) => env.invalid(AUTH0_DOMAIN_VAR, reason),
            }
        }
        if needs_audience && let Some(audience) = env.required(AUTH0_AUDIENCE_VAR) {
            self.audience = audience;
        }
        env.finish()?;
        Ok(self)
    }

    /// Sets [`roles_claim`](Self::roles_claim): the namespaced claim holding roles.
    pub fn with_roles_claim(mut self, claim: impl Into<String>) -> Self {
        self.roles_claim = Some(claim.into());
        self
    }

    /// Sets [`base_url`](Self::base_url): where every Auth0 URL points instead of
    /// `https://{domain}`.
    pub fn with_base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// Sets [`client_id`](Self::client_id): a client pre-registered in Auth0 that
    /// the proxy uses.
    pub fn with_client_id(mut self, client_id: impl Into<String>) -> Self {
        self.client_id = Some(client_id.into());
        self
    }

    /// Sets [`client_secret`](Self::client_secret): the secret of a confidential
    /// [`client_id`](Self::client_id).
    pub fn with_client_secret(mut self, secret: impl Into<String>) -> Self {
        self.client_secret = Some(ClientSecret::new(secret));
        self
    }

    /// Sets the JWT clock-skew leeway (default 60 s, at most 5 min).
    pub fn with_leeway(mut self, leeway: Duration) -> Self {
        self.jwt.leeway = leeway;
        self
    }

    /// Switches the API-identifier check off: a token the tenant issued for any
    /// of its APIs is accepted (the proxy still names the audience when it sends
    /// users to Auth0). Only for development; a warning is logged when the
    /// provider is built.
    pub fn dangerously_accept_any_audience(mut self) -> Self {
        self.accept_any_audience = true;
        self
    }

    /// Whether [`dangerously_accept_any_audience`](Self::dangerously_accept_any_audience) was called.
    pub fn accepts_any_audience(&self) -> bool {
        self.accept_any_audience
    }

    /// The base URL every Auth0 URL is built from: [`base_url`](Self::base_url) if
    /// set, else `https://{domain}`. Fails when neither names a usable host.
    pub fn resolved_base_url(&self) -> Result<String, ConfigError> {
        match &self.base_url {
            Some(url) => base_url(url)
                .map_err(|reason| ConfigError::invalid("Auth0Config::base_url", reason)),
            None if self.domain.trim().is_empty() => Err(ConfigError::invalid(
                "Auth0Config::domain",
                format!("is empty: set it, or {AUTH0_DOMAIN_VAR} and use Auth0Config::with_env"),
            )),
            None => base_url(&self.domain)
                .map_err(|reason| ConfigError::invalid("Auth0Config::domain", reason)),
        }
    }

    /// The issuer tokens carry in `iss`: `https://{domain}/`, with the trailing slash.
    pub fn issuer(&self) -> Result<String, ConfigError> {
        Ok(format!("{}/", self.resolved_base_url()?))
    }

    /// The tenant's key set: `https://{domain}/.well-known/jwks.json`.
    pub fn jwks_url(&self) -> Result<String, ConfigError> {
        Ok(format!(
            "{}/.well-known/jwks.json",
            self.resolved_base_url()?
        ))
    }

    /// The OpenID userinfo endpoint, `https://{domain}/userinfo`. Auth0 access
    /// tokens for an API list it in `aud` as well, so the caller's token may be sent there.
    pub fn userinfo_url(&self) -> Result<String, ConfigError> {
        Ok(format!("{}/userinfo", self.resolved_base_url()?))
    }

    /// The claim roles are read from besides `roles`: [`roles_claim`](Self::roles_claim),
    /// else `{audience}/roles` when the audience is an http(s) URL.
    pub fn effective_roles_claim(&self) -> Option<String> {
        if let Some(claim) = &self.roles_claim {
            return Some(claim.clone());
        }
        let audience = self.audience.trim_end_matches('/');
        (audience.starts_with("https://") || audience.starts_with("http://"))
            .then(|| format!("{audience}/roles"))
    }
}
