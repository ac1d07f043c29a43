//! Forwarding to the upstream, for the clients the relay registered there:
//! token requests (only the parameters of their grant, each once, the client's
//! own credentials as it sent them) and registrations. Nothing of this
//! server's own is added.

use axum::Json;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, StatusCode};
use serde_json::{Value, json};

use super::upstream::Reply;
use super::{Core, ProxyError, strip_upstream_only};
use crate::oauth::params::Params;
use crate::oauth::{OAuthError, no_store};

/// The parameters forwarded for each grant; anything else is dropped.
fn forwarded_params(grant: &str) -> &'static [&'static str] {
    match grant {
        "authorization_code" => &[
            "grant_type",
            "code",
            "code_verifier",
            "client_id",
            "client_secret",
            "resource",
        ],
        "refresh_token" => &[
            "grant_type",
            "refresh_token",
            "scope",
            "client_id",
            "client_secret",
            "resource",
        ],
        "client_credentials" => &[
            "grant_type",
            "scope",
            "client_id",
            "client_secret",
            "resource",
        ],
        _ => &[],
    }
}

/// Forwards a token request of grant `grant` with `redirect_uri` (our callback,
/// for a code) and answers with the upstream's reply: its `id_token` removed,
/// a refusal of the client's credentials as 401 `invalid_client`. With
/// `as_upstream` (an upstream client id and secret the relay registered for a
/// client identified by URL), those credentials replace the client's.
pub(super) async fn forward_token(
    core: &Core,
    endpoint: &str,
    headers: &HeaderMap,
    params: &Params,
    grant: &str,
    redirect_uri: Option<&str>,
    as_upstream: Option<(&str, Option<&str>)>,
) -> Result<(Response, bool), ProxyError> {
    let allowed = forwarded_params(grant);
    let mut form: Vec<(&str, &str)> = params
        .iter()
        .filter(|(k, _)| allowed.contains(k))
        .filter(|(k, _)| as_upstream.is_none() || !matches!(*k, "client_id" | "client_secret"))
        .map(|(k, v)| match k {
            "resource" => (k, core.upstream_resource(v)),
            _ => (k, v),
        })
        .collect();
    if let Some(uri) = redirect_uri {
        form.push(("redirect_uri", uri));
    }
    let mut basic = headers.get(http::header::AUTHORIZATION);
    if let Some((client_id, secret)) = as_upstream {
        basic = None;
        form.push(("client_id", client_id));
        if let Some(secret) = secret {
            form.push(("client_secret", secret));
        }
    }
    let reply = core
        .upstream
        .post_form(endpoint, &form, basic)
        .await
        .map_err(ProxyError::upstream("token endpoint"))?;
    let success = reply.has_tokens();
    Ok((token_answer(reply), success))
}

/// The upstream's token answer as ours.
fn token_answer(reply: Reply) -> Response {
    let Reply { status, mut body } = reply;
    let mut status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
    strip_upstream_only(&mut body);
    let error = body.get("error").and_then(Value::as_str);
    if (status.is_client_error() && error == Some("unauthorized_client"))
        || status == StatusCode::UNAUTHORIZED
    {
        // RFC 6749 §5.2: clients re-register on invalid_client, not on unauthorized_client.
        body.insert("error".into(), json!("invalid_client"));
        status = StatusCode::UNAUTHORIZED;
    }
    let mut response = (status, Json(Value::Object(body))).into_response();
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            http::header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"oauth\""),
        );
    }
    no_store(response)
}

/// Forwards a registration; a success without a usable `client_id` is a 502.
pub(super) async fn forward_registration(
    core: &Core,
    endpoint: &str,
    body: &Value,
) -> Result<Reply, ProxyError> {
    let reply = core
        .upstream
        .post_json(endpoint, body)
        .await
        .map_err(ProxyError::upstream("registration endpoint"))?;
    if (200..300).contains(&reply.status) && reply.str("client_id").is_none() {
        return Err(ProxyError::Upstream {
            what: "registration endpoint",
            source: super::upstream::UpstreamError::Incomplete("client_id"),
        });
    }
    Ok(reply)
}

/// Refuses a grant type this server does not forward.
pub(super) fn check_grant(grant: Option<&str>, supported: &[String]) -> Result<String, OAuthError> {
    match grant {
        Some(g) if supported.iter().any(|s| s == g) && !forwarded_params(g).is_empty() => {
            Ok(g.to_owned())
        }
        _ => Err(OAuthError::unsupported_grant_type(format!(
            "grant_type must be one of: {}",
            supported.join(", ")
        ))),
    }
}
