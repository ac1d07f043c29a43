//! [mcp-auth](https://docs.rs/mcp-auth) preset for [Keycloak](https://www.keycloak.org):
//! protect an MCP server with the access tokens of a Keycloak realm.
//!
//! ```
//! use mcp_auth_core::{AuthContext, McpAuth};
//! use mcp_auth_keycloak::{KeycloakClaims, KeycloakConfig, KeycloakProvider};
//! use tower::ServiceExt as _;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // Zero-config: `mcp_auth_keycloak::keycloak_provider()?` reads MCP_USE_OAUTH_KEYCLOAK_*.
//! let provider = KeycloakProvider::new(
//!     KeycloakConfig::new("https://sso.example.com", "acme").with_client_id("mcp-server"),
//! )?;
//! let auth = McpAuth::builder(provider).resource_url("https://mcp.example.com/mcp").build()?;
//! let app: axum::Router = axum::Router::new()
//!     .route("/mcp", axum::routing::post(|who: AuthContext| async move {
//!         format!("{:?} has realm roles {:?}", who.user().username, who.realm_roles())
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
//! - **Configuration**: [`KeycloakConfig`], from explicit values or
//!   [`KeycloakConfig::from_env`]: `MCP_USE_OAUTH_KEYCLOAK_SERVER_URL` and
//!   `MCP_USE_OAUTH_KEYCLOAK_REALM` (required), `MCP_USE_OAUTH_KEYCLOAK_CLIENT_ID`
//!   and `MCP_USE_OAUTH_KEYCLOAK_CLIENT_SECRET` (optional). [`keycloak_provider`]
//!   does both steps.
//! - **Verification**: issuer `{server_url}/realms/{realm}`, keys from
//!   `{issuer}/protocol/openid-connect/certs`. With a client id, `aud` must contain
//!   it or `azp` must equal it (Keycloak access tokens carry `aud: "account"` and
//!   name their client in `azp`), so a token issued to another client of the same
//!   realm is refused. Without one, `aud` must be this server's resource URL.
//! - **Discovery**: proxy mode by default, in front of
//!   `{issuer}/protocol/openid-connect/{auth,token}` and dynamic client
//!   registration at `{issuer}/clients-registrations/openid-connect`; the
//!   advertised scopes include `roles`, the grants `client_credentials`.
//! - **Claims**: [`map_keycloak_user`] fills the [`AuthUser`](mcp_auth_core::AuthUser)
//!   (`preferred_username`, realm roles plus the configured client's roles);
//!   [`KeycloakClaims`] reads realm roles, any client's roles and `azp`.

#![warn(missing_docs)]
#![forbid(unsafe_code)]

mod claims;
mod config;
mod provider;

pub use claims::{KeycloakClaims, map_keycloak_user};
pub use config::{
    KEYCLOAK_CLIENT_ID_VAR, KEYCLOAK_CLIENT_SECRET_VAR, KEYCLOAK_ENV_VARS, KEYCLOAK_REALM_VAR,
    KEYCLOAK_SERVER_URL_VAR, KeycloakConfig,
};
pub use provider::{KeycloakProvider, keycloak_provider};
