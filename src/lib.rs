//! `mcp-auth`: OAuth 2.1 bearer-token protection for MCP servers built on
//! [rmcp](https://docs.rs/rmcp) and [axum](https://docs.rs/axum).
//!
//! This facade re-exports [`mcp_auth_core`] (verification, the axum layer, the
//! discovery routes, [`CustomProvider`]); identity-provider presets arrive behind
//! their own features. Features:
//! - `rmcp`: [`McpAuth::streamable_http_config`] (rmcp's server configuration
//!   for the resource URL), [`rmcp::auth_context`] and the [`rmcp::Auth`]
//!   extractor, to read the caller inside a tool.
//! - `dangerous-skip-verification`: the development-only switch that stops
//!   checking token signatures. Never enable it in production.
//!
//! A builder and three calls protect a server, one reads the user:
//!
//! ```
//! use mcp_auth::{AuthUser, McpAuth, StaticApiKeys};
//! use tower::ServiceExt as _;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let keys = StaticApiKeys::new().key("sk-abc123", AuthUser::new("alice").with_email("alice@example.com"));
//! let auth = McpAuth::builder_with_verifier(keys).build()?;
//! let app: axum::Router = axum::Router::new()
//!     .route("/mcp", axum::routing::post(|who: mcp_auth::AuthContext| async move {
//!         format!("hello {}", who.user().user_id) // in rmcp: mcp_auth::rmcp::auth_context(&ctx)?
//!     }))
//!     .layer(auth.layer())
//!     .merge(auth.routes());
//!
//! let request = |token: &str| {
//!     axum::http::Request::post("/mcp").header("authorization", format!("Bearer {token}")).body(axum::body::Body::empty())
//! };
//! assert_eq!(app.clone().oneshot(request("sk-abc123")?).await?.status(), 200);
//! assert_eq!(app.oneshot(request("sk-wrong")?).await?.status(), 401);
//! # Ok(()) }
//! ```

pub use mcp_auth_core::*;

/// The root README's Rust blocks, compiled as doctests (they need the `rmcp`
/// and `keycloak` features, as `cargo test --workspace --all-features` has).
#[cfg(all(doctest, feature = "rmcp", feature = "keycloak"))]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

#[cfg(feature = "auth0")]
pub use mcp_auth_auth0::*;
#[cfg(feature = "keycloak")]
pub use mcp_auth_keycloak::*;
#[cfg(feature = "supabase")]
pub use mcp_auth_supabase::*;
#[cfg(feature = "workos")]
pub use mcp_auth_workos::*;
