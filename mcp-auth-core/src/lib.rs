//! OAuth 2.1 bearer-token protection for MCP servers served over HTTP with axum,
//! in particular [rmcp](https://docs.rs/rmcp) streamable-HTTP servers.
//!
//! A complete protected rmcp server: tokens from an OAuth issuer are verified
//! against its JWKS on every request, clients find the issuer through the
//! protected-resource metadata, and a tool reads the caller.
//!
//! (This example needs the `rmcp` feature; docs.rs shows it with all features.)
#![cfg_attr(feature = "rmcp", doc = include_str!("../docs/protected_server.md"))]
//!
//! The pieces, each usable alone:
//! - [`jwt::JwtVerifier`] with [`jwt::JwtConfig`] and [`jwt::JwksCache`]: the verification rules
//!   (algorithm allowlist with keys bound to one algorithm each, exact `iss`,
//!   required `aud` and `exp`, `nbf`, leeway, optional `typ: at+jwt`).
//! - [`TokenVerifier`] and [`AuthProvider`]: what a provider implements;
//!   [`StaticApiKeys`] and [`verifier_fn`] for the simplest cases;
//!   [`CustomProvider`] for any OAuth issuer; [`JwtProvider::builder`] for a
//!   preset of your own (what the vendor crates are built on).
//! - One redacting type per secret ([`ClientSecret`], [`jwt::HmacSecret`],
//!   [`AccessToken`], [`oauth::RefreshTokenSecret`],
//!   [`oauth::AuthorizationCodeSecret`]); `Debug` never prints a secret or a
//!   token.
//! - [`McpAuth`]: the axum [`AuthLayer`], the [`AuthContext`] extractor, and the
//!   discovery routes.

#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod api_keys;
pub mod claims;
mod custom;
#[cfg(feature = "dev-issuer")]
pub mod dev_issuer;
pub mod env;
mod error;
pub(crate) mod fetch;
mod http;
pub mod jwt;
mod jwt_provider;
mod mcp_auth;
pub mod oauth;
mod oidc;
mod provider;
pub mod proxy;
#[cfg(feature = "rmcp")]
pub mod rmcp;
mod secret;
mod user;

#[doc(hidden)]
pub mod __private;

pub use api_keys::StaticApiKeys;
pub use custom::{CustomConfig, CustomProvider};
pub use error::{ConfigError, FetchError, TokenRejection, VerifyError};
pub use http::{AuthLayer, AuthService, McpCors, MissingAuthContext, ResourceUrl, ScopePolicy};
pub use jwt_provider::{JwtProvider, JwtProviderBuilder};
pub use mcp_auth::{McpAuth, McpAuthBuilder};
pub use provider::{
    AuthProvider, BoxFuture, DEFAULT_GRANT_TYPES, FnVerifier, Mode, ProviderMetadata,
    TokenVerifier, default_grant_types, verifier_fn,
};
pub use secret::ClientSecret;
pub use user::{
    AccessToken, AuthContext, AuthContextBuilder, AuthUser, Claims, InsufficientScope,
    ScopeHierarchy,
};
