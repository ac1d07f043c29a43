//! A protected MCP server in one command, no account anywhere: the rmcp server and
//! an embedded development authorization server ([`DevIssuer`]) in one process on
//! `127.0.0.1:$PORT` (default 3000).
//!
//! ```text
//! cargo run -p mcp-auth-examples --bin quickstart
//! ```
//!
//! On start it prints the MCP URL, a ready-to-use access token and a curl command
//! that calls `whoami`. OAuth clients (the MCP Inspector, the SDKs) connect to
//! `http://localhost:3000/mcp`, discover the dev issuer, register, and log in on its
//! consent page (where `admin`, when asked for, is granted only if ticked);
//! `MCP_AUTH_DEV_AUTO_APPROVE=1` approves every request without the page (for
//! scripts), never granting `admin`. Clients identified by URL (Client ID
//! Metadata Documents) need no registration. Tokens are ES256 JWTs verified like
//! any issuer's: against the dev issuer's JWKS, fetched over HTTP.
//!
//! Scope policy: every MCP request needs `mcp:tools` (advertised in the 401
//! challenge) and `admin-action` also needs `admin`, both checked at the HTTP
//! layer: the printed token (`mcp:tools profile`) gets HTTP 403
//! `insufficient_scope` with `scope="mcp:tools admin"` for `admin-action`, on
//! which MCP clients re-authorize asking for those scopes.

use std::process::ExitCode;

use mcp_auth::dev_issuer::{DevIssuer, DevIssuerConfig};
use mcp_auth::rmcp::Auth;
use mcp_auth::{ConfigError, McpAuth, ResourceUrl, ScopePolicy};
use mcp_auth_examples::{EXIT_CONFIG, EXIT_RUNTIME, Settings};
use rmcp::model::CallToolResult;
use rmcp::{ErrorData, tool, tool_router};

#[derive(Debug, Clone, Default)]
struct QuickstartServer;

#[tool_router(server_handler)]
impl QuickstartServer {
    #[tool(description = "Returns the authenticated caller as JSON")]
    fn whoami(&self, Auth(who): Auth) -> Result<CallToolResult, ErrorData> {
        mcp_auth_examples::whoami(&who)
    }

    #[tool(
        name = "get-user-info",
        description = "The caller's id, e-mail, name, scopes and token expiry"
    )]
    fn get_user_info(&self, Auth(who): Auth) -> Result<CallToolResult, ErrorData> {
        Ok(CallToolResult::structured(serde_json::json!({
            "userId": who.user().user_id,
            "email": who.user().email,
            "name": who.user().name,
            "scopes": who.scopes(),
            "clientId": who.client_id(),
            "expiresAt": who.expires_at(),
        })))
    }

    #[tool(
        name = "admin-action",
        description = "Reserved to tokens granting the `admin` scope"
    )]
    fn admin_action(&self, Auth(who): Auth) -> Result<String, ErrorData> {
        // Refused at the HTTP layer already (the scope policy in `build`); kept
        // as a second line should the tool be served without that policy.
        who.require_scope("admin")?;
        Ok(format!("admin action performed by {}", who.user().user_id))
    }
}

fn auto_approve() -> Result<bool, ConfigError> {
    match std::env::var("MCP_AUTH_DEV_AUTO_APPROVE")
        .ok()
        .as_deref()
        .map(str::trim)
    {
        None | Some("") | Some("0") | Some("false") => Ok(false),
        Some("1") | Some("true") => Ok(true),
        Some(other) => Err(ConfigError::invalid(
            "MCP_AUTH_DEV_AUTO_APPROVE",
            format!("{other:?} is not 1/0/true/false"),
        )),
    }
}

fn build(settings: &Settings) -> Result<(McpAuth, std::sync::Arc<DevIssuer>, String), ConfigError> {
    let resource = ResourceUrl::parse(&settings.mcp_url)?;
    let mut config = DevIssuerConfig::new(resource.base(), resource.as_str());
    config.auto_approve = auto_approve()?;
    let issuer = DevIssuer::new(config)?;
    // The verifier fetches the JWKS over HTTP from this very process.
    let provider = issuer.provider(&format!("http://127.0.0.1:{}/jwks.json", settings.port))?;
    let auth = McpAuth::builder(provider)
        .resource_url(resource.as_str())
        .resource_name("mcp-auth quickstart")
        .scope_policy(
            ScopePolicy::new()
                .base(["mcp:tools"])
                .tool("admin-action", ["admin"]),
        )
        .build()?;
    let token = issuer
        .mint_access_token("quickstart-cli", &["mcp:tools".into(), "profile".into()])
        .map_err(|e| ConfigError::invalid("dev issuer", e.to_string()))?;
    Ok((auth, issuer, token))
}

/// The version of the MCP Inspector the interop suite tests against.
const INSPECTOR: &str = "@modelcontextprotocol/inspector@1.0.3";

/// The command line that starts the MCP Inspector connected to `url`.
fn inspector_command(url: &str) -> String {
    format!("npx -y {INSPECTOR} --transport http --server-url {url}")
}

#[tokio::main]
async fn main() -> ExitCode {
    mcp_auth_examples::init_tracing();
    let built = Settings::from_env().and_then(|s| build(&s).map(|b| (s, b)));
    let (settings, (auth, issuer, token)) = match built {
        Ok(ok) => ok,
        Err(error) => {
            eprintln!("configuration error: {error}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let app = mcp_auth_examples::app(&auth, || QuickstartServer).merge(issuer.routes());
    let url = &settings.mcp_url;
    println!("mcp-auth quickstart: a protected MCP server with an embedded development issuer");
    println!("MCP URL: {url}");
    println!("Access token: {token}");
    println!("Try it:");
    println!(
        "  curl -s {url} -H 'Authorization: Bearer {token}' -H 'Accept: application/json, text/event-stream' \
         -H 'Content-Type: application/json' \
         -d '{{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{{\"name\":\"whoami\",\"arguments\":{{}}}}}}'"
    );
    println!(
        "OAuth clients (MCP Inspector, SDKs): connect to {url} and log in on the dev issuer's page."
    );
    println!("Open it in the MCP Inspector (needs Node.js 22 or newer):");
    println!("  {}", inspector_command(url));
    println!(
        "  then open the address the Inspector prints, press Connect, and approve on the consent page."
    );
    match mcp_auth_examples::serve(app, &settings).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(EXIT_RUNTIME)
        }
    }
}
