//! `/oauth/callback`: the upstream sends the browser back here. The state is
//! consumed (unknown, expired or reused: 400, no redirect), the upstream code is
//! exchanged with our client's credentials and verifier, and the client gets a
//! code of ours at exactly its registered redirect URI.

use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::authorize::Flow;
use super::upstream::token_request;
use super::{Broker, BrokerError, CODE_TTL, Params, client_redirect, key, now, unreadable};
use crate::oauth::OAuthError;
use crate::oauth::routes::random_token;

/// Longest upstream `error_description` passed on to the client.
const MAX_DESCRIPTION_CHARS: usize = 200;

/// An authorization code of ours, redeemable once at `/token`.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct IssuedCode {
    /// The client it was issued to.
    pub client_id: String,
    /// The redirect URI it was delivered to.
    pub redirect_uri: String,
    /// The client's S256 challenge.
    pub code_challenge: String,
    /// The upstream's token response, returned as is.
    pub tokens: Map<String, Value>,
    /// Expiry (seconds since the epoch).
    pub expires_at: u64,
}

/// `GET /oauth/callback`.
pub(super) async fn callback(
    State(b): State<Arc<Broker>>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Response {
    match query {
        Ok(Query(pairs)) => finish(&b, pairs)
            .await
            .unwrap_or_else(IntoResponse::into_response),
        Err(r) => unreadable(r.status()),
    }
}

async fn finish(b: &Broker, pairs: Vec<(String, String)>) -> Result<Response, BrokerError> {
    let unknown = || OAuthError::invalid_request("unknown, expired or already used state");
    let params = Params::from_pairs(pairs)?;
    let state = params.get("state").ok_or_else(unknown)?;
    let flow: Flow = b.take(&key("flow", state)).await?.ok_or_else(unknown)?;
    if flow.expires_at <= now() {
        return Err(unknown().into());
    }
    let request = &flow.request;
    let client_state = request.state.as_deref();
    if let Some(error) = params.get("error") {
        return Ok(upstream_refusal(
            &request.redirect_uri,
            error,
            params.get("error_description"),
            client_state,
        ));
    }
    let Some(upstream_code) = params.get("code") else {
        return Ok(server_error(
            &request.redirect_uri,
            "the identity provider returned no code",
            client_state,
        ));
    };
    let callback = b.callback_url();
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", upstream_code),
        ("redirect_uri", callback.as_str()),
        ("code_verifier", flow.upstream_verifier.as_str()),
    ];
    b.with_upstream_credentials(&mut form);
    let reply = token_request(&b.http, &b.token_endpoint, &form).await?;
    if !reply.has_tokens() {
        tracing::warn!(status = reply.status, error = ?reply.error(), "upstream refused the code exchange");
        return Ok(server_error(
            &request.redirect_uri,
            "the identity provider refused the authorization code",
            client_state,
        ));
    }
    let code = random_token(32);
    let issued = IssuedCode {
        client_id: request.client_id.clone(),
        redirect_uri: request.redirect_uri.clone(),
        code_challenge: request.code_challenge.clone(),
        tokens: reply.body,
        expires_at: now() + CODE_TTL.as_secs(),
    };
    b.save(&key("code", &code), &issued, CODE_TTL).await?;
    Ok(client_redirect(
        &request.redirect_uri,
        &[("code", &code)],
        client_state,
    ))
}

/// The upstream's error (`access_denied`, ...) passed to the client, as long as
/// it is a well-formed error code (RFC 6749 §4.1.2.1); else `server_error`.
pub(in crate::http) fn upstream_refusal(
    redirect_uri: &str,
    error: &str,
    description: Option<&str>,
    state: Option<&str>,
) -> Response {
    let valid = |s: &str| {
        s.bytes()
            .all(|b| matches!(b, 0x20..=0x7e) && b != b'"' && b != b'\\')
    };
    let code = if valid(error) && error.len() <= 64 {
        error
    } else {
        "server_error"
    };
    let description: Option<String> = description
        .filter(|d| valid(d))
        .map(|d| d.chars().take(MAX_DESCRIPTION_CHARS).collect());
    let mut params = vec![("error", code)];
    if let Some(d) = &description {
        params.push(("error_description", d));
    }
    client_redirect(redirect_uri, &params, state)
}

fn server_error(redirect_uri: &str, description: &str, state: Option<&str>) -> Response {
    client_redirect(
        redirect_uri,
        &[
            ("error", "server_error"),
            ("error_description", description),
        ],
        state,
    )
}
