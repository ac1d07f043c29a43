//! [mcp-auth](https://docs.rs/mcp-auth) preset for [Supabase Auth](https://supabase.com/docs/guides/auth):
//! protect an MCP server with the access tokens of a Supabase project.
//!
//! ```
//! use mcp_auth_core::{AuthContext, McpAuth};
//! use mcp_auth_supabase::{SupabaseClaims, SupabaseConfig, SupabaseProvider};
//! use tower::ServiceExt as _;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // Zero-config: `mcp_auth_supabase::supabase_provider()?` reads MCP_USE_OAUTH_SUPABASE_*.
//! let provider = SupabaseProvider::new(SupabaseConfig::for_project("abcdefghijklmnopqrst"))?;
//! let auth = McpAuth::builder(provider).resource_url("https://mcp.example.com/mcp").build()?;
//! let app: axum::Router = axum::Router::new()
//!     .route("/mcp", axum::routing::post(|who: AuthContext| async move {
//!         format!("{} (mfa: {})", who.user().user_id, who.is_aal2())
//!     }))
//!     .layer(auth.layer())
//!     .merge(auth.routes());
//!
//! // No token: 401, pointing at the protected-resource metadata...
//! let request = axum::http::Request::post("/mcp").body(axum::body::Body::empty())?;
//! assert_eq!(app.clone().oneshot(request).await?.status(), 401);
//! // ...which names this server as the authorization server (proxy mode).
//! let request = axum::http::Request::get("/.well-known/oauth-protected-resource/mcp")
//!     .body(axum::body::Body::empty())?;
//! assert_eq!(app.oneshot(request).await?.status(), 200);
//! # Ok(()) }
//! ```
//!
//! What the preset does:
//! - **Configuration**: [`SupabaseConfig`], from explicit values or
//!   [`SupabaseConfig::from_env`]: `MCP_USE_OAUTH_SUPABASE_PROJECT_ID` (required
//!   unless `MCP_USE_OAUTH_SUPABASE_URL` gives the full project URL) and
//!   `MCP_USE_OAUTH_SUPABASE_JWT_SECRET` (optional, legacy HS256 projects).
//!   [`supabase_provider`] does both steps.
//! - **Verification**: issuer `https://{project}.supabase.co/auth/v1`; keys from
//!   `{issuer}/.well-known/jwks.json` (ES256, RS256); HS256 only when the legacy
//!   secret is configured, and then only for tokens whose header says HS256 (an
//!   asymmetric token is never checked against the secret); `aud` must be
//!   `authenticated` unless configured otherwise.
//! - **Discovery**: proxy mode by default, in front of Supabase's OAuth 2.1 server
//!   (`{issuer}/oauth/authorize`, `{issuer}/oauth/token`, and dynamic client
//!   registration at `{issuer}/oauth/clients/register`).
//! - **Claims**: [`map_supabase_user`] fills the [`AuthUser`](mcp_auth_core::AuthUser)
//!   (`role` becomes a role, `user_metadata` gives name and picture);
//!   [`SupabaseClaims`] reads `aal`, `amr`, `session_id`, `phone` and `app_metadata`.

#![warn(missing_docs)]
#![forbid(unsafe_code)]

mod claims;
mod config;
mod provider;

pub use claims::{SupabaseClaims, map_supabase_user};
pub use config::{
    SUPABASE_DEFAULT_AUDIENCE, SUPABASE_ENV_VARS, SUPABASE_JWT_SECRET_VAR, SUPABASE_PROJECT_ID_VAR,
    SUPABASE_URL_VAR, SupabaseConfig, SupabaseJwtSecret,
};
pub use provider::{SupabaseProvider, supabase_provider};
