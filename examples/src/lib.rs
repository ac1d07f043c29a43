//! Shared plumbing of the example servers: settings from the environment, logging,
//! and serving an rmcp streamable-HTTP service behind [`McpAuth`].
//!
//! Every example binary is `main` = [`run`] with two closures: one that builds the
//! protection from the environment, one that makes the rmcp server.

use std::net::{Ipv4Addr, SocketAddr};
use std::process::ExitCode;

use axum::Router;
use axum::routing::get;
use mcp_auth::env::{EnvReader, EnvSource, load_dotenv};
use mcp_auth::proxy::REDIS_URL_VAR;
use mcp_auth::proxy::{RedisStore, RedisStoreConfig};
use mcp_auth::{ConfigError, McpAuth, McpAuthBuilder, McpCors};
use rmcp::ServerHandler;
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use tracing_subscriber::EnvFilter;

/// Exit code of a missing or malformed setting.
pub const EXIT_CONFIG: u8 = 2;
/// Exit code of a failure while running (port in use, I/O error).
pub const EXIT_RUNTIME: u8 = 1;

/// Where the example listens and the URL clients use to reach it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// `PORT` (default 3000); the server binds `127.0.0.1:PORT`.
    pub port: u16,
    /// `MCP_URL` (default `http://localhost:PORT/mcp`): the public resource URL,
    /// the audience tokens must carry for providers that bind to it.
    pub mcp_url: String,
}

impl Settings {
    /// Reads `PORT` and `MCP_URL` (after loading `.env`). The error names the
    /// variable that is malformed.
    pub fn from_env() -> Result<Self, ConfigError> {
        load_dotenv();
        let mut env = EnvReader::new();
        let port = match env.optional("PORT") {
            None => 3000,
            Some(raw) => match raw.parse::<u16>() {
                Ok(port) => port,
                Err(e) => {
                    env.invalid("PORT", format!("{raw:?} is not a TCP port number: {e}"));
                    0
                }
            },
        };
        let mcp_url = env.optional_url("MCP_URL");
        env.finish()?;
        let mcp_url = mcp_url.unwrap_or_else(|| format!("http://localhost:{port}/mcp"));
        Ok(Settings { port, mcp_url })
    }

    /// The host of [`mcp_url`](Self::mcp_url), if it has one.
    pub fn public_host(&self) -> Option<String> {
        let uri: axum::http::Uri = self.mcp_url.parse().ok()?;
        uri.host()
            .map(|h| h.trim_start_matches('[').trim_end_matches(']').to_owned())
    }
}

/// The log filter when `RUST_LOG` is unset or empty: `info`, except rmcp's
/// per-request lines ("Service initialized as server", "serve finished", …), which
/// in stateless mode come with every request and bury the server's own lines.
pub const DEFAULT_LOG_FILTER: &str = "info,rmcp=warn";

/// Whether log lines carry ANSI colours: only when stderr is a terminal, and
/// never when `NO_COLOR` is set to a non-empty value (<https://no-color.org>).
/// A log file, a pipe or a container log gets plain text.
pub fn log_colours(stderr_is_terminal: bool, no_color: Option<&std::ffi::OsStr>) -> bool {
    stderr_is_terminal && no_color.is_none_or(|v| v.is_empty())
}

/// Logs to stderr, filtered by `RUST_LOG` (default [`DEFAULT_LOG_FILTER`]), with
/// colours only on a terminal (see [`log_colours`]).
pub fn init_tracing() {
    use std::io::IsTerminal as _;
    let filter = match std::env::var("RUST_LOG") {
        Ok(value) if !value.trim().is_empty() => EnvFilter::try_new(&value).unwrap_or_else(|e| {
            eprintln!(
                "RUST_LOG={value:?} is not a valid filter ({e}); using {DEFAULT_LOG_FILTER:?}"
            );
            EnvFilter::new(DEFAULT_LOG_FILTER)
        }),
        _ => EnvFilter::new(DEFAULT_LOG_FILTER),
    };
    let ansi = log_colours(
        std::io::stderr().is_terminal(),
        std::env::var_os("NO_COLOR").as_deref(),
    );
    // A second initialisation (e.g. in a test harness) is harmless: keep the first.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr)
        .try_init();
}

/// The rmcp configuration the examples use: stateless (no sessions), plain JSON
/// answers, and `Host` validation that accepts the loopback names plus the host of
/// the resource URL (so the server still answers behind a reverse proxy), from
/// [`McpAuth::streamable_http_config`].
pub fn rmcp_config(auth: &McpAuth) -> StreamableHttpServerConfig {
    auth.streamable_http_config()
        .with_legacy_session_mode(false)
        .with_json_response(true)
}

/// The whole application: the MCP service at `/mcp` behind the auth layer,
/// itself behind CORS for browser-based clients ([`McpCors::any_origin`]: a
/// bearer-token API without cookies; see the README), the discovery routes of
/// `auth`, and a public `GET /health`.
pub fn app<S, F>(auth: &McpAuth, make_server: F) -> Router
where
    S: ServerHandler + Send + 'static,
    F: Fn() -> S + Send + Sync + 'static,
{
    let mcp = StreamableHttpService::new(
        move || Ok(make_server()),
        NeverSessionManager::default().into(),
        rmcp_config(auth),
    );
    Router::new()
        .nest_service("/mcp", mcp)
        .layer(auth.layer())
        // Outside the auth layer: preflights need no token, and refusals carry
        // the CORS headers that let a page's script read the challenge.
        .layer(McpCors::any_origin().layer())
        .merge(auth.routes())
        .route("/health", get(|| async { "ok" }))
}

/// Serves `app` on `127.0.0.1:PORT` until Ctrl-C or SIGTERM.
pub async fn serve(app: Router, settings: &Settings) -> std::io::Result<()> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, settings.port));
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| std::io::Error::new(e.kind(), format!("cannot listen on {addr}: {e}")))?;
    tracing::info!(address = %addr, resource = %settings.mcp_url, "MCP server listening");
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::warn!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut sig) => {
                sig.recv().await;
            }
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}

/// The body of every example's `main`: logging, settings, protection from
/// `build_auth` (completed by [`shared_state`] and built), the app, and serving. A configuration error is printed to stderr
/// (it names the variable) and exits with [`EXIT_CONFIG`]; a runtime failure exits
/// with [`EXIT_RUNTIME`].
pub async fn run<S, A, F>(build_auth: A, make_server: F) -> ExitCode
where
    S: ServerHandler + Send + 'static,
    A: FnOnce(&Settings) -> Result<McpAuthBuilder, ConfigError>,
    F: Fn() -> S + Send + Sync + 'static,
{
    init_tracing();
    let configured =
        Settings::from_env().and_then(|settings| Ok((build_auth(&settings)?, settings)));
    let configured = match configured {
        Ok((auth, settings)) => shared_state(auth, &EnvSource::process())
            .await
            .and_then(McpAuthBuilder::build)
            .map(|auth| (auth, settings)),
        Err(error) => Err(error),
    };
    let (auth, settings) = match configured {
        Ok(ok) => ok,
        Err(error) => {
            eprintln!("configuration error: {error}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let app = app(&auth, make_server);
    match serve(app, &settings).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(EXIT_RUNTIME)
        }
    }
}

/// What replicas of a proxy-mode server share, from `source`: the state key
/// (`MCP_AUTH_STATE_KEY`, see [`McpAuthBuilder::proxy_state_key_from_env`]) and, when
/// `MCP_AUTH_REDIS_URL` is set, the proxy-mode store in that Redis, which must
/// answer now: an unreachable Redis is an error naming the variable and the URL
/// (password hidden).
pub async fn shared_state(
    auth: McpAuthBuilder,
    source: &EnvSource,
) -> Result<McpAuthBuilder, ConfigError> {
    let auth = auth.proxy_state_key_from_env(source);
    let Some(config) = RedisStoreConfig::from_env(source)? else {
        return Ok(auth);
    };
    let url = config.url().to_string();
    let store = RedisStore::connect(config)
        .await
        .map_err(|e| ConfigError::invalid(REDIS_URL_VAR, e.to_string()))?;
    tracing::info!(redis = %url, "proxy-mode state is kept in Redis");
    Ok(auth.proxy_store(store))
}

/// The `whoami` tool of every example: the authenticated caller as JSON.
pub fn whoami(who: &mcp_auth::AuthContext) -> Result<rmcp::model::CallToolResult, rmcp::ErrorData> {
    let user = serde_json::to_value(who.user()).map_err(|e| {
        rmcp::ErrorData::internal_error(format!("cannot serialize the user: {e}"), None)
    })?;
    Ok(rmcp::model::CallToolResult::structured(user))
}

/// Fails with a JSON-RPC error naming the missing role (and the caller's roles)
/// unless the caller holds `role`.
pub fn require_role(who: &mcp_auth::AuthContext, role: &str) -> Result<(), rmcp::ErrorData> {
    if who.user().roles.iter().any(|r| r == role) {
        return Ok(());
    }
    Err(rmcp::ErrorData::invalid_request(
        format!("this tool requires the role {role:?}"),
        Some(serde_json::json!({
            "error": "insufficient_role",
            "required_role": role,
            "roles": who.user().roles,
        })),
    ))
}

/// A tool-level error: the caller sees `message`.
pub fn tool_error(message: impl Into<String>) -> rmcp::model::CallToolResult {
    rmcp::model::CallToolResult::error(vec![rmcp::model::ContentBlock::text(message)])
}

/// The HTTP client the vendor tools use to call an upstream API: 10 s timeout,
/// 5 s connect timeout, and no redirects, so a credential it carries (the
/// caller's token, an API key) never goes wherever a redirect points.
pub fn upstream_http_client() -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .connect_timeout(std::time::Duration::from_secs(5))
        .redirect(reqwest::redirect::Policy::none())
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The protection of an example at `settings`' resource URL.
    fn auth_at(settings: &Settings) -> McpAuth {
        McpAuth::builder_with_verifier(mcp_auth::StaticApiKeys::new())
            .resource_url(&settings.mcp_url)
            .build()
            .expect("configuration")
    }

    #[test]
    fn public_host_of_the_resource_url() {
        let s = Settings {
            port: 3000,
            mcp_url: "https://mcp.example.com/mcp".into(),
        };
        assert_eq!(s.public_host().as_deref(), Some("mcp.example.com"));
        let cfg = rmcp_config(&auth_at(&s));
        assert!(cfg.allowed_hosts.iter().any(|h| h == "127.0.0.1"));
        assert!(cfg.allowed_hosts.iter().any(|h| h == "localhost"));
        assert!(cfg.allowed_hosts.iter().any(|h| h == "mcp.example.com"));
    }

    #[test]
    fn colours_only_on_a_terminal_without_no_color() {
        use std::ffi::OsStr;
        assert!(log_colours(true, None));
        assert!(log_colours(true, Some(OsStr::new(""))));
        assert!(!log_colours(true, Some(OsStr::new("1"))));
        assert!(!log_colours(false, None));
        assert!(!log_colours(false, Some(OsStr::new(""))));
    }

    #[test]
    fn the_default_filter_silences_rmcp_below_warn() {
        let filter = EnvFilter::new(DEFAULT_LOG_FILTER).to_string();
        assert!(filter.contains("rmcp=warn"), "{filter}");
    }

    #[test]
    fn loopback_resource_url_adds_nothing() {
        let s = Settings {
            port: 3000,
            mcp_url: "http://localhost:3000/mcp".into(),
        };
        let cfg = rmcp_config(&auth_at(&s));
        assert_eq!(
            cfg.allowed_hosts,
            StreamableHttpServerConfig::default().allowed_hosts
        );
    }
}
