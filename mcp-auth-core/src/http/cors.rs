//! [`McpCors`]: the CORS policy that lets browser-based MCP clients (the MCP
//! Inspector, web apps) call the MCP endpoint from a page of another origin.
//!
//! Wrap it *around* the [`AuthLayer`](crate::AuthLayer) (call `Router::layer`
//! with it after the auth layer): a preflight is then answered before
//! authentication (it never carries a token), and the auth layer's own
//! 401/403 answers carry the CORS headers, so a script can read their
//! `WWW-Authenticate` challenge.
//!
//! ```
//! use mcp_auth_core::{AuthUser, McpAuth, McpCors, StaticApiKeys};
//! let keys = StaticApiKeys::new().key("sk-abc123", AuthUser::new("alice"));
//! let auth = McpAuth::builder_with_verifier(keys).build()?;
//! let app: axum::Router = axum::Router::new()
//!     .route("/mcp", axum::routing::post(|| async { "tools" }))
//!     .layer(auth.layer())                 // inner: authentication
//!     .layer(McpCors::any_origin().layer()) // outer: CORS
//!     .merge(auth.routes());
//! # Ok::<(), mcp_auth_core::ConfigError>(())
//! ```

use std::time::Duration;

use http::header::HeaderName;
use http::{HeaderValue, Method};
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::error::ConfigError;

/// Request headers a browser-based MCP client sends: its bearer token, the
/// JSON-RPC body's type, what it accepts (JSON or an event stream), the MCP
/// protocol version and session, and the id to resume an event stream from.
pub const MCP_REQUEST_HEADERS: [&str; 6] = [
    "authorization",
    "content-type",
    "accept",
    "mcp-protocol-version",
    "mcp-session-id",
    "last-event-id",
];

/// Response headers such a client must read from script: the challenge of a
/// 401/403 (where to log in, which scopes), the session id, and the protocol
/// version.
pub const MCP_EXPOSED_HEADERS: [&str; 3] =
    ["www-authenticate", "mcp-session-id", "mcp-protocol-version"];

/// Which page origins may call the MCP endpoint from script.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Origins {
    Any,
    List(Vec<HeaderValue>),
    Loopback,
}

/// The CORS policy of an MCP endpoint: methods `GET`, `POST`, `DELETE`;
/// request headers `authorization`, `content-type`, `accept`,
/// `mcp-protocol-version`, `mcp-session-id`, `last-event-id`; exposed headers
/// `www-authenticate`, `mcp-session-id`, `mcp-protocol-version`; never credentials (cookies, HTTP authentication):
/// the token travels in the `Authorization` header that the page's script
/// sets, so a page can only use a token it already holds.
///
/// The origin policy is the one choice to make: [`any_origin`](Self::any_origin)
/// (what the examples use), an explicit [`allow_origins`](Self::allow_origins)
/// list, or [`loopback_origins`](Self::loopback_origins) (pages served from this machine).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct McpCors {
    origins: Origins,
    max_age: Duration,
}

impl McpCors {
    /// Any page may call the endpoint (`Access-Control-Allow-Origin: *`).
    /// Safe for a bearer-token API that uses no cookies: a browser never
    /// attaches the token by itself, so a page cannot act with the user's
    /// credentials (no CSRF); it can only read the 401 challenge, which the
    /// protected-resource metadata publishes anyway.
    pub fn any_origin() -> Self {
        McpCors {
            origins: Origins::Any,
            max_age: Duration::from_secs(600),
        }
    }

    /// Only these origins (`scheme://host[:port]`, e.g.
    /// `https://app.example.com`), compared exactly. An entry that is not an
    /// origin (a path, a wildcard, no scheme) is an error naming it.
    ///
    /// ```
    /// use mcp_auth_core::McpCors;
    /// let cors = McpCors::allow_origins(["https://app.example.com", "http://localhost:6274"])?;
    /// assert!(McpCors::allow_origins(["https://app.example.com/"]).is_err());
    /// # Ok::<(), mcp_auth_core::ConfigError>(())
    /// ```
    pub fn allow_origins<I, S>(origins: I) -> Result<Self, ConfigError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut list = Vec::new();
        for origin in origins {
            let origin = origin.as_ref();
            let invalid = |reason: &str| {
                ConfigError::invalid("CORS allowed origin", format!("{origin:?}: {reason}"))
            };
            let url = url::Url::parse(origin).map_err(|e| invalid(&e.to_string()))?;
            if !matches!(url.scheme(), "http" | "https") {
                return Err(invalid("must be an http or https origin"));
            }
            let serialized = url.origin().ascii_serialization();
            if serialized != origin.to_ascii_lowercase() {
                return Err(invalid(&format!(
                    "must be scheme://host[:port] without a path or trailing slash, e.g. {serialized:?}"
                )));
            }
            let value = HeaderValue::from_str(&serialized).map_err(|e| invalid(&e.to_string()))?;
            if !list.contains(&value) {
                list.push(value);
            }
        }
        if list.is_empty() {
            return Err(ConfigError::invalid(
                "CORS allowed origins",
                "the list is empty: give at least one origin, or use McpCors::any_origin()",
            ));
        }
        Ok(McpCors {
            origins: Origins::List(list),
            max_age: Duration::from_secs(600),
        })
    }

    /// Only pages served from this machine: `localhost`, `*.localhost`,
    /// 127.0.0.0/8 and `[::1]`, any port, http or https.
    pub fn loopback_origins() -> Self {
        McpCors {
            origins: Origins::Loopback,
            max_age: Duration::from_secs(600),
        }
    }

    /// How long a browser may cache a preflight answer. Default 10 minutes.
    pub fn max_age(mut self, max_age: Duration) -> Self {
        self.max_age = max_age;
        self
    }

    /// The tower-http [`CorsLayer`] of this policy. Put it outside the auth
    /// layer (a later `Router::layer` call).
    pub fn layer(&self) -> CorsLayer {
        let origins = match &self.origins {
            Origins::Any => AllowOrigin::any(),
            Origins::List(list) => AllowOrigin::list(list.clone()),
            Origins::Loopback => AllowOrigin::predicate(|origin, _| is_loopback_origin(origin)),
        };
        let request_headers: Vec<HeaderName> = MCP_REQUEST_HEADERS
            .iter()
            .map(|h| HeaderName::from_static(h))
            .collect();
        let exposed: Vec<HeaderName> = MCP_EXPOSED_HEADERS
            .iter()
            .map(|h| HeaderName::from_static(h))
            .collect();
        CorsLayer::new()
            .allow_origin(origins)
            .allow_methods([Method::GET, Method::POST, Method::DELETE])
            .allow_headers(request_headers)
            .expose_headers(exposed)
            .max_age(self.max_age)
    }
}

/// Whether a browser `Origin` is a page served from this machine (`localhost`,
/// `*.localhost`, 127.0.0.0/8 or `[::1]`, any port).
pub(crate) fn is_loopback_origin(origin: &HeaderValue) -> bool {
    let Some(url) = origin.to_str().ok().and_then(|o| url::Url::parse(o).ok()) else {
        return false;
    };
    if !matches!(url.scheme(), "http" | "https") {
        return false;
    }
    match url.host() {
        Some(url::Host::Domain(d)) => d == "localhost" || d.ends_with(".localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_must_be_bare_origins() {
        assert!(McpCors::allow_origins(["https://app.example.com"]).is_ok());
        assert!(McpCors::allow_origins(["http://localhost:6274"]).is_ok());
        for bad in [
            "https://app.example.com/",
            "https://app.example.com/path",
            "*",
            "app.example.com",
            "ftp://app.example.com",
        ] {
            let err = McpCors::allow_origins([bad]).expect_err(bad).to_string();
            assert!(err.contains("CORS allowed origin"), "{err}");
        }
        let none: [&str; 0] = [];
        assert!(McpCors::allow_origins(none).is_err());
    }

    #[test]
    fn loopback_origins_are_pages_of_this_machine() {
        for ok in [
            "http://localhost:6274",
            "http://127.0.0.1:3000",
            "http://[::1]:80",
            "https://app.localhost",
        ] {
            assert!(is_loopback_origin(&HeaderValue::from_static(ok)), "{ok}");
        }
        for bad in [
            "https://evil.example",
            "http://localhost.evil.example",
            "null",
        ] {
            assert!(!is_loopback_origin(&HeaderValue::from_static(bad)), "{bad}");
        }
    }
}
