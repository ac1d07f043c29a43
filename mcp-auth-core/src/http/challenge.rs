//! Every refusal the auth layer sends, decided in one place: status, the RFC 6750
//! `WWW-Authenticate` challenge, and the JSON body.

use axum::Json;
use axum::response::{IntoResponse, Response};
use http::header::{CACHE_CONTROL, RETRY_AFTER, WWW_AUTHENTICATE};
use http::{HeaderValue, StatusCode};
use serde_json::json;

use crate::user::InsufficientScope;

/// Why a request was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// No credentials: 401 without an `error` (RFC 6750 §3.1).
    MissingToken,
    /// A token was sent and refused: 401 `invalid_token`.
    InvalidToken,
    /// The request itself is malformed: 400 `invalid_request`.
    InvalidRequest(&'static str),
    /// Valid token, missing scopes: 403 `insufficient_scope`.
    InsufficientScope(InsufficientScope),
    /// The verifier cannot get keys: 503 with `Retry-After`.
    Unavailable { retry_after_secs: u64 },
    /// The body is over the limit the layer reads: 413.
    PayloadTooLarge,
    /// The body is compressed, so the scope policy cannot read it: 415.
    UnsupportedEncoding,
    /// The body cannot be read, or is JSON-RPC the scope policy cannot follow: 400,
    /// without a challenge (the credentials are fine).
    BadBody(&'static str),
}

/// Challenge parameters fixed at start-up.
#[derive(Debug, Clone)]
pub(crate) struct Challenges {
    resource_metadata: Option<String>,
    /// Space-separated scopes for the `scope` parameter of 401s (no `offline_access`).
    scope: Option<String>,
    missing: HeaderValue,
    invalid_token: HeaderValue,
}

fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

fn header_value(s: String) -> HeaderValue {
    HeaderValue::from_str(&s).unwrap_or_else(|_| HeaderValue::from_static("Bearer"))
}

/// The `scope` parameter for `scopes`: space-separated, each once, never
/// `offline_access` (MCP: SHOULD NOT appear in challenges).
fn scope_param<S: AsRef<str>>(scopes: &[S]) -> String {
    let mut out: Vec<&str> = Vec::with_capacity(scopes.len());
    for s in scopes.iter().map(AsRef::as_ref) {
        if s != "offline_access" && !s.is_empty() && !out.contains(&s) {
            out.push(s);
        }
    }
    out.join(" ")
}

impl Challenges {
    /// `resource_metadata` for every challenge; `hint`: the scopes for basic use,
    /// advertised in the `scope` of 401 challenges.
    pub fn new(resource_metadata: Option<String>, hint: &[String]) -> Self {
        let scope = scope_param(hint);
        let scope = (!scope.is_empty()).then_some(scope);
        let mut c = Challenges {
            resource_metadata,
            scope,
            missing: HeaderValue::from_static("Bearer"),
            invalid_token: HeaderValue::from_static("Bearer"),
        };
        c.missing = header_value(c.build(&[]));
        c.invalid_token = header_value(c.build(&[
            ("error", "invalid_token"),
            ("error_description", "Token is invalid or expired"),
        ]));
        c
    }

    /// `Bearer k="v", …, resource_metadata="…", scope="…"`.
    fn build(&self, params: &[(&str, &str)]) -> String {
        let mut parts: Vec<String> = params
            .iter()
            .map(|(k, v)| format!("{k}={}", quote(v)))
            .collect();
        let has_scope = params.iter().any(|(k, _)| *k == "scope");
        if let Some(rm) = &self.resource_metadata {
            parts.push(format!("resource_metadata={}", quote(rm)));
        }
        if !has_scope && let Some(scope) = &self.scope {
            parts.push(format!("scope={}", quote(scope)));
        }
        if parts.is_empty() {
            "Bearer".to_owned()
        } else {
            format!("Bearer {}", parts.join(", "))
        }
    }

    pub fn respond(&self, refusal: Refusal) -> Response {
        match refusal {
            Refusal::MissingToken => with_challenge(
                StatusCode::UNAUTHORIZED,
                self.missing.clone(),
                json!({"error": "unauthorized", "error_description": "Authentication required"}),
            ),
            Refusal::InvalidToken => with_challenge(
                StatusCode::UNAUTHORIZED,
                self.invalid_token.clone(),
                json!({"error": "invalid_token", "error_description": "Token is invalid or expired"}),
            ),
            Refusal::InvalidRequest(reason) => with_challenge(
                StatusCode::BAD_REQUEST,
                header_value(
                    self.build(&[("error", "invalid_request"), ("error_description", reason)]),
                ),
                json!({"error": "invalid_request", "error_description": reason}),
            ),
            Refusal::InsufficientScope(e) => {
                let scope = scope_param(&e.required);
                let challenge = header_value(self.build(&[
                    ("error", "insufficient_scope"),
                    ("scope", &scope),
                    ("error_description", "The token lacks a required scope"),
                ]));
                insufficient_scope_response(challenge, &e)
            }
            Refusal::Unavailable { retry_after_secs } => {
                let mut resp = (
                    StatusCode::SERVICE_UNAVAILABLE,
                    Json(json!({
                        "error": "temporarily_unavailable",
                        "error_description": "The authorization server's signing keys cannot be obtained; retry later"
                    })),
                )
                    .into_response();
                resp.headers_mut()
                    .insert(RETRY_AFTER, HeaderValue::from(retry_after_secs.max(1)));
                resp.headers_mut()
                    .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
                resp
            }
            Refusal::PayloadTooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                Json(json!({
                    "error": "invalid_request",
                    "error_description": "The request body is too large"
                })),
            )
                .into_response(),
            Refusal::UnsupportedEncoding => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                Json(json!({
                    "error": "invalid_request",
                    "error_description": "Compressed request bodies are not accepted"
                })),
            )
                .into_response(),
            Refusal::BadBody(reason) => (
                StatusCode::BAD_REQUEST,
                Json(json!({"error": "invalid_request", "error_description": reason})),
            )
                .into_response(),
        }
    }
}

fn with_challenge(status: StatusCode, challenge: HeaderValue, body: serde_json::Value) -> Response {
    let mut resp = (status, Json(body)).into_response();
    resp.headers_mut().insert(WWW_AUTHENTICATE, challenge);
    resp.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

fn insufficient_scope_response(challenge: HeaderValue, e: &InsufficientScope) -> Response {
    with_challenge(
        StatusCode::FORBIDDEN,
        challenge,
        json!({
            "error": "insufficient_scope",
            "error_description": e.to_string(),
            "required_scopes": e.required,
            "missing_scopes": e.missing,
            "granted_scopes": e.granted,
        }),
    )
}

/// A failed scope check in a handler: 403 `insufficient_scope`, naming the
/// required and the granted scopes. The error rides along in the response
/// extensions, so the auth layer around the handler re-issues the challenge with
/// its `resource_metadata` and its own `required_scopes` added to `scope`.
impl IntoResponse for InsufficientScope {
    fn into_response(self) -> Response {
        let challenge = header_value(format!(
            "Bearer error=\"insufficient_scope\", scope={}",
            quote(&scope_param(&self.required))
        ));
        let mut resp = insufficient_scope_response(challenge, &self);
        resp.extensions_mut().insert(self);
        resp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(resp: &Response) -> &str {
        resp.headers()
            .get(WWW_AUTHENTICATE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    #[test]
    fn offline_access_never_appears_in_a_challenge() {
        let c = Challenges::new(
            Some("https://mcp.example.com/.well-known/oauth-protected-resource/mcp".into()),
            &["offline_access".into(), "mcp:read".into()],
        );
        let resp = c.respond(Refusal::MissingToken);
        assert!(
            header(&resp).ends_with(", scope=\"mcp:read\""),
            "{}",
            header(&resp)
        );
        let resp = c.respond(Refusal::InsufficientScope(InsufficientScope {
            required: vec!["admin".into(), "offline_access".into(), "admin".into()],
            missing: vec!["admin".into()],
            granted: vec![],
        }));
        assert!(
            header(&resp).contains("scope=\"admin\","),
            "{}",
            header(&resp)
        );
        // Only offline_access: no scope parameter at all.
        let c = Challenges::new(None, &["offline_access".into()]);
        assert_eq!(header(&c.respond(Refusal::MissingToken)), "Bearer");
    }

    #[test]
    fn body_refusals_carry_no_challenge() {
        let c = Challenges::new(
            Some("https://x/.well-known/oauth-protected-resource".into()),
            &[],
        );
        for (refusal, status) in [
            (Refusal::PayloadTooLarge, StatusCode::PAYLOAD_TOO_LARGE),
            (
                Refusal::UnsupportedEncoding,
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ),
            (Refusal::BadBody("unreadable"), StatusCode::BAD_REQUEST),
        ] {
            let resp = c.respond(refusal);
            assert_eq!(resp.status(), status);
            assert!(resp.headers().get(WWW_AUTHENTICATE).is_none());
        }
    }
}
