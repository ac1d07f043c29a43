//! An rmcp server protected by static API keys: the simplest bearer protection,
//! no identity provider involved.
//!
//! ```text
//! cargo run -p mcp-auth-examples --bin bearer
//! curl -s http://localhost:3000/mcp \
//!   -H 'Authorization: Bearer sk-abc123' \
//!   -H 'Accept: application/json, text/event-stream' \
//!   -H 'Content-Type: application/json' \
//!   -d '{"jsonrpc":"2.0","id":1,"method":"tools/list"}'
//! ```
//!
//! Environment: `PORT` (3000), `MCP_URL` (`http://localhost:$PORT/mcp`), and
//! `MCP_AUTH_API_KEYS` = `key=email,key2=email2` to replace the built-in demo keys
//! (`sk-abc123` for alice@example.com, `sk-def456` for bob@example.com).

use std::process::ExitCode;

use mcp_auth::env::{EnvReader, split_list};
use mcp_auth::rmcp::Auth;
use mcp_auth::{AuthUser, ConfigError, McpAuth, StaticApiKeys};
use rmcp::model::CallToolResult;
use rmcp::{ErrorData, tool, tool_router};

/// The demo keys, used when `MCP_AUTH_API_KEYS` is not set.
const DEMO_KEYS: [(&str, &str); 2] = [
    ("sk-abc123", "alice@example.com"),
    ("sk-def456", "bob@example.com"),
];

#[derive(Debug, Clone, Default)]
struct BearerServer;

#[tool_router(server_handler)]
impl BearerServer {
    #[tool(description = "Returns the authenticated caller as JSON")]
    fn whoami(&self, Auth(who): Auth) -> Result<CallToolResult, ErrorData> {
        mcp_auth_examples::whoami(&who)
    }
}

fn user_for(email: &str) -> AuthUser {
    AuthUser::new(email).with_email(email)
}

/// The key table: `MCP_AUTH_API_KEYS` (`key=email` pairs separated by commas or
/// spaces) if set, else the demo keys.
fn api_keys() -> Result<StaticApiKeys, ConfigError> {
    let mut env = EnvReader::new();
    let Some(raw) = env.optional("MCP_AUTH_API_KEYS") else {
        env.finish()?;
        tracing::warn!("MCP_AUTH_API_KEYS is not set: using the demo keys sk-abc123 and sk-def456");
        return Ok(DEMO_KEYS
            .iter()
            .fold(StaticApiKeys::new(), |keys, (key, email)| {
                keys.key(key, user_for(email))
            }));
    };
    let mut keys = StaticApiKeys::new();
    for (i, pair) in split_list(&raw).iter().enumerate() {
        match pair.split_once('=') {
            Some((key, email)) if !key.is_empty() && !email.is_empty() => {
                keys = keys.key(key, user_for(email))
            }
            _ => env.invalid(
                "MCP_AUTH_API_KEYS",
                format!("entry {} is not of the form key=email", i + 1),
            ),
        }
    }
    if keys.is_empty() {
        env.invalid("MCP_AUTH_API_KEYS", "holds no key=email entry");
    }
    env.finish()?;
    Ok(keys)
}

#[tokio::main]
async fn main() -> ExitCode {
    mcp_auth_examples::run(
        |settings| Ok(McpAuth::builder_with_verifier(api_keys()?).resource_url(&settings.mcp_url)),
        || BearerServer,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_users_carry_their_email() {
        let alice = user_for("alice@example.com");
        assert_eq!(alice.email.as_deref(), Some("alice@example.com"));
    }
}
