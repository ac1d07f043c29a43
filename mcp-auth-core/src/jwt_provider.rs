//! [`JwtProvider`]: an [`AuthProvider`] made of provider metadata and a
//! [`JwtVerifier`]. Every preset (Auth0, WorkOS, Supabase, Keycloak) is one of these
//! with its own configuration and claim mapping.

use crate::error::VerifyError;
use crate::jwt::{Audience, JwtVerifier};
use crate::provider::{AuthProvider, ProviderMetadata, TokenVerifier};
use crate::user::AuthContext;

/// The audience a verifier is built with before the resource URL is known; it is
/// replaced by [`bind_resource_audience`] and matches no real token.
pub const UNBOUND_RESOURCE_AUDIENCE: &str = "urn:mcp-auth:unbound-resource";

/// The verifier with `resource` added to its accepted audiences (and the
/// [`UNBOUND_RESOURCE_AUDIENCE`] placeholder dropped). A rule that accepts any
/// audience is left alone.
pub fn bind_resource_audience(verifier: &JwtVerifier, resource: &str) -> JwtVerifier {
    let add = |list: &[String]| {
        let mut out: Vec<String> = list
            .iter()
            .filter(|a| *a != UNBOUND_RESOURCE_AUDIENCE)
            .cloned()
            .collect();
        if !out.iter().any(|a| a == resource) {
            out.push(resource.to_owned());
        }
        out
    };
    match &verifier.config().audience {
        Audience::OneOf(list) => verifier.with_audience(Audience::OneOf(add(list))),
        Audience::OneOfOrAuthorizedParty(list) => {
            verifier.with_audience(Audience::OneOfOrAuthorizedParty(add(list)))
        }
        _ => verifier.clone(),
    }
}

/// An identity provider that issues JWT access tokens.
///
/// ```
/// use mcp_auth_core::{Audience, JwksCache, JwksConfig, JwtConfig, JwtProvider, JwtVerifier, KeySource, Mode, ProviderMetadata};
/// let issuer = "https://idp.example.com/";
/// let jwks = JwksCache::new("https://idp.example.com/.well-known/jwks.json", JwksConfig::default())?;
/// let verifier = JwtVerifier::new(JwtConfig::new(issuer, Audience::exactly("my-api")), KeySource::Jwks(jwks))?;
/// let provider = JwtProvider::new(ProviderMetadata::new(issuer, Mode::Proxy), verifier);
/// # Ok::<(), mcp_auth_core::ConfigError>(())
/// ```
#[derive(Debug, Clone)]
pub struct JwtProvider {
    metadata: ProviderMetadata,
    verifier: JwtVerifier,
    accept_resource_audience: bool,
}

impl JwtProvider {
    /// A provider described by `metadata` whose tokens `verifier` checks.
    pub fn new(metadata: ProviderMetadata, verifier: JwtVerifier) -> Self {
        JwtProvider {
            metadata,
            verifier,
            accept_resource_audience: false,
        }
    }

    /// Also accept tokens whose audience is this server's resource URL (RFC 8707),
    /// once [`crate::McpAuthBuilder::resource_url`] names it.
    pub fn accept_resource_audience(mut self) -> Self {
        self.accept_resource_audience = true;
        self
    }

    /// The verifier.
    pub fn verifier(&self) -> &JwtVerifier {
        &self.verifier
    }
}

impl TokenVerifier for JwtProvider {
    async fn verify_token(&self, token: &str) -> Result<AuthContext, VerifyError> {
        self.verifier.verify_context(token).await
    }
}

impl AuthProvider for JwtProvider {
    fn metadata(&self) -> &ProviderMetadata {
        &self.metadata
    }

    fn bind_resource(&mut self, resource: &str) {
        if self.accept_resource_audience {
            self.verifier = bind_resource_audience(&self.verifier, resource);
        }
    }
}
