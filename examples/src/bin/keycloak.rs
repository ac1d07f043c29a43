//! An rmcp server protected by a Keycloak realm, configured from
//! `MCP_USE_OAUTH_KEYCLOAK_*` variables.
//!
//! ```text
//! MCP_USE_OAUTH_KEYCLOAK_SERVER_URL=https://keycloak.example.com \
//! MCP_USE_OAUTH_KEYCLOAK_REALM=my-realm \
//! MCP_USE_OAUTH_KEYCLOAK_CLIENT_ID=my-client \
//!   cargo run -p mcp-auth-examples --bin keycloak
//! ```
//!
//! Tokens must be issued by `{server}/realms/{realm}`. With a client id, they must
//! be issued to that client (`azp`) or name it in `aud`; without one, `aud` must
//! hold the resource URL `MCP_URL` (`http://localhost:$PORT/mcp`), which takes an
//! audience mapper in Keycloak. `MCP_USE_OAUTH_KEYCLOAK_CLIENT_SECRET` is the
//! secret of a confidential client. The server runs in proxy mode.
//!
//! Tools: `whoami` (the caller as JSON), `get-user-info` (username, realm roles,
//! the client's roles, `azp`) and `admin-action`, reserved to users holding the
//! `admin` role in the realm or in the configured client.

use std::process::ExitCode;
use std::sync::{Arc, OnceLock};

use mcp_auth::rmcp::Auth;
use mcp_auth::{McpAuth, keycloak::KeycloakClaims, keycloak_provider};
use rmcp::model::CallToolResult;
use rmcp::service::{RequestContext, RoleServer};
use rmcp::{ErrorData, tool, tool_router};
use serde_json::json;

/// The role `admin-action` requires.
const ADMIN_ROLE: &str = "admin";

#[derive(Debug, Clone)]
struct KeycloakServer {
    /// The configured client, whose roles `get-user-info` lists.
    client_id: Option<String>,
}

#[tool_router(server_handler)]
impl KeycloakServer {
    #[tool(description = "Returns the authenticated caller as JSON")]
    fn whoami(&self, Auth(who): Auth) -> Result<CallToolResult, ErrorData> {
        mcp_auth_examples::whoami(&who)
    }

    #[tool(
        name = "get-user-info",
        description = "The caller as Keycloak sees them: id, username, email, name, realm roles, client roles and the client the token was issued to"
    )]
    fn get_user_info(&self, Auth(who): Auth) -> Result<CallToolResult, ErrorData> {
        let user = who.user();
        let client_roles = self
            .client_id
            .as_deref()
            .map(|c| who.client_roles(c))
            .unwrap_or_default();
        Ok(CallToolResult::structured(json!({
            "userId": user.user_id,
            "username": user.username,
            "email": user.email,
            "name": user.name,
            "realmRoles": who.realm_roles(),
            "clientRoles": client_roles,
            "authorizedParty": who.authorized_party(),
            "scopes": who.scopes(),
        })))
    }

    #[tool(
        name = "admin-action",
        description = "An operation reserved to users with the `admin` role (realm or client role)"
    )]
    fn admin_action(&self, ctx: RequestContext<RoleServer>) -> Result<String, ErrorData> {
        let who = mcp_auth::rmcp::auth_context(&ctx)?;
        mcp_auth_examples::require_role(&who, ADMIN_ROLE)?;
        tracing::info!(user = %who.user().user_id, "admin action performed");
        Ok(format!(
            "admin action performed by {}",
            who.user()
                .username
                .as_deref()
                .unwrap_or(&who.user().user_id)
        ))
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    // The configured client, known once the provider is built, read by every server.
    let client_id: Arc<OnceLock<Option<String>>> = Arc::default();
    let configured = Arc::clone(&client_id);
    mcp_auth_examples::run(
        move |settings| {
            let provider = keycloak_provider()?;
            let _ = configured.set(provider.config().client_id.clone());
            Ok(McpAuth::builder(provider).resource_url(&settings.mcp_url))
        },
        move || KeycloakServer {
            client_id: client_id.get().cloned().flatten(),
        },
    )
    .await
}
