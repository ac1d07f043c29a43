//! Refresh handles: the broker's own refresh tokens, which rotate on every use
//! (OAuth 2.1 §4.3.1: refresh tokens of public clients MUST rotate or be
//! sender-constrained) whether or not the upstream rotates its own.
//!
//! A client receives a random single-use handle; the store keeps, under the
//! handle's hash, the client it belongs to, its chain and the upstream refresh
//! token sealed under the state key. Using a handle spends it (a marker
//! remembers its chain) and yields the next one of the chain. A spent handle
//! presented again is a replay: it is refused and its whole chain is revoked,
//! so whichever of thief and client holds the newest handle, it stops working.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::Broker;
use crate::oauth::params::Params;
use crate::oauth::routes::random_token;
use crate::oauth::{ClientInfo, OAuthError};
use crate::proxy::state_key::{hashed_id, same};
use crate::proxy::upstream::Reply;
use crate::proxy::{ProxyError, RecordKind};

/// How long a refresh handle lives unused, unless the upstream says how long its
/// refresh token lives (`refresh_expires_in`).
const REFRESH_TTL: Duration = Duration::from_secs(30 * 86_400);
/// Context of sealed upstream refresh tokens.
const SEALED_REFRESH: &str = "broker upstream refresh token";

/// A live refresh handle.
#[derive(Debug, Serialize, Deserialize)]
struct Handle {
    client_id: String,
    chain: String,
    /// The upstream refresh token, sealed.
    upstream: String,
}

fn handle_id(handle: &str) -> String {
    format!("h:{}", hashed_id(handle))
}

fn spent_id(handle: &str) -> String {
    format!("s:{}", hashed_id(handle))
}

fn chain_id(chain: &str) -> String {
    format!("c:{chain}")
}

fn ttl(tokens: &Map<String, Value>) -> Duration {
    tokens
        .get("refresh_expires_in")
        .and_then(Value::as_u64)
        .filter(|s| *s > 0)
        .map_or(REFRESH_TTL, Duration::from_secs)
}

/// A new handle for `upstream_refresh`, in `chain` (a new chain when `None`).
pub(super) async fn issue(
    b: &Broker,
    client_id: &str,
    chain: Option<String>,
    upstream_refresh: &str,
    tokens: &Map<String, Value>,
) -> Result<String, ProxyError> {
    let ttl = ttl(tokens);
    let records = &b.core.records;
    let chain = match chain {
        Some(chain) => chain,
        None => {
            let chain = random_token(16);
            records
                .save(RecordKind::Refresh, &chain_id(&chain), &true, ttl)
                .await?;
            chain
        }
    };
    let upstream = b
        .core
        .key
        .seal(SEALED_REFRESH, upstream_refresh.as_bytes())
        .ok_or(ProxyError::Internal(
            "cannot seal the upstream refresh token",
        ))?;
    let handle = random_token(32);
    let record = Handle {
        client_id: client_id.to_owned(),
        chain,
        upstream,
    };
    records
        .save(RecordKind::Refresh, &handle_id(&handle), &record, ttl)
        .await?;
    Ok(handle)
}

/// Spends a handle, refreshes upstream with our client's credentials, and
/// answers with the upstream's tokens and the next handle of the chain.
pub(super) async fn refresh(
    b: &Broker,
    client: &ClientInfo,
    params: &Params,
) -> Result<Map<String, Value>, ProxyError> {
    let presented = params
        .get("refresh_token")
        .ok_or_else(|| OAuthError::invalid_request("refresh_token is required"))?;
    let refused = || OAuthError::invalid_grant("refresh token is invalid, expired or revoked");
    let records = &b.core.records;
    let Some(handle) = records
        .take::<Handle>(RecordKind::Refresh, &handle_id(presented))
        .await?
    else {
        if let Some(chain) = records
            .load::<String>(RecordKind::Refresh, &spent_id(presented))
            .await?
        {
            tracing::warn!(client_id = %client.client_id, "a spent refresh token was presented again: its chain is revoked");
            records
                .take::<bool>(RecordKind::Refresh, &chain_id(&chain))
                .await?;
        }
        return Err(refused().into());
    };
    let chain_alive = records
        .load::<bool>(RecordKind::Refresh, &chain_id(&handle.chain))
        .await?
        .is_some();
    if !same(&handle.client_id, &client.client_id) {
        tracing::warn!(client_id = %client.client_id, "a refresh token of another client was presented: its chain is revoked");
        records
            .take::<bool>(RecordKind::Refresh, &chain_id(&handle.chain))
            .await?;
        return Err(refused().into());
    }
    if !chain_alive {
        return Err(refused().into());
    }
    records
        .save(
            RecordKind::Refresh,
            &spent_id(presented),
            &handle.chain,
            REFRESH_TTL,
        )
        .await?;
    let upstream_refresh = b
        .core
        .key
        .open(SEALED_REFRESH, &handle.upstream)
        .and_then(|t| String::from_utf8(t).ok())
        .ok_or(ProxyError::Internal(
            "a sealed refresh token cannot be opened",
        ))?;
    let mut form = vec![
        ("grant_type", "refresh_token"),
        ("refresh_token", upstream_refresh.as_str()),
        ("resource", b.core.resource.as_str()),
    ];
    if let Some(scope) = params.stored("scope")? {
        form.push(("scope", scope));
    }
    b.with_upstream_credentials(&mut form);
    let reply = b
        .core
        .upstream
        .post_form(&b.token_endpoint, &form, None)
        .await
        .map_err(ProxyError::upstream("token endpoint"))?;
    if !reply.has_tokens() {
        return Err(upstream_refusal(&reply));
    }
    let next_upstream = reply
        .str("refresh_token")
        .unwrap_or(&upstream_refresh)
        .to_owned();
    let mut tokens = reply.body;
    let next = issue(
        b,
        &client.client_id,
        Some(handle.chain),
        &next_upstream,
        &tokens,
    )
    .await?;
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
