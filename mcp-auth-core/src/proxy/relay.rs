//! The callback relay, for an upstream that offers dynamic registration.
//!
//! Without it the upstream would answer an authorization request straight to
//! the client, with its own RFC 9207 `iss`, and a client that checks `iss`
//! against the issuer it asked (this server) must refuse it. So:
//!
//! 1. `/register` registers the client upstream with a callback of ours as its
//!    only redirect URI, `/oauth/callback/{id}` with a random id of its own, and
//!    keeps the client's own URIs here.
//! 2. `/authorize` accepts only a client registered here, with one of its
//!    registered URIs (anything else is an error page, never a redirect), binds
//!    the flow to the browser (a cookie), keeps the client's URI and `state`
//!    under a single-use state of ours, and sends the browser upstream. The
//!    client's PKCE challenge passes through: the upstream code stays bound to
//!    the client's verifier.
//! 3. The callback consumes our state, refuses a browser other than the one
//!    that started the flow and a state started at another client's callback,
//!    checks the upstream's `iss`, and returns the upstream's code (or error) to
//!    exactly the client's URI with the client's state and our `iss`.
//! 4. `/token` redeems that code upstream for the client that received it,
//!    with the redirect URI of its request, through [`pass_through`](super::pass_through).
//!
//! A client identified by URL (a Client ID Metadata Document) does not
//! register: at its first `/authorize` the relay registers one upstream
//! client for the URL (with a callback of ours, serialised so that two first
//! requests register once) and reuses it for every later authorization; at
//! `/token` the client presents its URL and the relay forwards as that
//! upstream client. The record counts against the registration budget. Such a
//! client first gets the consent page of proxy mode (its name, and the host its
//! redirect URI goes to, which the upstream's own screen cannot show: it sees
//! only our callback), once per browser, URL and scopes.

use std::sync::Arc;

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use http::header::SET_COOKIE;
use http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::consent::{self, Answer, Question};
use super::pass_through::{check_grant, forward_registration, forward_token};
use super::state_key::hashed_id;
use super::{
    At, CLIENT_TTL, Core, FLOW_TTL, MAX_ID_LEN, ProxyError, RecordKind, Returning,
    UNUSED_CLIENT_TTL, UpstreamAnswer,
};
use crate::error::ConfigError;
use crate::oauth::authorization_request::{AuthorizationRequest, echoed_state, redirect_target};
use crate::oauth::client_auth::client_credentials;
use crate::oauth::client_metadata_document::{ClientMetadataDocument, is_client_id_url};
use crate::oauth::params::{Params, unreadable};
use crate::oauth::random::random_token;
use crate::oauth::registration::{self, RegistrationRequest};
use crate::oauth::response::{authorization_response, error_response};
use crate::oauth::routes::MAX_BODY_BYTES;
use crate::oauth::{OAuthError, no_store};
use crate::provider::ProviderMetadata;

/// The client metadata (RFC 7591 §2) the relay forwards upstream.
const FORWARDED_METADATA: &[&str] = &[
    "client_name",
    "client_uri",
    "logo_uri",
    "tos_uri",
    "policy_uri",
    "contacts",
    "scope",
    "grant_types",
    "response_types",
    "token_endpoint_auth_method",
    "software_id",
    "software_version",
];

/// A client registered upstream through us.
#[derive(Debug, Serialize, Deserialize)]
struct RelayedClient {
    /// The redirect URIs it asked for.
    redirect_uris: Vec<String>,
    /// Its callback, `/oauth/callback/{callback_id}`.
    callback_id: String,
}

/// The upstream client registered for a client identified by URL (a Client
/// ID Metadata Document), under `cimd.{hash of the URL}`: one per URL,
/// reused by every authorization of that client.
#[derive(Debug, Serialize, Deserialize)]
struct UpstreamForUrl {
    /// The upstream's client id.
    client_id: String,
    /// The upstream's secret for it, sealed, if the upstream insisted on one.
    sealed_secret: Option<String>,
    /// Our callback for it, `/oauth/callback/{callback_id}`.
    callback_id: String,
}

/// Sealing context of an upstream secret kept for a client identified by URL.
const SEALED_UPSTREAM_SECRET: &str = "relay upstream client secret";
/// Registrations for URL clients are serialised per stripe (a hash of the
/// URL picks one): two first requests for one URL register once.
const REGISTRATION_STRIPES: usize = 64;

/// The prefix of the store ids of upstream registrations of URL clients.
const URL_RECORD_PREFIX: &str = "cimd.";

/// The store id of the upstream registration of a client identified by URL.
fn url_record_id(client_id: &str) -> String {
    format!("{URL_RECORD_PREFIX}{}", hashed_id(client_id))
}

/// An authorization request in flight upstream, under our state.
#[derive(Debug, Serialize, Deserialize)]
struct RelayedFlow {
    client_id: String,
    callback_id: String,
    redirect_uri: String,
    state: Option<String>,
    /// MAC of the browser binding cookie.
    binding: String,
}

/// An upstream code relayed to a client, under the code's hash.
#[derive(Debug, Serialize, Deserialize)]
struct RelayedCode {
    client_id: String,
    redirect_uri: String,
}

/// The relay's settings and state.
pub(super) struct Relay {
    core: Core,
    authorization_endpoint: url::Url,
    token_endpoint: String,
    registration_endpoint: String,
    extra_authorize_params: Vec<(String, String)>,
    grant_types: Vec<String>,
    /// Serialises upstream registrations of URL clients, per stripe.
    registration_stripes: Vec<tokio::sync::Mutex<()>>,
}

impl Relay {
    pub(super) fn new(core: Core, metadata: &ProviderMetadata) -> Result<Self, ConfigError> {
        let endpoint = |value: &Option<String>, name: &str| {
            value
                .clone()
                .ok_or_else(|| ConfigError::invalid(name, "proxy mode needs it"))
        };
        let authorization_endpoint =
            endpoint(&metadata.authorization_endpoint, "authorization endpoint")?;
        Ok(Relay {
            authorization_endpoint: url::Url::parse(&authorization_endpoint)
                .map_err(|e| ConfigError::invalid("authorization endpoint", e.to_string()))?,
            token_endpoint: endpoint(&metadata.token_endpoint, "token endpoint")?,
            registration_endpoint: endpoint(
                &metadata.registration_endpoint,
                "registration endpoint",
            )?,
            extra_authorize_params: metadata.extra_authorize_params.clone(),
            grant_types: metadata.grant_types_supported.clone(),
            registration_stripes: (0..REGISTRATION_STRIPES)
                .map(|_| tokio::sync::Mutex::new(()))
                .collect(),
            core,
        })
    }

    fn callback_url(&self, callback_id: &str) -> String {
        format!("{}/oauth/callback/{callback_id}", self.core.issuer)
    }

    /// A client registered through us. The id of a URL client's upstream
    /// registration (which anyone can compute) names none.
    async fn client(&self, client_id: &str) -> Result<Option<RelayedClient>, ProxyError> {
        if client_id.starts_with(URL_RECORD_PREFIX) {
            return Ok(None);
        }
        self.core.records.load(RecordKind::Client, client_id).await
    }

    async fn register(&self, request: Value) -> Result<Response, ProxyError> {
        let parsed: RegistrationRequest =
            serde_json::from_value(request.clone()).map_err(|_| {
                OAuthError::invalid_client_metadata("the body is not a client metadata document")
            })?;
        let redirect_uris = registration::redirect_uris(parsed.redirect_uris.as_deref())?;
        registration::client_name(parsed.client_name.as_deref())?;
        registration::scope(parsed.scope.as_deref())?;
        let callback_id = random_token(16);
        // Only client metadata of RFC 7591 §2 goes upstream; never an id, a
        // key set or a software statement the client chose.
        let mut upstream_request: serde_json::Map<String, Value> = request
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(k, _)| FORWARDED_METADATA.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        upstream_request.insert(
            "redirect_uris".into(),
            Value::from(vec![self.callback_url(&callback_id)]),
        );
        let upstream_request = Value::Object(upstream_request);
        let reply =
            forward_registration(&self.core, &self.registration_endpoint, &upstream_request)
                .await?;
        let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::BAD_GATEWAY);
        let mut body = reply.body;
        if status.is_success() {
            let client_id = body
                .get("client_id")
                .and_then(Value::as_str)
                .filter(|id| id.len() <= MAX_ID_LEN && !id.starts_with(URL_RECORD_PREFIX))
                .ok_or(ProxyError::Upstream {
                    what: "registration endpoint",
                    source: super::upstream::UpstreamError::Incomplete(
                        "a client_id of at most 256 bytes, not starting with cimd.",
                    ),
                })?
                .to_owned();
            if self.client(&client_id).await?.is_some() {
                // Never replace a client we relay (its URIs would be the
                // newcomer's): the upstream reused an id.
                return Err(ProxyError::Upstream {
                    what: "registration endpoint",
                    source: super::upstream::UpstreamError::Incomplete("a new client_id"),
                });
            }
            let client = RelayedClient {
                redirect_uris: redirect_uris.clone(),
                callback_id,
            };
            self.core
                .records
                .save(RecordKind::Client, &client_id, &client, UNUSED_CLIENT_TTL)
                .await?;
            // The client sees the URIs it registered, not our callback, and no
            // handle to manage its upstream registration behind our back.
            body.insert("redirect_uris".into(), Value::from(redirect_uris));
            body.remove("registration_access_token");
            body.remove("registration_client_uri");
            tracing::info!(%client_id, "client registered upstream through the relay");
        }
        Ok(no_store(
            (status, Json(Value::Object(body))).into_response(),
        ))
    }

    /// The upstream registration for a client identified by URL: the stored
    /// one, else a new one (registered once however many first requests
    /// arrive together). Its lifetime is the registration budget's, as for
    /// any client registered through us.
    async fn upstream_for_url(
        &self,
        document: &ClientMetadataDocument,
    ) -> Result<UpstreamForUrl, ProxyError> {
        let id = url_record_id(&document.client_id);
        // A known client takes no lock: it never waits behind registrations
        // of other URLs (which an attacker can start in its stripe).
        if let Some(known) = self.core.records.load(RecordKind::Client, &id).await? {
            return Ok(known);
        }
        // The first character of the hash carries 6 bits: 64 stripes.
        let stripe = id
            .as_bytes()
            .get(URL_RECORD_PREFIX.len())
            .map_or(0, |b| usize::from(*b))
            % REGISTRATION_STRIPES;
        let _serialised = self.registration_stripes[stripe].lock().await;
        if let Some(known) = self.core.records.load(RecordKind::Client, &id).await? {
            return Ok(known);
        }
        let callback_id = random_token(16);
        let request = serde_json::json!({
            "client_name": document.client_name,
            "redirect_uris": [self.callback_url(&callback_id)],
            "grant_types": document.grant_types,
            "response_types": ["code"],
            "token_endpoint_auth_method": "none",
            "client_uri": document.client_id,
        });
        let reply = forward_registration(&self.core, &self.registration_endpoint, &request).await?;
        let incomplete = |what| ProxyError::Upstream {
            what: "registration endpoint",
            source: super::upstream::UpstreamError::Incomplete(what),
        };
        if !(200..300).contains(&reply.status) {
            tracing::warn!(status = reply.status, error = ?reply.error(), client_id = %document.client_id, "the upstream refused to register a client identified by URL");
            return Err(incomplete("a registration for a client identified by URL"));
        }
        let client_id = reply
            .str("client_id")
            .filter(|id| id.len() <= MAX_ID_LEN)
            .ok_or_else(|| incomplete("a client_id of at most 256 bytes"))?
            .to_owned();
        let sealed_secret = match reply.str("client_secret") {
            Some(secret) => Some(
                self.core
                    .key
                    .seal(SEALED_UPSTREAM_SECRET, secret.as_bytes())
                    .ok_or(ProxyError::Internal("an upstream secret cannot be sealed"))?,
            ),
            None => None,
        };
        let registered = UpstreamForUrl {
            client_id,
            sealed_secret,
            callback_id,
        };
        self.core
            .records
            .save(RecordKind::Client, &id, &registered, UNUSED_CLIENT_TTL)
            .await?;
        tracing::info!(client_id = %document.client_id, upstream_client_id = %registered.client_id, "client identified by URL registered upstream through the relay");
        Ok(registered)
    }

    async fn authorize(&self, headers: &HeaderMap, params: Params) -> Result<Response, ProxyError> {
        let client_id = params
            .get("client_id")
            .ok_or_else(|| OAuthError::invalid_request("client_id is required"))?;
        if is_client_id_url(client_id) {
            let document = self.core.client_document(client_id, At::Authorize).await?;
            // The redirect URI is checked before anything is registered upstream.
            let redirect_uri = redirect_target(&params, &document.redirect_uris)?;
            let request = match AuthorizationRequest::validate(&params, client_id, redirect_uri) {
                Ok(request) => request,
                Err(e) => {
                    let redirect_uri = redirect_target(&params, &document.redirect_uris)?;
                    return Ok(error_response(
                        &redirect_uri,
                        &e,
                        echoed_state(&params),
                        &self.core.issuer,
                    ));
                }
            };
            // The upstream's consent screen would name our callback, not the
            // host the code goes to: the user approves that here first, once
            // per browser, URL and scopes (and nothing is registered upstream
            // for a request nobody approved).
            if !self
                .core
                .cookies
                .approves(&self.core.key, headers, client_id, &request.scopes())
            {
                let pending = PendingUrlAuthorization::of(&params)?;
                let client = document.client_info();
                let question = Question {
                    client: &client,
                    redirect_uri: &request.redirect_uri,
                    scope: request.scope.as_deref(),
                };
                return consent::ask(&self.core, &question, pending, headers).await;
            }
            return self.start_for_url(headers, &params, &document).await;
        }
        let client = self.client(client_id).await?.ok_or_else(|| {
            OAuthError::invalid_request("unknown client_id: the application must register again")
        })?;
        self.start(headers, &params, client_id, &client, None).await
    }

    /// Sends the browser upstream for a client identified by URL, as the
    /// upstream client registered for that URL (registered now if need be).
    async fn start_for_url(
        &self,
        headers: &HeaderMap,
        params: &Params,
        document: &ClientMetadataDocument,
    ) -> Result<Response, ProxyError> {
        let upstream = self.upstream_for_url(document).await?;
        let client = RelayedClient {
            redirect_uris: document.redirect_uris.clone(),
            callback_id: upstream.callback_id,
        };
        self.start(
            headers,
            params,
            &document.client_id,
            &client,
            Some(&upstream.client_id),
        )
        .await
    }

    /// `POST /oauth/consent`: the user's answer for a client identified by
    /// URL; approved, the browser goes upstream as at `/authorize` (the
    /// document is checked again), denied, the client is told so.
    async fn consent(&self, headers: &HeaderMap, params: Params) -> Result<Response, ProxyError> {
        let (pending, answer): (PendingUrlAuthorization, Answer) =
            consent::answer(&self.core, headers, &params).await?;
        let params = Params::from_pairs(pending.params)?;
        let client_id = params
            .get("client_id")
            .ok_or_else(|| OAuthError::invalid_request("client_id is required"))?;
        let document = self.core.client_document(client_id, At::Authorize).await?;
        let redirect_uri = redirect_target(&params, &document.redirect_uris)?;
        match answer {
            Answer::Approve => {
                let scopes: Vec<String> = params
                    .get("scope")
                    .unwrap_or("")
                    .split_whitespace()
                    .map(str::to_owned)
                    .collect();
                let cookie =
                    self.core
                        .cookies
                        .remember(&self.core.key, headers, client_id, &scopes)?;
                let mut response = self.start_for_url(headers, &params, &document).await?;
                response.headers_mut().append(SET_COOKIE, cookie);
                Ok(response)
            }
            Answer::Deny => Ok(error_response(
                &redirect_uri,
                &OAuthError::access_denied("the user denied access"),
                echoed_state(&params),
                &self.core.issuer,
            )),
        }
    }

    /// Validates the request of `client` and sends the browser upstream,
    /// as `upstream_client_id` when the upstream knows the client under
    /// another id (a client identified by URL).
    async fn start(
        &self,
        headers: &HeaderMap,
        params: &Params,
        client_id: &str,
        client: &RelayedClient,
        upstream_client_id: Option<&str>,
    ) -> Result<Response, ProxyError> {
        let redirect_uri = redirect_target(params, &client.redirect_uris)?;
        let request = match AuthorizationRequest::validate(params, client_id, redirect_uri.clone())
        {
            Ok(request) => request,
            Err(e) => {
                return Ok(error_response(
                    &redirect_uri,
                    &e,
                    echoed_state(params),
                    &self.core.issuer,
                ));
            }
        };
        let (binding, set_cookie) = self.core.cookies.bind(&self.core.key, headers)?;
        let state = random_token(32);
        let flow = RelayedFlow {
            client_id: request.client_id.clone(),
            callback_id: client.callback_id.clone(),
            redirect_uri: request.redirect_uri.clone(),
            state: request.state.clone(),
            binding,
        };
        self.core
            .records
            .save(RecordKind::Flow, &state, &flow, FLOW_TTL)
            .await?;
        let url =
            self.upstream_authorize_url(params, &client.callback_id, &state, upstream_client_id);
        let mut response = no_store(Redirect::to(url.as_str()).into_response());
        response.headers_mut().append(SET_COOKIE, set_cookie);
        Ok(response)
    }

    /// The upstream authorization URL: the client's parameters, with our
    /// callback and state in place of its own, a query response mode, no
    /// request object (which could carry other parameters past our checks),
    /// and the provider's extra parameters.
    fn upstream_authorize_url(
        &self,
        params: &Params,
        callback_id: &str,
        state: &str,
        upstream_client_id: Option<&str>,
    ) -> url::Url {
        let callback = self.callback_url(callback_id);
        let ours: Vec<(&str, &str)> = [
            ("redirect_uri", callback.as_str()),
            ("state", state),
            ("response_mode", "query"),
        ]
        .into_iter()
        .chain(upstream_client_id.map(|id| ("client_id", id)))
        .chain(
            self.extra_authorize_params
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str())),
        )
        .collect();
        let dropped = ["request", "request_uri"];
        let mut url = self.authorization_endpoint.clone();
        {
            let mut q = url.query_pairs_mut();
            let mut theirs: Vec<(&str, &str)> = params
                .iter()
                .filter(|(k, _)| !dropped.contains(k) && !ours.iter().any(|(ok, _)| ok == k))
                .map(|(k, v)| match k {
                    "resource" => (k, self.core.upstream_resource(v)),
                    _ => (k, v),
                })
                .collect();
            theirs.sort_unstable();
            for (k, v) in theirs.into_iter().chain(ours.iter().copied()) {
                q.append_pair(k, v);
            }
        }
        url
    }

    async fn callback(
        &self,
        callback_id: &str,
        headers: &HeaderMap,
        params: Params,
    ) -> Result<Response, ProxyError> {
        let unknown = || OAuthError::invalid_request("unknown, expired or already used state");
        let state = params.get("state").ok_or_else(unknown)?;
        let flow: RelayedFlow = self
            .core
            .records
            .take(RecordKind::Flow, state)
            .await?
            .ok_or_else(unknown)?;
        if flow.callback_id != callback_id {
            // A code issued to one client, arriving with a state started by
            // another: never delivered (the flow is spent either way).
            tracing::warn!("authorization response at another client's callback refused");
            return Err(OAuthError::invalid_request(
                "this state belongs to another client's authorization",
            )
            .into());
        }
        let returning = Returning {
            client_id: &flow.client_id,
            binding: &flow.binding,
            redirect_uri: &flow.redirect_uri,
            state: flow.state.as_deref(),
        };
        let code = match self
            .core
            .upstream_answer(headers, &params, &returning)
            .await?
        {
            UpstreamAnswer::Code(code) => code,
            UpstreamAnswer::Relay(response) => return Ok(response),
        };
        let relayed = RelayedCode {
            client_id: flow.client_id.clone(),
            redirect_uri: flow.redirect_uri.clone(),
        };
        self.core
            .records
            .save(RecordKind::Code, &hashed_id(code), &relayed, FLOW_TTL)
            .await?;
        Ok(authorization_response(
            &flow.redirect_uri,
            &[("code", code)],
            flow.state.as_deref(),
            &self.core.issuer,
        ))
    }

    async fn token(&self, headers: &HeaderMap, params: Params) -> Result<Response, ProxyError> {
        let grant = check_grant(params.get("grant_type"), &self.grant_types)?;
        let presented = client_credentials(headers, &params)?;
        let by_url = is_client_id_url(&presented.client_id);
        let (client, upstream) = if by_url {
            let document = self
                .core
                .client_document(&presented.client_id, At::Token)
                .await?;
            // Anyone may name a URL, and the relay adds the upstream secret of
            // its registration: only the document's grants (never
            // client_credentials) are forwarded, each proven by a code or a
            // refresh token.
            if !document.grant_types.contains(&grant) {
                return Err(OAuthError::new(
                    "unauthorized_client",
                    format!("grant_type {grant:?} is not among this client's grant_types"),
                )
                .into());
            }
            if presented.secret.is_some() {
                return Err(OAuthError::invalid_client(
                    "a client identified by URL is public: authenticate with PKCE, not a secret",
                )
                .into());
            }
            let Some(upstream) = self
                .core
                .records
                .load::<UpstreamForUrl>(RecordKind::Client, &url_record_id(&presented.client_id))
                .await?
            else {
                return Err(OAuthError::invalid_client(
                    "this client has no upstream registration here: authorize again",
                )
                .into());
            };
            let secret = match &upstream.sealed_secret {
                Some(sealed) => Some(
                    self.core
                        .key
                        .open(SEALED_UPSTREAM_SECRET, sealed)
                        .and_then(|s| String::from_utf8(s).ok())
                        .ok_or_else(|| {
                            OAuthError::invalid_client(
                                "the upstream registration was sealed under another state key: authorize again",
                            )
                        })?,
                ),
                None => None,
            };
            let client = RelayedClient {
                redirect_uris: Vec::new(),
                callback_id: upstream.callback_id.clone(),
            };
            (client, Some((upstream, secret)))
        } else {
            let Some(client) = self.client(&presented.client_id).await? else {
                return Err(OAuthError::invalid_client("unknown client: register again").into());
            };
            (client, None)
        };
        let callback = self.callback_url(&client.callback_id);
        let redirect_uri = if grant == "authorization_code" {
            let code = params
                .get("code")
                .ok_or_else(|| OAuthError::invalid_request("code is required"))?;
            if params.get("code_verifier").is_none() {
                return Err(OAuthError::invalid_request("code_verifier is required (PKCE)").into());
            }
            let relayed: RelayedCode = self
                .core
                .records
                .take(RecordKind::Code, &hashed_id(code))
                .await?
                .filter(|r: &RelayedCode| r.client_id == presented.client_id)
                .ok_or_else(|| {
                    OAuthError::invalid_grant(
                        "authorization code is invalid, expired or already used",
                    )
                })?;
            if params
                .get("redirect_uri")
                .is_some_and(|r| r != relayed.redirect_uri)
            {
                return Err(OAuthError::invalid_grant(
                    "redirect_uri does not match the authorization request",
                )
                .into());
            }
            Some(callback.as_str())
        } else {
            None
        };
        let as_upstream = upstream
            .as_ref()
            .map(|(u, secret)| (u.client_id.as_str(), secret.as_deref()));
        let (response, success) = forward_token(
            &self.core,
            &self.token_endpoint,
            headers,
            &params,
            &grant,
            redirect_uri,
            as_upstream,
        )
        .await?;
        if success {
            // A client that obtained a token is kept for the long term.
            match &upstream {
                Some((registration, _)) => {
                    self.core
                        .records
                        .save(
                            RecordKind::Client,
                            &url_record_id(&presented.client_id),
                            registration,
                            CLIENT_TTL,
                        )
                        .await?;
                }
                None => {
                    self.core
                        .records
                        .save(
                            RecordKind::Client,
                            &presented.client_id,
                            &client,
                            CLIENT_TTL,
                        )
                        .await?;
                }
            }
        }
        Ok(response)
    }
}

/// An authorization request of a client identified by URL, waiting for the
/// user's consent: its parameters as received, to be relayed once approved.
#[derive(Debug, Serialize, Deserialize)]
struct PendingUrlAuthorization {
    params: Vec<(String, String)>,
}

impl PendingUrlAuthorization {
    /// At most this many bytes of names and values are kept.
    const MAX_BYTES: usize = 8 * 1024;

    fn of(params: &Params) -> Result<Self, OAuthError> {
        let params: Vec<(String, String)> = params
            .iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        let size: usize = params.iter().map(|(k, v)| k.len() + v.len()).sum();
        if size > Self::MAX_BYTES {
            return Err(OAuthError::invalid_request(
                "the authorization request is too large",
            ));
        }
        Ok(PendingUrlAuthorization { params })
    }
}

async fn consent(State(r): State<Arc<Relay>>, headers: HeaderMap, params: Params) -> Response {
    respond(r.consent(&headers, params).await)
}

/// The relay's routes, with body limits, and CORS on the two a browser-based
/// client calls from script.
pub(super) fn routes<S: Clone + Send + Sync + 'static>(relay: Relay) -> Router<S> {
    let api = Router::new()
        .route("/token", post(token))
        .route("/register", post(register))
        .layer(super::api_cors());
    Router::new()
        .route("/authorize", get(authorize).post(authorize))
        .route("/oauth/consent", post(consent))
        .route("/oauth/callback/{callback_id}", get(callback))
        .merge(api)
        .layer(tower_http::limit::RequestBodyLimitLayer::new(
            MAX_BODY_BYTES,
        ))
        .with_state(Arc::new(relay))
}

fn respond(result: Result<Response, ProxyError>) -> Response {
    result.unwrap_or_else(IntoResponse::into_response)
}

async fn register(
    State(r): State<Arc<Relay>>,
    body: Result<Json<Value>, JsonRejection>,
) -> Response {
    match body {
        Ok(Json(body)) => respond(r.register(body).await),
        Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => unreadable(e.status()),
        Err(_) => {
            OAuthError::invalid_client_metadata("the body must be a JSON client metadata document")
                .into_response()
        }
    }
}

async fn authorize(State(r): State<Arc<Relay>>, headers: HeaderMap, params: Params) -> Response {
    respond(r.authorize(&headers, params).await)
}

async fn callback(
    State(r): State<Arc<Relay>>,
    Path(callback_id): Path<String>,
    headers: HeaderMap,
    params: Params,
) -> Response {
    respond(r.callback(&callback_id, &headers, params).await)
}

async fn token(State(r): State<Arc<Relay>>, headers: HeaderMap, params: Params) -> Response {
    respond(r.token(&headers, params).await)
}
