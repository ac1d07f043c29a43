//! The broker: proxy mode with one pre-registered upstream client (WorkOS
//! `CLIENT_ID`, an Auth0, Keycloak or custom client id and secret), which every
//! provider without dynamic registration (GitHub-like) needs.
//!
//! Every MCP client then shares that one upstream client, so this server acts
//! as the authorization server the MCP clients see, in full:
//!
//! 1. `/register` registers public clients here (PKCE, no secret); a client
//!    identified by URL needs no registration (its metadata document is
//!    fetched, and nothing is stored).
//! 2. `/authorize` accepts only a registered client with one of its registered
//!    redirect URIs (anything else is an error page, never a redirect), asks the
//!    user's consent for that client (CSRF-protected, never framed; a MACed
//!    cookie remembers it), then binds the flow to the browser and sends it
//!    upstream with *our* client id, *our* callback, a PKCE pair of our own and
//!    `resource` pinned to this server.
//! 3. `/oauth/callback` consumes our state, refuses any browser but the one
//!    that started the flow before anything is redeemed, checks the upstream's
//!    `iss`, exchanges the upstream code, and returns a code of ours to exactly
//!    the registered redirect URI with the client's state and our `iss`.
//! 4. `/token` redeems our code (single use, same client and redirect URI, the
//!    client's PKCE verifier) for the upstream's access token and a refresh
//!    handle of ours, which rotates on every use ([`refresh`]).

mod authorize;
mod callback;
mod refresh;
mod register;
mod token;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};
use tower_http::limit::RequestBodyLimitLayer;

use super::{At, Core, ProxyError, RecordKind};
use crate::error::ConfigError;
use crate::oauth::client_metadata_document::is_client_id_url;
use crate::oauth::routes::MAX_BODY_BYTES;
use crate::oauth::{ClientInfo, OAuthError};
use crate::provider::ProviderMetadata;
use crate::secret::ClientSecret;

/// Everything the broker routes share.
pub(super) struct Broker {
    core: Core,
    upstream_client_id: String,
    upstream_secret: Option<ClientSecret>,
    authorization_endpoint: url::Url,
    token_endpoint: String,
    extra_authorize_params: Vec<(String, String)>,
    /// The grants our clients may use: the advertised ones among
    /// `authorization_code` and `refresh_token`.
    grant_types: Vec<String>,
}

impl Broker {
    pub(super) fn new(core: Core, metadata: &ProviderMetadata) -> Result<Self, ConfigError> {
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
            core,
            upstream_client_id,
            upstream_secret: metadata.client_secret.clone(),
            authorization_endpoint,
            token_endpoint,
            extra_authorize_params: metadata.extra_authorize_params.clone(),
            grant_types,
        })
    }

    /// The client `client_id` names: built from its metadata document when it
    /// is a URL (nothing stored), else registered here. Unknown at
    /// `/authorize`: an error page; at `/token`: `invalid_client`.
    async fn client(&self, client_id: &str, at: At) -> Result<ClientInfo, ProxyError> {
        if is_client_id_url(client_id) {
            return Ok(self
                .core
                .client_document(client_id, at)
                .await?
                .client_info());
        }
        let unknown = || -> ProxyError {
            match at {
                At::Authorize => OAuthError::invalid_request(
                    "unknown client_id: the application must register again",
                ),
                At::Token => OAuthError::invalid_client("unknown client: register again"),
            }
            .into()
        };
        self.core
            .records
            .load(RecordKind::Client, client_id)
            .await?
            .ok_or_else(unknown)
    }

    /// Our callback, the only redirect URI the upstream ever sees.
    fn callback_url(&self) -> String {
        format!("{}/oauth/callback", self.core.issuer)
    }

    /// Our client's credentials, appended to a form for the upstream token
    /// endpoint (`client_secret_post`).
    fn with_upstream_credentials<'a>(&'a self, form: &mut Vec<(&'a str, &'a str)>) {
        form.push(("client_id", &self.upstream_client_id));
        if let Some(secret) = &self.upstream_secret {
            form.push(("client_secret", secret.secret()));
        }
    }
}

/// The broker routes: `/register`, `/authorize`, `/oauth/consent`,
/// `/oauth/callback` and `/token`, with body limits, and CORS on the two a
/// browser-based client calls from script.
pub(super) fn routes<S: Clone + Send + Sync + 'static>(broker: Broker) -> Router<S> {
    let api = Router::new()
        .route("/token", post(token::token))
        .route("/register", post(register::register))
        .layer(super::api_cors());
    Router::new()
        .route(
            "/authorize",
            get(authorize::authorize).post(authorize::authorize),
        )
        .route("/oauth/consent", post(authorize::consent))
        .route("/oauth/callback", get(callback::callback))
        .merge(api)
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .with_state(Arc::new(broker))
}
