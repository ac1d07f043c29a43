//! An rmcp server protected by Supabase Auth, configured from
//! `MCP_USE_OAUTH_SUPABASE_*` variables.
//!
//! ```text
//! MCP_USE_OAUTH_SUPABASE_PROJECT_ID=abcdefghijklmnopqrst \
//!   cargo run -p mcp-auth-examples --bin supabase
//! ```
//!
//! `MCP_USE_OAUTH_SUPABASE_URL` replaces the project id with a full project URL
//! (custom domain, self-hosted, or the local CLI's `http://127.0.0.1:54321`), and
//! `MCP_USE_OAUTH_SUPABASE_JWT_SECRET` accepts the legacy HS256 tokens of projects
//! that have not moved to asymmetric signing keys. Tokens must be issued by
//! `{project}/auth/v1` for the audience `authenticated`. The server runs in proxy
//! mode: clients log in through it at the project's OAuth 2.1 server.
//!
//! Tools: `whoami` (the caller as JSON), `get-user-info` (the Supabase view of the
//! caller: `aal`, `amr`, session, sign-in provider) and `admin-action`, reserved to
//! users whose `app_metadata.roles` holds `admin`.

use std::process::ExitCode;

use mcp_auth::rmcp::Auth;
use mcp_auth::{McpAuth, supabase::SupabaseClaims, supabase_provider};
use rmcp::model::CallToolResult;
use rmcp::service::{RequestContext, RoleServer};
use rmcp::{ErrorData, tool, tool_router};
use serde_json::json;

/// The role `admin-action` requires.
const ADMIN_ROLE: &str = "admin";

#[derive(Debug, Clone, Default)]
struct SupabaseServer;

#[tool_router(server_handler)]
impl SupabaseServer {
    #[tool(description = "Returns the authenticated caller as JSON")]
    fn whoami(&self, Auth(who): Auth) -> Result<CallToolResult, ErrorData> {
        mcp_auth_examples::whoami(&who)
    }

    #[tool(
        name = "get-user-info",
        description = "The caller as Supabase sees them: id, email, name, roles, assurance level, sign-in methods, session and provider"
    )]
    fn get_user_info(&self, Auth(who): Auth) -> Result<CallToolResult, ErrorData> {
        let user = who.user();
        Ok(CallToolResult::structured(json!({
            "userId": user.user_id,
            "email": user.email,
            "phone": who.phone(),
            "name": user.name,
            "picture": user.picture,
            "roles": user.roles,
            "aal": who.aal(),
            "amr": who.amr(),
            "sessionId": who.session_id(),
            "provider": who.sign_in_provider(),
            "isAnonymous": who.is_anonymous(),
        })))
    }

    #[tool(
        name = "admin-action",
        description = "An operation reserved to users with the `admin` role (app_metadata.roles)"
    )]
    fn admin_action(&self, ctx: RequestContext<RoleServer>) -> Result<String, ErrorData> {
        let who = mcp_auth::rmcp::auth_context(&ctx)?;
        mcp_auth_examples::require_role(&who, ADMIN_ROLE)?;
        tracing::info!(user = %who.user().user_id, aal = ?who.aal(), "admin action performed");
        Ok(format!("admin action performed by {}", who.user().user_id))
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    mcp_auth_examples::run(
        |settings| Ok(McpAuth::builder(supabase_provider()?).resource_url(&settings.mcp_url)),
        || SupabaseServer,
    )
    .await
}
