//! Reading the caller inside an rmcp tool (feature `rmcp`).
//!
//! rmcp's streamable-HTTP service stores the request's `http::request::Parts` in
//! the tool's request context; the auth layer put the [`AuthContext`] in those
//! parts' extensions. [`auth_context`] and the [`Auth`] extractor fetch it.

use rmcp::ErrorData;
use rmcp::handler::server::common::{AsRequestContext, FromContextPart};
use rmcp::service::RequestContext;
use rmcp::service::RoleServer;

use crate::user::{AuthContext, InsufficientScope};

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
