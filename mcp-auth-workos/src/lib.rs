//! WorkOS AuthKit preset for [mcp-auth](https://docs.rs/mcp-auth): protect an MCP
//! server (an [rmcp](https://docs.rs/rmcp) streamable-HTTP service on axum) with
//! AuthKit access tokens.
//!
//! ```
//! use mcp_auth_core::{AuthContext, McpAuth};
//! use mcp_auth_workos::{WorkosClaims as _, WorkosConfig, WorkosProvider};
//! # use tower::ServiceExt as _;
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // Zero-config: `mcp_auth_workos::workos_provider()?` reads MCP_USE_OAUTH_WORKOS_SUBDOMAIN
//! // (and the optional _CLIENT_ID and _API_KEY) from the environment or `.env`.
//! let provider = WorkosProvider::new(WorkosConfig::new("your-company"))?;
//! // Tokens must be issued for this URL (their `aud`), or for the configured client id.
//! let auth = McpAuth::builder(provider).resource_url("https://mcp.example.com/mcp").build()?;
//! let app: axum::Router = axum::Router::new()
//!     // In an rmcp server: `.nest_service("/mcp", streamable_http_service)`, and
//!     // `mcp_auth::rmcp::auth_context(&ctx)?` inside a tool.
//!     .route("/mcp", axum::routing::post(|who: AuthContext| async move {
//!         format!("{} in {:?}", who.user().user_id, who.org_id())
//!     }))
//!     .layer(auth.layer())    // 401/403/503 before the MCP service sees the request
//!     .merge(auth.routes());  // protected-resource metadata naming AuthKit
//!
//! let no_token = axum::http::Request::post("/mcp").body(axum::body::Body::empty())?;
//! assert_eq!(app.oneshot(no_token).await?.status(), 401);
//! # Ok(()) }
//! ```
//!
//! # Settings
//!
//! | Variable | | |
//! |---|---|---|
//! | `MCP_USE_OAUTH_WORKOS_SUBDOMAIN` | required | `your-company` in `your-company.authkit.app` |
//! | `MCP_USE_OAUTH_WORKOS_CLIENT_ID` | optional | a pre-registered client; unset: clients use dynamic registration |
//! | `MCP_USE_OAUTH_WORKOS_API_KEY` | optional | `sk_…`, for your own calls to the WorkOS API |
//!
//! [`WorkosConfig`] holds the same settings and more (AuthKit and API URL
//! overrides, extra audiences, JWT and JWKS tuning); values set in it win over the
//! environment ([`WorkosConfig::with_env`]).
//!
//! # Direct mode
//!
//! The MCP server is a pure resource server: its protected-resource metadata names
//! `https://{subdomain}.authkit.app` as the authorization server, and MCP clients
//! register and log in with AuthKit directly (enable Dynamic Client Registration
//! in the WorkOS dashboard, or pre-register a client). Only discovery routes are served.
//!
//! # What is checked
//!
//! Tokens must be JWTs signed by a key of `https://{subdomain}.authkit.app/oauth2/jwks`,
//! with `iss` = `https://{subdomain}.authkit.app`, and bound to this server: `aud`
//! must be its resource URL or the configured client id. A token AuthKit issued for
//! another MCP server or application is refused. Other integrations skip this
//! check; here, turning it off takes
//! [`WorkosConfig::dangerously_accept_any_audience`], which logs a warning.
//!
//! # The user
//!
//! [`map_workos_user`] fills [`AuthUser`](mcp_auth_core::AuthUser): `sub`,
//! `email`, `name` (or `first_name` + `last_name`), `preferred_username`, roles
//! from `role` and `roles`, and `permissions`. The organization, session,
//! entitlements and feature flags are read with the [`WorkosClaims`] extension
//! trait (`ctx.org_id()`, `ctx.session_id()`); every claim stays in
//! [`AuthUser::claims`](mcp_auth_core::AuthUser::claims).

#![warn(missing_docs)]

mod claims;
mod config;
mod provider;

pub use claims::{WorkosClaims, map_workos_user};
pub use config::{
    WORKOS_API_BASE_URL, WORKOS_API_KEY_VAR, WORKOS_CLIENT_ID_VAR, WORKOS_DEFAULT_SCOPES,
    WORKOS_ENV_VARS, WORKOS_SUBDOMAIN_VAR, WorkosApiKey, WorkosConfig,
};
pub use provider::{WorkosProvider, workos_provider};
