//! Refresh handles: the broker's own refresh tokens, which rotate on every use
//! (OAuth 2.1 §4.3.1: refresh tokens of public clients MUST rotate or be
//! sender-constrained) whether or not the upstream rotates its own.
//!
//! A handle is `{chain}.{secret}`. The store keeps one record per chain, under
//! the chain's hash: the client, the hash of the chain's current secret, and
//! the upstream refresh token sealed under the state key. Using the current
//! handle takes the record (atomically: of two concurrent uses one wins),
//! refreshes upstream, and writes the record back with a new secret and a
//! renewed lifetime. A handle of the chain that is not the current one is a
//! replay: the record is not written back, so the chain is revoked and
//! whichever of thief and client holds the newest handle, it stops working. An
//! upstream that cannot be reached leaves the chain as it was, so a retry works.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::Broker;
use crate::oauth::params::Params;
use crate::oauth::random::random_token;
use crate::oauth::{ClientInfo, OAuthError};
use crate::proxy::state_key::{hashed_id, same};
use crate::proxy::upstream::Reply;
use crate::proxy::{ProxyError, RecordKind};

/// How long a chain lives unused, unless the upstream says how long its refresh
/// token lives (`refresh_expires_in`, at most [`MAX_REFRESH_TTL`]).
const REFRESH_TTL: Duration = Duration::from_secs(30 * 86_400);
/// The longest lifetime of a chain, whatever the upstream says.
const MAX_REFRESH_TTL: Duration = Duration::from_secs(365 * 86_400);
/// Context of sealed upstream refresh tokens.
const SEALED_REFRESH: &str = "broker upstream refresh token";

/// A refresh chain: one record, whatever the number of rotations.
#[derive(Debug, Serialize, Deserialize)]
struct Chain {
    client_id: String,
    /// Hash of the current handle's secret.
    current: String,
    /// The upstream refresh token, sealed.
    upstream: String,
}

fn ttl(tokens: &Map<String, Value>) -> Duration {
    tokens
        .get("refresh_expires_in")
        .and_then(Value::as_u64)
        .filter(|s| *s > 0)
        .map_or(REFRESH_TTL, |s| Duration::from_secs(s).min(MAX_REFRESH_TTL))
}

/// Writes `chain` with a fresh secret for `upstream_refresh`; returns the handle.
async fn rotate(
    b: &Broker,
    chain: &str,
    client_id: &str,
    upstream_refresh: &str,
    tokens: &Map<String, Value>,
) -> Result<String, ProxyError> {
    let upstream = b
        .core
        .key
        .seal(SEALED_REFRESH, upstream_refresh.as_bytes())
        .ok_or(ProxyError::Internal(
            "cannot seal the upstream refresh token",
        ))?;
    let secret = random_token(32);
    let record = Chain {
        client_id: client_id.to_owned(),
        current: hashed_id(&secret),
        upstream,
    };
    b.core
        .records
        .save(RecordKind::Refresh, &hashed_id(chain), &record, ttl(tokens))
        .await?;
    Ok(format!("{chain}.{secret}"))
}

/// A new chain for `upstream_refresh`; returns its first handle.
pub(super) async fn issue(
    b: &Broker,
    client_id: &str,
    upstream_refresh: &str,
    tokens: &Map<String, Value>,
) -> Result<String, ProxyError> {
    rotate(b, &random_token(16), client_id, upstream_refresh, tokens).await
}

/// Uses a handle: refreshes upstream with our client's credentials and answers
/// with the upstream's tokens and the chain's next handle.
pub(super) async fn refresh(
    b: &Broker,
    client: &ClientInfo,
    params: &Params,
) -> Result<Map<String, Value>, ProxyError> {
    let refused = || OAuthError::invalid_grant("refresh token is invalid, expired or revoked");
    let presented = params
        .get("refresh_token")
        .ok_or_else(|| OAuthError::invalid_request("refresh_token is required"))?;
    let (chain, secret) = presented.split_once('.').ok_or_else(refused)?;
    let records = &b.core.records;
    let Some(record) = records
        .take::<Chain>(RecordKind::Refresh, &hashed_id(chain))
        .await?
    else {
        return Err(refused().into());
    };
    if !same(&record.current, &hashed_id(secret)) {
        tracing::warn!(client_id = %client.client_id, "a spent refresh token was presented again: its chain is revoked");
        return Err(refused().into());
    }
    if !same(&record.client_id, &client.client_id) {
        tracing::warn!(client_id = %client.client_id, "a refresh token of another client was presented: its chain is revoked");
        return Err(refused().into());
    }
    let Some(upstream_refresh) = b
        .core
        .key
        .open(SEALED_REFRESH, &record.upstream)
        .and_then(|t| String::from_utf8(t).ok())
    else {
        // Sealed under another key (a restart without a configured state key).
        tracing::warn!(
            "a refresh token sealed under another state key: the user must log in again"
        );
        return Err(refused().into());
    };
    let mut form = vec![
        ("grant_type", "refresh_token"),
        ("refresh_token", upstream_refresh.as_str()),
        ("resource", b.core.resource.as_str()),
    ];
    if let Some(scope) = params.stored("scope")? {
        form.push(("scope", scope));
    }
    b.with_upstream_credentials(&mut form);
    let reply = match b
        .core
        .upstream
        .post_form(&b.token_endpoint, &form, None)
        .await
    {
        Ok(reply) => reply,
        Err(source) => {
            // Nothing happened upstream that we know of: the chain stays as it
            // was, so the client's retry is not taken for a replay.
            records
                .save(RecordKind::Refresh, &hashed_id(chain), &record, REFRESH_TTL)
                .await?;
            return Err(ProxyError::Upstream {
                what: "token endpoint",
                source,
            });
        }
    };
    if !reply.has_tokens() {
        return Err(upstream_refusal(&reply));
    }
    let next_upstream = reply
        .str("refresh_token")
        .unwrap_or(&upstream_refresh)
        .to_owned();
    let mut tokens = reply.body;
    let next = rotate(b, chain, &client.client_id, &next_upstream, &tokens).await?;
    tokens.insert("refresh_token".into(), Value::from(next));
    Ok(tokens)
}

/// The upstream's refusal of a refresh, as our answer. A refusal of our own
/// client's credentials is this server's misconfiguration, not the caller's:
/// it becomes `server_error`, so clients do not re-register for nothing.
fn upstream_refusal(reply: &Reply) -> ProxyError {
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
        .str("error_description")
        .unwrap_or("the identity provider refused the refresh token");
    let code = match error {
        "invalid_request" => "invalid_request",
        "invalid_scope" => "invalid_scope",
        _ => "invalid_grant",
    };
    OAuthError::new(code, description.chars().take(200).collect::<String>()).into()
}
