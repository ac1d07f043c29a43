//! OAuth 2.1 bearer-token protection for MCP servers served over HTTP with axum,
//! in particular [rmcp](https://docs.rs/rmcp) streamable-HTTP servers.
//!
//! A complete protected rmcp server: tokens from an OAuth issuer are verified
//! against its JWKS on every request, clients find the issuer through the
//! protected-resource metadata, and a tool reads the caller.
//!
//! ```
//! use axum::Router;
//! use mcp_auth_core::{CustomConfig, CustomProvider, McpAuth};
//! use rmcp::handler::server::common::FromContextPart as _;
//! use rmcp::transport::streamable_http_server::{
//!     StreamableHttpServerConfig, StreamableHttpService, session::never::NeverSessionManager,
//! };
//! use rmcp::{ErrorData, tool, tool_router};
//!
//! #[derive(Clone)]
//! struct Hello;
//!
//! #[tool_router(server_handler)]
//! impl Hello {
//!     #[tool(description = "Greets the authenticated caller")]
//!     fn hello(&self, mcp_auth_core::rmcp::Auth(who): mcp_auth_core::rmcp::Auth) -> Result<String, ErrorData> {
//!         who.require_scope("greet")?; // a JSON-RPC error naming the scopes if absent
//!         Ok(format!("Hello, {}!", who.user().user_id))
//!     }
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let mut config = CustomConfig::new("https://auth.example.com");
//!     config.jwks_url = Some("https://auth.example.com/.well-known/jwks.json".into());
//!     let auth = McpAuth::new(CustomProvider::new(config)?)
//!         .resource_url("http://localhost:3000/mcp")?; // tokens must carry this `aud`
//!
//!     let mcp = StreamableHttpService::new(
//!         || Ok(Hello),
//!         NeverSessionManager::default().into(),
//!         StreamableHttpServerConfig::default().with_legacy_session_mode(false).with_json_response(true),
//!     );
//!     let app = Router::new()
//!         .nest_service("/mcp", mcp)
//!         .layer(auth.layer()) // 401/403/503 before rmcp sees the request
//!         .merge(auth.routes()); // /.well-known/oauth-protected-resource/mcp, ...
//!
//!     let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//!     axum::serve(listener, app).with_graceful_shutdown(shutdown_signal()).await?;
//!     Ok(())
//! }
//! # // The doctest stops at once; a real server waits for tokio::signal::ctrl_c().
//! # async fn shutdown_signal() {}
//! ```
//!
//! The pieces, each usable alone:
//! - [`JwtVerifier`] with [`JwtConfig`] and [`JwksCache`]: the verification rules
//!   (algorithm allowlist with keys bound to one algorithm each, exact `iss`,
//!   required `aud` and `exp`, `nbf`, leeway, optional `typ: at+jwt`).
//! - [`TokenVerifier`] and [`AuthProvider`]: what a provider implements;
//!   [`StaticApiKeys`] and [`verifier_fn`] for the simplest cases;
//!   [`CustomProvider`] for any OAuth issuer.
//! - [`McpAuth`]: the axum [`AuthLayer`], the [`AuthContext`] extractor, and the
//!   discovery routes.

#![warn(missing_docs)]

pub mod api_keys;
pub mod claims;
pub mod custom;
pub mod env;
pub mod error;
pub(crate) mod fetch;
pub mod http;
pub mod jwt;
pub mod mcp_auth;
pub mod oidc;
pub mod provider;
#[cfg(feature = "rmcp")]
pub mod rmcp;
pub mod user;

pub use api_keys::StaticApiKeys;
pub use custom::{CustomConfig, CustomProvider};
pub use error::{ConfigError, FetchError, TokenRejection, VerifyError};
pub use fetch::FetchLimits;
pub use http::{AuthLayer, MissingAuthContext, ResourceUrl};
pub use jwt::{Algorithm, AlgorithmSet, Audience, HmacSecret, JwksCache, JwksConfig, JwtConfig, JwtVerifier, KeySet, KeySource};
pub use mcp_auth::McpAuth;
pub use provider::{AuthProvider, BoxFuture, FnVerifier, Mode, ProviderMetadata, TokenVerifier, verifier_fn};
pub use user::{AccessToken, AuthContext, AuthContextBuilder, AuthUser, Claims, InsufficientScope};
