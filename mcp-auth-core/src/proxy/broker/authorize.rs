//! `/authorize` and the consent form it shows (`/oauth/consent`): a registered
//! client with one of its registered redirect URIs, the user's consent for that
//! client, then the browser is bound to the flow and goes upstream with our
//! client, our callback, a PKCE pair of our own and our resource.

use std::sync::Arc;

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use http::HeaderMap;
use http::header::SET_COOKIE;
use serde::{Deserialize, Serialize};

use super::Broker;
use crate::oauth::authorization_request::{AuthorizationRequest, echoed_state, redirect_target};
use crate::oauth::params::Params;
use crate::oauth::random::random_token;
use crate::oauth::response::error_response;
use crate::oauth::{ClientInfo, OAuthError, no_store, pkce};
use crate::proxy::consent::{self, Answer, Question};
use crate::proxy::{At, FLOW_TTL, ProxyError, RecordKind};

/// An authorization in flight upstream, under our upstream `state`.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct Flow {
    /// What the client asked for.
    pub request: AuthorizationRequest,
    /// Our PKCE verifier toward the upstream.
    pub upstream_verifier: String,
    /// MAC of the browser binding cookie.
    pub binding: String,
}

/// `GET` and `POST /authorize`.
pub(super) async fn authorize(
    State(b): State<Arc<Broker>>,
    headers: HeaderMap,
    params: Params,
) -> Response {
    respond(start(&b, &headers, params).await)
}

fn respond(result: Result<Response, ProxyError>) -> Response {
    result.unwrap_or_else(IntoResponse::into_response)
}

async fn start(b: &Broker, headers: &HeaderMap, params: Params) -> Result<Response, ProxyError> {
    // Until client and redirect URI are known good, errors are shown here:
    // redirecting them anywhere would be an open redirect.
    let client_id = params
        .get("client_id")
        .ok_or_else(|| OAuthError::invalid_request("client_id is required"))?;
    let client: ClientInfo = b.client(client_id, At::Authorize).await?;
    let redirect_uri = redirect_target(&params, &client.redirect_uris)?;
    let fail = |e: OAuthError| {
        Ok(error_response(
            &redirect_uri,
            &e,
            echoed_state(&params),
            &b.core.issuer,
        ))
    };
    let mut request =
        match AuthorizationRequest::validate(&params, &client.client_id, redirect_uri.clone()) {
            Ok(request) => request,
            Err(e) => return fail(e),
        };
    if !client.grant_types.iter().any(|g| g == "authorization_code") {
        return fail(OAuthError::new(
            "unauthorized_client",
            "this client did not register the authorization_code grant",
        ));
    }
    // The upstream token is for this server and nothing else (RFC 8707).
    if request
        .resource
        .as_deref()
        .is_some_and(|r| r.trim_end_matches('/') != b.core.resource.trim_end_matches('/'))
    {
        return fail(OAuthError::invalid_target(format!(
            "this server serves only the resource {}",
            b.core.resource
        )));
    }
    request.resource = Some(b.core.resource.clone());
    if request.scope.is_none() {
        request.scope.clone_from(&client.scope);
    }
    if b.core
        .cookies
        .approves(&b.core.key, headers, &client.client_id, &request.scopes())
    {
        return b.start_upstream(request, headers).await;
    }
    ask_consent(b, &client, request, headers).await
}

/// Stores the request and shows the consent page.
async fn ask_consent(
    b: &Broker,
    client: &ClientInfo,
    request: AuthorizationRequest,
    headers: &HeaderMap,
) -> Result<Response, ProxyError> {
    let redirect_uri = request.redirect_uri.clone();
    let scope = request.scope.clone();
    let question = Question {
        client,
        redirect_uri: &redirect_uri,
        scope: scope.as_deref(),
    };
    consent::ask(&b.core, &question, request, headers).await
}

/// `POST /oauth/consent`: the user's answer.
pub(super) async fn consent(
    State(b): State<Arc<Broker>>,
    headers: HeaderMap,
    params: Params,
) -> Response {
    respond(decide(&b, &headers, params).await)
}

/// Checks the form ([`consent::answer`]), then goes upstream or tells the
/// client the user said no.
async fn decide(b: &Broker, headers: &HeaderMap, params: Params) -> Result<Response, ProxyError> {
    let (request, answer): (AuthorizationRequest, Answer) =
        consent::answer(&b.core, headers, &params).await?;
    match answer {
        Answer::Approve => {
            let cookie = b.core.cookies.remember(
                &b.core.key,
                headers,
                &request.client_id,
                &request.scopes(),
            )?;
            let mut response = b.start_upstream(request, headers).await?;
            response.headers_mut().append(SET_COOKIE, cookie);
            Ok(response)
        }
        Answer::Deny => Ok(error_response(
            &request.redirect_uri,
            &OAuthError::access_denied("the user denied access"),
            request.state.as_deref(),
            &b.core.issuer,
        )),
    }
}

impl Broker {
    /// Records the flow under a fresh single-use state, bound to this browser,
    /// and sends the browser to the upstream authorization endpoint with our
    /// client and callback.
    async fn start_upstream(
        &self,
        request: AuthorizationRequest,
        headers: &HeaderMap,
    ) -> Result<Response, ProxyError> {
        let (binding, set_cookie) = self.core.cookies.bind(&self.core.key, headers)?;
        let state = random_token(32);
        let verifier = random_token(48);
        let url = self.upstream_authorize_url(&request, &state, &pkce::s256_challenge(&verifier));
        let flow = Flow {
            request,
            upstream_verifier: verifier,
            binding,
        };
        self.core
            .records
            .save(RecordKind::Flow, &state, &flow, FLOW_TTL)
            .await?;
        let mut response = no_store(Redirect::to(url.as_str()).into_response());
        response.headers_mut().append(SET_COOKIE, set_cookie);
        Ok(response)
    }

    fn upstream_authorize_url(
        &self,
        request: &AuthorizationRequest,
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
