//! `/register` (RFC 7591), answered here: every client is public (PKCE, no
//! secret); its redirect URIs are kept for exact matching at `/authorize`. A
//! registration lives an hour until the client obtains a token.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use serde_json::json;

use super::Broker;
use crate::oauth::params::unreadable;
use crate::oauth::random::random_token;
use crate::oauth::registration::{self, RegistrationRequest};
use crate::oauth::{ClientInfo, OAuthError, no_store};
use crate::proxy::clock::now;
use crate::proxy::{ProxyError, RecordKind, UNUSED_CLIENT_TTL};

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
) -> Result<ClientInfo, ProxyError> {
    check_response_types(request.response_types.as_deref())?;
    check_auth_method(request.token_endpoint_auth_method.as_deref())?;
    let client = ClientInfo {
        client_id: random_token(16),
        client_secret: None,
        redirect_uris: registration::redirect_uris(request.redirect_uris.as_deref())?,
        grant_types: grant_types(b, request.grant_types)?,
        token_endpoint_auth_method: "none".into(),
        client_name: registration::client_name(request.client_name.as_deref())?,
        scope: registration::scope(request.scope.as_deref())?,
        client_id_issued_at: now(),
    };
    b.core
        .records
        .save(
            RecordKind::Client,
            &client.client_id,
            &client,
            UNUSED_CLIENT_TTL,
        )
        .await?;
    tracing::info!(client_id = %client.client_id, name = ?client.client_name, "client registered");
    Ok(client)
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
