//! The canonical resource URL of this MCP server and the URLs derived from it.

use crate::error::ConfigError;

/// This server's resource identifier (RFC 8707 / RFC 9728): an absolute https URL
/// (plain http only for a loopback host) with lowercase scheme and host and no
/// fragment, e.g. `https://mcp.example.com/mcp`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceUrl {
    resource: String,
    base: String,
    path: String,
}

impl ResourceUrl {
    /// Parses and canonicalizes `url`.
    ///
    /// ```
    /// use mcp_auth_core::ResourceUrl;
    /// let r = ResourceUrl::parse("HTTPS://MCP.Example.com/mcp")?;
    /// assert_eq!(r.as_str(), "https://mcp.example.com/mcp");
    /// assert_eq!(r.metadata_url(), "https://mcp.example.com/.well-known/oauth-protected-resource/mcp");
    /// # Ok::<(), mcp_auth_core::ConfigError>(())
    /// ```
    pub fn parse(url: &str) -> Result<Self, ConfigError> {
        let invalid =
            |reason: String| ConfigError::invalid("resource URL", format!("{url:?}: {reason}"));
        let parsed = url::Url::parse(url).map_err(|e| invalid(e.to_string()))?;
        match parsed.scheme() {
            "https" => {}
            // The MCP authorization spec puts every authorization-server endpoint
            // (proxy mode serves them under this URL) on https.
            "http" if crate::env::is_loopback(&parsed) => {}
            "http" => {
                return Err(invalid(
                    "must use https (plain http only for loopback hosts such as localhost or 127.0.0.1)".into(),
                ));
            }
            _ => return Err(invalid("must be an http or https URL".into())),
        }
        if parsed.fragment().is_some() {
            return Err(invalid("must not contain a fragment".into()));
        }
        if parsed.host_str().is_none() {
            return Err(invalid("must have a host".into()));
        }
        let base = parsed.origin().ascii_serialization();
        let path = parsed.path().trim_end_matches('/').to_owned();
        let mut resource = parsed.to_string();
        if parsed.path() == "/" && parsed.query().is_none() && !url.ends_with('/') {
            resource.pop();
        }
        Ok(ResourceUrl {
            resource,
            base,
            path,
        })
    }

    /// The resource identifier.
    pub fn as_str(&self) -> &str {
        &self.resource
    }

    /// Scheme, host and port: `https://mcp.example.com`.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The path without a trailing slash (`/mcp`; empty for the root).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The path-scoped protected-resource metadata URL (RFC 9728 §3.1).
    pub fn metadata_url(&self) -> String {
        format!("{}{}", self.base, self.metadata_path())
    }

    /// The path of [`Self::metadata_url`] on this server.
    pub fn metadata_path(&self) -> String {
        format!("/.well-known/oauth-protected-resource{}", self.path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_forms() {
        let r = ResourceUrl::parse("http://localhost:3000/mcp").expect("valid");
        assert_eq!(r.as_str(), "http://localhost:3000/mcp");
        assert_eq!(r.base(), "http://localhost:3000");
        assert_eq!(
            r.metadata_path(),
            "/.well-known/oauth-protected-resource/mcp"
        );
        let root = ResourceUrl::parse("https://mcp.example.com").expect("valid");
        assert_eq!(root.as_str(), "https://mcp.example.com");
        assert_eq!(
            root.metadata_path(),
            "/.well-known/oauth-protected-resource"
        );
        assert!(ResourceUrl::parse("https://x/mcp#frag").is_err());
        assert!(ResourceUrl::parse("ftp://x/mcp").is_err());
    }

    #[test]
    fn rule16b_plain_http_only_for_loopback_hosts() {
        for ok in [
            "http://localhost:3000/mcp",
            "http://127.0.0.1:3000/mcp",
            "http://[::1]:3000/mcp",
            "https://mcp.example.com/mcp",
        ] {
            assert!(ResourceUrl::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["http://mcp.example.com/mcp", "http://10.0.0.5:3000/mcp"] {
            let err = ResourceUrl::parse(bad).expect_err(bad).to_string();
            assert!(err.contains("https"), "{err}");
        }
        assert!(ResourceUrl::parse("/mcp").is_err());
    }
}
