//! [`JwtRules`]: the JWT rules a preset lets you tune, turned into a
//! [`JwtConfig`] once the preset knows its issuer and audience.

use std::time::Duration;

use super::{Algorithm, Audience, JwtConfig, TokenCacheConfig};

/// The JWT rules a preset lets you tune: everything a [`JwtConfig`] holds except
/// the issuer and the audience, which the preset derives from its own settings
/// (so nothing set here is overwritten).
///
/// ```
/// use std::time::Duration;
/// use mcp_auth_core::jwt::JwtRules;
/// let rules = JwtRules { leeway: Duration::from_secs(30), ..JwtRules::default() };
/// assert!(rules.token_cache.is_some());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwtRules {
    /// The algorithm allowlist; see [`JwtConfig::algorithms`].
    pub algorithms: Option<Vec<Algorithm>>,
    /// Clock skew tolerated on `exp` and `nbf`. Default 60 s; at most 5 min.
    pub leeway: Duration,
    /// Strict RFC 9068 mode: the header `typ` must be `at+jwt`. Default off.
    pub require_access_token_type: bool,
    /// Cache of verified tokens; see [`JwtConfig::token_cache`].
    pub token_cache: Option<TokenCacheConfig>,
}

impl Default for JwtRules {
    /// The defaults of [`JwtConfig::new`].
    fn default() -> Self {
        let defaults = JwtConfig::new(String::new(), Audience::OneOf(Vec::new()));
        JwtRules {
            algorithms: defaults.algorithms,
            leeway: defaults.leeway,
            require_access_token_type: defaults.require_access_token_type,
            token_cache: defaults.token_cache,
        }
    }
}

impl JwtRules {
    /// The full [`JwtConfig`]: these rules for tokens from `issuer` for `audience`.
    pub fn to_config(&self, issuer: impl Into<String>, audience: Audience) -> JwtConfig {
        let mut config = JwtConfig::new(issuer, audience);
        config.algorithms = self.algorithms.clone();
        config.leeway = self.leeway;
        config.require_access_token_type = self.require_access_token_type;
        config.token_cache = self.token_cache;
        config
    }
}
