//! `/register` (RFC 7591), answered here: every client is public (PKCE, no
//! secret), and its redirect URIs are kept for exact matching at `/authorize`.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use serde::Deserialize;
use serde_json::json;

use super::{Broker, BrokerError, CLIENT_TTL, key, now, unreadable};
use crate::oauth::routes::{is_acceptable_redirect_uri, random_token};
use crate::oauth::{ClientInfo, OAuthError, no_store};

/// At most this many redirect URIs per client.
const MAX_REDIRECT_URIS: usize = 16;
/// Longest redirect URI accepted.
const MAX_REDIRECT_URI_LEN: usize = 2048;
/// Longest client name kept (longer ones are cut).
const MAX_CLIENT_NAME_CHARS: usize = 100;

/// The client metadata this server reads (RFC 7591 §2); the rest is ignored.
#[derive(Debug, Deserialize)]
pub(super) struct RegistrationRequest {
    redirect_uris: Option<Vec<String>>,
    grant_types: Option<Vec<String>>,
    response_types: Option<Vec<String>>,
    token_endpoint_auth_method: Option<String>,
    client_name: Option<String>,
    scope: Option<String>,
}

/// Registers a client and answers 201 with its information.
pub(super) async fn register(
    State(b): State<Arc<Broker>>,
    body: Result<Json<RegistrationRequest>, JsonRejection>,
) -> Response {
    let request = match body {
        Ok(Json(r)) => r,
        Err(r) if r.status() == StatusCode::PAYLOAD_TOO_LARGE => return unreadable(r.status()),
        Err(_) => {
            return OAuthError::invalid_client_metadata(
                "the body must be a JSON client metadata document",
            )
            .into_response();
        }
    };
    match register_client(&b, request).await {
        Ok(client) => {
            let mut body = json!(client);
            body["response_types"] = json!(["code"]);
            no_store((StatusCode::CREATED, Json(body)).into_response())
        }
        Err(e) => e.into_response(),
    }
}

async fn register_client(
    b: &Broker,
    request: RegistrationRequest,
) -> Result<ClientInfo, BrokerError> {
    check_response_types(request.response_types.as_deref())?;
    check_auth_method(request.token_endpoint_auth_method.as_deref())?;
    let client = ClientInfo {
        client_id: random_token(16),
        client_secret: None,
        redirect_uris: redirect_uris(request.redirect_uris)?,
        grant_types: grant_types(b, request.grant_types)?,
        token_endpoint_auth_method: "none".into(),
        client_name: request.client_name.as_deref().and_then(clean_name),
        scope: request.scope.filter(|s| !s.trim().is_empty()),
        client_id_issued_at: now(),
    };
    b.save(&key("client", &client.client_id), &client, CLIENT_TTL)
        .await?;
    tracing::info!(client_id = %client.client_id, name = ?client.client_name, "client registered");
    Ok(client)
}

fn redirect_uris(uris: Option<Vec<String>>) -> Result<Vec<String>, OAuthError> {
    let uris = uris.unwrap_or_default();
    if uris.is_empty() {
        return Err(OAuthError::invalid_redirect_uri(
            "at least one redirect_uri is required",
        ));
    }
    if uris.len() > MAX_REDIRECT_URIS {
        return Err(OAuthError::invalid_redirect_uri(format!(
            "at most {MAX_REDIRECT_URIS} redirect_uris are accepted"
        )));
    }
    if let Some(bad) = uris
        .iter()
        .find(|u| u.len() > MAX_REDIRECT_URI_LEN || !is_acceptable_redirect_uri(u))
    {
        return Err(OAuthError::invalid_redirect_uri(format!(
            "{bad:?} is not an https or loopback http URI without a fragment"
        )));
    }
    Ok(uris)
}

/// The requested grants, which must be among ours; ours when none are named.
fn grant_types(b: &Broker, requested: Option<Vec<String>>) -> Result<Vec<String>, OAuthError> {
    let Some(requested) = requested.filter(|g| !g.is_empty()) else {
        return Ok(b.grant_types.clone());
    };
    match requested.iter().find(|g| !b.grant_types.contains(g)) {
        Some(bad) => Err(OAuthError::invalid_client_metadata(format!(
            "grant type {bad:?} is not supported; supported: {}",
            b.grant_types.join(", ")
        ))),
        None => Ok(requested),
    }
}

fn check_response_types(requested: Option<&[String]>) -> Result<(), OAuthError> {
    match requested.unwrap_or_default().iter().find(|r| *r != "code") {
        Some(bad) => Err(OAuthError::invalid_client_metadata(format!(
            "response type {bad:?} is not supported; only code is"
        ))),
        None => Ok(()),
    }
}

/// Clients are public here; a request for secret-based authentication is
/// answered with `none` (RFC 7591 §3.2.1 lets the server replace values).
fn check_auth_method(requested: Option<&str>) -> Result<(), OAuthError> {
    match requested {
        None | Some("none" | "client_secret_post" | "client_secret_basic") => Ok(()),
        Some(other) => Err(OAuthError::invalid_client_metadata(format!(
            "token_endpoint_auth_method {other:?} is not supported; clients are public (none)"
        ))),
    }
}

/// The name shown on the consent page: control characters removed, length capped.
fn clean_name(name: &str) -> Option<String> {
    let cleaned: String = name
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_CLIENT_NAME_CHARS)
        .collect();
    let trimmed = cleaned.trim();
    (!trimmed.is_empty()).then(|| trimmed.to_owned())
}
