//! `/authorize` and the consent form it shows (`/oauth/consent`): a registered
//! client with one of its registered redirect URIs, the user's consent for that
//! client, then the browser goes upstream with our client, our callback and a
//! PKCE pair of our own.

use std::sync::Arc;

use axum::Form;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use http::header::SET_COOKIE;
use http::{HeaderMap, HeaderValue};
use serde::{Deserialize, Serialize};

use super::consent::{ConsentView, page, same};
use super::{
    Broker, BrokerError, CONSENT_REQUEST_TTL, FLOW_TTL, Params, client_redirect, key, now,
    unreadable,
};
use crate::oauth::routes::{framing_blocked, random_token};
use crate::oauth::{ClientInfo, OAuthError, pkce};

/// Longest client `state` carried through.
const MAX_STATE_LEN: usize = 2048;

/// A client's authorization request, validated, kept server-side while the
/// user consents and logs in upstream.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct AuthRequest {
    /// The client (one of ours).
    pub client_id: String,
    /// One of its registered redirect URIs, exactly.
    pub redirect_uri: String,
    /// The client's state, returned unchanged.
    pub state: Option<String>,
    /// The client's S256 PKCE challenge.
    pub code_challenge: String,
    /// Requested scopes, forwarded upstream.
    pub scope: Option<String>,
    /// RFC 8707 resource indicator, forwarded upstream.
    pub resource: Option<String>,
}

/// A consent page waiting for its answer.
#[derive(Debug, Serialize, Deserialize)]
struct PendingConsent {
    request: AuthRequest,
    /// The CSRF token of the browser the page was shown to.
    csrf: String,
    expires_at: u64,
}

/// An authorization in flight upstream, keyed by our upstream `state`.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct Flow {
    /// What the client asked for.
    pub request: AuthRequest,
    /// Our PKCE verifier toward the upstream.
    pub upstream_verifier: String,
    /// Expiry (seconds since the epoch).
    pub expires_at: u64,
}

/// `GET /authorize`.
pub(super) async fn authorize_get(
    State(b): State<Arc<Broker>>,
    headers: HeaderMap,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Response {
    match query {
        Ok(Query(pairs)) => authorize(&b, &headers, pairs).await,
        Err(r) => unreadable(r.status()),
    }
}

/// `POST /authorize` (form).
pub(super) async fn authorize_post(
    State(b): State<Arc<Broker>>,
    headers: HeaderMap,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Response {
    match form {
        Ok(Form(pairs)) => authorize(&b, &headers, pairs).await,
        Err(r) => unreadable(r.status()),
    }
}

async fn authorize(b: &Broker, headers: &HeaderMap, pairs: Vec<(String, String)>) -> Response {
    respond(authorize_inner(b, headers, pairs).await)
}

fn respond(result: Result<Response, BrokerError>) -> Response {
    result.unwrap_or_else(IntoResponse::into_response)
}

async fn authorize_inner(
    b: &Broker,
    headers: &HeaderMap,
    pairs: Vec<(String, String)>,
) -> Result<Response, BrokerError> {
    let params = Params::from_pairs(pairs)?;
    // Until client and redirect URI are known good, errors are shown here:
    // redirecting them anywhere would be an open redirect.
    let (client, redirect_uri) = registered_target(b, &params).await?;
    let request = match validate(&client, &redirect_uri, &params) {
        Ok(request) => request,
        Err(error) => {
            let state = params.get("state").filter(|s| s.len() <= MAX_STATE_LEN);
            let response = [
                ("error", error.code),
                ("error_description", &error.description),
            ];
            return Ok(client_redirect(&redirect_uri, &response, state));
        }
    };
    if b.cookies.approves(headers, &client.client_id) {
        return b.start_upstream(request).await;
    }
    ask_consent(b, &client, request, headers).await
}

/// The registered client and the redirect URI to use: the one requested if it
/// is registered exactly, or the only one registered when none is requested.
async fn registered_target(
    b: &Broker,
    params: &Params,
) -> Result<(ClientInfo, String), BrokerError> {
    let client_id = params
        .get("client_id")
        .ok_or_else(|| OAuthError::invalid_request("client_id is required"))?;
    let client: ClientInfo = b
        .load(&key("client", client_id))
        .await?
        .ok_or_else(|| OAuthError::invalid_request("unknown client_id; register first"))?;
    let redirect_uri = match params.get("redirect_uri") {
        Some(uri) if client.redirect_uris.iter().any(|r| r == uri) => uri.to_owned(),
        Some(_) => {
            return Err(OAuthError::invalid_request(
                "redirect_uri is not registered for this client",
            )
            .into());
        }
        None => match client.redirect_uris.as_slice() {
            [only] => only.clone(),
            _ => return Err(OAuthError::invalid_request("redirect_uri is required").into()),
        },
    };
    Ok((client, redirect_uri))
}

/// The rest of the request, once the redirect URI is trusted: response type,
/// S256 PKCE, grant and state size.
fn validate(
    client: &ClientInfo,
    redirect_uri: &str,
    params: &Params,
) -> Result<AuthRequest, OAuthError> {
    if params.get("response_type") != Some("code") {
        return Err(OAuthError::new(
            "unsupported_response_type",
            "only response_type=code is supported",
        ));
    }
    if !client.grant_types.iter().any(|g| g == "authorization_code") {
        return Err(OAuthError::new(
            "unauthorized_client",
            "this client did not register the authorization_code grant",
        ));
    }
    let code_challenge = params
        .get("code_challenge")
        .filter(|c| pkce::is_valid_challenge(c))
        .ok_or_else(|| OAuthError::invalid_request("a valid S256 code_challenge is required"))?;
    if params.get("code_challenge_method") != Some("S256") {
        return Err(OAuthError::invalid_request(
            "code_challenge_method must be S256",
        ));
    }
    let state = params.get("state");
    if state.is_some_and(|s| s.len() > MAX_STATE_LEN) {
        return Err(OAuthError::invalid_request("state is too long"));
    }
    Ok(AuthRequest {
        client_id: client.client_id.clone(),
        redirect_uri: redirect_uri.to_owned(),
        state: state.map(str::to_owned),
        code_challenge: code_challenge.to_owned(),
        scope: params
            .get("scope")
            .map(str::to_owned)
            .or_else(|| client.scope.clone()),
        resource: params.get("resource").map(str::to_owned),
    })
}

/// Stores the request under a fresh consent id and shows the consent page.
async fn ask_consent(
    b: &Broker,
    client: &ClientInfo,
    request: AuthRequest,
    headers: &HeaderMap,
) -> Result<Response, BrokerError> {
    let (csrf, set_csrf) = b.cookies.csrf_token(headers)?;
    let consent_id = random_token(32);
    let html = page(&ConsentView {
        client_name: client.client_name.as_deref(),
        client_id: &client.client_id,
        redirect_uri: &request.redirect_uri,
        scope: request.scope.as_deref(),
        server: &b.base,
        consent_id: &consent_id,
        csrf_token: &csrf,
    });
    let pending = PendingConsent {
        request,
        csrf,
        expires_at: now() + CONSENT_REQUEST_TTL.as_secs(),
    };
    b.save(&key("consent", &consent_id), &pending, CONSENT_REQUEST_TTL)
        .await?;
    let mut response = framing_blocked(Html(html).into_response());
    let h = response.headers_mut();
    h.insert(
        "content-security-policy",
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    if let Some(cookie) = set_csrf {
        h.append(SET_COOKIE, cookie);
    }
    Ok(response)
}

/// `POST /oauth/consent`: the user's answer.
pub(super) async fn consent(
    State(b): State<Arc<Broker>>,
    headers: HeaderMap,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Response {
    match form {
        Ok(Form(pairs)) => respond(decide(&b, &headers, pairs).await),
        Err(r) => unreadable(r.status()),
    }
}

/// Checks the form (single-use consent id, CSRF token repeated in the form, the
/// pending record and the browser's cookie), then goes upstream or tells the
/// client the user said no.
async fn decide(
    b: &Broker,
    headers: &HeaderMap,
    pairs: Vec<(String, String)>,
) -> Result<Response, BrokerError> {
    let refused = || {
        OAuthError::invalid_request(
            "this consent form is invalid, expired or already answered; start again from the application",
        )
    };
    let params = Params::from_pairs(pairs)?;
    let consent_id = params.get("consent_id").ok_or_else(refused)?;
    let token = params.get("csrf_token").ok_or_else(refused)?;
    let pending: PendingConsent = b
        .take(&key("consent", consent_id))
        .await?
        .ok_or_else(refused)?;
    if pending.expires_at <= now()
        || !same(&pending.csrf, token)
        || !b.cookies.csrf_matches(headers, token)
    {
        tracing::warn!(client_id = %pending.request.client_id, "consent refused: CSRF check failed");
        return Err(refused().into());
    }
    let request = pending.request;
    match params.get("decision") {
        Some("approve") => {
            let cookie = b.cookies.remember(headers, &request.client_id)?;
            let mut response = b.start_upstream(request).await?;
            response.headers_mut().append(SET_COOKIE, cookie);
            Ok(response)
        }
        Some("deny") => Ok(client_redirect(
            &request.redirect_uri,
            &[
                ("error", "access_denied"),
                ("error_description", "the user denied access"),
            ],
            request.state.as_deref(),
        )),
        _ => Err(OAuthError::invalid_request("decision must be approve or deny").into()),
    }
}

impl Broker {
    /// Records the flow under a fresh single-use state and sends the browser to
    /// the upstream authorization endpoint with our client and callback.
    pub(super) async fn start_upstream(
        &self,
        request: AuthRequest,
    ) -> Result<Response, BrokerError> {
        let state = random_token(32);
        let verifier = random_token(48);
        let url = self.upstream_authorize_url(&request, &state, &pkce::s256_challenge(&verifier));
        let flow = Flow {
            request,
            upstream_verifier: verifier,
            expires_at: now() + FLOW_TTL.as_secs(),
        };
        self.save(&key("flow", &state), &flow, FLOW_TTL).await?;
        Ok(crate::oauth::no_store(
            Redirect::to(url.as_str()).into_response(),
        ))
    }

    fn upstream_authorize_url(
        &self,
        request: &AuthRequest,
        state: &str,
        challenge: &str,
    ) -> url::Url {
        let mut url = self.authorization_endpoint.clone();
        let callback = self.callback_url();
        let forwarded = [
            ("scope", request.scope.as_deref()),
            ("resource", request.resource.as_deref()),
        ];
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("response_type", "code")
                .append_pair("client_id", &self.upstream_client_id)
                .append_pair("redirect_uri", &callback)
                .append_pair("state", state)
                .append_pair("code_challenge", challenge)
                .append_pair("code_challenge_method", "S256");
            for (k, v) in forwarded {
                let overridden = self.extra_authorize_params.iter().any(|(ek, _)| ek == k);
                if let (Some(v), false) = (v, overridden) {
                    q.append_pair(k, v);
                }
            }
            for (k, v) in &self.extra_authorize_params {
                q.append_pair(k, v);
            }
        }
        url
    }
}
