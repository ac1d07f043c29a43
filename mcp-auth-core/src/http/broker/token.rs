//! `/token` for the clients registered here: our codes are redeemed for the
//! upstream's tokens; refreshes go upstream with our client's credentials.
//! Errors follow RFC 6749 §5.2; every answer is `Cache-Control: no-store`.

use std::sync::Arc;

use aws_lc_rs::digest;
use axum::extract::State;
use axum::extract::rejection::FormRejection;
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use http::HeaderMap;
use http::header::AUTHORIZATION;
use serde_json::{Map, Value};

use super::callback::IssuedCode;
use super::consent::same;
use super::upstream::{Reply, token_request};
use super::{Broker, BrokerError, Params, REFRESH_BINDING_TTL, key, now, unreadable};
use crate::oauth::{ClientInfo, OAuthError, no_store, pkce};

/// `POST /token`.
pub(super) async fn token(
    State(b): State<Arc<Broker>>,
    headers: HeaderMap,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Response {
    let pairs = match form {
        Ok(Form(pairs)) => pairs,
        Err(r) => return unreadable(r.status()),
    };
    match token_inner(&b, &headers, pairs).await {
        Ok(tokens) => no_store(Json(Value::Object(tokens)).into_response()),
        Err(e) => {
            tracing::info!(error = %e, "token request refused");
            e.into_response()
        }
    }
}

async fn token_inner(
    b: &Broker,
    headers: &HeaderMap,
    pairs: Vec<(String, String)>,
) -> Result<Map<String, Value>, BrokerError> {
    let params = Params::from_pairs(pairs)?;
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
    match grant {
        "authorization_code" => redeem_code(b, &client, &params).await,
        "refresh_token" => refresh(b, &client, &params).await,
        other => Err(OAuthError::unsupported_grant_type(format!(
            "grant_type {other:?} is not supported"
        ))
        .into()),
    }
}

/// The client of the request: one registered here, public, named by `client_id`
/// in the form or the user part of HTTP Basic. Anything else is `invalid_client`.
async fn authenticate(
    b: &Broker,
    headers: &HeaderMap,
    params: &Params,
) -> Result<ClientInfo, BrokerError> {
    let (basic_id, basic_secret) = match headers.get(AUTHORIZATION) {
        Some(value) => basic_credentials(value)?,
        None => (None, None),
    };
    let form_id = params.get("client_id");
    if let (Some(a), Some(f)) = (&basic_id, form_id)
        && a != f
    {
        return Err(OAuthError::invalid_request("two different client ids").into());
    }
    if basic_secret.is_some() || params.get("client_secret").is_some() {
        return Err(OAuthError::invalid_client(
            "clients registered here are public: authenticate with PKCE, not a secret",
        )
        .into());
    }
    let id = basic_id
        .as_deref()
        .or(form_id)
        .ok_or_else(|| OAuthError::invalid_client("client_id is required"))?;
    b.load(&key("client", id))
        .await?
        .ok_or_else(|| OAuthError::invalid_client("unknown client; register again").into())
}

/// `(client_id, client_secret)` of an HTTP Basic header (RFC 6749 §2.3.1),
/// each form-urlencoded; an empty secret counts as none.
pub(in crate::http) fn basic_credentials(
    value: &http::HeaderValue,
) -> Result<(Option<String>, Option<String>), OAuthError> {
    let malformed = || OAuthError::invalid_client("malformed Basic credentials");
    let text = value.to_str().map_err(|_| malformed())?;
    let encoded = text
        .get(..6)
        .filter(|scheme| scheme.eq_ignore_ascii_case("basic "))
        .map(|_| &text[6..])
        .ok_or_else(|| OAuthError::invalid_client("unsupported client authentication scheme"))?;
    let decoded = STANDARD
        .decode(encoded.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(malformed)?;
    let (id, secret) = decoded.split_once(':').ok_or_else(malformed)?;
    let unescape = |s: &str| {
        url::form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .filter(|v| !v.is_empty())
    };
    Ok((unescape(id), unescape(secret)))
}

/// Redeems one of our codes: single use, unexpired, this client, the same
/// redirect URI if one is given, and the client's PKCE verifier.
async fn redeem_code(
    b: &Broker,
    client: &ClientInfo,
    params: &Params,
) -> Result<Map<String, Value>, BrokerError> {
    let code = params
        .get("code")
        .ok_or_else(|| OAuthError::invalid_request("code is required"))?;
    let verifier = params
        .get("code_verifier")
        .ok_or_else(|| OAuthError::invalid_request("code_verifier is required (PKCE)"))?;
    let issued: IssuedCode = b.take(&key("code", code)).await?.ok_or_else(|| {
        OAuthError::invalid_grant("authorization code is invalid, expired or already used")
    })?;
    if issued.expires_at <= now() {
        return Err(OAuthError::invalid_grant("authorization code expired").into());
    }
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
    if let Some(refresh) = issued.tokens.get("refresh_token").and_then(Value::as_str) {
        bind_refresh_token(b, refresh, &client.client_id, &issued.tokens).await?;
    }
    Ok(issued.tokens)
}

/// Forwards a refresh upstream with our client's credentials, once the refresh
/// token is known to belong to this client (the upstream cannot tell our
/// clients apart: they all share one upstream client).
async fn refresh(
    b: &Broker,
    client: &ClientInfo,
    params: &Params,
) -> Result<Map<String, Value>, BrokerError> {
    let refresh_token = params
        .get("refresh_token")
        .ok_or_else(|| OAuthError::invalid_request("refresh_token is required"))?;
    let binding = refresh_key(refresh_token);
    let owner: Option<String> = b.load(&binding).await?;
    if !owner.is_some_and(|o| same(&o, &client.client_id)) {
        return Err(OAuthError::invalid_grant(
            "refresh token is unknown, expired or was issued to another client",
        )
        .into());
    }
    let mut form = vec![
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token),
    ];
    if let Some(scope) = params.get("scope") {
        form.push(("scope", scope));
    }
    b.with_upstream_credentials(&mut form);
    let reply = token_request(&b.http, &b.token_endpoint, &form).await?;
    if !reply.has_tokens() {
        return Err(upstream_refusal(&reply));
    }
    let rotated = reply.refresh_token().unwrap_or(refresh_token);
    if rotated != refresh_token {
        b.take::<String>(&binding).await?;
    }
    bind_refresh_token(b, rotated, &client.client_id, &reply.body).await?;
    Ok(reply.body)
}

/// Remembers which client a refresh token was issued to, under its hash, for
/// the upstream's `refresh_expires_in` when given (else 30 days since last use).
async fn bind_refresh_token(
    b: &Broker,
    token: &str,
    client_id: &str,
    tokens: &Map<String, Value>,
) -> Result<(), BrokerError> {
    let ttl = tokens
        .get("refresh_expires_in")
        .and_then(Value::as_u64)
        .filter(|s| *s > 0)
        .map_or(REFRESH_BINDING_TTL, std::time::Duration::from_secs);
    b.save(&refresh_key(token), &client_id, ttl).await
}

/// The store key of a refresh token's binding: its SHA-256, never the token.
fn refresh_key(token: &str) -> String {
    let hash = digest::digest(&digest::SHA256, token.as_bytes());
    key("refresh", &URL_SAFE_NO_PAD.encode(hash.as_ref()))
}

/// The upstream's refusal of a refresh, as our answer. A refusal of our own
/// client's credentials is this server's misconfiguration, not the caller's:
/// it becomes `server_error`, so clients do not re-register for nothing.
fn upstream_refusal(reply: &Reply) -> BrokerError {
    let error = reply.error().unwrap_or("invalid_grant");
    if reply.status == 401 || matches!(error, "invalid_client" | "unauthorized_client") {
        tracing::error!(
            status = reply.status,
            error,
            "the upstream refused this server's client credentials; check the client id and secret"
        );
        return OAuthError::server_error("the identity provider refused this server's client")
            .into();
    }
    let description = reply
        .body
        .get("error_description")
        .and_then(Value::as_str)
        .unwrap_or("the identity provider refused the refresh token");
    let code = match error {
        "invalid_request" => "invalid_request",
        "invalid_scope" => "invalid_scope",
        "unsupported_grant_type" => "unsupported_grant_type",
        _ => "invalid_grant",
    };
    OAuthError::new(code, description.chars().take(200).collect::<String>()).into()
}
