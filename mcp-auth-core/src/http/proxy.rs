//! Proxy mode: this server is the authorization server MCP clients see, and it
//! forwards `/authorize`, `/token` and `/register` to the upstream provider,
//! adding what the provider needs (e.g. Auth0's `audience`, a pre-registered
//! client's secret). The access token a client gets is still the provider's.
//!
//! Clients that register through our `/register` get their authorization
//! responses relayed through our `/oauth/callback` (see `super::relay`), so that
//! what they receive comes from the issuer they asked. A provider with one
//! pre-registered client and no upstream registration gets the callback broker
//! instead (see `super::broker`).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use http::{HeaderValue, Method, StatusCode};
use serde_json::{Value, json};
use tower_http::cors::{Any, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;

use super::broker::token::basic_credentials;
use super::broker::{self, Broker, BrokerError};
use super::relay::{self, Relay};
use super::store::BrokerStore;
use crate::oauth::routes::{MAX_BODY_BYTES, is_acceptable_redirect_uri};
use crate::oauth::{OAuthError, no_store, pkce};
use crate::provider::ProviderMetadata;

/// Upstream calls give up after this long: a client never hangs on a dead provider.
const UPSTREAM_TIMEOUT: Duration = Duration::from_secs(15);

pub(crate) struct Proxy {
    metadata: ProviderMetadata,
    client: reqwest::Client,
    pub(crate) relay: Relay,
}

impl Proxy {
    /// The pass-through proxy for `metadata`, served at `base`, keeping the
    /// relay's state in `store`.
    pub fn new(
        metadata: ProviderMetadata,
        base: &str,
        store: Arc<dyn BrokerStore>,
    ) -> Result<Self, crate::ConfigError> {
        let relay = Relay::new(base, &metadata.issuer, store);
        Ok(Proxy {
            metadata,
            client: upstream_http_client()?,
            relay,
        })
    }
}

/// The HTTP client for upstream calls: bounded connect and total time, no redirects.
pub(crate) fn upstream_http_client() -> Result<reqwest::Client, crate::ConfigError> {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(5))
        .timeout(UPSTREAM_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| crate::ConfigError::invalid("HTTP client", e.to_string()))
}

/// The proxy routes for `metadata`, for a server at `base`, with their state in
/// `store`: the callback broker when the provider has one pre-registered client
/// and no upstream registration endpoint, else pass-through (with the callback
/// relay for clients registered through us).
pub(crate) fn routes<S: Clone + Send + Sync + 'static>(
    metadata: ProviderMetadata,
    base: &str,
    store: Arc<dyn BrokerStore>,
) -> Result<Router<S>, crate::ConfigError> {
    if broker::applies(&metadata) {
        let broker = Broker::new(&metadata, base, store)?;
        return Ok(broker::routes(Arc::new(broker)));
    }
    Ok(pass_through_routes(Arc::new(Proxy::new(
        metadata, base, store,
    )?)))
}

/// A 502 `temporarily_unavailable` JSON answer for an unreachable upstream
/// `what`; the cause is logged, never sent.
pub(crate) fn unavailable(what: &str, error: &dyn std::fmt::Display) -> Response {
    tracing::warn!(%error, "upstream {what} unreachable");
    let body = json!({
        "error": "temporarily_unavailable",
        "error_description": format!("the identity provider's {what} cannot be reached; retry later"),
    });
    no_store((StatusCode::BAD_GATEWAY, Json(body)).into_response())
}

/// The pass-through routes; `/register` only when the upstream has a registration endpoint.
fn pass_through_routes<S: Clone + Send + Sync + 'static>(proxy: Arc<Proxy>) -> Router<S> {
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::POST, Method::OPTIONS])
        .allow_headers(Any);
    let mut api = Router::new().route("/token", post(token));
    if proxy.metadata.registration_endpoint.is_some() {
        api = api.route("/register", post(register));
    }
    Router::new()
        .route("/authorize", get(authorize_get).post(authorize_post))
        .route("/oauth/callback/{callback_id}", get(relay::callback))
        .merge(api.layer(cors))
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .with_state(proxy)
}

async fn authorize_get(
    State(p): State<Arc<Proxy>>,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    authorize(&p, q)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

async fn authorize_post(
    State(p): State<Arc<Proxy>>,
    Form(q): Form<Vec<(String, String)>>,
) -> Response {
    authorize(&p, q)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

/// Validates the client's request, then sends the browser to the upstream
/// authorization endpoint with the client's parameters plus the provider's extra
/// ones. For a client registered through us, its redirect URI must be one it
/// registered and the response is relayed through our callback; any other
/// client's request goes upstream unchanged (state included). Errors are shown
/// here, never redirected: an unverified redirect URI is not trusted.
async fn authorize(p: &Proxy, params: Vec<(String, String)>) -> Result<Response, BrokerError> {
    let mut seen: HashMap<&str, &str> = HashMap::new();
    for (k, v) in &params {
        if seen.insert(k.as_str(), v.as_str()).is_some() {
            return Err(OAuthError::invalid_request(format!("parameter {k} appears twice")).into());
        }
    }
    let get = |k: &str| seen.get(k).copied().filter(|v| !v.is_empty());
    if get("response_type") != Some("code") {
        return Err(OAuthError::new(
            "unsupported_response_type",
            "only response_type=code is supported",
        )
        .into());
    }
    let Some(client_id) = get("client_id") else {
        return Err(OAuthError::invalid_request("client_id is required").into());
    };
    let redirect_uri = match get("redirect_uri") {
        Some(uri) if is_acceptable_redirect_uri(uri) => uri,
        Some(_) => {
            return Err(
                OAuthError::invalid_request("redirect_uri must be https or loopback http").into(),
            );
        }
        None => return Err(OAuthError::invalid_request("redirect_uri is required").into()),
    };
    if !get("code_challenge").is_some_and(pkce::is_valid_challenge)
        || get("code_challenge_method") != Some("S256")
    {
        return Err(OAuthError::invalid_request(
            "PKCE with code_challenge_method=S256 is required",
        )
        .into());
    }
    let Some(endpoint) = p.metadata.authorization_endpoint.as_deref() else {
        return Err(
            OAuthError::server_error("no upstream authorization endpoint is configured").into(),
        );
    };
    let Ok(mut url) = url::Url::parse(endpoint) else {
        return Err(
            OAuthError::server_error("the upstream authorization endpoint is not a URL").into(),
        );
    };
    // Parameters we set ourselves instead of the client's.
    let mut ours: Vec<(&str, String)> = Vec::new();
    if let Some(client) = p.relay.client(client_id).await? {
        if !client.redirect_uris.iter().any(|u| u == redirect_uri) {
            return Err(OAuthError::invalid_request(
                "redirect_uri is not one this client registered",
            )
            .into());
        }
        let state = p.relay.start(&client, redirect_uri, get("state")).await?;
        ours.push(("redirect_uri", p.relay.callback_url(&client.callback_id)));
        ours.push(("state", state));
        // Our callback reads a query string: no other response mode, and no
        // request object that could carry other parameters past this check.
        ours.push(("response_mode", "query".to_owned()));
        ours.push(("request", String::new()));
        ours.push(("request_uri", String::new()));
    }
    for (k, v) in &p.metadata.extra_authorize_params {
        ours.push((k, v.clone()));
    }
    {
        let mut q = url.query_pairs_mut();
        for (k, v) in &params {
            if !ours.iter().any(|(ok, _)| ok == k) {
                q.append_pair(k, v);
            }
        }
        for (k, v) in ours.iter().filter(|(_, v)| !v.is_empty()) {
            q.append_pair(k, v);
        }
    }
    Ok(no_store(Redirect::to(url.as_str()).into_response()))
}

/// Forwards a token request. A pre-registered client gets its secret injected;
/// the upstream's JSON comes back with `no-store`; a client-authentication failure
/// is `invalid_client` (401), whatever the upstream called it.
async fn token(
    State(p): State<Arc<Proxy>>,
    headers: http::HeaderMap,
    Form(mut form): Form<Vec<(String, String)>>,
) -> Response {
    let Some(endpoint) = p.metadata.token_endpoint.clone() else {
        return OAuthError::server_error("no upstream token endpoint is configured")
            .into_response();
    };
    let grant = form
        .iter()
        .find(|(k, _)| k == "grant_type")
        .map(|(_, v)| v.clone());
    let grant = grant.as_deref();
    // Forward only the grants this server advertises (the provider's list).
    let forwarded = ["authorization_code", "refresh_token", "client_credentials"];
    let supported = &p.metadata.grant_types_supported;
    if !grant.is_some_and(|g| forwarded.contains(&g) && supported.iter().any(|s| s == g)) {
        let allowed = supported.join(", ");
        return OAuthError::unsupported_grant_type(format!("grant_type must be one of: {allowed}"))
            .into_response();
    }
    let form_id = form
        .iter()
        .find(|(k, _)| k == "client_id")
        .map(|(_, v)| v.clone());
    let basic_id = match headers
        .get(http::header::AUTHORIZATION)
        .map(basic_credentials)
    {
        Some(Ok((id, _))) => id,
        Some(Err(e)) => return e.into_response(),
        None => None,
    };
    // One client per request: the relay's checks must apply to the client the
    // upstream will see, whichever way it names itself.
    if let (Some(a), Some(b)) = (&basic_id, &form_id)
        && a != b
    {
        return OAuthError::invalid_client("client_id differs from the Basic credentials")
            .into_response();
    }
    let client_id = basic_id.or(form_id);
    if grant == Some("authorization_code")
        && let Some(id) = &client_id
        && let Err(refusal) = relayed_redirect_uri(&p.relay, id, &mut form).await
    {
        return refusal.into_response();
    }
    // The secret is added only to grants that prove a user's consent (a code or a
    // refresh token). A client_credentials request must bring its own secret:
    // injecting ours would hand a service-account token to anyone who asks.
    let user_grant = matches!(grant, Some("authorization_code" | "refresh_token"));
    if let (Some(id), Some(pre), Some(secret)) =
        (&client_id, &p.metadata.client_id, &p.metadata.client_secret)
        && user_grant
        && id == pre
        && !form.iter().any(|(k, _)| k == "client_secret")
    {
        form.push(("client_secret".into(), secret.secret().to_owned()));
    }
    let mut request = p
        .client
        .post(&endpoint)
        .header("accept", "application/json")
        .form(&form);
    if let Some(basic) = headers.get(http::header::AUTHORIZATION) {
        request = request.header(http::header::AUTHORIZATION, basic.clone());
    }
    let resp = match request.send().await {
        Ok(r) => r,
        Err(e) => return unavailable("token endpoint", &e),
    };
    let status = resp.status();
    let body: Bytes = match resp.bytes().await {
        Ok(b) => b,
        Err(e) => return unavailable("token endpoint", &e),
    };
    let Ok(mut json) = serde_json::from_slice::<Value>(&body) else {
        return unavailable(
            "token endpoint",
            &format!("HTTP {status} with a non-JSON body"),
        );
    };
    let mut status = StatusCode::from_u16(status.as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
    if status.is_client_error()
        && json.get("error").and_then(Value::as_str) == Some("unauthorized_client")
    {
        // RFC 6749 §5.2: clients re-register on invalid_client, not on unauthorized_client.
        json["error"] = json!("invalid_client");
        status = StatusCode::UNAUTHORIZED;
    }
    if status == StatusCode::UNAUTHORIZED
        && json.get("error").and_then(Value::as_str) != Some("invalid_client")
    {
        json["error"] = json!("invalid_client");
    }
    let mut response = (status, Json(json)).into_response();
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            http::header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"oauth\""),
        );
    }
    no_store(response)
}

/// For a client registered through us, the code was issued upstream to our
/// callback: `redirect_uri` becomes our callback, once the client's own is found
/// among those it registered.
async fn relayed_redirect_uri(
    relay: &Relay,
    client_id: &str,
    form: &mut Vec<(String, String)>,
) -> Result<(), BrokerError> {
    let Some(client) = relay.client(client_id).await? else {
        return Ok(());
    };
    form.retain(|(k, v)| k != "redirect_uri" || !client.redirect_uris.iter().any(|u| u == v));
    if form.iter().any(|(k, _)| k == "redirect_uri") {
        return Err(OAuthError::new(
            "invalid_grant",
            "redirect_uri is not one this client registered",
        )
        .into());
    }
    form.push((
        "redirect_uri".into(),
        relay.callback_url(&client.callback_id),
    ));
    Ok(())
}

/// Forwards a dynamic client registration (RFC 7591) to the upstream.
async fn register(
    State(p): State<Arc<Proxy>>,
    body: Result<Json<Value>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let Ok(Json(body)) = body else {
        return OAuthError::invalid_client_metadata(
            "the body must be a JSON client metadata document",
        )
        .into_response();
    };
    if let Some(uris) = body.get("redirect_uris").and_then(Value::as_array)
        && let Some(bad) = uris
            .iter()
            .find(|u| !u.as_str().is_some_and(is_acceptable_redirect_uri))
    {
        return OAuthError::invalid_redirect_uri(format!(
            "{bad} is neither https nor loopback http"
        ))
        .into_response();
    }
    let Some(endpoint) = p.metadata.registration_endpoint.clone() else {
        return OAuthError::server_error("no upstream registration endpoint").into_response();
    };
    let mut body = body;
    let own_uris = p.relay.registration_for_upstream(&mut body);
    let resp = match p.client.post(&endpoint).json(&body).send().await {
        Ok(r) => r,
        Err(e) => return unavailable("registration endpoint", &e),
    };
    let status = StatusCode::from_u16(resp.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
    let mut json = match resp.json::<Value>().await {
        Ok(json) => json,
        Err(e) => return unavailable("registration endpoint", &e),
    };
    if let Some(registration) = own_uris
        && status.is_success()
    {
        let Some(client_id) = json.get("client_id").and_then(Value::as_str) else {
            return unavailable("registration endpoint", &"a registration without client_id");
        };
        let uris = registration.redirect_uris.clone();
        if let Err(e) = p.relay.remember(client_id, registration).await {
            return e.into_response();
        }
        // The client sees the URIs it registered, not our callback.
        json["redirect_uris"] = Value::from(uris);
    }
    no_store((status, Json(json)).into_response())
}
