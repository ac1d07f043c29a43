//! [`JwtProvider`]: an [`AuthProvider`] made of provider metadata and a
//! [`JwtVerifier`], built with [`JwtProvider::builder`]. Every preset (Auth0,
//! WorkOS, Supabase, Keycloak) and [`CustomProvider`](crate::CustomProvider) is
//! one of these with its own configuration and claim mapping.

use std::sync::Arc;

use crate::claims::ClaimMapper;
use crate::error::{ConfigError, VerifyError};
use crate::jwt::{Audience, JwksCache, JwksConfig, JwtRules, JwtVerifier, KeySource};
use crate::provider::{AuthProvider, Mode, ProviderMetadata, TokenVerifier};
use crate::secret::{ClientSecret, HmacSecret};
use crate::user::{AuthContext, AuthUser, Claims};

/// Which `aud` a [`JwtProviderBuilder`] accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
enum AudienceRule {
    /// `aud` contains one of these.
    Listed(Vec<String>),
    /// `aud` contains one of these, or `azp` equals one.
    ListedOrAuthorizedParty(Vec<String>),
    /// No audience check (logged as a warning).
    DangerouslyAny,
}

/// Builds a [`JwtProvider`]; see [`JwtProvider::builder`].
#[must_use = "a builder does nothing until .build() is called"]
pub struct JwtProviderBuilder {
    issuer: String,
    mode: Mode,
    jwks_url: Option<String>,
    hmac_secret: Option<HmacSecret>,
    audience: AudienceRule,
    accept_resource_audience: bool,
    rules: JwtRules,
    jwks: JwksConfig,
    metadata: ProviderMetadata,
    mapper: Option<ClaimMapper>,
}

impl std::fmt::Debug for JwtProviderBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtProviderBuilder")
            .field("issuer", &self.issuer)
            .field("mode", &self.mode)
            .field("jwks_url", &self.jwks_url)
            .field("hmac_secret", &self.hmac_secret)
            .field("audience", &self.audience)
            .field("accept_resource_audience", &self.accept_resource_audience)
            .field("rules", &self.rules)
            .field("jwks", &self.jwks)
            .field("metadata", &self.metadata)
            .finish_non_exhaustive()
    }
}

impl JwtProviderBuilder {
    /// Where the issuer's keys are. Unset: the `jwks_uri` of the issuer's OpenID
    /// discovery document, fetched with the first token.
    pub fn jwks_url(mut self, url: impl Into<String>) -> Self {
        self.jwks_url = Some(url.into());
        self
    }

    /// A shared secret for HS256/384/512 tokens, besides the JWKS.
    pub fn hmac_secret(mut self, secret: HmacSecret) -> Self {
        self.hmac_secret = Some(secret);
        self
    }

    /// `aud` must contain one of `audiences` (empty values are ignored).
    pub fn audiences<I, S>(mut self, audiences: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.audience = AudienceRule::Listed(non_empty(audiences));
        self
    }

    /// `aud` must contain one of `audiences`, or `azp` equal one of them (the
    /// Keycloak convention).
    pub fn audiences_or_authorized_party<I, S>(mut self, audiences: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.audience = AudienceRule::ListedOrAuthorizedParty(non_empty(audiences));
        self
    }

    /// No audience check at all: any token of the issuer, minted for any service,
    /// is accepted. Only for development; [`build`](Self::build) logs a warning.
    pub fn dangerously_accept_any_audience(mut self) -> Self {
        self.audience = AudienceRule::DangerouslyAny;
        self
    }

    /// Also accept tokens whose `aud` is this server's resource URL (RFC 8707),
    /// once [`AuthProvider::bind_resource`] names it. With no listed audience, no
    /// token is accepted before that.
    pub fn accept_resource_audience(mut self, accept: bool) -> Self {
        self.accept_resource_audience = accept;
        self
    }

    /// The tunable JWT rules (leeway, algorithms, strict `typ`, token cache).
    pub fn rules(mut self, rules: JwtRules) -> Self {
        self.rules = rules;
        self
    }

    /// JWKS cache settings.
    pub fn jwks_config(mut self, config: JwksConfig) -> Self {
        self.jwks = config;
        self
    }

    /// The upstream authorization endpoint.
    pub fn authorization_endpoint(mut self, url: impl Into<String>) -> Self {
        self.metadata.authorization_endpoint = Some(url.into());
        self
    }

    /// The upstream token endpoint.
    pub fn token_endpoint(mut self, url: impl Into<String>) -> Self {
        self.metadata.token_endpoint = Some(url.into());
        self
    }

    /// The upstream dynamic client registration endpoint (RFC 7591), if any.
    pub fn registration_endpoint(mut self, url: Option<String>) -> Self {
        self.metadata.registration_endpoint = url;
        self
    }

    /// Scopes advertised to clients.
    pub fn scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.metadata.scopes_supported = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// Grant types advertised to clients. Default: [`DEFAULT_GRANT_TYPES`](crate::DEFAULT_GRANT_TYPES).
    pub fn grant_types<I, S>(mut self, grant_types: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.metadata.grant_types_supported = grant_types.into_iter().map(Into::into).collect();
        self
    }

    /// A client pre-registered at the provider (and its secret, for a
    /// confidential client), used by the proxy.
    pub fn client(mut self, client_id: Option<String>, secret: Option<ClientSecret>) -> Self {
        self.metadata.client_id = client_id;
        self.metadata.client_secret = secret;
        self
    }

    /// A parameter the proxy adds to every upstream authorization request.
    pub fn authorize_param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.metadata
            .extra_authorize_params
            .push((name.into(), value.into()));
        self
    }

    /// The claims -> [`AuthUser`] mapping. Default: [`crate::claims::map_default_user`].
    pub fn claim_mapper<F>(mut self, mapper: F) -> Self
    where
        F: Fn(&Arc<Claims>) -> AuthUser + Send + Sync + 'static,
    {
        self.mapper = Some(Arc::new(mapper));
        self
    }

    /// The provider. Fails when no audience is accepted at all (neither listed
    /// nor the resource URL), or when the JWT rules cannot be honoured (see
    /// [`JwtVerifier::new`]). Nothing is fetched yet.
    pub fn build(self) -> Result<JwtProvider, ConfigError> {
        let audience = match self.audience {
            AudienceRule::DangerouslyAny => Audience::DangerouslyAcceptAny,
            AudienceRule::Listed(list) => Audience::OneOf(list),
            AudienceRule::ListedOrAuthorizedParty(list) => Audience::OneOfOrAuthorizedParty(list),
        };
        let accept_resource_audience =
            self.accept_resource_audience && audience != Audience::DangerouslyAcceptAny;
        let jwks = match &self.jwks_url {
            Some(url) => JwksCache::new(url.clone(), self.jwks)?,
            None => JwksCache::from_issuer(self.issuer.clone(), self.jwks)?,
        };
        let keys = match self.hmac_secret {
            Some(secret) => KeySource::JwksAndSecret(jwks, secret),
            None => KeySource::Jwks(jwks),
        };
        let config = self.rules.to_config(self.issuer.clone(), audience);
        // An empty audience list is refused from users; here it only stands for
        // "the resource URL, once bound", so no token is accepted before that.
        let mut verifier = JwtVerifier::build(config, keys, accept_resource_audience)?;
        if let Some(mapper) = self.mapper {
            verifier = verifier.with_claim_mapper(mapper);
        }
        let mut metadata = self.metadata;
        metadata.jwks_uri = self.jwks_url;
        Ok(JwtProvider {
            metadata,
            verifier,
            accept_resource_audience,
        })
    }
}

fn non_empty<I, S>(values: I) -> Vec<String>
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    values
        .into_iter()
        .map(Into::into)
        .filter(|v: &String| !v.is_empty())
        .collect()
}

/// An identity provider that issues JWT access tokens.
///
/// ```
/// use mcp_auth_core::{AuthProvider, JwtProvider, Mode};
/// let provider = JwtProvider::builder("https://idp.example.com/", Mode::Proxy)
///     .jwks_url("https://idp.example.com/.well-known/jwks.json")
///     .audiences(["my-api"])
///     .authorization_endpoint("https://idp.example.com/authorize")
///     .token_endpoint("https://idp.example.com/oauth/token")
///     .build()?;
/// assert_eq!(provider.metadata().issuer, "https://idp.example.com/");
/// # Ok::<(), mcp_auth_core::ConfigError>(())
/// ```
#[derive(Debug, Clone)]
pub struct JwtProvider {
    metadata: ProviderMetadata,
    verifier: JwtVerifier,
    accept_resource_audience: bool,
}

impl JwtProvider {
    /// A builder for tokens from `issuer` (exactly as in their `iss`), served in
    /// `mode`. Set at least an audience rule (or
    /// [`accept_resource_audience`](JwtProviderBuilder::accept_resource_audience)).
    pub fn builder(issuer: impl Into<String>, mode: Mode) -> JwtProviderBuilder {
        let issuer = issuer.into();
        JwtProviderBuilder {
            metadata: ProviderMetadata::new(issuer.clone(), mode),
            issuer,
            mode,
            jwks_url: None,
            hmac_secret: None,
            audience: AudienceRule::Listed(Vec::new()),
            accept_resource_audience: false,
            rules: JwtRules::default(),
            jwks: JwksConfig::default(),
            mapper: None,
        }
    }

    /// The verifier.
    pub fn verifier(&self) -> &JwtVerifier {
        &self.verifier
    }

    /// The issuer tokens must carry in `iss`.
    pub fn issuer(&self) -> &str {
        &self.metadata.issuer
    }

    /// Token signatures are no longer checked (every other rule still is). Logs a
    /// warning now and on every request. Only with the cargo feature
    /// `dangerous-skip-verification`; never in production.
    #[cfg(feature = "dangerous-skip-verification")]
    pub fn dangerously_skip_signature_verification(mut self) -> Self {
        self.verifier = self.verifier.dangerously_skip_signature_verification();
        self
    }

    pub(crate) fn metadata_mut(&mut self) -> &mut ProviderMetadata {
        &mut self.metadata
    }

    pub(crate) fn set_claim_mapper(&mut self, mapper: ClaimMapper) {
        self.verifier = self.verifier.with_claim_mapper(mapper);
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

    /// Adds `resource` to the accepted audiences when the provider accepts the
    /// resource URL; otherwise nothing changes.
    fn bind_resource(&mut self, resource: &str) {
        if !self.accept_resource_audience {
            return;
        }
        let add = |list: &[String]| {
            let mut out = list.to_vec();
            if !out.iter().any(|a| a == resource) {
                out.push(resource.to_owned());
            }
            out
        };
        let audience = match &self.verifier.config().audience {
            Audience::OneOf(list) => Audience::OneOf(add(list)),
            Audience::OneOfOrAuthorizedParty(list) => Audience::OneOfOrAuthorizedParty(add(list)),
            Audience::DangerouslyAcceptAny => return,
        };
        self.verifier = self.verifier.with_audience(audience);
    }
}

/// Implements the common surface of a preset's provider, a newtype
/// `struct XProvider { config: XConfig, inner: JwtProvider }` whose
/// `XProvider::new(XConfig)` the preset writes: `from_env`, `from_source`,
/// `config`, `issuer`, `verifier`, `dangerously_skip_signature_verification`
/// (with the preset's `dangerous-skip-verification` feature), and the
/// [`TokenVerifier`] and [`AuthProvider`] forwarding.
#[doc(hidden)]
#[macro_export]
macro_rules! jwt_provider_newtype {
    ($provider:ident, $config:ident) => {
        impl $provider {
            #[doc = concat!("[`", stringify!($config), "::from_env`] then [`", stringify!($provider), "::new`].")]
            pub fn from_env() -> ::std::result::Result<Self, $crate::ConfigError> {
                Self::new($config::from_env()?)
            }

            #[doc = concat!("[`", stringify!($config), "::from_source`] then [`", stringify!($provider), "::new`]: the settings from `source` instead of the process environment.")]
            pub fn from_source(
                source: &$crate::env::EnvSource,
            ) -> ::std::result::Result<Self, $crate::ConfigError> {
                Self::new($config::from_source(source)?)
            }

            /// The settings the provider was built from.
            pub fn config(&self) -> &$config {
                &self.config
            }

            /// The issuer tokens must carry in `iss`.
            pub fn issuer(&self) -> &str {
                self.inner.issuer()
            }

            /// The JWT verifier (its rules, allowed algorithms, key cache and claim
            /// mapping). Its audience rule gains the resource URL once it is bound,
            /// when the provider accepts it.
            pub fn verifier(&self) -> &$crate::jwt::JwtVerifier {
                self.inner.verifier()
            }

            /// The seed libraries' `verifyJwt: false`: token signatures are no
            /// longer checked (issuer, audience and expiry still are). Logs a
            /// warning now and on every request. Only with the cargo feature
            /// `dangerous-skip-verification`; never in production.
            #[cfg(feature = "dangerous-skip-verification")]
            pub fn dangerously_skip_signature_verification(mut self) -> Self {
                self.inner = self.inner.dangerously_skip_signature_verification();
                self
            }
        }

        impl $crate::TokenVerifier for $provider {
            fn verify_token(
                &self,
                token: &str,
            ) -> impl ::std::future::Future<
                Output = ::std::result::Result<$crate::AuthContext, $crate::VerifyError>,
            > + Send {
                self.inner.verify_token(token)
            }
        }

        impl $crate::AuthProvider for $provider {
            fn metadata(&self) -> &$crate::ProviderMetadata {
                self.inner.metadata()
            }

            fn bind_resource(&mut self, resource: &str) {
                self.inner.bind_resource(resource);
            }
        }
    };
}
