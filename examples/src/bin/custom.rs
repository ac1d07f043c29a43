//! An rmcp server protected by any OAuth 2.1 / OpenID issuer, configured from
//! `MCP_USE_OAUTH_CUSTOM_*` variables (see the README for the list).
//!
//! ```text
//! MCP_USE_OAUTH_CUSTOM_ISSUER=https://auth.example.com \
//!   cargo run -p mcp-auth-examples --bin custom
//! ```
//!
//! Tokens must be JWTs from that issuer, signed by a key of its JWKS, with `aud`
//! = `MCP_USE_OAUTH_CUSTOM_AUDIENCE` or, by default, the resource URL `MCP_URL`
//! (`http://localhost:$PORT/mcp`).
//!
//! Scope policy: `admin-action` needs the `admin` scope, checked at the HTTP layer
//! before rmcp runs: a token without it gets HTTP 403 `insufficient_scope` with
//! `scope="admin"`, on which MCP clients re-authorize asking for `admin`.

use std::process::ExitCode;

use mcp_auth::rmcp::Auth;
use mcp_auth::{CustomProvider, McpAuth, ScopePolicy};
use rmcp::model::CallToolResult;
use rmcp::service::{RequestContext, RoleServer};
use rmcp::{ErrorData, tool, tool_router};

#[derive(Debug, Clone, Default)]
struct CustomServer;

#[tool_router(server_handler)]
impl CustomServer {
    #[tool(description = "Returns the authenticated caller as JSON")]
    fn whoami(&self, Auth(who): Auth) -> Result<CallToolResult, ErrorData> {
        mcp_auth_examples::whoami(&who)
    }

    #[tool(
        name = "admin-action",
        description = "An operation reserved to tokens granting the `admin` scope"
    )]
    fn admin_action(&self, ctx: RequestContext<RoleServer>) -> Result<String, ErrorData> {
        // The same as the `Auth` extractor, as one call on the request context.
        let who = mcp_auth::rmcp::auth_context(&ctx)?;
        // The layer already refused tokens without `admin` (the scope policy in
        // `main`); this in-tool check stays as a second line, should the tool
        // ever be served without that policy.
        who.require_scope("admin")?;
        tracing::info!(user = %who.user().user_id, "admin action performed");
        Ok(format!("admin action performed by {}", who.user().user_id))
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    mcp_auth_examples::run(
        |settings| {
            Ok(McpAuth::builder(CustomProvider::from_env()?)
                .resource_url(&settings.mcp_url)
                .scope_policy(ScopePolicy::new().tool("admin-action", ["admin"])))
        },
        || CustomServer,
    )
    .await
}
