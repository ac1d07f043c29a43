//! An rmcp server protected by Auth0, configured from `MCP_USE_OAUTH_AUTH0_*`
//! variables.
//!
//! ```text
//! MCP_USE_OAUTH_AUTH0_DOMAIN=your-tenant.auth0.com \
//! MCP_USE_OAUTH_AUTH0_AUDIENCE=https://api.example.com \
//!   cargo run -p mcp-auth-examples --bin auth0
//! ```
//!
//! Tokens must be Auth0 access tokens for the API `MCP_USE_OAUTH_AUTH0_AUDIENCE`.
//! The server runs in proxy mode: MCP clients log in through its `/authorize`,
//! which sends them to Auth0 with that `audience` added.
//!
//! Tools: `whoami` (the caller as JSON), `get-user-info` (id, e-mail, name, roles,
//! permissions) and `get-auth0-profile`, which fetches the caller's full profile
//! from `https://{domain}/userinfo` with the caller's own token (Auth0 issues API
//! tokens for `/userinfo` too: it is in their `aud`).

use std::process::ExitCode;

use mcp_auth::rmcp::Auth;
use mcp_auth::{AuthContext, McpAuth, auth0_provider};
use mcp_auth_examples::tool_error;
use rmcp::model::CallToolResult;
use rmcp::{ErrorData, tool, tool_router};
use serde_json::{Value, json};

#[derive(Debug, Clone)]
struct Auth0Server {
    /// The client for calls to Auth0 (with a timeout).
    http: reqwest::Client,
}

/// `https://{domain}/userinfo` for the tenant that issued the caller's token. The
/// token was verified, so its `iss` is exactly the configured `https://{domain}/`.
fn userinfo_url(who: &AuthContext) -> Option<String> {
    let issuer = who.claims().get("iss").and_then(Value::as_str)?;
    Some(format!("{}/userinfo", issuer.trim_end_matches('/')))
}

#[tool_router(server_handler)]
impl Auth0Server {
    #[tool(description = "Returns the authenticated caller as JSON")]
    fn whoami(&self, Auth(who): Auth) -> Result<CallToolResult, ErrorData> {
        mcp_auth_examples::whoami(&who)
    }

    #[tool(
        name = "get-user-info",
        description = "The caller as Auth0 describes them in the access token: id, e-mail, name, roles and permissions"
    )]
    fn get_user_info(&self, Auth(who): Auth) -> Result<CallToolResult, ErrorData> {
        let user = who.user();
        Ok(CallToolResult::structured(json!({
            "userId": user.user_id,
            "email": user.email,
            "name": user.name,
            "nickname": user.nickname,
            "picture": user.picture,
            "roles": user.roles,
            "permissions": user.permissions,
            "scopes": who.scopes(),
        })))
    }

    #[tool(
        name = "get-auth0-profile",
        description = "Fetches the caller's full profile from Auth0's /userinfo endpoint"
    )]
    async fn get_auth0_profile(&self, Auth(who): Auth) -> Result<CallToolResult, ErrorData> {
        let Some(url) = userinfo_url(&who) else {
            return Ok(tool_error("the token names no issuer"));
        };
        let response = match self
            .http
            .get(&url)
            .bearer_auth(who.access_token().secret())
            .send()
            .await
        {
            Ok(response) => response,
            Err(e) => {
                tracing::warn!(error = %e, %url, "Auth0 /userinfo unreachable");
                return Ok(tool_error(format!(
                    "Auth0 /userinfo cannot be reached: {e}"
                )));
            }
        };
        let status = response.status();
        if !status.is_success() {
            tracing::warn!(%status, %url, "Auth0 /userinfo refused");
            return Ok(tool_error(format!(
                "Auth0 /userinfo answered HTTP {status}"
            )));
        }
        match response.json::<Value>().await {
            Ok(profile @ Value::Object(_)) => Ok(CallToolResult::structured(profile)),
            Ok(_) => Ok(tool_error(
                "Auth0 /userinfo did not answer with a JSON object",
            )),
            Err(e) => Ok(tool_error(format!(
                "Auth0 /userinfo answered with an unreadable body: {e}"
            ))),
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let http = match mcp_auth_examples::upstream_http_client() {
        Ok(http) => http,
        Err(e) => {
            eprintln!("error: cannot build the HTTP client: {e}");
            return ExitCode::from(mcp_auth_examples::EXIT_RUNTIME);
        }
    };
    mcp_auth_examples::run(
        |settings| Ok(McpAuth::builder(auth0_provider()?).resource_url(&settings.mcp_url)),
        move || Auth0Server { http: http.clone() },
    )
    .await
}
