//! rmcp integration (feature `rmcp`): the streamable-HTTP server configuration
//! for the resource URL, and reading the caller inside a tool.
//!
//! [`McpAuth::streamable_http_config`] lets rmcp's `Host` check accept this
//! server's public name. rmcp's streamable-HTTP service stores the request's
//! `http::request::Parts` in the tool's request context; the auth layer put the
//! [`AuthContext`] in those parts' extensions. [`auth_context`] and the [`Auth`]
//! extractor fetch it.

use rmcp::ErrorData;
use rmcp::handler::server::common::{AsRequestContext, FromContextPart};
use rmcp::service::RequestContext;
use rmcp::service::RoleServer;
use rmcp::transport::streamable_http_server::StreamableHttpServerConfig;

use crate::http::resource::LOOPBACK_ALIASES;
use crate::mcp_auth::McpAuth;
use crate::user::{AuthContext, InsufficientScope};

impl McpAuth {
    /// rmcp's streamable-HTTP server configuration for this server: rmcp's
    /// defaults, with the `Host` names it accepts (its DNS-rebinding guard)
    /// extended by the resource URL's host. Without it rmcp answers every
    /// request to a public name such as `mcp.example.com` with `403 Host header
    /// is not allowed`.
    ///
    /// The allowed hosts are rmcp's loopback names (`localhost`, `127.0.0.1`,
    /// `::1`: local health checks and a reverse proxy that forwards to
    /// `127.0.0.1` still get through), every loopback alias of a loopback
    /// resource, and the resource's host, on any port. Any other `Host` is still
    /// refused by rmcp. Without a resource URL this is rmcp's default
    /// configuration. Change the rest (sessions, JSON responses, ...) with
    /// rmcp's own `with_*` methods.
    ///
    /// ```
    /// use mcp_auth_core::{McpAuth, StaticApiKeys};
    /// let auth = McpAuth::builder_with_verifier(StaticApiKeys::new())
    ///     .resource_url("https://mcp.example.com/mcp")
    ///     .build()?;
    /// let config = auth.streamable_http_config().with_json_response(true);
    /// assert!(config.allowed_hosts.iter().any(|h| h == "mcp.example.com"));
    /// # Ok::<(), mcp_auth_core::ConfigError>(())
    /// ```
    pub fn streamable_http_config(&self) -> StreamableHttpServerConfig {
        let config = StreamableHttpServerConfig::default();
        let Some(resource) = self.resource() else {
            return config;
        };
        let mut hosts = config.allowed_hosts.clone();
        let mut allow = |host: &str| {
            // rmcp compares names without brackets and case-insensitively.
            let host = host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_ascii_lowercase();
            if !hosts.contains(&host) {
                hosts.push(host);
            }
        };
        if resource.is_loopback() {
            LOOPBACK_ALIASES.iter().for_each(|alias| allow(alias));
        }
        if let Some(host) = url::Url::parse(resource.as_str())
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
        {
            allow(&host);
        }
        config.with_allowed_hosts(hosts)
    }
}

const NOT_BEHIND_LAYER: &str =
    "no authenticated user in this request: serve the MCP service behind McpAuth::layer()";

/// The [`AuthContext`] of the HTTP request that carried this MCP request.
///
/// ```no_run
/// use rmcp::{ErrorData, RoleServer, service::RequestContext};
/// fn whoami(ctx: &RequestContext<RoleServer>) -> Result<String, ErrorData> {
///     let who = mcp_auth_core::rmcp::auth_context(ctx)?;
///     who.require_scope("profile")?;
///     Ok(who.user().user_id.clone())
/// }
/// ```
pub fn auth_context(ctx: &RequestContext<RoleServer>) -> Result<AuthContext, ErrorData> {
    from_extensions(&ctx.extensions).ok_or_else(|| {
        tracing::error!("{NOT_BEHIND_LAYER}");
        ErrorData::internal_error(NOT_BEHIND_LAYER, None)
    })
}

/// The [`AuthContext`] in rmcp request extensions, if any.
pub fn from_extensions(extensions: &rmcp::model::Extensions) -> Option<AuthContext> {
    extensions
        .get::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<AuthContext>())
        .cloned()
}

/// A tool-argument extractor: `async fn whoami(&self, Auth(who): Auth) -> …`.
#[derive(Debug, Clone)]
pub struct Auth(pub AuthContext);

impl<C: AsRequestContext> FromContextPart<C> for Auth {
    fn from_context_part(context: &mut C) -> Result<Self, ErrorData> {
        auth_context(context.as_request_context()).map(Auth)
    }
}

/// Inside a tool, a failed scope check becomes a JSON-RPC error (in an HTTP 200)
/// whose message and `data` name the missing, the required and the granted
/// scopes. Clients do not step up on it: for scopes a client should be asked to
/// re-authorize for, declare them in a [`ScopePolicy`](crate::ScopePolicy), which
/// the layer turns into the HTTP 403 `insufficient_scope` challenge. Keep in-tool
/// checks for decisions only the tool can make (on its arguments, on data).
impl From<InsufficientScope> for ErrorData {
    fn from(e: InsufficientScope) -> Self {
        ErrorData::invalid_request(
            e.to_string(),
            Some(serde_json::json!({
                "error": "insufficient_scope",
                "missing_scopes": e.missing,
                "required_scopes": e.required,
                "granted_scopes": e.granted,
            })),
        )
    }
}
