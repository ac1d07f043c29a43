//! Calls to the upstream token endpoint: bounded in time (the client's timeouts)
//! and in size, and always a JSON object back, or an [`UpstreamError`].

use serde_json::{Map, Value};

/// Largest upstream token response read.
const MAX_BODY_BYTES: usize = 64 * 1024;

/// Why the upstream token endpoint could not be used.
#[derive(Debug, thiserror::Error)]
pub(crate) enum UpstreamError {
    /// Connecting, sending or reading failed or timed out.
    #[error("request failed: {0}")]
    Request(#[from] reqwest::Error),
    /// The answer is not a JSON object.
    #[error("HTTP {0} with a body that is not a JSON object")]
    NotJson(u16),
    /// The answer is larger than the cap.
    #[error("the response is larger than {MAX_BODY_BYTES} bytes")]
    TooLarge,
    /// A server error (5xx).
    #[error("HTTP {0}")]
    ServerError(u16),
}

/// A JSON answer of the upstream token endpoint.
#[derive(Debug)]
pub(super) struct Reply {
    /// HTTP status.
    pub status: u16,
    /// The JSON object.
    pub body: Map<String, Value>,
}

impl Reply {
    /// A 2xx answer carrying an access token.
    pub(super) fn has_tokens(&self) -> bool {
        (200..300).contains(&self.status)
            && self
                .body
                .get("access_token")
                .and_then(Value::as_str)
                .is_some_and(|t| !t.is_empty())
    }

    /// The OAuth `error` code, if any.
    pub(super) fn error(&self) -> Option<&str> {
        self.body.get("error").and_then(Value::as_str)
    }

    /// The refresh token, if any.
    pub(super) fn refresh_token(&self) -> Option<&str> {
        self.body
            .get("refresh_token")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
    }
}

/// POSTs `form` to the upstream token endpoint. A 5xx, a body that is not a
/// JSON object or a network failure is an error; a 4xx JSON answer is a reply.
pub(super) async fn token_request(
    http: &reqwest::Client,
    endpoint: &str,
    form: &[(&str, &str)],
) -> Result<Reply, UpstreamError> {
    let mut resp = http
        .post(endpoint)
        .header(http::header::ACCEPT, "application/json")
        .form(form)
        .send()
        .await?;
    let status = resp.status().as_u16();
    if resp.status().is_server_error() {
        return Err(UpstreamError::ServerError(status));
    }
    if resp
        .content_length()
        .is_some_and(|len| len > MAX_BODY_BYTES as u64)
    {
        return Err(UpstreamError::TooLarge);
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await? {
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(UpstreamError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    match serde_json::from_slice(&body) {
        Ok(Value::Object(body)) => Ok(Reply { status, body }),
        _ => Err(UpstreamError::NotJson(status)),
    }
}
