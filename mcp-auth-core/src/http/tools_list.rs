//! Rewriting the answer to `tools/list` so it omits the tools the caller could
//! not call ([`ScopePolicy::filter_tools_list`]). The rmcp streamable-HTTP service
//! answers with `application/json` (one JSON-RPC message, or an array) or with
//! `text/event-stream` (one JSON-RPC message per event, streamed); both are
//! rewritten. Any other answer goes out unchanged.

use std::sync::Arc;

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures::StreamExt;
use http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use http::{HeaderMap, StatusCode};
use http_body_util::{BodyExt, Limited};
use serde_json::Value;

use super::scope_policy::ScopePolicy;
use crate::user::AuthContext;

/// Largest answer (or single SSE event) the filter buffers. Beyond it the answer
/// is refused rather than sent unfiltered.
pub(crate) const MAX_RESPONSE_BYTES: usize = 16 * 1024 * 1024;

/// Who is asking, and which requests are `tools/list`.
pub(crate) struct ToolsFilter {
    pub policy: Arc<ScopePolicy>,
    pub ctx: AuthContext,
    pub ids: Vec<Value>,
}

impl ToolsFilter {
    /// Drops the tools the caller may not call from `message`, if it answers one
    /// of the `tools/list` requests. Whether it changed anything.
    fn filter_message(&self, message: &mut Value) -> bool {
        let Some(obj) = message.as_object_mut() else {
            return false;
        };
        if !obj.get("id").is_some_and(|id| self.ids.contains(id)) {
            return false;
        }
        let Some(tools) = obj
            .get_mut("result")
            .and_then(|r| r.get_mut("tools"))
            .and_then(Value::as_array_mut)
        else {
            return false;
        };
        let before = tools.len();
        tools.retain(|tool| {
            tool.get("name")
                .and_then(Value::as_str)
                .is_some_and(|name| self.policy.may_call(&self.ctx, name))
        });
        tools.len() != before
    }

    /// Filters the JSON text `data` (one message or an array); `None` when it is
    /// not JSON or nothing changed.
    fn filter_json(&self, data: &[u8]) -> Option<Vec<u8>> {
        let mut value: Value = serde_json::from_slice(data).ok()?;
        let changed = match &mut value {
            Value::Array(messages) => messages
                .iter_mut()
                .fold(false, |acc, m| self.filter_message(m) | acc),
            message => self.filter_message(message),
        };
        if !changed {
            return None;
        }
        serde_json::to_vec(&value).ok()
    }

    /// Applies the filter to the MCP service's answer.
    pub(crate) async fn apply(self, resp: Response) -> Response {
        match media_type(resp.headers()).as_deref() {
            Some("application/json") => self.apply_json(resp).await,
            Some("text/event-stream") => self.apply_sse(resp),
            _ => resp,
        }
    }

    async fn apply_json(self, resp: Response) -> Response {
        let (mut parts, body) = resp.into_parts();
        let bytes = match Limited::new(body, MAX_RESPONSE_BYTES).collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(error) => {
                tracing::error!(%error, "cannot read the tools/list answer to filter it");
                return StatusCode::INTERNAL_SERVER_ERROR.into_response();
            }
        };
        match self.filter_json(&bytes) {
            Some(filtered) => {
                parts.headers.remove(CONTENT_LENGTH);
                Response::from_parts(parts, Body::from(filtered))
            }
            None => Response::from_parts(parts, Body::from(bytes)),
        }
    }

    fn apply_sse(self, resp: Response) -> Response {
        let (mut parts, body) = resp.into_parts();
        parts.headers.remove(CONTENT_LENGTH);
        let state = SseState {
            filter: self,
            buf: Vec::new(),
            upstream: body.into_data_stream(),
            done: false,
        };
        let stream = futures::stream::unfold(state, |mut s| async move {
            if s.done {
                return None;
            }
            let out: Result<Bytes, axum::BoxError> = match s.upstream.next().await {
                Some(Ok(chunk)) => {
                    s.buf.extend_from_slice(&chunk);
                    let out = s.complete_events();
                    if s.buf.len() > MAX_RESPONSE_BYTES {
                        tracing::error!(
                            "SSE event over the size limit: tools/list not filtered, stream ended"
                        );
                        s.done = true;
                        return Some((Err(Box::new(SseTooLarge) as axum::BoxError), s));
                    }
                    Ok(out)
                }
                Some(Err(error)) => {
                    s.done = true;
                    Err(error.into())
                }
                None => {
                    s.done = true;
                    let rest = std::mem::take(&mut s.buf);
                    Ok(if rest.is_empty() {
                        Bytes::new()
                    } else {
                        Bytes::from(s.filter.rewrite_event(&rest))
                    })
                }
            };
            Some((out, s))
        });
        Response::from_parts(parts, Body::from_stream(stream))
    }

    /// One SSE event (without its terminating blank line), rewritten if it carries
    /// an answer to `tools/list`: its `data` lines become one line, the other
    /// fields stay. Anything else comes back byte for byte.
    fn rewrite_event(&self, event: &[u8]) -> Vec<u8> {
        let Ok(text) = std::str::from_utf8(event) else {
            return event.to_vec();
        };
        let mut data = String::new();
        let mut others: Vec<&str> = Vec::new();
        let mut data_lines = 0;
        for line in text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l)) {
            if let Some(value) = line.strip_prefix("data") {
                if !(value.is_empty() || value.starts_with(':')) {
                    others.push(line);
                    continue;
                }
                let value = value.strip_prefix(':').unwrap_or(value);
                let value = value.strip_prefix(' ').unwrap_or(value);
                if data_lines > 0 {
                    data.push('\n');
                }
                data.push_str(value);
                data_lines += 1;
            } else {
                others.push(line);
            }
        }
        let Some(filtered) = (data_lines > 0)
            .then(|| self.filter_json(data.as_bytes()))
            .flatten()
        else {
            return event.to_vec();
        };
        let mut out = Vec::with_capacity(filtered.len() + 64);
        for line in others.iter().filter(|l| !l.is_empty()) {
            out.extend_from_slice(line.as_bytes());
            out.push(b'\n');
        }
        out.extend_from_slice(b"data: ");
        out.extend_from_slice(&filtered);
        out.push(b'\n');
        out
    }
}

/// The SSE answer was too large to filter.
#[derive(Debug, thiserror::Error)]
#[error("an SSE event of the tools/list answer is over {MAX_RESPONSE_BYTES} bytes")]
struct SseTooLarge;

struct SseState {
    filter: ToolsFilter,
    buf: Vec<u8>,
    upstream: axum::body::BodyDataStream,
    done: bool,
}

impl SseState {
    /// Takes every complete event out of the buffer, rewritten, with its
    /// terminating blank line.
    fn complete_events(&mut self) -> Bytes {
        let mut out = Vec::new();
        while let Some((end, sep)) = event_end(&self.buf) {
            let event: Vec<u8> = self.buf.drain(..end + sep).collect();
            out.extend_from_slice(&self.filter.rewrite_event(&event[..end]));
            out.extend_from_slice(&event[end..]);
        }
        Bytes::from(out)
    }
}

/// Where the first event ends: the index of its blank-line separator and the
/// separator's length (`\n\n`, or `\r\n\r\n`).
fn event_end(buf: &[u8]) -> Option<(usize, usize)> {
    let lf = buf.windows(2).position(|w| w == b"\n\n").map(|i| (i, 2));
    let crlf = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| (i, 4));
    match (lf, crlf) {
        (Some(a), Some(b)) => Some(if a.0 <= b.0 { a } else { b }),
        (a, b) => a.or(b),
    }
}

/// The essence of the `Content-Type` (`text/event-stream`), lowercase.
fn media_type(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(CONTENT_TYPE)?.to_str().ok()?;
    let essence = value.split(';').next()?.trim();
    Some(essence.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::user::AuthUser;
    use serde_json::json;

    fn filter(scopes: &[&str]) -> ToolsFilter {
        ToolsFilter {
            policy: Arc::new(ScopePolicy::new().tool("admin-action", ["admin"])),
            ctx: AuthContext::builder(AuthUser::new("u"), "t")
                .scopes(scopes.iter().copied())
                .build(),
            ids: vec![json!(1)],
        }
    }

    fn list() -> Value {
        json!({"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"whoami"},{"name":"admin-action"}]}})
    }

    #[test]
    fn json_answer_omits_tools_the_caller_cannot_call() {
        let out = filter(&[])
            .filter_json(list().to_string().as_bytes())
            .expect("changed");
        let out: Value = serde_json::from_slice(&out).expect("json");
        assert_eq!(out["result"]["tools"], json!([{"name": "whoami"}]));
        assert!(
            filter(&["admin"])
                .filter_json(list().to_string().as_bytes())
                .is_none()
        );
    }

    #[test]
    fn other_answers_are_untouched() {
        let mut other = list();
        other["id"] = json!(2);
        assert!(
            filter(&[])
                .filter_json(other.to_string().as_bytes())
                .is_none()
        );
    }

    #[test]
    fn sse_event_is_rewritten_and_keeps_its_id() {
        let event = format!("id: 7\ndata: {}", list());
        let out = filter(&[]).rewrite_event(event.as_bytes());
        let out = String::from_utf8(out).expect("utf8");
        assert!(out.starts_with("id: 7\ndata: "), "{out}");
        assert!(!out.contains("admin-action"), "{out}");
        // The priming event (empty data) comes back unchanged.
        assert_eq!(filter(&[]).rewrite_event(b"id: 0\ndata:"), b"id: 0\ndata:");
    }

    #[test]
    fn event_boundaries() {
        assert_eq!(event_end(b"data: x\n\nrest"), Some((7, 2)));
        assert_eq!(event_end(b"data: x\r\n\r\n"), Some((7, 4)));
        assert_eq!(event_end(b"data: x\n"), None);
    }
}
