//! Reading `MCP_USE_OAUTH_*` settings from the environment (and `.env`).
//!
//! An [`EnvReader`] collects every missing or malformed variable before failing,
//! so one error names them all.

use crate::error::ConfigError;

/// Loads `.env` from the current directory or its parents, if there is one.
/// Variables already set in the process environment win. A `.env` that exists
/// but cannot be parsed is reported with a warning, not ignored silently.
pub fn load_dotenv() {
    match dotenvy::dotenv() {
        Ok(path) => tracing::debug!(path = %path.display(), "loaded .env"),
        Err(e) if e.not_found() => {}
        Err(e) => tracing::warn!(error = %e, ".env could not be read"),
    }
}

/// Reads variables and remembers which are missing or malformed.
///
/// ```
/// use mcp_auth_core::env::EnvReader;
/// let mut env = EnvReader::new();
/// let issuer = env.required("MCP_AUTH_DOC_EXAMPLE_ISSUER");
/// let err = env.finish().unwrap_err();
/// assert!(err.to_string().contains("MCP_AUTH_DOC_EXAMPLE_ISSUER"));
/// ```
#[derive(Debug, Default)]
pub struct EnvReader {
    missing: Vec<String>,
    invalid: Vec<ConfigError>,
}

impl EnvReader {
    /// A reader over the process environment (call [`load_dotenv`] first for `.env`).
    pub fn new() -> Self {
        Self::default()
    }

    /// A non-empty variable, or `None` if unset or empty.
    pub fn optional(&mut self, name: &str) -> Option<String> {
        match std::env::var(name) {
            Ok(v) if !v.trim().is_empty() => Some(v.trim().to_owned()),
            Ok(_) | Err(std::env::VarError::NotPresent) => None,
            Err(std::env::VarError::NotUnicode(_)) => {
                self.invalid
                    .push(ConfigError::invalid(name, "is not valid UTF-8"));
                None
            }
        }
    }

    /// A variable that must be set; if it is not, it is recorded as missing.
    pub fn required(&mut self, name: &str) -> Option<String> {
        let v = self.optional(name);
        if v.is_none()
            && !self
                .invalid
                .iter()
                .any(|e| matches!(e, ConfigError::Invalid { name: n, .. } if n == name))
        {
            self.missing.push(name.to_owned());
        }
        v
    }

    /// An optional variable that must be an http(s) URL when set.
    pub fn optional_url(&mut self, name: &str) -> Option<String> {
        let v = self.optional(name)?;
        match url::Url::parse(&v) {
            Ok(u) if u.scheme() == "https" || u.scheme() == "http" => Some(v),
            Ok(_) => {
                self.invalid.push(ConfigError::invalid(
                    name,
                    format!("{v:?} is not an http(s) URL"),
                ));
                None
            }
            Err(e) => {
                self.invalid.push(ConfigError::invalid(
                    name,
                    format!("{v:?} is not a URL: {e}"),
                ));
                None
            }
        }
    }

    /// A required variable that must be an http(s) URL.
    pub fn required_url(&mut self, name: &str) -> Option<String> {
        if std::env::var_os(name).is_none_or(|v| v.is_empty()) {
            self.missing.push(name.to_owned());
            return None;
        }
        self.optional_url(name)
    }

    /// Records a malformed value found by the caller.
    pub fn invalid(&mut self, name: &str, reason: impl Into<String>) {
        self.invalid.push(ConfigError::invalid(name, reason));
    }

    /// `Ok` if nothing was missing or malformed; otherwise one error naming each problem.
    pub fn finish(self) -> Result<(), ConfigError> {
        let mut errors = Vec::new();
        if !self.missing.is_empty() {
            errors.push(ConfigError::MissingVars(self.missing));
        }
        errors.extend(self.invalid);
        match errors.len() {
            0 => Ok(()),
            1 => Err(errors.remove(0)),
            _ => Err(ConfigError::Several(errors)),
        }
    }
}

/// Splits a space- or comma-separated list (as in `MCP_USE_OAUTH_CUSTOM_SCOPES`).
pub fn split_list(value: &str) -> Vec<String> {
    value
        .split([' ', ','])
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The base URL (`https://host[:port]`, no trailing slash) named by a configured
/// domain: a bare host (`tenant.auth0.com`) or an `https://` URL without a path.
/// Plain `http://` is accepted only for loopback hosts (a local test server). The
/// error says what is wrong with the value; callers prefix the variable name.
pub fn domain_base_url(value: &str) -> Result<String, String> {
    let trimmed = value.trim().trim_end_matches('/');
    if trimmed.is_empty() {
        return Err("is empty".into());
    }
    let with_scheme = if trimmed.contains("://") {
        trimmed.to_owned()
    } else {
        format!("https://{trimmed}")
    };
    let url =
        url::Url::parse(&with_scheme).map_err(|e| format!("{value:?} is not a domain: {e}"))?;
    let host = url
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| format!("{value:?} names no host"))?;
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        return Err(format!(
            "{value:?} must be a host name (optionally with https://), without a path"
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!("{value:?} must not carry credentials"));
    }
    match url.scheme() {
        "https" => {}
        "http" if matches!(host, "localhost" | "127.0.0.1" | "[::1]" | "::1") => {}
        "http" => {
            return Err(format!(
                "{value:?} must use https (plain http is only accepted for localhost)"
            ));
        }
        other => return Err(format!("{value:?} has the unsupported scheme {other:?}")),
    }
    Ok(url.origin().ascii_serialization())
}

#[cfg(test)]
mod tests {
    use super::domain_base_url;

    #[test]
    fn domains_become_base_urls() {
        assert_eq!(
            domain_base_url("tenant.auth0.com").as_deref(),
            Ok("https://tenant.auth0.com")
        );
        assert_eq!(
            domain_base_url(" https://Tenant.EU.auth0.com/ ").as_deref(),
            Ok("https://tenant.eu.auth0.com")
        );
        assert_eq!(
            domain_base_url("login.example.com:8443").as_deref(),
            Ok("https://login.example.com:8443")
        );
        assert_eq!(
            domain_base_url("http://127.0.0.1:4000").as_deref(),
            Ok("http://127.0.0.1:4000")
        );
        for bad in [
            "",
            "http://tenant.auth0.com",
            "https://t.auth0.com/path",
            "ftp://x",
            "https://u:p@x.com",
        ] {
            assert!(domain_base_url(bad).is_err(), "{bad:?}");
        }
    }
}
