//! `/oauth/callback`: the upstream sends the browser back here. The state is
//! consumed (unknown, expired or reused: an error page, no redirect); a browser
//! other than the one that started the flow is refused before the upstream code
//! is redeemed; the upstream's `iss` is checked; then the upstream code is
//! exchanged with our client's credentials and verifier, and the client gets a
//! code of ours at exactly its registered redirect URI.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::HeaderMap;
use serde::{Deserialize, Serialize};

use super::Broker;
use super::authorize::Flow;
use crate::oauth::OAuthError;
use crate::oauth::params::Params;
use crate::oauth::random::random_token;
use crate::oauth::response::{authorization_response, error_response};
use crate::proxy::state_key::hashed_id;
use crate::proxy::{ProxyError, RecordKind, Returning, UpstreamAnswer};

/// How long one of our authorization codes stays redeemable.
const CODE_TTL: Duration = Duration::from_secs(120);
/// Context of the sealed tokens of an issued code.
pub(super) const SEALED_TOKENS: &str = "broker code tokens";

/// An authorization code of ours, redeemable once at `/token`, stored under
/// the code's hash.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct IssuedCode {
    /// The client it was issued to.
    pub client_id: String,
    /// The redirect URI it was delivered to.
    pub redirect_uri: String,
    /// The client's S256 challenge.
    pub code_challenge: String,
    /// The upstream's token response, sealed under the state key.
    pub sealed_tokens: String,
}

/// `GET /oauth/callback`.
pub(super) async fn callback(
    State(b): State<Arc<Broker>>,
    headers: HeaderMap,
    params: Params,
) -> Response {
    finish(&b, &headers, params)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

async fn finish(b: &Broker, headers: &HeaderMap, params: Params) -> Result<Response, ProxyError> {
    let unknown = || OAuthError::invalid_request("unknown, expired or already used state");
    let state = params.get("state").ok_or_else(unknown)?;
    let flow: Flow = b
        .core
        .records
        .take(RecordKind::Flow, state)
        .await?
        .ok_or_else(unknown)?;
    let request = &flow.request;
    let returning = Returning {
        client_id: &request.client_id,
        binding: &flow.binding,
        redirect_uri: &request.redirect_uri,
        state: request.state.as_deref(),
    };
    // The consent bypass (a flow consented in one browser, completed in
    // another) ends here: the upstream code is never redeemed.
    let upstream_code = match b.core.upstream_answer(headers, &params, &returning).await? {
        UpstreamAnswer::Code(code) => code,
        UpstreamAnswer::Relay(response) => return Ok(response),
    };
    let issuer = b.core.issuer.as_str();
    let client_state = request.state.as_deref();
    let callback = b.callback_url();
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", upstream_code),
        ("redirect_uri", callback.as_str()),
        ("code_verifier", flow.upstream_verifier.as_str()),
    ];
    b.with_upstream_credentials(&mut form);
    let reply = b
        .core
        .upstream
        .post_form(&b.token_endpoint, &form, None)
        .await
        .map_err(ProxyError::upstream("token endpoint"))?;
    if !reply.has_tokens() {
        tracing::warn!(status = reply.status, error = ?reply.error(), "upstream refused the code exchange");
        let error =
            OAuthError::server_error("the identity provider refused the authorization code");
        return Ok(error_response(
            &request.redirect_uri,
            &error,
            client_state,
            issuer,
        ));
    }
    let tokens = serde_json::to_vec(&reply.body).map_err(ProxyError::Corrupt)?;
    let sealed_tokens = b
        .core
        .key
        .seal(SEALED_TOKENS, &tokens)
        .ok_or(ProxyError::Internal("cannot seal the upstream tokens"))?;
    let code = random_token(32);
    let issued = IssuedCode {
        client_id: request.client_id.clone(),
        redirect_uri: request.redirect_uri.clone(),
        code_challenge: request.code_challenge.clone(),
        sealed_tokens,
    };
    b.core
        .records
        .save(RecordKind::Code, &hashed_id(&code), &issued, CODE_TTL)
        .await?;
    Ok(authorization_response(
        &request.redirect_uri,
        &[("code", &code)],
        client_state,
        issuer,
    ))
}
