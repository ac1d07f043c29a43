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

    /// Whether the host is a loopback host (`localhost`, `127.0.0.0/8`, `[::1]`).
    pub fn is_loopback(&self) -> bool {
        url::Url::parse(&self.resource).is_ok_and(|u| crate::env::is_loopback(&u))
    }

    /// This resource under the loopback name of `host` (a `Host` header value:
    /// name and optional port), when this resource is on a loopback host and
    /// `host` is one of `localhost`, `127.0.0.1`, `[::1]` with the same port. `None`
    /// otherwise: a non-loopback resource never follows the `Host` header.
    ///
    /// ```
    /// use mcp_auth_core::ResourceUrl;
    /// let r = ResourceUrl::parse("http://localhost:3000/mcp")?;
    /// let alias = r.loopback_alias("127.0.0.1:3000").expect("a loopback alias");
    /// assert_eq!(alias.as_str(), "http://127.0.0.1:3000/mcp");
    /// assert!(r.loopback_alias("127.0.0.1:4000").is_none()); // another port
    /// let public = ResourceUrl::parse("https://mcp.example.com/mcp")?;
    /// assert!(public.loopback_alias("localhost").is_none());
    /// # Ok::<(), mcp_auth_core::ConfigError>(())
    /// ```
    pub fn loopback_alias(&self, host: &str) -> Option<ResourceUrl> {
        let aliased = loopback_alias(&self.resource, host)?;
        ResourceUrl::parse(&aliased).ok()
    }

    /// This resource under each of `localhost`, `127.0.0.1`, `[::1]` (itself included), or
    /// nothing when it is not on a loopback host.
    pub fn loopback_aliases(&self) -> Vec<ResourceUrl> {
        let Ok(url) = url::Url::parse(&self.resource) else {
            return Vec::new();
        };
        let Some(port) = url.port_or_known_default() else {
            return Vec::new();
        };
        LOOPBACK_ALIASES
            .iter()
            .filter_map(|name| self.loopback_alias(&format!("{name}:{port}")))
            .collect()
    }
}

/// The loopback names a loopback resource (and a co-hosted loopback issuer)
/// answers to: metadata and the accepted audience follow the one a client
/// used. Other names of 127.0.0.0/8 are not aliases.
pub const LOOPBACK_ALIASES: [&str; 3] = ["localhost", "127.0.0.1", "[::1]"];

/// `url` (absolute, on a loopback host) with its host replaced by the
/// loopback name of `host` (a `Host` header value), when that name is one of
/// [`LOOPBACK_ALIASES`] and its port (explicit or the scheme's default) is the
/// port of `url`. `None` for a non-loopback `url`, another name or another port.
/// A trailing `/` is added only when `url` had one.
pub(crate) fn loopback_alias(url: &str, host: &str) -> Option<String> {
    let mut parsed = url::Url::parse(url).ok()?;
    if !crate::env::is_loopback(&parsed) || host.is_empty() || host.contains(['/', '@', '?', '#']) {
        return None;
    }
    let seen = url::Url::parse(&format!("{}://{host}/", parsed.scheme())).ok()?;
    let name = match seen.host()? {
        url::Host::Domain(d) if d.eq_ignore_ascii_case("localhost") => "localhost".to_owned(),
        url::Host::Ipv4(ip) if ip == std::net::Ipv4Addr::LOCALHOST => ip.to_string(),
        url::Host::Ipv6(ip) if ip == std::net::Ipv6Addr::LOCALHOST => format!("[{ip}]"),
        _ => return None,
    };
    if seen.port_or_known_default() != parsed.port_or_known_default() {
        return None;
    }
    parsed.set_host(Some(&name)).ok()?;
    let mut out = parsed.to_string();
    if parsed.path() == "/" && parsed.query().is_none() && !url.ends_with('/') {
        out.pop();
    }
    Some(out)
}

/// The authority a request names: its `Host` header, else the URI's authority (HTTP/2).
pub(crate) fn request_host<'a>(
    headers: &'a http::HeaderMap,
    uri: &'a http::Uri,
) -> Option<&'a str> {
    headers
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| uri.authority().map(http::uri::Authority::as_str))
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

    #[test]
    fn loopback_aliases_follow_the_host_for_loopback_resources_only() {
        let r = ResourceUrl::parse("http://localhost:3000/mcp").expect("valid");
        for (host, want) in [
            ("127.0.0.1:3000", Some("http://127.0.0.1:3000/mcp")),
            ("[::1]:3000", Some("http://[::1]:3000/mcp")),
            ("LOCALHOST:3000", Some("http://localhost:3000/mcp")),
            ("127.0.0.2:3000", None),
            ("127.0.0.1:3001", None),
            ("127.0.0.1", None),
            ("evil.example:3000", None),
            ("127.0.0.1:3000@evil.example", None),
            ("", None),
        ] {
            assert_eq!(
                r.loopback_alias(host).as_ref().map(ResourceUrl::as_str),
                want,
                "{host}"
            );
        }
        let aliases: Vec<String> = r
            .loopback_aliases()
            .iter()
            .map(|a| a.as_str().to_owned())
            .collect();
        assert_eq!(
            aliases,
            [
                "http://localhost:3000/mcp",
                "http://127.0.0.1:3000/mcp",
                "http://[::1]:3000/mcp"
            ]
        );
        let public = ResourceUrl::parse("https://mcp.example.com/mcp").expect("valid");
        assert!(public.loopback_alias("localhost:443").is_none());
        assert!(public.loopback_aliases().is_empty());
        assert_eq!(
            loopback_alias("http://127.0.0.1:3000", "localhost:3000").as_deref(),
            Some("http://localhost:3000")
        );
    }
}
