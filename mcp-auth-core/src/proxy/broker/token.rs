//! `/token` for the clients registered here: our codes are redeemed for the
//! upstream's access token and a refresh handle of ours; refreshes go through
//! [`refresh`](super::refresh). Errors follow RFC 6749 §5.2; every answer is
//! `Cache-Control: no-store`.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::HeaderMap;
use serde_json::{Map, Value};

use super::Broker;
use super::callback::{IssuedCode, SEALED_TOKENS};
use super::refresh;
use crate::oauth::client_auth::client_credentials;
use crate::oauth::client_metadata_document::is_client_id_url;
use crate::oauth::params::Params;
use crate::oauth::{ClientInfo, OAuthError, no_store, pkce};
use crate::proxy::state_key::{hashed_id, same};
use crate::proxy::{At, CLIENT_TTL, ProxyError, RecordKind, strip_upstream_only};

/// `POST /token`.
pub(super) async fn token(
    State(b): State<Arc<Broker>>,
    headers: HeaderMap,
    params: Params,
) -> Response {
    match token_inner(&b, &headers, params).await {
        Ok(tokens) => no_store(Json(Value::Object(tokens)).into_response()),
        Err(e) => e.into_response(),
    }
}

async fn token_inner(
    b: &Broker,
    headers: &HeaderMap,
    params: Params,
) -> Result<Map<String, Value>, ProxyError> {
    let client = authenticate(b, headers, &params).await?;
    let grant = params
        .get("grant_type")
        .ok_or_else(|| OAuthError::invalid_request("grant_type is required"))?;
    if !client.grant_types.iter().any(|g| g == grant) {
        return Err(OAuthError::unsupported_grant_type(format!(
            "grant_type must be one of: {}",
            client.grant_types.join(", ")
        ))
        .into());
    }
    let mut tokens = match grant {
        "authorization_code" => redeem_code(b, &client, &params).await?,
        "refresh_token" => refresh::refresh(b, &client, &params).await?,
        other => {
            return Err(OAuthError::unsupported_grant_type(format!(
                "grant_type {other:?} is not supported"
            ))
            .into());
        }
    };
    strip_upstream_only(&mut tokens);
    // A client that obtained a token is kept for the long term (a client
    // identified by URL is never stored: its document is its registration).
    if !is_client_id_url(&client.client_id) {
        b.core
            .records
            .save(RecordKind::Client, &client.client_id, &client, CLIENT_TTL)
            .await?;
    }
    Ok(tokens)
}

/// The client of the request: one registered here, public, named by
/// `client_id` in the form or the user part of HTTP Basic. Anything else is
/// `invalid_client`.
async fn authenticate(
    b: &Broker,
    headers: &HeaderMap,
    params: &Params,
) -> Result<ClientInfo, ProxyError> {
    let presented = client_credentials(headers, params)?;
    if presented.secret.is_some() {
        return Err(OAuthError::invalid_client(
            "clients registered here are public: authenticate with PKCE, not a secret",
        )
        .into());
    }
    b.client(&presented.client_id, At::Token).await
}

/// Redeems one of our codes: single use, this client, the same redirect URI if
/// one is given, and the client's PKCE verifier. The upstream's refresh token
/// is kept here; the client gets a refresh handle of ours.
async fn redeem_code(
    b: &Broker,
    client: &ClientInfo,
    params: &Params,
) -> Result<Map<String, Value>, ProxyError> {
    let code = params
        .get("code")
        .ok_or_else(|| OAuthError::invalid_request("code is required"))?;
    let verifier = params
        .get("code_verifier")
        .ok_or_else(|| OAuthError::invalid_request("code_verifier is required (PKCE)"))?;
    let issued: IssuedCode = b
        .core
        .records
        .take(RecordKind::Code, &hashed_id(code))
        .await?
        .ok_or_else(|| {
            OAuthError::invalid_grant("authorization code is invalid, expired or already used")
        })?;
    if !same(&issued.client_id, &client.client_id) {
        return Err(
            OAuthError::invalid_grant("authorization code was issued to another client").into(),
        );
    }
    if params
        .get("redirect_uri")
        .is_some_and(|r| r != issued.redirect_uri)
    {
        return Err(OAuthError::invalid_grant(
            "redirect_uri does not match the authorization request",
        )
        .into());
    }
    if !pkce::verify_s256(verifier, &issued.code_challenge) {
        return Err(
            OAuthError::invalid_grant("code_verifier does not match the code_challenge").into(),
        );
    }
    let tokens = b
        .core
        .key
        .open(SEALED_TOKENS, &issued.sealed_tokens)
        .ok_or(ProxyError::Internal(
            "the sealed tokens of a code cannot be opened",
        ))?;
    let mut tokens: Map<String, Value> =
        serde_json::from_slice(&tokens).map_err(ProxyError::Corrupt)?;
    if let Some(upstream_refresh) = tokens
        .get("refresh_token")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
    {
        let handle = refresh::issue(b, &client.client_id, &upstream_refresh, &tokens).await?;
        tokens.insert("refresh_token".into(), Value::from(handle));
    }
    Ok(tokens)
}
