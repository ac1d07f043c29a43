//! The callback broker: proxy mode for a provider with one pre-registered
//! upstream client (WorkOS `CLIENT_ID`, a Keycloak or custom client id and
//! secret) and no upstream dynamic registration.
//!
//! Every MCP client then shares that one upstream client, so this server acts
//! as the authorization server the MCP clients see, in full:
//!
//! 1. `/register` registers clients here (public clients, PKCE only) and keeps
//!    each one's redirect URIs.
//! 2. `/authorize` accepts only a registered client with one of its registered
//!    redirect URIs (anything else is a 400, never a redirect), asks the user's
//!    consent for that client (CSRF-protected, never framed; a signed cookie
//!    remembers it), then sends the browser upstream with *our* client id, *our*
//!    `/oauth/callback` and a PKCE pair of our own. The client's request is kept
//!    server-side under a random single-use state.
//! 3. `/oauth/callback` consumes that state, exchanges the upstream code with our
//!    client's credentials and verifier, and returns a code of ours to exactly the
//!    registered redirect URI, with the client's state unchanged.
//! 4. `/token` redeems our code (single use, same client and redirect URI, the
//!    client's PKCE verifier) for the upstream's tokens, and forwards refreshes
//!    upstream with our client's credentials.
//!
//! All state lives in a [`BrokerStore`]. The consent cookie is signed with
//! HMAC-SHA256 under a key drawn at random when the routes are built: it does not
//! survive a restart and is not shared between replicas, so at worst a user is
//! asked for consent again.

mod authorize;
pub(in crate::http) mod callback;
mod consent;
mod register;
pub(in crate::http) mod token;
mod upstream;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use http::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tower_http::cors::{Any, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;

use super::store::{BrokerStore, StoreError};
use crate::error::ConfigError;
use crate::oauth::OAuthError;
use crate::oauth::routes::MAX_BODY_BYTES;
use crate::provider::{ClientSecret, Mode, ProviderMetadata};

use consent::ConsentCookies;
use upstream::UpstreamError;

/// How long a registered client is remembered.
pub(in crate::http) const CLIENT_TTL: Duration = Duration::from_secs(90 * 86_400);
/// How long a consent page may wait for its answer.
const CONSENT_REQUEST_TTL: Duration = Duration::from_secs(10 * 60);
/// How long the user may take to log in upstream.
pub(in crate::http) const FLOW_TTL: Duration = Duration::from_secs(10 * 60);
/// How long one of our authorization codes stays redeemable.
const CODE_TTL: Duration = Duration::from_secs(120);
/// How long a refresh token stays bound to its client without being used.
const REFRESH_BINDING_TTL: Duration = Duration::from_secs(30 * 86_400);
/// Identifiers longer than this (codes, states, client ids) are never looked up.
pub(in crate::http) const MAX_ID_LEN: usize = 256;

/// Whether `metadata` calls for the broker: proxy mode, a pre-registered client,
/// and no upstream registration endpoint.
pub(crate) fn applies(metadata: &ProviderMetadata) -> bool {
    metadata.mode == Mode::Proxy
        && metadata.client_id.is_some()
        && metadata.registration_endpoint.is_none()
}

/// Everything the broker routes share.
pub(crate) struct Broker {
    /// This server's base URL (the issuer MCP clients see).
    base: String,
    upstream_client_id: String,
    upstream_secret: Option<ClientSecret>,
    authorization_endpoint: url::Url,
    token_endpoint: String,
    extra_authorize_params: Vec<(String, String)>,
    /// The grants our clients may use: the advertised ones among
    /// `authorization_code` and `refresh_token`.
    grant_types: Vec<String>,
    store: Arc<dyn BrokerStore>,
    http: reqwest::Client,
    cookies: ConsentCookies,
}

impl Broker {
    /// A broker for `metadata`, served at `base`, keeping its state in `store`.
    pub(crate) fn new(
        metadata: &ProviderMetadata,
        base: &str,
        store: Arc<dyn BrokerStore>,
    ) -> Result<Self, ConfigError> {
        let upstream_client_id = metadata
            .client_id
            .clone()
            .ok_or_else(|| ConfigError::invalid("client_id", "the broker needs one"))?;
        let authorization_endpoint = metadata
            .authorization_endpoint
            .as_deref()
            .ok_or_else(|| ConfigError::invalid("authorization endpoint", "not configured"))
            .and_then(|e| {
                url::Url::parse(e)
                    .map_err(|err| ConfigError::invalid("authorization endpoint", err.to_string()))
            })?;
        let token_endpoint = metadata
            .token_endpoint
            .clone()
            .ok_or_else(|| ConfigError::invalid("token endpoint", "not configured"))?;
        let grant_types = metadata
            .grant_types_supported
            .iter()
            .filter(|g| matches!(g.as_str(), "authorization_code" | "refresh_token"))
            .cloned()
            .collect();
        Ok(Broker {
            base: base.trim_end_matches('/').to_owned(),
            upstream_client_id,
            upstream_secret: metadata.client_secret.clone(),
            authorization_endpoint,
            token_endpoint,
            extra_authorize_params: metadata.extra_authorize_params.clone(),
            grant_types,
            store,
            http: super::proxy::upstream_http_client()?,
            cookies: ConsentCookies::new(base)?,
        })
    }

    /// Our callback, the only redirect URI the upstream ever sees.
    fn callback_url(&self) -> String {
        format!("{}/oauth/callback", self.base)
    }

    /// Our client's credentials, appended to a form for the upstream token endpoint
    /// (`client_secret_post`).
    fn with_upstream_credentials<'a>(&'a self, form: &mut Vec<(&'a str, &'a str)>) {
        form.push(("client_id", &self.upstream_client_id));
        if let Some(secret) = &self.upstream_secret {
            form.push(("client_secret", secret.secret()));
        }
    }

    async fn save<T: Serialize>(
        &self,
        key: &str,
        value: &T,
        ttl: Duration,
    ) -> Result<(), BrokerError> {
        let bytes = serde_json::to_vec(value).map_err(BrokerError::Corrupt)?;
        Ok(self.store.put(key, bytes, ttl).await?)
    }

    async fn load<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, BrokerError> {
        if key.len() > MAX_ID_LEN {
            return Ok(None);
        }
        decode(self.store.get(key).await?)
    }

    /// Removes and returns a record: the single-use read.
    async fn take<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, BrokerError> {
        if key.len() > MAX_ID_LEN {
            return Ok(None);
        }
        decode(self.store.take(key).await?)
    }
}

pub(in crate::http) fn decode<T: DeserializeOwned>(
    bytes: Option<Vec<u8>>,
) -> Result<Option<T>, BrokerError> {
    bytes
        .map(|b| serde_json::from_slice(&b).map_err(BrokerError::Corrupt))
        .transpose()
}

/// A store key: the record kind, then its identifier.
pub(in crate::http) fn key(kind: &str, id: &str) -> String {
    format!("{kind}:{id}")
}

/// Seconds since the Unix epoch.
pub(in crate::http) fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Why a broker request failed; each variant decides its response.
#[derive(Debug, thiserror::Error)]
pub(crate) enum BrokerError {
    /// An OAuth error for the caller (400, 401, ...), as JSON.
    #[error(transparent)]
    OAuth(#[from] OAuthError),
    /// The store failed: 503 `temporarily_unavailable`.
    #[error("broker store: {0}")]
    Store(#[from] StoreError),
    /// A stored record could not be (de)serialized: 500 `server_error`.
    #[error("broker record cannot be (de)serialized: {0}")]
    Corrupt(#[source] serde_json::Error),
    /// The upstream token endpoint cannot be used: 502 `temporarily_unavailable`.
    #[error("upstream token endpoint: {0}")]
    Upstream(#[from] UpstreamError),
    /// A response could not be built: 500 `server_error`.
    #[error("{0}")]
    Internal(&'static str),
}

impl IntoResponse for BrokerError {
    fn into_response(self) -> Response {
        match self {
            BrokerError::OAuth(e) => e.into_response(),
            BrokerError::Store(error) => {
                tracing::error!(%error, "broker store unavailable");
                OAuthError::new(
                    "temporarily_unavailable",
                    "the authorization state cannot be stored now; retry later",
                )
                .into_response()
            }
            BrokerError::Upstream(error) => super::proxy::unavailable("token endpoint", &error),
            error @ (BrokerError::Corrupt(_) | BrokerError::Internal(_)) => {
                tracing::error!(%error, "broker failure");
                OAuthError::server_error("internal error").into_response()
            }
        }
    }
}

/// Request parameters, each at most once (a repeated parameter is refused, as
/// RFC 6749 §3.1 requires).
#[derive(Debug, Default)]
pub(in crate::http) struct Params(HashMap<String, String>);

impl Params {
    pub(in crate::http) fn from_pairs(pairs: Vec<(String, String)>) -> Result<Self, OAuthError> {
        let mut map = HashMap::with_capacity(pairs.len());
        for (k, v) in pairs {
            if map.contains_key(&k) {
                return Err(OAuthError::invalid_request(format!(
                    "parameter {k} appears twice"
                )));
            }
            map.insert(k, v);
        }
        Ok(Params(map))
    }

    /// The parameter, unless absent or empty.
    pub(in crate::http) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }
}

/// The answer to a body or query that could not be read: 413 for one too
/// large, else 400 `invalid_request`; JSON either way.
pub(in crate::http) fn unreadable(status: StatusCode) -> Response {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        let body = serde_json::json!({
            "error": "invalid_request",
            "error_description": "the request body is too large",
        });
        return crate::oauth::no_store((status, axum::Json(body)).into_response());
    }
    OAuthError::invalid_request("the request parameters cannot be read").into_response()
}

/// `redirect_uri` with OAuth response parameters and the client's `state`
/// appended. No `iss`: the metadata does not advertise RFC 9207.
pub(in crate::http) fn client_redirect(
    redirect_uri: &str,
    params: &[(&str, &str)],
    state: Option<&str>,
) -> Response {
    let Ok(mut url) = url::Url::parse(redirect_uri) else {
        // Registered URIs were parsed at registration; this is unreachable in practice.
        return OAuthError::server_error("the registered redirect URI is not a URL")
            .into_response();
    };
    {
        let mut q = url.query_pairs_mut();
        for (k, v) in params {
            q.append_pair(k, v);
        }
        if let Some(state) = state {
            q.append_pair("state", state);
        }
    }
    crate::oauth::no_store(Redirect::to(url.as_str()).into_response())
}

/// The broker routes: `/register`, `/authorize`, `/oauth/consent`,
/// `/oauth/callback` and `/token`, with body limits, and CORS on the two a
/// browser-based client calls from script.
pub(crate) fn routes<S: Clone + Send + Sync + 'static>(broker: Arc<Broker>) -> Router<S> {
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::POST, Method::OPTIONS])
        .allow_headers(Any);
    let api = Router::new()
        .route("/token", post(token::token))
        .route("/register", post(register::register))
        .layer(cors);
    Router::new()
        .route(
            "/authorize",
            get(authorize::authorize_get).post(authorize::authorize_post),
        )
        .route("/oauth/consent", post(authorize::consent))
        .route("/oauth/callback", get(callback::callback))
        .merge(api)
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .with_state(broker)
}
