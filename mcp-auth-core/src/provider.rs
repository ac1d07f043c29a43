//! The provider abstraction: a [`TokenVerifier`] turns a bearer token into an
//! [`AuthContext`]; an [`AuthProvider`] also describes the authorization server
//! behind it, so discovery documents can be served.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde::Serialize;

use crate::error::VerifyError;
use crate::secret::ClientSecret;
use crate::user::AuthContext;

/// A boxed, sendable future (the object-safe form of the traits below).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Turns a bearer token into an [`AuthContext`], or says why not.
///
/// This is all the simplest servers need (static API keys, an introspection call);
/// see [`crate::StaticApiKeys`] and [`verifier_fn`].
///
/// ```
/// use mcp_auth_core::{AuthContext, AuthUser, TokenRejection, TokenVerifier, VerifyError};
///
/// struct OnlyAlice;
/// impl TokenVerifier for OnlyAlice {
///     async fn verify_token(&self, token: &str) -> Result<AuthContext, VerifyError> {
///         if token == "alice-secret" {
///             Ok(AuthContext::builder(AuthUser::new("alice"), token).build())
///         } else {
///             Err(TokenRejection::UnknownApiKey.into())
///         }
///     }
/// }
/// ```
pub trait TokenVerifier: Send + Sync + 'static {
    /// Verifies `token`. A refused token is [`VerifyError::Rejected`] (401); keys
    /// that cannot be obtained are [`VerifyError::KeysUnavailable`] (503).
    fn verify_token(
        &self,
        token: &str,
    ) -> impl Future<Output = Result<AuthContext, VerifyError>> + Send;
}

/// Whether the MCP server fronts the provider's OAuth endpoints or sends clients
/// straight to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// The MCP server names itself as the authorization server and forwards
    /// `/authorize`, `/token` and `/register` to the provider.
    Proxy,
    /// The MCP server is a pure resource server; its protected-resource metadata
    /// names the provider's issuer and clients talk to the provider directly.
    Direct,
}

/// What a provider says about the authorization server behind it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProviderMetadata {
    /// The issuer identifier, exactly as it appears in tokens' `iss`.
    pub issuer: String,
    /// Upstream authorization endpoint.
    pub authorization_endpoint: Option<String>,
    /// Upstream token endpoint.
    pub token_endpoint: Option<String>,
    /// Upstream dynamic client registration endpoint (RFC 7591).
    pub registration_endpoint: Option<String>,
    /// Upstream JWKS URL.
    pub jwks_uri: Option<String>,
    /// Scopes advertised to clients.
    pub scopes_supported: Vec<String>,
    /// Grant types advertised to clients.
    pub grant_types_supported: Vec<String>,
    /// Proxy or direct.
    pub mode: Mode,
    /// Parameters the proxy adds to every upstream authorization request (e.g.
    /// Auth0's `audience`, without which it issues opaque tokens).
    pub extra_authorize_params: Vec<(String, String)>,
    /// A client pre-registered at the provider, used by the proxy when clients do
    /// not register with the provider themselves.
    pub client_id: Option<String>,
    /// That client's secret, injected by the proxy into token requests.
    pub client_secret: Option<ClientSecret>,
}

/// The grant types a provider advertises unless configured otherwise.
pub const DEFAULT_GRANT_TYPES: &[&str] = &["authorization_code", "refresh_token"];

/// [`DEFAULT_GRANT_TYPES`] as owned strings, for a settings field.
pub fn default_grant_types() -> Vec<String> {
    DEFAULT_GRANT_TYPES
        .iter()
        .map(|g| (*g).to_owned())
        .collect()
}

impl ProviderMetadata {
    /// Metadata with only an issuer and a mode; fill in the rest by field.
    pub fn new(issuer: impl Into<String>, mode: Mode) -> Self {
        ProviderMetadata {
            issuer: issuer.into(),
            authorization_endpoint: None,
            token_endpoint: None,
            registration_endpoint: None,
            jwks_uri: None,
            scopes_supported: Vec::new(),
            grant_types_supported: default_grant_types(),
            mode,
            extra_authorize_params: Vec::new(),
            client_id: None,
            client_secret: None,
        }
    }
}

/// An identity provider: it verifies tokens and describes itself.
pub trait AuthProvider: TokenVerifier {
    /// The provider's self-description.
    fn metadata(&self) -> &ProviderMetadata;

    /// Called once with this server's canonical resource URL, before any request.
    /// Providers whose audience defaults to the resource (RFC 8707) bind it here.
    fn bind_resource(&mut self, resource: &str) {
        let _ = resource;
    }
}

/// The object-safe form of [`TokenVerifier`], used internally to store any verifier.
pub(crate) trait DynVerifier: Send + Sync + 'static {
    fn verify_dyn<'a>(&'a self, token: &'a str) -> BoxFuture<'a, Result<AuthContext, VerifyError>>;
    fn metadata_dyn(&self) -> Option<&ProviderMetadata>;
}

/// Adapts a plain [`TokenVerifier`] (no metadata).
pub(crate) struct VerifierOnly<V>(pub V);

impl<V: TokenVerifier> DynVerifier for VerifierOnly<V> {
    fn verify_dyn<'a>(&'a self, token: &'a str) -> BoxFuture<'a, Result<AuthContext, VerifyError>> {
        Box::pin(self.0.verify_token(token))
    }
    fn metadata_dyn(&self) -> Option<&ProviderMetadata> {
        None
    }
}

/// Adapts an [`AuthProvider`].
pub(crate) struct ProviderOnly<P>(pub P);

impl<P: AuthProvider> DynVerifier for ProviderOnly<P> {
    fn verify_dyn<'a>(&'a self, token: &'a str) -> BoxFuture<'a, Result<AuthContext, VerifyError>> {
        Box::pin(self.0.verify_token(token))
    }
    fn metadata_dyn(&self) -> Option<&ProviderMetadata> {
        Some(self.0.metadata())
    }
}

/// A [`TokenVerifier`] made from an async closure; see [`verifier_fn`].
#[derive(Clone)]
pub struct FnVerifier<F>(Arc<F>);

/// Makes a [`TokenVerifier`] from an async closure that receives the token.
///
/// ```
/// use mcp_auth_core::{verifier_fn, AuthContext, AuthUser, TokenRejection};
/// let verifier = verifier_fn(|token: String| async move {
///     if token.starts_with("sk-") {
///         Ok(AuthContext::builder(AuthUser::new("key-holder"), token).build())
///     } else {
///         Err(TokenRejection::UnknownApiKey.into())
///     }
/// });
/// # let _ = verifier;
/// ```
pub fn verifier_fn<F, Fut>(f: F) -> FnVerifier<F>
where
    F: Fn(String) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<AuthContext, VerifyError>> + Send + 'static,
{
    FnVerifier(Arc::new(f))
}

impl<F, Fut> TokenVerifier for FnVerifier<F>
where
    F: Fn(String) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<AuthContext, VerifyError>> + Send + 'static,
{
    fn verify_token(
        &self,
        token: &str,
    ) -> impl Future<Output = Result<AuthContext, VerifyError>> + Send {
        (self.0)(token.to_owned())
    }
}
