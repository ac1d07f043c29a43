//! An rmcp server protected by WorkOS AuthKit, configured from
//! `MCP_USE_OAUTH_WORKOS_*` variables.
//!
//! ```text
//! MCP_USE_OAUTH_WORKOS_SUBDOMAIN=your-company \
//! MCP_USE_OAUTH_WORKOS_API_KEY=sk_test_... \
//!   cargo run -p mcp-auth-examples --bin workos
//! ```
//!
//! The server runs in direct mode: MCP clients find `https://{subdomain}.authkit.app`
//! in its protected-resource metadata and log in there (with dynamic client
//! registration, or the pre-registered `MCP_USE_OAUTH_WORKOS_CLIENT_ID`). Tokens
//! must be issued for the resource URL `MCP_URL` (`http://localhost:$PORT/mcp`) or
//! for that client id.
//!
//! Tools: `whoami` (the caller as JSON), `get-user-info` (id, e-mail, name,
//! organization, role, permissions, session) and `get-workos-user`, which reads the
//! caller's user record from the WorkOS API with `MCP_USE_OAUTH_WORKOS_API_KEY`
//! (never with the caller's token). `WORKOS_API_BASE_URL` replaces
//! `https://api.workos.com` (for tests against a local fake).

use std::process::ExitCode;
use std::sync::{Arc, OnceLock};

use mcp_auth::env::EnvReader;
use mcp_auth::rmcp::Auth;
use mcp_auth::{McpAuth, workos::WorkosApiKey, workos::WorkosClaims as _, workos_provider};
use mcp_auth_examples::tool_error;
use rmcp::model::CallToolResult;
use rmcp::{ErrorData, tool, tool_router};
use serde_json::{Value, json};

/// The variable that replaces the WorkOS API base URL.
const API_BASE_URL_VAR: &str = "WORKOS_API_BASE_URL";

/// Where and how to call the WorkOS API; known once the provider is built.
#[derive(Debug)]
struct WorkosApi {
    base_url: String,
    key: Option<WorkosApiKey>,
}

#[derive(Debug, Clone)]
struct WorkosServer {
    http: reqwest::Client,
    api: Arc<OnceLock<WorkosApi>>,
}

#[tool_router(server_handler)]
impl WorkosServer {
    #[tool(description = "Returns the authenticated caller as JSON")]
    fn whoami(&self, Auth(who): Auth) -> Result<CallToolResult, ErrorData> {
        mcp_auth_examples::whoami(&who)
    }

    #[tool(
        name = "get-user-info",
        description = "The caller as AuthKit describes them in the access token: id, e-mail, name, organization, role, permissions and session"
    )]
    fn get_user_info(&self, Auth(who): Auth) -> Result<CallToolResult, ErrorData> {
        let user = who.user();
        Ok(CallToolResult::structured(json!({
            "userId": user.user_id,
            "email": user.email,
            "name": user.name,
            "organizationId": who.org_id(),
            "role": who.organization_role(),
            "roles": user.roles,
            "permissions": user.permissions,
            "sessionId": who.session_id(),
        })))
    }

    #[tool(
        name = "get-workos-user",
        description = "Reads the caller's user record from the WorkOS User Management API"
    )]
    async fn get_workos_user(&self, Auth(who): Auth) -> Result<CallToolResult, ErrorData> {
        let Some(WorkosApi {
            base_url,
            key: Some(key),
        }) = self.api.get()
        else {
            return Ok(tool_error(
                "MCP_USE_OAUTH_WORKOS_API_KEY is not set: the WorkOS API cannot be called",
            ));
        };
        let mut url = match reqwest::Url::parse(base_url) {
            Ok(url) => url,
            Err(e) => return Ok(tool_error(format!("bad WorkOS API URL: {e}"))),
        };
        match url.path_segments_mut() {
            Ok(mut segments) => {
                // Each piece is percent-encoded: the user id cannot change the path.
                segments
                    .pop_if_empty()
                    .extend(["user_management", "users", &who.user().user_id]);
            }
            Err(()) => return Ok(tool_error("bad WorkOS API URL: it cannot have a path")),
        }
        let response = match self.http.get(url).bearer_auth(key.secret()).send().await {
            Ok(response) => response,
            Err(e) => {
                tracing::warn!(error = %e, "WorkOS API unreachable");
                return Ok(tool_error(format!("the WorkOS API cannot be reached: {e}")));
            }
        };
        let status = response.status();
        let body = response.json::<Value>().await;
        match body {
            Ok(user @ Value::Object(_)) if status.is_success() => {
                Ok(CallToolResult::structured(user))
            }
            Ok(error) if !status.is_success() => {
                let message = error
                    .get("message")
                    .and_then(Value::as_str)
                    .unwrap_or("no message");
                tracing::warn!(%status, message, "WorkOS API refused");
                Ok(tool_error(format!(
                    "the WorkOS API answered HTTP {status}: {message}"
                )))
            }
            Ok(_) => Ok(tool_error(
                "the WorkOS API did not answer with a JSON object",
            )),
            Err(e) => Ok(tool_error(format!(
                "the WorkOS API answered HTTP {status} with an unreadable body: {e}"
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
    let api: Arc<OnceLock<WorkosApi>> = Arc::default();
    let configured = Arc::clone(&api);
    mcp_auth_examples::run(
        move |settings| {
            let provider = workos_provider()?;
            let mut env = EnvReader::new();
            let base_url = env.optional_url(API_BASE_URL_VAR);
            env.finish()?;
            if provider.api_key().is_none() {
                tracing::warn!(
                    "MCP_USE_OAUTH_WORKOS_API_KEY is not set: get-workos-user will answer with an error"
                );
            }
            let _ = configured.set(WorkosApi {
                base_url: base_url.unwrap_or_else(|| provider.api_base_url().to_owned()),
                key: provider.api_key().cloned(),
            });
            Ok(McpAuth::builder(provider).resource_url(&settings.mcp_url))
        },
        move || WorkosServer {
            http: http.clone(),
            api: Arc::clone(&api),
        },
    )
    .await
}
