//! The callback relay of pass-through proxy mode, for the clients that registered
//! through our `/register`.
//!
//! Without it the upstream would answer the authorization request straight to the
//! client, with its own RFC 9207 `iss`: a client that checks `iss` against the
//! issuer it asked (this server, per our metadata) must then refuse the response,
//! as `rmcp` does. So a client registered through us is registered upstream with
//! a callback of ours as its only redirect URI, `/oauth/callback/{id}` with a
//! random `id` of its own, and its own URIs are kept here:
//!
//! 1. `/authorize` accepts only one of the client's registered URIs (anything else
//!    is a 400, never a redirect), keeps it with the client's `state` under a
//!    random single-use state of ours, and sends the browser upstream with the
//!    client's callback and our state. The client's PKCE challenge passes
//!    through: the upstream code stays bound to the client's verifier.
//! 2. The callback consumes our state, refuses it at another client's callback
//!    (the upstream only sends a client's code to that client's callback, so a
//!    state started for client A cannot carry client B's code to A's URI),
//!    checks the upstream's `iss` when it sends one, and returns the upstream's
//!    code (or error) to exactly the client's URI with the client's state, and
//!    no `iss` (our metadata does not advertise RFC 9207).
//! 3. `/token` redeems that code upstream with the client's callback as
//!    `redirect_uri`, after checking the client's own URI is one it registered.
//!
//! Clients that did not register through us (an upstream-registered client id)
//! are passed through unchanged.

use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::broker::callback::upstream_refusal;
use super::broker::{
    BrokerError, CLIENT_TTL, FLOW_TTL, MAX_ID_LEN, Params, client_redirect, decode, key, now,
    unreadable,
};
use super::proxy::Proxy;
use super::store::BrokerStore;
use crate::oauth::OAuthError;
use crate::oauth::routes::random_token;

/// A client registered upstream through us: the redirect URIs it asked for.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct RelayedClient {
    pub redirect_uris: Vec<String>,
    /// The identifier of its callback, `/oauth/callback/{callback_id}`.
    pub callback_id: String,
}

/// An authorization request in flight upstream.
#[derive(Debug, Serialize, Deserialize)]
struct RelayedFlow {
    /// The callback of the client that started it.
    callback_id: String,
    redirect_uri: String,
    state: Option<String>,
    expires_at: u64,
}

/// A registration request rewritten for the upstream.
pub(crate) struct UpstreamRegistration {
    /// The URIs the client asked for.
    pub redirect_uris: Vec<String>,
    /// The identifier of the callback registered upstream in their place.
    pub callback_id: String,
}

/// The relay's settings and state.
pub(crate) struct Relay {
    /// Our base URL; callbacks are `{base}/oauth/callback/{id}`.
    base: String,
    /// The upstream's issuer, which its `iss` response parameter must name.
    upstream_issuer: String,
    store: Arc<dyn BrokerStore>,
}

impl Relay {
    pub(crate) fn new(base: &str, upstream_issuer: &str, store: Arc<dyn BrokerStore>) -> Self {
        Relay {
            base: base.trim_end_matches('/').to_owned(),
            upstream_issuer: upstream_issuer.trim_end_matches('/').to_owned(),
            store,
        }
    }

    /// The callback URL registered upstream for the client with `callback_id`.
    pub(crate) fn callback_url(&self, callback_id: &str) -> String {
        format!("{}/oauth/callback/{callback_id}", self.base)
    }

    /// Rewrites a registration request for the upstream: its `redirect_uris`
    /// become a new callback of ours. Returns the client's own URIs and that
    /// callback, or `None` when it registers none (then nothing is relayed).
    pub(crate) fn registration_for_upstream(
        &self,
        body: &mut Value,
    ) -> Option<UpstreamRegistration> {
        let uris: Vec<String> = body
            .get("redirect_uris")?
            .as_array()?
            .iter()
            .filter_map(|u| u.as_str().map(str::to_owned))
            .collect();
        if uris.is_empty() {
            return None;
        }
        let callback_id = random_token(16);
        body["redirect_uris"] = Value::from(vec![self.callback_url(&callback_id)]);
        Some(UpstreamRegistration {
            redirect_uris: uris,
            callback_id,
        })
    }

    /// Remembers a client the upstream registered, with its own redirect URIs.
    pub(crate) async fn remember(
        &self,
        client_id: &str,
        registration: UpstreamRegistration,
    ) -> Result<(), BrokerError> {
        if client_id.len() > MAX_ID_LEN {
            return Err(BrokerError::Internal("the upstream client id is too long"));
        }
        let record = serde_json::to_vec(&RelayedClient {
            redirect_uris: registration.redirect_uris,
            callback_id: registration.callback_id,
        })
        .map_err(BrokerError::Corrupt)?;
        Ok(self
            .store
            .put(&key("relayed-client", client_id), record, CLIENT_TTL)
            .await?)
    }

    /// The client, if it registered through us.
    pub(crate) async fn client(
        &self,
        client_id: &str,
    ) -> Result<Option<RelayedClient>, BrokerError> {
        if client_id.len() > MAX_ID_LEN {
            return Ok(None);
        }
        decode(self.store.get(&key("relayed-client", client_id)).await?)
    }

    /// Keeps the client's redirect URI and state; returns our state for the upstream.
    pub(crate) async fn start(
        &self,
        client: &RelayedClient,
        redirect_uri: &str,
        state: Option<&str>,
    ) -> Result<String, BrokerError> {
        let ours = random_token(32);
        let flow = RelayedFlow {
            callback_id: client.callback_id.clone(),
            redirect_uri: redirect_uri.to_owned(),
            state: state.map(str::to_owned),
            expires_at: now() + FLOW_TTL.as_secs(),
        };
        let bytes = serde_json::to_vec(&flow).map_err(BrokerError::Corrupt)?;
        self.store
            .put(&key("relayed-flow", &ours), bytes, FLOW_TTL)
            .await?;
        Ok(ours)
    }

    async fn finish(
        &self,
        callback_id: &str,
        pairs: Vec<(String, String)>,
    ) -> Result<Response, BrokerError> {
        let unknown = || OAuthError::invalid_request("unknown, expired or already used state");
        let params = Params::from_pairs(pairs)?;
        let state = params
            .get("state")
            .filter(|s| s.len() <= MAX_ID_LEN)
            .ok_or_else(unknown)?;
        let flow: RelayedFlow =
            decode(self.store.take(&key("relayed-flow", state)).await?)?.ok_or_else(unknown)?;
        if flow.expires_at <= now() {
            return Err(unknown().into());
        }
        if flow.callback_id != callback_id {
            // A code issued to one client, arriving with a state started by
            // another: never delivered (the flow is spent either way).
            tracing::warn!("authorization response at another client's callback refused");
            return Err(OAuthError::invalid_request(
                "this state belongs to another client's authorization",
            )
            .into());
        }
        let client_state = flow.state.as_deref();
        if let Some(iss) = params.get("iss")
            && iss.trim_end_matches('/') != self.upstream_issuer
        {
            // RFC 9207 §2.4: a response naming another issuer is refused (mix-up).
            tracing::warn!(iss, expected = %self.upstream_issuer, "authorization response from an unexpected issuer");
            return Ok(client_redirect(
                &flow.redirect_uri,
                &[
                    ("error", "server_error"),
                    (
                        "error_description",
                        "the authorization response came from an unexpected issuer",
                    ),
                ],
                client_state,
            ));
        }
        if let Some(error) = params.get("error") {
            return Ok(upstream_refusal(
                &flow.redirect_uri,
                error,
                params.get("error_description"),
                client_state,
            ));
        }
        match params.get("code") {
            Some(code) => Ok(client_redirect(
                &flow.redirect_uri,
                &[("code", code)],
                client_state,
            )),
            None => Ok(client_redirect(
                &flow.redirect_uri,
                &[
                    ("error", "server_error"),
                    (
                        "error_description",
                        "the identity provider returned no code",
                    ),
                ],
                client_state,
            )),
        }
    }
}

/// `GET /oauth/callback/{callback_id}` of pass-through mode.
pub(crate) async fn callback(
    State(p): State<Arc<Proxy>>,
    Path(callback_id): Path<String>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Response {
    match query {
        Ok(Query(pairs)) => p
            .relay
            .finish(&callback_id, pairs)
            .await
            .unwrap_or_else(IntoResponse::into_response),
        Err(r) => unreadable(r.status()),
    }
}
