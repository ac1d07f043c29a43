//! The server the load benchmark (`benches/load.sh`) drives: the same rmcp
//! server as `custom`, with switches a benchmark needs and a real deployment
//! never should. Not an example to copy.
//!
//! - `MCP_AUTH_BENCH_AUTH=off` serves the MCP endpoint with no protection at all
//!   (the baseline); anything else protects it with `CustomProvider::from_env()`.
//! - `MCP_AUTH_BENCH_TOKEN_CACHE=off` turns the verified-token cache off.
//! - `MCP_AUTH_BENCH_UNKNOWN_KID_COOLDOWN=SECONDS` sets the JWKS cache's
//!   unknown-`kid` cool-down (default 30 s), so a flood of unknown kids
//!   (`benches/flood.sh`) fits inside one cool-down on a slow machine.

use std::process::ExitCode;

use mcp_auth::{CustomConfig, CustomProvider, McpAuth};
use mcp_auth_examples::{EXIT_CONFIG, EXIT_RUNTIME, Settings};
use rmcp::{tool, tool_router};

#[derive(Debug, Clone, Default)]
struct BenchServer;

#[tool_router(server_handler)]
impl BenchServer {
    #[tool(description = "Echoes a constant")]
    fn ping(&self) -> String {
        "pong".into()
    }
}

/// `MCP_AUTH_BENCH_UNKNOWN_KID_COOLDOWN` in seconds, if set; the error names it.
fn unknown_kid_cooldown() -> Result<Option<std::time::Duration>, String> {
    match std::env::var("MCP_AUTH_BENCH_UNKNOWN_KID_COOLDOWN") {
        Err(_) => Ok(None),
        Ok(raw) => raw
            .trim()
            .parse::<u64>()
            .map(|secs| Some(std::time::Duration::from_secs(secs)))
            .map_err(|e| {
                format!(
                    "MCP_AUTH_BENCH_UNKNOWN_KID_COOLDOWN={raw:?} is not a number of seconds: {e}"
                )
            }),
    }
}

fn flag(name: &str) -> bool {
    !matches!(
        std::env::var(name).ok().as_deref(),
        Some("off" | "0" | "false")
    )
}

#[tokio::main]
async fn main() -> ExitCode {
    mcp_auth_examples::init_tracing();
    let settings = match Settings::from_env() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("configuration error: {e}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let cooldown = match unknown_kid_cooldown() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("configuration error: {e}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let app = if flag("MCP_AUTH_BENCH_AUTH") {
        let built = CustomConfig::from_env().and_then(|mut config| {
            if !flag("MCP_AUTH_BENCH_TOKEN_CACHE") {
                config.jwt.token_cache = None;
            }
            if let Some(cooldown) = cooldown {
                config.jwks.unknown_kid_cooldown = cooldown;
            }
            McpAuth::builder(CustomProvider::new(config)?)
                .resource_url(&settings.mcp_url)
                .build()
        });
        match built {
            Ok(auth) => mcp_auth_examples::app(&auth, || BenchServer),
            Err(e) => {
                eprintln!("configuration error: {e}");
                return ExitCode::from(EXIT_CONFIG);
            }
        }
    } else {
        tracing::warn!(
            "MCP_AUTH_BENCH_AUTH=off: the MCP endpoint is UNPROTECTED (benchmark baseline)"
        );
        // No protection is served; this one only names the resource, whose
        // host rmcp must accept, as in the protected server.
        let baseline = match McpAuth::builder_with_verifier(mcp_auth::StaticApiKeys::new())
            .resource_url(&settings.mcp_url)
            .build()
        {
            Ok(auth) => auth,
            Err(e) => {
                eprintln!("configuration error: {e}");
                return ExitCode::from(EXIT_CONFIG);
            }
        };
        let mcp = rmcp::transport::streamable_http_server::StreamableHttpService::new(
            || Ok(BenchServer),
            rmcp::transport::streamable_http_server::session::never::NeverSessionManager::default()
                .into(),
            mcp_auth_examples::rmcp_config(&baseline),
        );
        axum::Router::new()
            .nest_service("/mcp", mcp)
            .route("/health", axum::routing::get(|| async { "ok" }))
    };
    match mcp_auth_examples::serve(app, &settings).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(EXIT_RUNTIME)
        }
    }
}
