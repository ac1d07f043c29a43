//! Proxy mode: this server is the authorization server MCP clients see, in
//! front of the upstream identity provider. The access tokens clients get are
//! still the provider's, verified on every MCP request.
//!
//! One of two strategies serves the OAuth routes, chosen from the provider's
//! settings:
//!
//! - the **relay** (`relay`), when the upstream offers dynamic registration
//!   and no pre-registered client is configured:
//!   a client registering here is registered upstream with a callback of ours,
//!   its authorization responses come back through that callback and go on to
//!   the client with our `iss`, and its token requests are forwarded upstream by
//!   `pass_through`;
//! - the **broker** (`broker`), when a pre-registered upstream client is
//!   configured: clients register here, consent here, and get codes and refresh
//!   handles of ours for the upstream's tokens.
//!
//! A `client_id` that is an https URL names a client by its metadata document
//! (CIMD, [`crate::oauth::ClientMetadataResolver`]): the broker serves it
//! with per-client consent keyed by the URL and stores no registration; the
//! relay registers one upstream client per URL and reuses it.
//!
//! A client this server does not know (never registered here, or registered
//! before a restart with an in-memory store) gets an error page at
//! `/authorize` and 401 `invalid_client` at `/token`, on which MCP clients
//! register again: no client ever receives an authorization response carrying
//! another issuer's `iss` under our metadata.
//!
//! Shared by both: the store with per-kind budgets ([`ProxyStore`]), the upstream
//! HTTP client (`upstream`), the browser binding and consent cookies
//! (`cookies`) under a key drawn per process or configured for all replicas
//! (`state_key`, `MCP_AUTH_STATE_KEY`); request parsing,
//! client authentication, validation and error responses come from
//! [`crate::oauth`], shared with the dev issuer.

mod broker;
mod clock;
mod consent;
mod consent_page;
mod cookies;
mod pass_through;
#[cfg(feature = "redis")]
pub(crate) mod redis_store;
mod relay;
mod state_key;
pub(crate) mod store;
mod upstream;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::response::{IntoResponse, Response};
use http::Method;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tower_http::cors::{Any, CorsLayer};

#[cfg(feature = "redis")]
pub use redis_store::{
    REDIS_KEY_PREFIX_VAR, REDIS_URL_VAR, RedisStore, RedisStoreConfig, RedisStoreError, RedisUrl,
};
pub use store::{Budget, MemoryStore, ProxyStore, RecordKind, StoreError};

use crate::error::ConfigError;
use crate::oauth::OAuthError;
use crate::oauth::client_metadata_document::{
    ClientMetadataConfig, ClientMetadataDocument, ClientMetadataResolver,
};
use crate::oauth::params::Params;
use crate::oauth::response::{error_response, relayed_error};
use crate::oidc::IssuerMetadata;
use crate::provider::ProviderMetadata;
use cookies::Cookies;
use state_key::StateKey;
pub(crate) use state_key::{MIN_STATE_KEY_BYTES, STATE_KEY_VAR, decode_state_key};
use upstream::{Upstream, UpstreamError};

/// How long a client that registered but never obtained a token is remembered.
const UNUSED_CLIENT_TTL: Duration = Duration::from_secs(3600);
/// How long a client that obtained a token is remembered (renewed on every token).
const CLIENT_TTL: Duration = Duration::from_secs(90 * 86_400);
/// How long the user may take to consent, or to log in upstream.
const FLOW_TTL: Duration = Duration::from_secs(10 * 60);
/// Identifiers longer than this (codes, states, client ids) are never looked up.
const MAX_ID_LEN: usize = 256;

/// What proxy mode needs to serve its routes.
pub(crate) struct ProxySettings {
    /// The provider's description (endpoints, pre-registered client, ...).
    pub metadata: ProviderMetadata,
    /// This server's base URL: the issuer MCP clients see.
    pub issuer: String,
    /// This server's resource URL (RFC 8707 / RFC 9728).
    pub resource: String,
    /// Where state is kept.
    pub store: Arc<dyn ProxyStore>,
    /// The upstream's metadata document.
    pub upstream_metadata: Arc<IssuerMetadata>,
    /// The secret cookies and sealed tokens use; random per process when `None`.
    pub state_key: Option<Arc<[u8]>>,
}

/// How proxy mode serves a provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Strategy {
    /// The upstream registers clients: they are relayed.
    Relay,
    /// One pre-registered upstream client, no upstream registration: the broker.
    Broker,
}

/// The strategy for `metadata`: the broker when a pre-registered upstream
/// client is configured (its tokens are the ones the verifier expects, and its
/// secret never leaves this server), else the relay when the upstream has a
/// registration endpoint, else none (proxy mode cannot serve clients).
pub(crate) fn strategy(metadata: &ProviderMetadata) -> Option<Strategy> {
    match (&metadata.client_id, &metadata.registration_endpoint) {
        (Some(_), _) => Some(Strategy::Broker),
        (None, Some(_)) => Some(Strategy::Relay),
        (None, None) => None,
    }
}

/// The proxy routes of the [`strategy`] for the provider; none is a
/// configuration error.
pub(crate) fn routes<S: Clone + Send + Sync + 'static>(
    settings: ProxySettings,
) -> Result<Router<S>, ConfigError> {
    check_upstream_endpoints(&settings.metadata)?;
    let Some(strategy) = strategy(&settings.metadata) else {
        return Err(ConfigError::invalid(
            "proxy mode",
            "needs an upstream registration endpoint (clients are relayed) or a pre-registered upstream client id (the broker)",
        ));
    };
    let core = Core::new(&settings)?;
    Ok(match strategy {
        Strategy::Broker => broker::routes(broker::Broker::new(core, &settings.metadata)?),
        Strategy::Relay => relay::routes(relay::Relay::new(core, &settings.metadata)?),
    })
}

/// Every upstream URL the proxy calls or sends browsers to is https, plain http
/// only on a loopback host (the check of issuer and JWKS URLs,
/// [`crate::env::check_secure_url`]), whoever built the [`ProviderMetadata`]:
/// the MCP authorization spec requires every authorization-server endpoint on
/// https. The error names the endpoint.
fn check_upstream_endpoints(metadata: &ProviderMetadata) -> Result<(), ConfigError> {
    let endpoints = [
        (
            "upstream authorization endpoint",
            &metadata.authorization_endpoint,
        ),
        ("upstream token endpoint", &metadata.token_endpoint),
        (
            "upstream registration endpoint",
            &metadata.registration_endpoint,
        ),
        ("upstream JWKS URL", &metadata.jwks_uri),
    ];
    for (name, url) in endpoints {
        if let Some(url) = url {
            crate::env::check_secure_url(url)
                .map_err(|reason| ConfigError::invalid(name, reason))?;
        }
    }
    Ok(())
}

/// What every strategy shares.
pub(crate) struct Core {
    /// This server's issuer (its base URL), sent as RFC 9207 `iss`.
    issuer: String,
    /// This server's resource URL.
    resource: String,
    upstream: Upstream,
    records: Records,
    cookies: Cookies,
    key: StateKey,
    /// Clients identified by URL (Client ID Metadata Documents).
    client_metadata: ClientMetadataResolver,
}

impl Core {
    fn new(settings: &ProxySettings) -> Result<Self, ConfigError> {
        let issuer = settings.issuer.trim_end_matches('/').to_owned();
        Ok(Core {
            client_metadata: ClientMetadataResolver::new(ClientMetadataConfig::for_resource(
                &settings.resource,
            ))?,
            cookies: Cookies::new(&issuer),
            issuer,
            resource: settings.resource.clone(),
            upstream: Upstream::new(
                &settings.metadata.issuer,
                Arc::clone(&settings.upstream_metadata),
            )?,
            records: Records(Arc::clone(&settings.store)),
            key: match &settings.state_key {
                Some(secret) => StateKey::from_secret(secret)?,
                None => StateKey::random()?,
            },
        })
    }

    /// The `resource` to send upstream for the one a client named: this
    /// server's resource URL when the client named a loopback alias of it
    /// (`localhost` for `127.0.0.1`, ...), since the upstream knows the
    /// configured URL only and a token for it is accepted under every alias;
    /// anything else unchanged, for the upstream to judge.
    fn upstream_resource<'a>(&'a self, requested: &'a str) -> &'a str {
        let alias_of_ours = url::Url::parse(requested)
            .ok()
            .and_then(|u| {
                let host = u.host_str()?;
                let authority = match u.port() {
                    Some(port) => format!("{host}:{port}"),
                    None => host.to_owned(),
                };
                crate::http::resource::loopback_alias(&self.resource, &authority)
            })
            .is_some_and(|alias| alias == requested);
        if alias_of_ours {
            &self.resource
        } else {
            requested
        }
    }
}

/// Where a client is looked up, which decides how a refusal is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum At {
    /// An error page (never a redirect).
    Authorize,
    /// 401 `invalid_client`.
    Token,
}

impl Core {
    /// The metadata document of a client identified by URL; a refusal is
    /// answered as `at` requires, the reason logged.
    async fn client_document(
        &self,
        client_id: &str,
        at: At,
    ) -> Result<Arc<ClientMetadataDocument>, ProxyError> {
        self.client_metadata
            .resolve(client_id)
            .await
            .map_err(|e| match at {
                At::Authorize => e.authorize_refusal().into(),
                At::Token => e.token_refusal().into(),
            })
    }
}

impl Core {
    /// RFC 9207 on an upstream authorization response: an `iss` must name the
    /// upstream, and an upstream that advertises the parameter must send it.
    async fn check_upstream_iss(&self, params: &Params) -> Result<(), &'static str> {
        match params.get("iss") {
            Some(iss) if iss.trim_end_matches('/') == self.upstream.issuer => Ok(()),
            Some(_) => Err("the response names another issuer"),
            None if self.upstream.sends_iss().await => {
                Err("the upstream advertises RFC 9207 but sent no iss")
            }
            None => Ok(()),
        }
    }
}

/// The flow an upstream authorization response belongs to, as a callback
/// found it.
struct Returning<'a> {
    client_id: &'a str,
    /// MAC of the browser binding the flow was started with.
    binding: &'a str,
    redirect_uri: &'a str,
    state: Option<&'a str>,
}

/// What a callback does with the upstream's answer.
enum UpstreamAnswer<'p> {
    /// The upstream's code, checked.
    Code(&'p str),
    /// An answer for the client already (an error at its redirect URI).
    Relay(Response),
}

impl Core {
    /// The checks every callback makes, in order: the browser is the one that
    /// started the flow (else an error page, and nothing is redeemed); RFC 9207
    /// `iss`; an upstream error goes to the client; a code must be there.
    async fn upstream_answer<'p>(
        &self,
        headers: &http::HeaderMap,
        params: &'p Params,
        flow: &Returning<'_>,
    ) -> Result<UpstreamAnswer<'p>, ProxyError> {
        if !self.cookies.is_bound(&self.key, headers, flow.binding) {
            tracing::warn!(client_id = %flow.client_id, "authorization response refused: the browser is not the one that started the flow");
            return Err(OAuthError::access_denied(
                "this authorization was started in another browser; start again from the application",
            )
            .into());
        }
        let to_client = |error: OAuthError| {
            UpstreamAnswer::Relay(error_response(
                flow.redirect_uri,
                &error,
                flow.state,
                &self.issuer,
            ))
        };
        if let Err(reason) = self.check_upstream_iss(params).await {
            tracing::warn!(reason, "authorization response refused (RFC 9207)");
            return Ok(to_client(OAuthError::server_error(
                "the authorization response failed the issuer check",
            )));
        }
        if let Some(error) = params.get("error") {
            return Ok(UpstreamAnswer::Relay(relayed_error(
                flow.redirect_uri,
                error,
                params.get("error_description"),
                flow.state,
                &self.issuer,
            )));
        }
        Ok(match params.get("code") {
            Some(code) => UpstreamAnswer::Code(code),
            None => to_client(OAuthError::server_error(
                "the identity provider returned no code",
            )),
        })
    }
}

/// CORS for the endpoints a browser-based client calls from script (`/token`,
/// `/register`): any origin, no credentials (these endpoints read no cookie).
fn api_cors() -> CorsLayer {
    CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::POST, Method::OPTIONS])
        .allow_headers(Any)
}

/// Typed access to the store: JSON records, identifiers capped in length.
struct Records(Arc<dyn ProxyStore>);

impl Records {
    async fn save<T: Serialize>(
        &self,
        kind: RecordKind,
        id: &str,
        value: &T,
        ttl: Duration,
    ) -> Result<(), ProxyError> {
        let bytes = serde_json::to_vec(value).map_err(ProxyError::Corrupt)?;
        Ok(self.0.put(kind, id, bytes, ttl).await?)
    }

    async fn load<T: DeserializeOwned>(
        &self,
        kind: RecordKind,
        id: &str,
    ) -> Result<Option<T>, ProxyError> {
        self.read(kind, id, false).await
    }

    /// Removes and returns a record: the single-use read.
    async fn take<T: DeserializeOwned>(
        &self,
        kind: RecordKind,
        id: &str,
    ) -> Result<Option<T>, ProxyError> {
        self.read(kind, id, true).await
    }

    /// A record by an identifier of bounded length (longer ones are never
    /// looked up), removed when `single_use`.
    async fn read<T: DeserializeOwned>(
        &self,
        kind: RecordKind,
        id: &str,
        single_use: bool,
    ) -> Result<Option<T>, ProxyError> {
        if id.len() > MAX_ID_LEN {
            return Ok(None);
        }
        let bytes = if single_use {
            self.0.take(kind, id).await?
        } else {
            self.0.get(kind, id).await?
        };
        bytes
            .map(|b| serde_json::from_slice(&b).map_err(ProxyError::Corrupt))
            .transpose()
    }
}

/// Why a proxy request failed; each variant decides its response.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ProxyError {
    /// An OAuth error for the caller (400, 401, ...), as JSON.
    #[error(transparent)]
    OAuth(#[from] OAuthError),
    /// The store failed: 503 `temporarily_unavailable`.
    #[error("proxy store: {0}")]
    Store(#[from] StoreError),
    /// A stored record could not be (de)serialized: 500 `server_error`.
    #[error("proxy record cannot be (de)serialized: {0}")]
    Corrupt(#[source] serde_json::Error),
    /// An upstream endpoint cannot be used: 502 `temporarily_unavailable`.
    #[error("upstream {what}: {source}")]
    Upstream {
        /// Which endpoint.
        what: &'static str,
        /// Why.
        source: UpstreamError,
    },
    /// A response could not be built: 500 `server_error`.
    #[error("{0}")]
    Internal(&'static str),
}

impl ProxyError {
    fn upstream(what: &'static str) -> impl FnOnce(UpstreamError) -> ProxyError {
        move |source| ProxyError::Upstream { what, source }
    }
}

impl IntoResponse for ProxyError {
    fn into_response(self) -> Response {
        match self {
            ProxyError::OAuth(e) => {
                tracing::info!(error = %e, "proxy request refused");
                e.into_response()
            }
            ProxyError::Store(error) => {
                tracing::error!(%error, "proxy store unavailable");
                let mut response = OAuthError::new(
                    "temporarily_unavailable",
                    "the authorization state cannot be stored now; retry later",
                )
                .into_response();
                response.headers_mut().insert(
                    http::header::RETRY_AFTER,
                    http::HeaderValue::from_static("5"),
                );
                response
            }
            ProxyError::Upstream { what, source } => upstream::unavailable(what, &source),
            error @ (ProxyError::Corrupt(_) | ProxyError::Internal(_)) => {
                tracing::error!(%error, "proxy failure");
                OAuthError::server_error("internal error").into_response()
            }
        }
    }
}

/// Removes what no MCP client may receive from an upstream token response:
/// the upstream's `id_token` (an identity assertion for our upstream client,
/// not for the MCP client).
fn strip_upstream_only(tokens: &mut serde_json::Map<String, serde_json::Value>) {
    tokens.remove("id_token");
}
