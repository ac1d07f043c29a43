//! Auth0 preset for [mcp-auth](https://docs.rs/mcp-auth): protect an MCP server
//! (an [rmcp](https://docs.rs/rmcp) streamable-HTTP service on axum) with Auth0
//! access tokens.
//!
//! ```
//! use mcp_auth_auth0::{Auth0Config, Auth0Provider};
//! use mcp_auth_core::{AuthContext, McpAuth};
//! # use tower::ServiceExt as _;
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // Zero-config: `mcp_auth_auth0::auth0_provider()?` reads MCP_USE_OAUTH_AUTH0_DOMAIN
//! // and MCP_USE_OAUTH_AUTH0_AUDIENCE from the environment or `.env`.
//! let provider = Auth0Provider::new(Auth0Config::new("your-tenant.auth0.com", "https://api.example.com"))?;
//! let auth = McpAuth::builder(provider).resource_url("https://mcp.example.com/mcp").build()?;
//! let app: axum::Router = axum::Router::new()
//!     // In an rmcp server: `.nest_service("/mcp", streamable_http_service)`, and
//!     // `mcp_auth::rmcp::auth_context(&ctx)?` inside a tool.
//!     .route("/mcp", axum::routing::post(|who: AuthContext| async move { who.user().user_id.clone() }))
//!     .layer(auth.layer())    // 401/403/503 before the MCP service sees the request
//!     .merge(auth.routes());  // discovery documents (this server is the authorization server)
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
//! | `MCP_USE_OAUTH_AUTH0_DOMAIN` | required | tenant domain, e.g. `your-tenant.auth0.com` |
//! | `MCP_USE_OAUTH_AUTH0_AUDIENCE` | required | identifier of the Auth0 API standing for this server |
//!
//! [`Auth0Config`] holds the same settings and more (namespaced roles claim,
//! pre-registered client, base URL override, JWT and JWKS tuning); values set in it
//! win over the environment ([`Auth0Config::with_env`]).
//!
//! # What is checked
//!
//! Tokens must be JWTs signed by a key of `https://{domain}/.well-known/jwks.json`
//! (RS256, or whatever asymmetric algorithm the tenant publishes, each key bound to
//! its own), with `iss` = `https://{domain}/` and the API identifier in `aud`. A
//! token issued for another API of the same tenant, or only for `/userinfo`, is refused.
//!
//! # Proxy mode
//!
//! Auth0 issues a JWT only when the authorization request names an `audience`, and
//! MCP clients do not know it. So the MCP server names itself as the authorization
//! server and forwards `/authorize` (adding `audience`), `/token` and `/register`
//! to the tenant (`/authorize`, `/oauth/token`, `/oidc/register`). Advertised
//! scopes: `openid profile email offline_access`.
//!
//! # The user
//!
//! [`map_auth0_user`] fills [`AuthUser`](mcp_auth_core::AuthUser): `sub`, `email`,
//! `name`, `nickname`, `picture`, `permissions` (RBAC), and roles from a
//! namespaced custom claim ([`Auth0Config::roles_claim`]) or `roles`. Every other
//! claim stays in [`AuthUser::claims`](mcp_auth_core::AuthUser::claims).

#![warn(missing_docs)]

mod claims;
mod config;
mod provider;

pub use claims::map_auth0_user;
pub use config::{
    AUTH0_AUDIENCE_VAR, AUTH0_DEFAULT_SCOPES, AUTH0_DOMAIN_VAR, AUTH0_ENV_VARS, Auth0Config,
};
pub use provider::{Auth0Provider, auth0_provider};
