//! [`KeycloakConfig`]: the server, the realm, the client whose audience and roles
//! matter, and what this server advertises; read from `MCP_USE_OAUTH_KEYCLOAK_*`
//! or set by hand.

use std::time::Duration;

use mcp_auth_core::DEFAULT_GRANT_TYPES;
use mcp_auth_core::env::{EnvReader, EnvSource};
use mcp_auth_core::{ClientSecret, ConfigError, Mode, jwt::JwksConfig, jwt::JwtRules};

/// `MCP_USE_OAUTH_KEYCLOAK_SERVER_URL`: the Keycloak base URL, e.g.
/// `https://keycloak.example.com` (with `/auth` for Keycloak 16 and older).
pub const KEYCLOAK_SERVER_URL_VAR: &str = "MCP_USE_OAUTH_KEYCLOAK_SERVER_URL";
/// `MCP_USE_OAUTH_KEYCLOAK_REALM`: the realm name.
pub const KEYCLOAK_REALM_VAR: &str = "MCP_USE_OAUTH_KEYCLOAK_REALM";
/// `MCP_USE_OAUTH_KEYCLOAK_CLIENT_ID`: the client whose audience and roles matter. Optional.
pub const KEYCLOAK_CLIENT_ID_VAR: &str = "MCP_USE_OAUTH_KEYCLOAK_CLIENT_ID";
/// `MCP_USE_OAUTH_KEYCLOAK_CLIENT_SECRET`: that client's secret, when it is a
/// confidential client the proxy uses for the token exchange. Optional.
pub const KEYCLOAK_CLIENT_SECRET_VAR: &str = "MCP_USE_OAUTH_KEYCLOAK_CLIENT_SECRET";

/// The environment variables this preset reads.
pub const KEYCLOAK_ENV_VARS: &[&str] = &[
    KEYCLOAK_SERVER_URL_VAR,
    KEYCLOAK_REALM_VAR,
    KEYCLOAK_CLIENT_ID_VAR,
    KEYCLOAK_CLIENT_SECRET_VAR,
];

/// Settings of the Keycloak preset.
///
/// Build one with [`KeycloakConfig::new`] and change fields as needed, or read it
/// with [`KeycloakConfig::from_env`]. [`KeycloakConfig::with_env`] fills only what
/// is still unset (an empty `server_url` or `realm`, a `None` client id or
/// secret), so explicit values win over the environment.
///
/// ```
/// use mcp_auth_keycloak::KeycloakConfig;
/// let config = KeycloakConfig::new("https://sso.example.com", "acme").with_client_id("mcp-server");
/// assert_eq!(config.issuer()?, "https://sso.example.com/realms/acme");
/// assert_eq!(config.jwks_url()?, "https://sso.example.com/realms/acme/protocol/openid-connect/certs");
/// # Ok::<(), mcp_auth_core::ConfigError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct KeycloakConfig {
    /// The Keycloak base URL, e.g. `https://keycloak.example.com`; include the
    /// `/auth` prefix for Keycloak 16 and older. A trailing slash is ignored.
    pub server_url: String,
    /// The realm. The issuer is `{server_url}/realms/{realm}`.
    pub realm: String,
    /// The client whose audience and roles matter. Set: a token is accepted when
    /// its `aud` contains this client id or its `azp` (the client it was issued
    /// to, the Keycloak convention, since access tokens carry `aud: "account"`
    /// unless an audience mapper is configured) equals it; a token issued to another
    /// client of the realm is refused. This client's roles
    /// (`resource_access.{client_id}.roles`) join the realm roles. Unset: tokens
    /// must carry this server's resource URL in `aud` (add an audience mapper).
    pub client_id: Option<String>,
    /// The secret of [`client_id`](Self::client_id) when it is a confidential
    /// client: the proxy sends it to the token endpoint. `Debug` never prints it.
    pub client_secret: Option<ClientSecret>,
    /// The JWKS URL. Default `{issuer}/protocol/openid-connect/certs`.
    pub jwks_url: Option<String>,
    /// Proxy (the default: this server fronts Keycloak's endpoints) or direct
    /// (clients find Keycloak in the protected-resource metadata and register there).
    pub mode: Mode,
    /// Advertise dynamic client registration at
    /// `{issuer}/clients-registrations/openid-connect`. Default `true`; anonymous
    /// registration needs the realm's *Trusted Hosts* client-registration policy
    /// to admit the MCP clients' hosts.
    pub dynamic_client_registration: bool,
    /// Scopes advertised to clients. Default: openid, profile, email, roles, offline_access.
    pub scopes_supported: Vec<String>,
    /// Grant types advertised to clients. Default: authorization_code,
    /// refresh_token, client_credentials.
    pub grant_types_supported: Vec<String>,
    /// JWT rules beyond issuer and audience, which come from the fields above
    /// (leeway, algorithms, strict `typ`, token cache).
    pub jwt: JwtRules,
    /// JWKS cache settings (TTL, cool-downs, timeouts, size cap).
    pub jwks: JwksConfig,
    accept_any_audience: bool,
}

impl Default for KeycloakConfig {
    /// No server and no realm yet: set them, or call [`with_env`](Self::with_env).
    fn default() -> Self {
        KeycloakConfig {
            server_url: String::new(),
            realm: String::new(),
            client_id: None,
            client_secret: None,
            jwks_url: None,
            mode: Mode::Proxy,
            dynamic_client_registration: true,
            scopes_supported: ["openid", "profile", "email", "roles", "offline_access"]
                .map(str::to_owned)
                .to_vec(),
            grant_types_supported: DEFAULT_GRANT_TYPES
                .iter()
                .chain(&["client_credentials"])
                .map(|g| (*g).to_owned())
                .collect(),
            jwt: JwtRules::default(),
            jwks: JwksConfig::default(),
            accept_any_audience: false,
        }
    }
}

impl KeycloakConfig {
    /// The realm `realm` of the Keycloak at `server_url`, with every default.
    pub fn new(server_url: impl Into<String>, realm: impl Into<String>) -> Self {
        KeycloakConfig {
            server_url: server_url.into(),
            realm: realm.into(),
            ..Self::default()
        }
    }

    /// Sets the client whose audience and roles matter (see [`client_id`](Self::client_id)).
    pub fn with_client_id(mut self, client_id: impl Into<String>) -> Self {
        self.client_id = Some(client_id.into());
        self
    }

    /// Sets the secret of a confidential [`client_id`](Self::client_id).
    pub fn with_client_secret(mut self, secret: impl Into<String>) -> Self {
        self.client_secret = Some(ClientSecret::new(secret));
        self
    }

    /// Reads `MCP_USE_OAUTH_KEYCLOAK_SERVER_URL` and `MCP_USE_OAUTH_KEYCLOAK_REALM`
    /// (required), `MCP_USE_OAUTH_KEYCLOAK_CLIENT_ID` and
    /// `MCP_USE_OAUTH_KEYCLOAK_CLIENT_SECRET` (optional), after loading `.env`.
    /// The error names every variable that is missing or malformed.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_source(&EnvSource::process())
    }

    /// [`KeycloakConfig::from_env`] over the variables of `source` instead of the
    /// process environment.
    ///
    /// ```
    /// use mcp_auth_core::env::EnvSource;
    /// use mcp_auth_keycloak::KeycloakConfig;
    /// let source = EnvSource::from_vars([
    ///     ("MCP_USE_OAUTH_KEYCLOAK_SERVER_URL", "https://sso.example.com"),
    ///     ("MCP_USE_OAUTH_KEYCLOAK_REALM", "mcp"),
    /// ]);
    /// let config = KeycloakConfig::from_source(&source)?;
    /// assert_eq!(config.issuer()?, "https://sso.example.com/realms/mcp");
    /// # Ok::<(), mcp_auth_core::ConfigError>(())
    /// ```
    pub fn from_source(source: &EnvSource) -> Result<Self, ConfigError> {
        Self::default().with_source(source)
    }

    /// Fills what is still unset from the environment (and `.env`). Explicit values
    /// win; the environment is not even read for them.
    pub fn with_env(self) -> Result<Self, ConfigError> {
        self.with_source(&EnvSource::process())
    }

    /// [`KeycloakConfig::with_env`] over the variables of `source` instead of the
    /// process environment.
    pub fn with_source(mut self, source: &EnvSource) -> Result<Self, ConfigError> {
        let mut env = EnvReader::with_source(source);
        if self.server_url.trim().is_empty()
            && let Some(url) = env.required_url(KEYCLOAK_SERVER_URL_VAR)
        {
            self.server_url = url;
        }
        if self.realm.trim().is_empty()
            && let Some(realm) = env.required(KEYCLOAK_REALM_VAR)
        {
            match check_realm(&realm) {
                Ok(()) => self.realm = realm,
                Err(reason) => env.invalid(KEYCLOAK_REALM_VAR, reason),
            }
        }
        if self.client_id.is_none() {
            self.client_id = env.optional(KEYCLOAK_CLIENT_ID_VAR);
        }
        if self.client_secret.is_none()
            && let Some(secret) = env.optional(KEYCLOAK_CLIENT_SECRET_VAR)
        {
            if self.client_id.is_none() {
                env.invalid(
                    KEYCLOAK_CLIENT_SECRET_VAR,
                    format!(
                        "is set but {KEYCLOAK_CLIENT_ID_VAR} is not: a secret belongs to a client"
                    ),
                );
            }
            self.client_secret = Some(ClientSecret::new(secret));
        }
        env.finish()?;
        Ok(self)
    }

    /// Switches the audience check off: a token the realm minted for any of its
    /// clients is accepted. Only for development; a warning is logged when the
    /// provider is built.
    pub fn dangerously_accept_any_audience(mut self) -> Self {
        self.accept_any_audience = true;
        self
    }

    /// Whether [`dangerously_accept_any_audience`](Self::dangerously_accept_any_audience) was called.
    pub fn accepts_any_audience(&self) -> bool {
        self.accept_any_audience
    }

    /// Sets the JWT clock-skew leeway (default 60 s, at most 5 min).
    pub fn with_leeway(mut self, leeway: Duration) -> Self {
        self.jwt.leeway = leeway;
        self
    }

    /// The issuer of the realm's tokens: `{server_url}/realms/{realm}`.
    pub fn issuer(&self) -> Result<String, ConfigError> {
        let server = self.server_url.trim().trim_end_matches('/');
        if server.is_empty() {
            return Err(ConfigError::invalid(
                "server_url",
                format!("must be set (or {KEYCLOAK_SERVER_URL_VAR})"),
            ));
        }
        mcp_auth_core::env::check_secure_url(server)
            .map_err(|reason| ConfigError::invalid("server_url", reason))?;
        check_realm(&self.realm).map_err(|reason| ConfigError::invalid("realm", reason))?;
        Ok(format!("{server}/realms/{}", self.realm))
    }

    /// The JWKS URL: the [`jwks_url`](Self::jwks_url) field, else
    /// `{issuer}/protocol/openid-connect/certs`.
    pub fn jwks_url(&self) -> Result<String, ConfigError> {
        match &self.jwks_url {
            Some(url) => Ok(url.clone()),
            None => Ok(format!("{}/protocol/openid-connect/certs", self.issuer()?)),
        }
    }
}

/// A realm name that can stand in a URL path segment as it is.
fn check_realm(realm: &str) -> Result<(), String> {
    if realm.trim().is_empty() {
        return Err(format!("must be set (or {KEYCLOAK_REALM_VAR})"));
    }
    if let Some(c) = realm
        .chars()
        .find(|c| c.is_whitespace() || c.is_control() || matches!(c, '/' | '?' | '#' | '%' | '\\'))
    {
        return Err(format!(
            "{realm:?} contains {c:?}; give the realm name only, not a URL or path"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issuer_forms() {
        let c = KeycloakConfig::new("https://kc.example.com/auth/", "acme");
        assert_eq!(
            c.issuer().ok().as_deref(),
            Some("https://kc.example.com/auth/realms/acme")
        );
        assert!(
            KeycloakConfig::new("kc.example.com", "acme")
                .issuer()
                .is_err()
        );
        assert!(KeycloakConfig::new("https://kc", "a/b").issuer().is_err());
        assert!(KeycloakConfig::new("https://kc", " ").issuer().is_err());
        assert!(KeycloakConfig::default().issuer().is_err());
    }

    #[test]
    fn secret_is_redacted() {
        let c = KeycloakConfig::new("https://kc", "r")
            .with_client_id("c")
            .with_client_secret("very-secret-value");
        let shown = format!("{c:?}");
        assert!(!shown.contains("very-secret-value"), "{shown}");
    }
}
