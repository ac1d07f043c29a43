//! `mcp-auth`: OAuth 2.1 bearer-token protection for MCP servers built on
//! [rmcp](https://docs.rs/rmcp) and [axum](https://docs.rs/axum).
//!
//! The root is what a server author names: [`McpAuth`] and its builder, the
//! providers ([`JwtProvider`], [`CustomProvider`], [`StaticApiKeys`]), the caller
//! ([`AuthContext`], [`AuthUser`]), the errors, and the four presets' one-call
//! constructors (`auth0_provider()`, `workos_provider()`, `supabase_provider()`,
//! `keycloak_provider()`). The building blocks have one module each: [`jwt`]
//! (verification), [`oauth`] (authorization-server pieces), [`proxy`] (the proxy
//! stores), [`env`](mod@env) (variables and `.env`) and [`claims`] (claim mapping). Each
//! identity-provider preset is a module behind its feature: `auth0`, `workos`,
//! `supabase`, `keycloak` (for example `mcp_auth::auth0::Auth0Config`). Features:
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

#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "dev-issuer")]
pub use mcp_auth_core::dev_issuer;
#[cfg(feature = "rmcp")]
pub use mcp_auth_core::rmcp;
// Serving: the protection, its layer and routes.
pub use mcp_auth_core::{
    AuthLayer, AuthService, McpAuth, McpAuthBuilder, McpCors, MissingAuthContext, ResourceUrl,
    ScopePolicy,
};
// Providers and verifiers.
pub use mcp_auth_core::{
    AuthProvider, BoxFuture, CustomConfig, CustomProvider, DEFAULT_GRANT_TYPES, FnVerifier,
    JwtProvider, JwtProviderBuilder, Mode, ProviderMetadata, StaticApiKeys, TokenVerifier,
    default_grant_types, verifier_fn,
};
// The caller.
pub use mcp_auth_core::{
    AccessToken, AuthContext, AuthContextBuilder, AuthUser, Claims, InsufficientScope,
    ScopeHierarchy,
};
// Errors and secrets.
pub use mcp_auth_core::{ClientSecret, ConfigError, FetchError, TokenRejection, VerifyError};
// Building blocks, one module each.
pub use mcp_auth_core::{claims, env, jwt, oauth, proxy};

/// The root README's Rust blocks, compiled as doctests (they need the `rmcp`
/// and `keycloak` features, as `cargo test --workspace --all-features` has).
#[cfg(all(doctest, feature = "rmcp", feature = "keycloak"))]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

/// Auth0 (feature `auth0`): its config, provider, claims and variables.
#[cfg(feature = "auth0")]
pub mod auth0 {
    pub use mcp_auth_auth0::*;
}
/// Auth0 from its environment variables (and `.env`): the card's one call.
#[cfg(feature = "auth0")]
pub use mcp_auth_auth0::auth0_provider;

/// WorkOS (feature `workos`): its config, provider, claims and variables.
#[cfg(feature = "workos")]
pub mod workos {
    pub use mcp_auth_workos::*;
}
/// WorkOS from its environment variables (and `.env`): the card's one call.
#[cfg(feature = "workos")]
pub use mcp_auth_workos::workos_provider;

/// Supabase (feature `supabase`): its config, provider, claims and variables.
#[cfg(feature = "supabase")]
pub mod supabase {
    pub use mcp_auth_supabase::*;
}
/// Supabase from its environment variables (and `.env`): the card's one call.
#[cfg(feature = "supabase")]
pub use mcp_auth_supabase::supabase_provider;

/// Keycloak (feature `keycloak`): its config, provider, claims and variables.
#[cfg(feature = "keycloak")]
pub mod keycloak {
    pub use mcp_auth_keycloak::*;
}
/// Keycloak from its environment variables (and `.env`): the card's one call.
#[cfg(feature = "keycloak")]
pub use mcp_auth_keycloak::keycloak_provider;
