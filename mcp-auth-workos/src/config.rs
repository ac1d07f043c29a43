//! [`WorkosConfig`]: the settings of the WorkOS AuthKit preset, explicit or from
//! the environment.

use std::time::Duration;

use mcp_auth_core::default_grant_types;
use mcp_auth_core::env::{EnvReader, EnvSource};
use mcp_auth_core::{ClientSecret, ConfigError, jwt::JwksConfig, jwt::JwtRules};

use mcp_auth_core::env::domain_base_url as base_url;

/// `MCP_USE_OAUTH_WORKOS_SUBDOMAIN`: the AuthKit subdomain, `your-company` in
/// `https://your-company.authkit.app`.
pub const WORKOS_SUBDOMAIN_VAR: &str = "MCP_USE_OAUTH_WORKOS_SUBDOMAIN";
/// `MCP_USE_OAUTH_WORKOS_CLIENT_ID`: a client pre-registered in WorkOS (optional;
/// without it MCP clients register themselves with AuthKit).
pub const WORKOS_CLIENT_ID_VAR: &str = "MCP_USE_OAUTH_WORKOS_CLIENT_ID";
/// `MCP_USE_OAUTH_WORKOS_API_KEY`: a WorkOS API key (`sk_…`) for calls to the
/// WorkOS API (optional; not used to verify tokens).
pub const WORKOS_API_KEY_VAR: &str = "MCP_USE_OAUTH_WORKOS_API_KEY";
/// The environment variables this preset reads (only the subdomain is required).
pub const WORKOS_ENV_VARS: &[&str] = &[
    WORKOS_SUBDOMAIN_VAR,
    WORKOS_CLIENT_ID_VAR,
    WORKOS_API_KEY_VAR,
];
/// Scopes advertised to MCP clients by default.
pub const WORKOS_DEFAULT_SCOPES: &[&str] = &["openid", "profile", "email", "offline_access"];
/// The WorkOS API.
pub const WORKOS_API_BASE_URL: &str = "https://api.workos.com";

mcp_auth_core::secret_type! {
    /// A WorkOS API key (`sk_…`), to send as `Authorization: Bearer …` to the
    /// WorkOS API. `Debug` never prints it.
    pub struct WorkosApiKey(String);
}

/// Settings of the WorkOS AuthKit preset.
///
/// Build it with [`WorkosConfig::new`] (everything explicit),
/// [`WorkosConfig::from_env`] (everything from `MCP_USE_OAUTH_WORKOS_*` and
/// `.env`), or mix the two with [`WorkosConfig::with_env`]: values you set win,
/// the environment fills the rest.
///
/// ```
/// use mcp_auth_workos::WorkosConfig;
/// let config = WorkosConfig::new("your-company").with_client_id("client_01KB5EXAMPLE");
/// assert_eq!(config.issuer()?, "https://your-company.authkit.app");
/// assert_eq!(config.jwks_url()?, "https://your-company.authkit.app/oauth2/jwks");
/// # Ok::<(), mcp_auth_core::ConfigError>(())
/// ```
///
/// `Debug` never prints the API key.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct WorkosConfig {
    /// The AuthKit subdomain: `your-company` for `https://your-company.authkit.app`.
    /// A full host (`your-company.authkit.app`, or an AuthKit custom domain such as
    /// `auth.example.com`) or an `https://` URL is accepted too; plain `http://`
    /// only for `localhost` / `127.0.0.1` (a local mock). Environment:
    /// [`WORKOS_SUBDOMAIN_VAR`].
    pub subdomain: String,
    /// Overrides the AuthKit URL derived from [`subdomain`](Self::subdomain): the
    /// issuer, and the base of `/oauth2/jwks` and the other AuthKit endpoints. For
    /// tests and local mocks: `http://127.0.0.1:PORT`. Default `None`.
    pub authkit_url: Option<String>,
    /// A client pre-registered in WorkOS. Tokens whose `aud` is this client id are
    /// accepted (besides tokens for this server's resource URL). `None` (the
    /// default): MCP clients use dynamic client registration with AuthKit.
    /// Environment: [`WORKOS_CLIENT_ID_VAR`].
    pub client_id: Option<String>,
    /// The secret of [`client_id`](Self::client_id), for a confidential client.
    /// Never printed by `Debug`. Default `None`.
    pub client_secret: Option<ClientSecret>,
    /// A WorkOS API key for your own calls to the WorkOS API (e.g. to read a user's
    /// profile); never used to verify tokens. Environment: [`WORKOS_API_KEY_VAR`].
    pub api_key: Option<WorkosApiKey>,
    /// The WorkOS API base URL, for calls made with [`api_key`](Self::api_key).
    /// Default [`WORKOS_API_BASE_URL`].
    pub api_base_url: String,
    /// More `aud` values to accept, besides the resource URL and the client id.
    pub extra_audiences: Vec<String>,
    /// Scopes advertised to clients. Default: [`WORKOS_DEFAULT_SCOPES`].
    pub scopes_supported: Vec<String>,
    /// Grant types advertised to clients. Default: `authorization_code`, `refresh_token`.
    pub grant_types_supported: Vec<String>,
    /// JWT rules beyond issuer and audience (which come from the fields above):
    /// leeway, algorithm allowlist, strict `typ`, token cache.
    pub jwt: JwtRules,
    /// JWKS cache settings (TTL, refetch cool-down, timeouts, size cap).
    pub jwks: JwksConfig,
    accept_any_audience: bool,
}

impl Default for WorkosConfig {
    /// No subdomain (set it, or call [`WorkosConfig::with_env`]), every other
    /// setting at its default.
    fn default() -> Self {
        WorkosConfig {
            subdomain: String::new(),
            authkit_url: None,
            client_id: None,
            client_secret: None,
            api_key: None,
            api_base_url: WORKOS_API_BASE_URL.to_owned(),
            extra_audiences: Vec::new(),
            scopes_supported: WORKOS_DEFAULT_SCOPES
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
            grant_types_supported: default_grant_types(),
            jwt: JwtRules::default(),
            jwks: JwksConfig::default(),
            accept_any_audience: false,
        }
    }
}

impl WorkosConfig {
    /// Settings for the AuthKit `subdomain`, every other setting at its default.
    pub fn new(subdomain: impl Into<String>) -> Self {
        WorkosConfig {
            subdomain: subdomain.into(),
            ..Self::default()
        }
    }

    /// Loads `.env`, then reads [`WORKOS_SUBDOMAIN_VAR`] (required),
    /// [`WORKOS_CLIENT_ID_VAR`] and [`WORKOS_API_KEY_VAR`] (optional). The error
    /// names every variable that is missing or malformed.
    ///
    /// ```no_run
    /// let config = mcp_auth_workos::WorkosConfig::from_env()?;
    /// # Ok::<(), mcp_auth_core::ConfigError>(())
    /// ```
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_source(&EnvSource::process())
    }

    /// [`WorkosConfig::from_env`] over the variables of `source` instead of the
    /// process environment.
    ///
    /// ```
    /// use mcp_auth_core::env::EnvSource;
    /// use mcp_auth_workos::WorkosConfig;
    /// let source = EnvSource::from_vars([("MCP_USE_OAUTH_WORKOS_SUBDOMAIN", "your-app")]);
    /// let config = WorkosConfig::from_source(&source)?;
    /// assert_eq!(config.subdomain, "your-app");
    /// # Ok::<(), mcp_auth_core::ConfigError>(())
    /// ```
    pub fn from_source(source: &EnvSource) -> Result<Self, ConfigError> {
        Self::default().with_source(source)
    }

    /// Fills the settings that are still unset from the environment (after loading
    /// `.env`): the subdomain unless `subdomain` or `authkit_url` is set, the
    /// client id unless `client_id` is set, the API key unless `api_key` is set.
    /// Explicit values always win. The error names every variable that is needed
    /// and missing or malformed.
    ///
    /// ```no_run
    /// use mcp_auth_workos::WorkosConfig;
    /// // The client id is fixed in code; the subdomain comes from the environment.
    /// let config = WorkosConfig::default().with_client_id("client_01KB5EXAMPLE").with_env()?;
    /// # Ok::<(), mcp_auth_core::ConfigError>(())
    /// ```
    pub fn with_env(self) -> Result<Self, ConfigError> {
        self.with_source(&EnvSource::process())
    }

    /// [`WorkosConfig::with_env`] over the variables of `source` instead of the
    /// process environment.
    pub fn with_source(mut self, source: &EnvSource) -> Result<Self, ConfigError> {
        let needs_subdomain = self.subdomain.trim().is_empty() && self.authkit_url.is_none();
        let mut env = EnvReader::with_source(source);
        if needs_subdomain && let Some(subdomain) = env.required(WORKOS_SUBDOMAIN_VAR) {
            match authkit_base(&subdomain) {
                Ok(_) => self.subdomain = subdomain,
                Err(reason) => env.invalid(WORKOS_SUBDOMAIN_VAR, reason),
            }
        }
        if self.client_id.is_none() {
            self.client_id = env.optional(WORKOS_CLIENT_ID_VAR);
        }
        if self.api_key.is_none() {
            self.api_key = env.optional(WORKOS_API_KEY_VAR).map(WorkosApiKey::new);
        }
        env.finish()?;
        Ok(self)
    }

    /// Sets [`client_id`](Self::client_id): a client pre-registered in WorkOS.
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

    /// Sets [`api_key`](Self::api_key).
    pub fn with_api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(WorkosApiKey::new(key));
        self
    }

    /// Sets [`authkit_url`](Self::authkit_url): where AuthKit is instead of
    /// `https://{subdomain}.authkit.app`.
    pub fn with_authkit_url(mut self, url: impl Into<String>) -> Self {
        self.authkit_url = Some(url.into());
        self
    }

    /// Accepts `audience` in `aud` as well (see [`extra_audiences`](Self::extra_audiences)).
    pub fn with_extra_audience(mut self, audience: impl Into<String>) -> Self {
        self.extra_audiences.push(audience.into());
        self
    }

    /// Turns the audience check off, as other WorkOS integrations do by default:
    /// any token AuthKit issued for any application of your WorkOS environment
    /// will be accepted, so one service's tokens can be replayed here. Only for
    /// development. Building the provider logs a warning.
    pub fn dangerously_accept_any_audience(mut self) -> Self {
        self.accept_any_audience = true;
        self
    }

    /// Whether [`dangerously_accept_any_audience`](Self::dangerously_accept_any_audience) was called.
    pub fn accepts_any_audience(&self) -> bool {
        self.accept_any_audience
    }

    /// The AuthKit URL: [`authkit_url`](Self::authkit_url) if set, else derived from
    /// [`subdomain`](Self::subdomain). No trailing slash. It is also the issuer.
    pub fn resolved_authkit_url(&self) -> Result<String, ConfigError> {
        match &self.authkit_url {
            Some(url) => base_url(url)
                .map_err(|reason| ConfigError::invalid("WorkosConfig::authkit_url", reason)),
            None if self.subdomain.trim().is_empty() => Err(ConfigError::invalid(
                "WorkosConfig::subdomain",
                format!(
                    "is empty: set it, or {WORKOS_SUBDOMAIN_VAR} and use WorkosConfig::with_env"
                ),
            )),
            None => authkit_base(&self.subdomain)
                .map_err(|reason| ConfigError::invalid("WorkosConfig::subdomain", reason)),
        }
    }

    /// The issuer tokens carry in `iss`: `https://{subdomain}.authkit.app`.
    pub fn issuer(&self) -> Result<String, ConfigError> {
        self.resolved_authkit_url()
    }

    /// AuthKit's key set: `https://{subdomain}.authkit.app/oauth2/jwks`.
    pub fn jwks_url(&self) -> Result<String, ConfigError> {
        Ok(format!("{}/oauth2/jwks", self.resolved_authkit_url()?))
    }
}

/// `your-company` -> `https://your-company.authkit.app`; a host or URL as in
/// [`base_url`].
fn authkit_base(subdomain: &str) -> Result<String, String> {
    let s = subdomain.trim();
    if s.contains('.') || s.contains(':') || s.contains('/') {
        return base_url(s);
    }
    if s.is_empty() {
        return Err("is empty".into());
    }
    if !s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        || s.starts_with('-')
        || s.ends_with('-')
    {
        return Err(format!(
            "{s:?} is not an AuthKit subdomain (letters, digits and '-', as in your-company.authkit.app)"
        ));
    }
    Ok(format!("https://{}.authkit.app", s.to_ascii_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::authkit_base;

    #[test]
    fn subdomains_hosts_and_urls() {
        assert_eq!(
            authkit_base("Your-Company").as_deref(),
            Ok("https://your-company.authkit.app")
        );
        assert_eq!(
            authkit_base("your-company.authkit.app").as_deref(),
            Ok("https://your-company.authkit.app")
        );
        assert_eq!(
            authkit_base("https://auth.example.com/").as_deref(),
            Ok("https://auth.example.com")
        );
        assert_eq!(
            authkit_base("http://127.0.0.1:8080").as_deref(),
            Ok("http://127.0.0.1:8080")
        );
        for bad in [
            "",
            "your company",
            "-x",
            "x_y",
            "http://your-company.authkit.app",
            "your-company.authkit.app/x",
        ] {
            assert!(authkit_base(bad).is_err(), "{bad:?} accepted");
        }
    }
}
