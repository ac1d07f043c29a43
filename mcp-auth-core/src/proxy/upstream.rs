//! Every call proxy mode makes to the upstream provider: one HTTP client with
//! a connect timeout, a total timeout and no redirects; every answer read with
//! a size cap and required to be a JSON object. What the upstream says of
//! itself (RFC 9207 support) comes from its metadata document.

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode};
use serde_json::{Map, Value, json};

use crate::error::ConfigError;
use crate::oauth::no_store;
use crate::oidc::IssuerMetadata;

/// Largest upstream answer read.
pub(crate) const MAX_UPSTREAM_BODY_BYTES: usize = 64 * 1024;
/// Connecting to the upstream gives up after this long.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// A whole upstream call gives up after this long: a client never hangs on a dead provider.
const TOTAL_TIMEOUT: Duration = Duration::from_secs(15);

/// Why an upstream endpoint could not be used.
#[derive(Debug, thiserror::Error)]
pub(crate) enum UpstreamError {
    /// Connecting, sending or reading failed or timed out.
    #[error("request failed: {0}")]
    Request(#[from] reqwest::Error),
    /// The answer is not a JSON object.
    #[error("HTTP {0} with a body that is not a JSON object")]
    NotJson(u16),
    /// The answer is larger than the cap.
    #[error("the response is larger than {MAX_UPSTREAM_BODY_BYTES} bytes")]
    TooLarge,
    /// A server error (5xx).
    #[error("HTTP {0}")]
    ServerError(u16),
    /// A success that lacks what it must carry.
    #[error("a success without {0}")]
    Incomplete(&'static str),
}

/// A JSON object the upstream answered, with its status.
#[derive(Debug)]
pub(crate) struct Reply {
    /// HTTP status.
    pub status: u16,
    /// The JSON object.
    pub body: Map<String, Value>,
}

impl Reply {
    /// A 2xx answer carrying an access token.
    pub(crate) fn has_tokens(&self) -> bool {
        (200..300).contains(&self.status)
            && self
                .body
                .get("access_token")
                .and_then(Value::as_str)
                .is_some_and(|t| !t.is_empty())
    }

    /// The OAuth `error` code, if any.
    pub(crate) fn error(&self) -> Option<&str> {
        self.body.get("error").and_then(Value::as_str)
    }

    /// A string member, unless absent or empty.
    pub(crate) fn str(&self, name: &str) -> Option<&str> {
        self.body
            .get(name)
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
    }
}

/// The upstream provider as proxy mode uses it.
pub(crate) struct Upstream {
    http: reqwest::Client,
    /// The upstream's issuer, which its RFC 9207 `iss` must name.
    pub issuer: String,
    metadata: Arc<IssuerMetadata>,
}

impl Upstream {
    pub(crate) fn new(issuer: &str, metadata: Arc<IssuerMetadata>) -> Result<Self, ConfigError> {
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(TOTAL_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| ConfigError::invalid("HTTP client", e.to_string()))?;
        Ok(Upstream {
            http,
            issuer: issuer.trim_end_matches('/').to_owned(),
            metadata,
        })
    }

    /// POSTs a form; `basic` is an `Authorization` header to pass on. A 5xx, a
    /// body that is not a JSON object or too large, or a network failure is an
    /// error; a 4xx JSON object is a reply.
    pub(crate) async fn post_form(
        &self,
        endpoint: &str,
        form: &[(&str, &str)],
        basic: Option<&HeaderValue>,
    ) -> Result<Reply, UpstreamError> {
        let mut request = self
            .http
            .post(endpoint)
            .header(http::header::ACCEPT, "application/json")
            .form(form);
        if let Some(basic) = basic {
            request = request.header(http::header::AUTHORIZATION, basic.clone());
        }
        read_reply(request.send().await?).await
    }

    /// POSTs a JSON document, with the same rules as [`post_form`](Self::post_form).
    pub(crate) async fn post_json(
        &self,
        endpoint: &str,
        body: &Value,
    ) -> Result<Reply, UpstreamError> {
        let request = self
            .http
            .post(endpoint)
            .header(http::header::ACCEPT, "application/json")
            .json(body);
        read_reply(request.send().await?).await
    }

    /// Whether the upstream's metadata says it sends RFC 9207 `iss`. An
    /// upstream whose metadata cannot be read is taken not to.
    pub(crate) async fn sends_iss(&self) -> bool {
        match self.metadata.get().await {
            Ok(doc) => doc
                .get("authorization_response_iss_parameter_supported")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            Err(error) => {
                tracing::debug!(%error, "upstream metadata unavailable; RFC 9207 support unknown");
                false
            }
        }
    }
}

async fn read_reply(mut resp: reqwest::Response) -> Result<Reply, UpstreamError> {
    let status = resp.status().as_u16();
    if resp.status().is_server_error() {
        return Err(UpstreamError::ServerError(status));
    }
    if resp
        .content_length()
        .is_some_and(|len| len > MAX_UPSTREAM_BODY_BYTES as u64)
    {
        return Err(UpstreamError::TooLarge);
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await? {
        if body.len() + chunk.len() > MAX_UPSTREAM_BODY_BYTES {
            return Err(UpstreamError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    match serde_json::from_slice(&body) {
        Ok(Value::Object(body)) => Ok(Reply { status, body }),
        _ => Err(UpstreamError::NotJson(status)),
    }
}

/// The 502 `temporarily_unavailable` JSON answer for an unusable upstream
/// `what`; the cause is logged, never sent.
pub(crate) fn unavailable(what: &str, error: &dyn std::fmt::Display) -> Response {
    tracing::warn!(%error, "upstream {what} unusable");
    let body = json!({
        "error": "temporarily_unavailable",
        "error_description": format!("the identity provider's {what} cannot be used now; retry later"),
    });
    no_store((StatusCode::BAD_GATEWAY, Json(body)).into_response())
}
