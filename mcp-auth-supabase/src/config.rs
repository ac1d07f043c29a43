//! [`SupabaseConfig`]: where the project lives, how its tokens are signed, and
//! what this server advertises; read from `MCP_USE_OAUTH_SUPABASE_*` or set by hand.

use std::time::Duration;

use mcp_auth_core::default_grant_types;
use mcp_auth_core::env::{EnvReader, EnvSource};
use mcp_auth_core::{
    ClientSecret, ConfigError, Mode, jwt::Algorithm, jwt::JwksConfig, jwt::JwtRules,
};

/// `MCP_USE_OAUTH_SUPABASE_PROJECT_ID`: the project reference (the `abcd…` of
/// `https://abcd….supabase.co`).
pub const SUPABASE_PROJECT_ID_VAR: &str = "MCP_USE_OAUTH_SUPABASE_PROJECT_ID";
/// `MCP_USE_OAUTH_SUPABASE_URL`: the full project URL, for custom domains,
/// self-hosted Supabase and the local CLI stack; replaces the project id.
pub const SUPABASE_URL_VAR: &str = "MCP_USE_OAUTH_SUPABASE_URL";
/// `MCP_USE_OAUTH_SUPABASE_JWT_SECRET`: the legacy JWT secret of projects that
/// still sign with HS256. Optional.
pub const SUPABASE_JWT_SECRET_VAR: &str = "MCP_USE_OAUTH_SUPABASE_JWT_SECRET";

/// The environment variables this preset reads.
pub const SUPABASE_ENV_VARS: &[&str] = &[
    SUPABASE_PROJECT_ID_VAR,
    SUPABASE_URL_VAR,
    SUPABASE_JWT_SECRET_VAR,
];

/// The audience Supabase Auth puts in the access tokens of signed-in users.
pub const SUPABASE_DEFAULT_AUDIENCE: &str = "authenticated";

mcp_auth_core::secret_type! {
    /// The legacy HS256 JWT secret of a Supabase project (the string shown under
    /// *JWT Keys → Legacy JWT secret*). `Debug` never prints it.
    pub struct SupabaseJwtSecret(String);
}

/// Settings of the Supabase preset.
///
/// Build one with [`SupabaseConfig::for_project`] or [`SupabaseConfig::for_url`]
/// and change fields as needed, or read it with [`SupabaseConfig::from_env`].
/// [`SupabaseConfig::with_env`] fills only what is still unset, so explicit values
/// win over the environment.
///
/// ```
/// use mcp_auth_supabase::SupabaseConfig;
/// let config = SupabaseConfig::for_project("abcdefghijklmnopqrst");
/// assert_eq!(config.issuer()?, "https://abcdefghijklmnopqrst.supabase.co/auth/v1");
/// assert_eq!(config.jwks_url()?, "https://abcdefghijklmnopqrst.supabase.co/auth/v1/.well-known/jwks.json");
/// # Ok::<(), mcp_auth_core::ConfigError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SupabaseConfig {
    /// The project reference: the project lives at `https://{project_id}.supabase.co`.
    /// Ignored when [`url`](Self::url) is set.
    pub project_id: Option<String>,
    /// The full project URL (`https://abcd.supabase.co`, a custom domain, a
    /// self-hosted instance or the local CLI's `http://127.0.0.1:54321`). Wins over
    /// [`project_id`](Self::project_id). The issuer is `{url}/auth/v1`; a URL that
    /// already ends in `/auth/v1` is taken as it is.
    pub url: Option<String>,
    /// The legacy JWT secret. Set: HS256 tokens are verified with it (and only
    /// HS256 ones). Unset: a token whose header says HS256 is refused. Asymmetric
    /// tokens (ES256, RS256) are always verified against the project's JWKS, never
    /// against the secret.
    pub jwt_secret: Option<SupabaseJwtSecret>,
    /// Accepted `aud` values. Default `["authenticated"]`, what Supabase Auth puts
    /// in the tokens of signed-in users. Must not be empty; to switch the check off
    /// see [`dangerously_accept_any_audience`](Self::dangerously_accept_any_audience).
    pub audiences: Vec<String>,
    /// The JWKS URL. Default `{issuer}/.well-known/jwks.json`.
    pub jwks_url: Option<String>,
    /// Proxy (the default: this server fronts Supabase's OAuth 2.1 endpoints) or
    /// direct (clients talk to Supabase Auth, which must have its OAuth 2.1 server on).
    pub mode: Mode,
    /// Advertise dynamic client registration (`{issuer}/oauth/clients/register`).
    /// Default `true`: MCP clients register themselves, which needs *Allow dynamic
    /// client registration* on in the project's OAuth server settings.
    pub dynamic_client_registration: bool,
    /// Scopes advertised to clients. Default: openid, email, profile, phone.
    pub scopes_supported: Vec<String>,
    /// Grant types advertised to clients. Default: authorization_code, refresh_token.
    pub grant_types_supported: Vec<String>,
    /// A client pre-registered in the project's OAuth server that the proxy uses
    /// for clients that do not register themselves. Default `None`.
    pub client_id: Option<String>,
    /// The secret of [`client_id`](Self::client_id), for a confidential client.
    /// Never printed by `Debug`.
    pub client_secret: Option<ClientSecret>,
    /// JWT rules beyond issuer and audience, which come from the fields above
    /// (leeway, strict `typ`, algorithms, token cache). `algorithms: None` (the
    /// default) means ES256 and RS256, plus HS256 when a
    /// [`jwt_secret`](Self::jwt_secret) is set.
    pub jwt: JwtRules,
    /// JWKS cache settings (TTL, cool-downs, timeouts, size cap).
    pub jwks: JwksConfig,
    accept_any_audience: bool,
}

impl Default for SupabaseConfig {
    /// No project yet: set [`project_id`](Self::project_id) or [`url`](Self::url),
    /// or call [`with_env`](Self::with_env).
    fn default() -> Self {
        SupabaseConfig {
            project_id: None,
            url: None,
            jwt_secret: None,
            audiences: vec![SUPABASE_DEFAULT_AUDIENCE.to_owned()],
            jwks_url: None,
            mode: Mode::Proxy,
            dynamic_client_registration: true,
            scopes_supported: ["openid", "email", "profile", "phone"]
                .map(str::to_owned)
                .to_vec(),
            grant_types_supported: default_grant_types(),
            client_id: None,
            client_secret: None,
            jwt: JwtRules::default(),
            jwks: JwksConfig::default(),
            accept_any_audience: false,
        }
    }
}

impl SupabaseConfig {
    /// The project `https://{project_id}.supabase.co`, with every default.
    pub fn for_project(project_id: impl Into<String>) -> Self {
        SupabaseConfig {
            project_id: Some(project_id.into()),
            ..Self::default()
        }
    }

    /// The project at `url` (a custom domain, self-hosted or local), with every default.
    pub fn for_url(url: impl Into<String>) -> Self {
        SupabaseConfig {
            url: Some(url.into()),
            ..Self::default()
        }
    }

    /// Reads `MCP_USE_OAUTH_SUPABASE_PROJECT_ID` (required unless
    /// `MCP_USE_OAUTH_SUPABASE_URL` gives the full project URL) and
    /// `MCP_USE_OAUTH_SUPABASE_JWT_SECRET` (optional), after loading `.env`.
    /// The error names every variable that is missing or malformed.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_source(&EnvSource::process())
    }

    /// [`SupabaseConfig::from_env`] over the variables of `source` instead of the
    /// process environment.
    ///
    /// ```
    /// use mcp_auth_core::env::EnvSource;
    /// use mcp_auth_supabase::SupabaseConfig;
    /// let source = EnvSource::from_vars([("MCP_USE_OAUTH_SUPABASE_PROJECT_ID", "abcdefghijklmnop")]);
    /// let config = SupabaseConfig::from_source(&source)?;
    /// assert_eq!(config.issuer()?, "https://abcdefghijklmnop.supabase.co/auth/v1");
    /// # Ok::<(), mcp_auth_core::ConfigError>(())
    /// ```
    pub fn from_source(source: &EnvSource) -> Result<Self, ConfigError> {
        Self::default().with_source(source)
    }

    /// Fills what is still unset from the environment (and `.env`): the project
    /// (only when neither [`project_id`](Self::project_id) nor [`url`](Self::url)
    /// is set) and the JWT secret (only when [`jwt_secret`](Self::jwt_secret) is
    /// unset). Explicit values win; the environment is not even read for them.
    pub fn with_env(self) -> Result<Self, ConfigError> {
        self.with_source(&EnvSource::process())
    }

    /// [`SupabaseConfig::with_env`] over the variables of `source` instead of the
    /// process environment.
    pub fn with_source(mut self, source: &EnvSource) -> Result<Self, ConfigError> {
        let mut env = EnvReader::with_source(source);
        if self.project_id.is_none()
            && self.url.is_none()
            && env.require_one_of(&[SUPABASE_PROJECT_ID_VAR, SUPABASE_URL_VAR])
        {
            // The URL wins over the project id.
            self.url = env.optional_url(SUPABASE_URL_VAR);
            if self.url.is_none()
                && !env.is_set(SUPABASE_URL_VAR)
                && let Some(id) = env.optional(SUPABASE_PROJECT_ID_VAR)
            {
                match check_project_id(&id) {
                    Ok(()) => self.project_id = Some(id),
                    Err(reason) => env.invalid(SUPABASE_PROJECT_ID_VAR, reason),
                }
            }
        }
        if self.jwt_secret.is_none() {
            self.jwt_secret = env
                .optional(SUPABASE_JWT_SECRET_VAR)
                .map(SupabaseJwtSecret::new);
        }
        env.finish()?;
        Ok(self)
    }

    /// Switches the audience check off: a token Supabase minted for any audience
    /// is accepted. Only for development; a warning is logged when the provider is
    /// built, and [`audiences`](Self::audiences) is ignored.
    pub fn dangerously_accept_any_audience(mut self) -> Self {
        self.accept_any_audience = true;
        self
    }

    /// Whether [`dangerously_accept_any_audience`](Self::dangerously_accept_any_audience) was called.
    pub fn accepts_any_audience(&self) -> bool {
        self.accept_any_audience
    }

    /// The project's base URL, without a trailing slash or `/auth/v1`.
    pub fn project_url(&self) -> Result<String, ConfigError> {
        if let Some(url) = &self.url {
            check_http_url("url", url)?;
            let trimmed = url.trim_end_matches('/');
            return Ok(trimmed
                .strip_suffix("/auth/v1")
                .unwrap_or(trimmed)
                .to_owned());
        }
        match &self.project_id {
            Some(id) => {
                check_project_id(id)
                    .map_err(|reason| ConfigError::invalid("project_id", reason))?;
                Ok(format!("https://{id}.supabase.co"))
            }
            None => Err(ConfigError::invalid(
                "project",
                format!(
                    "set project_id or url (or {SUPABASE_PROJECT_ID_VAR} / {SUPABASE_URL_VAR})"
                ),
            )),
        }
    }

    /// The issuer of the project's tokens: `{project_url}/auth/v1`.
    pub fn issuer(&self) -> Result<String, ConfigError> {
        Ok(format!("{}/auth/v1", self.project_url()?))
    }

    /// The JWKS URL: the [`jwks_url`](Self::jwks_url) field, else
    /// `{issuer}/.well-known/jwks.json`.
    pub fn jwks_url(&self) -> Result<String, ConfigError> {
        match &self.jwks_url {
            Some(url) => Ok(url.clone()),
            None => Ok(format!("{}/.well-known/jwks.json", self.issuer()?)),
        }
    }

    /// The algorithms accepted: [`JwtRules::algorithms`] if set, else ES256 and
    /// RS256, plus HS256 when a JWT secret is configured.
    pub fn algorithms(&self) -> Vec<Algorithm> {
        match &self.jwt.algorithms {
            Some(list) => list.clone(),
            None => {
                let mut algs = vec![Algorithm::ES256, Algorithm::RS256];
                if self.jwt_secret.is_some() {
                    algs.push(Algorithm::HS256);
                }
                algs
            }
        }
    }

    /// Sets the JWT clock-skew leeway (default 60 s, at most 5 min).
    pub fn with_leeway(mut self, leeway: Duration) -> Self {
        self.jwt.leeway = leeway;
        self
    }

    /// Sets [`client_id`](Self::client_id): a client pre-registered in the
    /// project's OAuth server that the proxy uses.
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
}

/// A project reference is one DNS label: ASCII letters, digits and hyphens.
fn check_project_id(id: &str) -> Result<(), String> {
    let ok = !id.is_empty()
        && id.len() <= 63
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !id.starts_with('-')
        && !id.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{id:?} is not a Supabase project reference (letters, digits and hyphens, e.g. \"abcdefghijklmnopqrst\"); for a full URL use {SUPABASE_URL_VAR}"
        ))
    }
}

/// An https URL, or plain http for a loopback host (the local Supabase CLI).
fn check_http_url(name: &str, value: &str) -> Result<(), ConfigError> {
    mcp_auth_core::env::check_secure_url(value)
        .map(drop)
        .map_err(|reason| ConfigError::invalid(name, reason))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_url_forms() {
        let c = SupabaseConfig::for_url("https://db.example.com/auth/v1/");
        assert_eq!(
            c.issuer().ok().as_deref(),
            Some("https://db.example.com/auth/v1")
        );
        let c = SupabaseConfig::for_url("http://127.0.0.1:54321");
        assert_eq!(
            c.issuer().ok().as_deref(),
            Some("http://127.0.0.1:54321/auth/v1")
        );
        let c = SupabaseConfig::for_project("bad.host/x");
        assert!(c.issuer().is_err());
        let c = SupabaseConfig::for_url("ftp://x");
        assert!(c.issuer().is_err());
        assert!(SupabaseConfig::default().issuer().is_err());
    }

    #[test]
    fn secret_is_redacted() {
        let mut c = SupabaseConfig::for_project("abc");
        c.jwt_secret = Some(SupabaseJwtSecret::new("super-secret-value"));
        let shown = format!("{c:?}");
        assert!(!shown.contains("super-secret-value"), "{shown}");
        assert!(shown.contains("redacted"), "{shown}");
    }
}
