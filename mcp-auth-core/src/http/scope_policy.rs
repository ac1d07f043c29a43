//! [`ScopePolicy`]: which scopes each MCP operation needs, declared once and
//! checked by the auth layer before the MCP service runs, so a missing scope
//! reaches the client as the HTTP 403 `insufficient_scope` it steps up on.

use std::borrow::Cow;
use std::collections::HashMap;

use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

use crate::user::AuthContext;

/// The scopes required per MCP operation: per JSON-RPC method, per tool name
/// (`tools/call`), per prompt name (`prompts/get`) and per resource URI
/// (`resources/read`, `resources/subscribe`, `resources/unsubscribe`).
///
/// Set it with [`crate::McpAuthBuilder::scope_policy`]. The auth layer then reads the
/// JSON-RPC body of every authenticated `POST` (up to
/// [`crate::McpAuthBuilder::max_body_bytes`]; beyond it 413) and, when the token lacks
/// a scope the operation needs, answers HTTP 403 with
/// `WWW-Authenticate: Bearer error="insufficient_scope", scope="…"` listing
/// *every* scope the operation needs (the layer's `required_scopes`, the
/// [`base`](Self::base) scopes, the method's and the tool's), so a client that
/// re-authorizes with that `scope` gets a token that passes. A batch needs the
/// union of its messages' scopes. A body that is not JSON-RPC goes on to the
/// MCP service unchanged. Scopes are matched through the configured
/// [`ScopeHierarchy`](crate::ScopeHierarchy).
///
/// ```
/// use mcp_auth_core::ScopePolicy;
/// let policy = ScopePolicy::new()
///     .base(["mcp:read"])                       // every JSON-RPC message
///     .method("tools/call", ["mcp:tools"])      // every tool call
///     .tool("admin-action", ["admin"])          // this tool, on top
///     .prompt("incident-report", ["ops"])
///     .resource("file:///secrets/*", ["secrets:read"]) // a trailing * is a prefix
///     .filter_tools_list(true);                 // tools/list hides what the caller cannot call
/// assert_eq!(policy.tool_scopes("admin-action"), ["mcp:read", "mcp:tools", "admin"]);
/// ```
#[derive(Debug, Clone, Default)]
pub struct ScopePolicy {
    base: Vec<String>,
    methods: HashMap<String, Vec<String>>,
    tools: HashMap<String, Vec<String>>,
    prompts: HashMap<String, Vec<String>>,
    resources: Vec<(ResourcePattern, Vec<String>)>,
    filter_tools_list: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum ResourcePattern {
    Exact(String),
    Prefix(String),
}

impl ResourcePattern {
    fn matches(&self, uri: &str) -> bool {
        match self {
            ResourcePattern::Exact(u) => u == uri,
            ResourcePattern::Prefix(p) => uri.starts_with(p.as_str()),
        }
    }
}

fn owned<I: IntoIterator<Item = S>, S: Into<String>>(scopes: I) -> Vec<String> {
    scopes.into_iter().map(Into::into).collect()
}

fn push_unique(into: &mut Vec<String>, scopes: &[String]) {
    for s in scopes {
        if !into.contains(s) {
            into.push(s.clone());
        }
    }
}

impl ScopePolicy {
    /// A policy that requires nothing beyond the layer's `required_scopes`.
    pub fn new() -> Self {
        Self::default()
    }

    /// Scopes every JSON-RPC message needs: the scopes for basic use, which the
    /// 401 challenge advertises unless [`crate::McpAuthBuilder::challenge_scopes`] says
    /// otherwise.
    pub fn base<I: IntoIterator<Item = S>, S: Into<String>>(mut self, scopes: I) -> Self {
        self.base = owned(scopes);
        self
    }

    /// Scopes a JSON-RPC method needs, e.g. `"tools/call"` or `"resources/read"`.
    pub fn method<I: IntoIterator<Item = S>, S: Into<String>>(
        mut self,
        method: impl Into<String>,
        scopes: I,
    ) -> Self {
        self.methods.insert(method.into(), owned(scopes));
        self
    }

    /// Scopes a `tools/call` of the tool `name` needs (besides the method's).
    pub fn tool<I: IntoIterator<Item = S>, S: Into<String>>(
        mut self,
        name: impl Into<String>,
        scopes: I,
    ) -> Self {
        self.tools.insert(name.into(), owned(scopes));
        self
    }

    /// Scopes a `prompts/get` of the prompt `name` needs (besides the method's).
    pub fn prompt<I: IntoIterator<Item = S>, S: Into<String>>(
        mut self,
        name: impl Into<String>,
        scopes: I,
    ) -> Self {
        self.prompts.insert(name.into(), owned(scopes));
        self
    }

    /// Scopes reading (or subscribing to) the resource `uri` needs. A `uri` ending
    /// in `*` matches every URI that starts with the rest; every matching rule
    /// applies.
    pub fn resource<I: IntoIterator<Item = S>, S: Into<String>>(
        mut self,
        uri: impl Into<String>,
        scopes: I,
    ) -> Self {
        let uri = uri.into();
        let pattern = match uri.strip_suffix('*') {
            Some(prefix) => ResourcePattern::Prefix(prefix.to_owned()),
            None => ResourcePattern::Exact(uri),
        };
        self.resources.push((pattern, owned(scopes)));
        self
    }

    /// Opt-in: the answer to `tools/list` omits the tools the caller could not
    /// call (those whose [`tool_scopes`](Self::tool_scopes) the token lacks).
    /// Both answer forms of the rmcp streamable-HTTP service are rewritten:
    /// `application/json` and `text/event-stream`. Default: off.
    pub fn filter_tools_list(mut self, filter: bool) -> Self {
        self.filter_tools_list = filter;
        self
    }

    /// The [`base`](Self::base) scopes.
    pub fn base_scopes(&self) -> &[String] {
        &self.base
    }

    /// Whether [`filter_tools_list`](Self::filter_tools_list) is on.
    pub fn filters_tools_list(&self) -> bool {
        self.filter_tools_list
    }

    /// Every scope a `tools/call` of `name` needs: base, method, tool.
    pub fn tool_scopes(&self, name: &str) -> Vec<String> {
        let mut needed = self.base.clone();
        if let Some(m) = self.methods.get("tools/call") {
            push_unique(&mut needed, m);
        }
        if let Some(t) = self.tools.get(name) {
            push_unique(&mut needed, t);
        }
        needed
    }

    /// What one message needs, added to `needed`.
    fn add_needs(&self, msg: &Message<'_>, needed: &mut Vec<String>) -> Result<(), Unreadable> {
        push_unique(needed, &self.base);
        let Some(method) = msg.method.as_deref() else {
            return Ok(());
        };
        if let Some(m) = self.methods.get(method) {
            push_unique(needed, m);
        }
        let named = match method {
            "tools/call" if !self.tools.is_empty() => Some(&self.tools),
            "prompts/get" if !self.prompts.is_empty() => Some(&self.prompts),
            "resources/read" | "resources/subscribe" | "resources/unsubscribe"
                if !self.resources.is_empty() =>
            {
                None
            }
            _ => return Ok(()),
        };
        // The method has per-name rules: its params must be readable, or the
        // layer cannot tell which rule applies (fail closed).
        let params: Params<'_> = match msg.params {
            Some(raw) => serde_json::from_str(raw.get()).map_err(|_| Unreadable)?,
            None => Params::default(),
        };
        match named {
            Some(rules) => {
                if let Some(scopes) = params.name.as_deref().and_then(|n| rules.get(n)) {
                    push_unique(needed, scopes);
                }
            }
            None => {
                if let Some(uri) = params.uri.as_deref() {
                    for (pattern, scopes) in &self.resources {
                        if pattern.matches(uri) {
                            push_unique(needed, scopes);
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Reads a request body: `None` when it is not JSON-RPC (it goes on
    /// unchanged), else what the body needs.
    pub(crate) fn inspect(&self, body: &[u8]) -> Result<Option<Inspection>, Unreadable> {
        let first = body.iter().find(|b| !b.is_ascii_whitespace());
        let parsed: Result<Vec<Message<'_>>, _> = match first {
            Some(b'{') => serde_json::from_slice::<Message<'_>>(body).map(|m| vec![m]),
            Some(b'[') => serde_json::from_slice::<Vec<Message<'_>>>(body),
            _ => return Ok(None),
        };
        let messages = match parsed {
            Ok(messages) => messages,
            // Not JSON at all: the MCP service answers its parse error.
            Err(_) if serde_json::from_slice::<serde::de::IgnoredAny>(body).is_err() => {
                return Ok(None);
            }
            // JSON shaped like JSON-RPC that this reader cannot follow (a method
            // that is not a string, a repeated key): fail closed.
            Err(_) => return Err(Unreadable),
        };
        if !messages
            .iter()
            .any(|m| m.jsonrpc.is_some() || m.method.is_some())
        {
            return Ok(None);
        }
        let mut inspection = Inspection::default();
        for msg in &messages {
            self.add_needs(msg, &mut inspection.needed)?;
            if self.filter_tools_list
                && msg.method.as_deref() == Some("tools/list")
                && let Some(id) = msg.id.and_then(|raw| serde_json::from_str(raw.get()).ok())
            {
                inspection.tools_list_ids.push(id);
            }
        }
        Ok(Some(inspection))
    }

    /// Whether the caller may call the tool `name`.
    pub(crate) fn may_call(&self, ctx: &AuthContext, name: &str) -> bool {
        ctx.has_all_scopes(&self.tool_scopes(name))
    }
}

/// The body is JSON shaped like JSON-RPC, but the policy cannot read it safely
/// (a repeated key, a method or name that is not a string): refused rather than
/// passed on, since the MCP service might read it differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "the JSON-RPC body cannot be read safely (a repeated key, or a method, name or uri that is not a string)"
)]
pub(crate) struct Unreadable;

/// What a JSON-RPC body needs.
#[derive(Debug, Default)]
pub(crate) struct Inspection {
    /// Every scope the body's operations need, each once, in rule order.
    pub needed: Vec<String>,
    /// The ids of its `tools/list` requests (when filtering is on).
    pub tools_list_ids: Vec<Value>,
}

/// The parts of a JSON-RPC message the policy reads; the rest (params included)
/// stays unparsed.
#[derive(Deserialize)]
struct Message<'a> {
    #[serde(borrow, default)]
    jsonrpc: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    method: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    id: Option<&'a RawValue>,
    #[serde(borrow, default)]
    params: Option<&'a RawValue>,
}

#[derive(Deserialize, Default)]
struct Params<'a> {
    #[serde(borrow, default)]
    name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    uri: Option<Cow<'a, str>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> ScopePolicy {
        ScopePolicy::new()
            .base(["mcp:read"])
            .method("tools/call", ["mcp:tools"])
            .tool("admin-action", ["admin"])
            .prompt("secret", ["prompts:secret"])
            .resource("file:///a", ["res:a"])
            .resource("file:///dir/*", ["res:dir"])
    }

    fn needs(body: &str) -> Option<Vec<String>> {
        policy()
            .inspect(body.as_bytes())
            .expect("readable")
            .map(|i| i.needed)
    }

    #[test]
    fn a_tool_call_needs_base_method_and_tool() {
        assert_eq!(
            needs(
                r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"admin-action","arguments":{}}}"#
            ),
            Some(vec!["mcp:read".into(), "mcp:tools".into(), "admin".into()])
        );
        assert_eq!(
            needs(r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"whoami"}}"#),
            Some(vec!["mcp:read".into(), "mcp:tools".into()])
        );
    }

    #[test]
    fn prompts_and_resources_by_name_and_prefix() {
        assert_eq!(
            needs(r#"{"jsonrpc":"2.0","id":1,"method":"prompts/get","params":{"name":"secret"}}"#),
            Some(vec!["mcp:read".into(), "prompts:secret".into()])
        );
        assert_eq!(
            needs(
                r#"{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":"file:///dir/x"}}"#
            ),
            Some(vec!["mcp:read".into(), "res:dir".into()])
        );
        assert_eq!(
            needs(
                r#"{"jsonrpc":"2.0","id":1,"method":"resources/subscribe","params":{"uri":"file:///a"}}"#
            ),
            Some(vec!["mcp:read".into(), "res:a".into()])
        );
    }

    #[test]
    fn a_batch_needs_the_union() {
        assert_eq!(
            needs(
                r#"[{"jsonrpc":"2.0","id":1,"method":"prompts/get","params":{"name":"secret"}},
                   {"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"admin-action"}}]"#
            ),
            Some(vec![
                "mcp:read".into(),
                "prompts:secret".into(),
                "mcp:tools".into(),
                "admin".into()
            ])
        );
    }

    #[test]
    fn non_json_rpc_bodies_are_not_inspected() {
        assert_eq!(needs("hello"), None);
        assert_eq!(needs("{not json"), None);
        assert_eq!(needs(r#"{"hello":"world"}"#), None);
        assert_eq!(needs(""), None);
    }

    #[test]
    fn unreadable_json_rpc_fails_closed() {
        let p = policy();
        // The second "name" would hide the tool from a reader that keeps the first.
        for body in [
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"whoami","name":"admin-action"}}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":7}}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":7}"#,
            r#"{"jsonrpc":"2.0","method":"ping","method":"tools/call"}"#,
        ] {
            assert_eq!(
                p.inspect(body.as_bytes()).map(|_| ()),
                Err(Unreadable),
                "{body}"
            );
        }
    }

    #[test]
    fn escaped_names_are_read_like_the_mcp_service_reads_them() {
        assert_eq!(
            needs(
                r#"{"jsonrpc":"2.0","id":1,"method":"tools\/call","params":{"name":"admin\u002daction"}}"#
            ),
            Some(vec!["mcp:read".into(), "mcp:tools".into(), "admin".into()])
        );
    }
}
