//! The scope policy over HTTP, in front of a real rmcp streamable-HTTP server
//! (JSON and SSE answers), with real tokens signed by generated keys:
//! spec-checklist item 4 (a tool's scope is an HTTP 403 `insufficient_scope`
//! naming every scope the operation needs, scope hierarchies), item 3 (scope
//! hints in the 401, no `offline_access`), and the body handling around it.
#![cfg(feature = "rmcp")]

use axum::Router;
use axum::body::Bytes;
use axum::routing::post;
use mcp_auth_core::rmcp::Auth;
use mcp_auth_core::{
    CustomConfig, CustomProvider, McpAuth, McpAuthBuilder, Mode, ScopeHierarchy, ScopePolicy,
    jwt::Algorithm,
};
use mcp_auth_testkit::{FakeIdp, McpServer, TestKey, claims, jwks};
use reqwest::StatusCode;
use reqwest::header::WWW_AUTHENTICATE;
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{ErrorData, tool, tool_router};
use serde_json::{Value, json};

#[derive(Clone)]
struct Tools;

#[tool_router(server_handler)]
impl Tools {
    #[tool(description = "The caller's id")]
    fn whoami(&self, Auth(who): Auth) -> Result<String, ErrorData> {
        Ok(who.user().user_id.clone())
    }

    #[tool(
        name = "admin-action",
        description = "Needs admin (declared in the policy)"
    )]
    fn admin_action(&self, Auth(who): Auth) -> Result<String, ErrorData> {
        Ok(format!("admin action by {}", who.user().user_id))
    }

    #[tool(
        name = "read-tool",
        description = "Needs mcp:read (declared in the policy)"
    )]
    fn read_tool(&self) -> Result<String, ErrorData> {
        Ok("read".into())
    }

    #[tool(
        name = "write-inside",
        description = "Checks mcp:write inside the tool, not in the policy"
    )]
    fn write_inside(&self, Auth(who): Auth) -> Result<String, ErrorData> {
        who.require_scope("mcp:write")?;
        Ok("written".into())
    }
}

struct Fixture {
    _idp: FakeIdp,
    key: TestKey,
    issuer: String,
    server: McpServer,
}

impl Fixture {
    /// The rmcp server at `/mcp` (JSON or SSE answers) and an echo at `/echo`,
    /// both behind the `McpAuth` `tweak` makes of the builder.
    async fn start(sse: bool, tweak: impl FnOnce(McpAuthBuilder) -> McpAuthBuilder) -> Fixture {
        let key = TestKey::rsa("k", Algorithm::RS256);
        let idp = FakeIdp::start(jwks(&[key.jwk()])).await;
        let issuer = idp.issuer();
        let mut config = CustomConfig::new(idp.issuer());
        config.jwks_url = Some(idp.jwks_url());
        config.scopes_supported = vec!["mcp:read".into(), "admin".into(), "offline_access".into()];
        config.mode = Mode::Proxy;
        config.authorization_endpoint = Some(format!("{}/authorize", idp.issuer()));
        config.token_endpoint = Some(format!("{}/token", idp.issuer()));
        // Proxy mode needs a way to serve clients (`build` checks it): the relay.
        config.registration_endpoint = Some(idp.register_url());
        let provider = CustomProvider::new(config).expect("provider");
        let server = McpServer::start(|resource| {
            let auth = tweak(McpAuth::builder(provider).resource_url(resource))
                .build()
                .expect("configuration");
            let mcp = StreamableHttpService::new(
                || Ok(Tools),
                NeverSessionManager::default().into(),
                StreamableHttpServerConfig::default()
                    .with_legacy_session_mode(false)
                    .with_json_response(!sse),
            );
            Router::new()
                .nest_service("/mcp", mcp)
                .route("/echo", post(|body: Bytes| async move { body }))
                .layer(auth.layer())
                .merge(auth.routes())
        })
        .await;
        Fixture {
            _idp: idp,
            key,
            issuer,
            server,
        }
    }

    fn token(&self, scope: &str) -> String {
        let mut c = claims(&self.issuer, &self.server.resource, "alice");
        c["scope"] = json!(scope);
        self.key.sign(&c)
    }

    fn metadata_url(&self) -> String {
        format!(
            "{}/.well-known/oauth-protected-resource/mcp",
            self.server.base
        )
    }

    async fn post(&self, token: &str, body: &Value) -> reqwest::Response {
        reqwest::Client::new()
            .post(self.server.url("/mcp"))
            .bearer_auth(token)
            .header("accept", "application/json, text/event-stream")
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .expect("send")
    }

    async fn call_tool(&self, token: &str, tool: &str) -> reqwest::Response {
        self.post(
            token,
            &json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": tool, "arguments": {}}}),
        )
        .await
    }
}

fn challenge(resp: &reqwest::Response) -> String {
    resp.headers()
        .get(WWW_AUTHENTICATE)
        .map(|v| v.to_str().expect("ascii").to_owned())
        .unwrap_or_default()
}

/// The JSON-RPC message of an answer, JSON or SSE (the last `data:` that parses).
async fn message(resp: reqwest::Response) -> Value {
    let sse = resp
        .headers()
        .get("content-type")
        .is_some_and(|v| v.as_bytes().starts_with(b"text/event-stream"));
    let text = resp.text().await.expect("body");
    if !sse {
        return serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"));
    }
    text.lines()
        .rev()
        .filter_map(|l| l.strip_prefix("data:"))
        .find_map(|d| serde_json::from_str::<Value>(d.trim()).ok())
        .unwrap_or_else(|| panic!("no JSON-RPC message in {text}"))
}

fn admin_policy(a: McpAuthBuilder) -> McpAuthBuilder {
    a.scope_policy(ScopePolicy::new().tool("admin-action", ["admin"]))
}

#[tokio::test]
async fn rule4_tool_needing_admin_gets_403_naming_admin_while_whoami_passes() {
    let f = Fixture::start(false, admin_policy).await;
    let token = f.token("mcp:read profile");
    let resp = f.call_tool(&token, "admin-action").await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        challenge(&resp),
        format!(
            "Bearer error=\"insufficient_scope\", scope=\"admin\", error_description=\"The token lacks a required scope\", resource_metadata=\"{}\"",
            f.metadata_url()
        )
    );
    let body: Value = resp.json().await.expect("json");
    assert_eq!(body["error"], "insufficient_scope");
    assert_eq!(body["missing_scopes"], json!(["admin"]));

    let resp = f.call_tool(&token, "whoami").await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(message(resp).await["result"]["content"][0]["text"], "alice");

    // Once the token carries admin (the step-up), the call goes through.
    let resp = f
        .call_tool(&f.token("mcp:read profile admin"), "admin-action")
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        message(resp).await["result"]["content"][0]["text"],
        "admin action by alice"
    );
}

#[tokio::test]
async fn rule4_the_challenge_lists_every_scope_the_operation_needs() {
    let f = Fixture::start(false, |a| {
        a.required_scopes(["mcp:read"]).scope_policy(
            ScopePolicy::new()
                .base(["profile"])
                .method("tools/call", ["mcp:tools"])
                .tool("admin-action", ["admin"]),
        )
    })
    .await;
    // Holds some of them: the challenge still names them all, so the token a
    // client gets by asking for exactly that scope passes.
    let resp = f
        .call_tool(&f.token("mcp:read profile mcp:tools"), "admin-action")
        .await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert!(
        challenge(&resp).contains("scope=\"mcp:read profile mcp:tools admin\""),
        "{}",
        challenge(&resp)
    );
    let resp = f
        .call_tool(&f.token("mcp:read profile mcp:tools admin"), "admin-action")
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
}

#[tokio::test]
async fn rule4_a_batch_needs_the_union_of_its_messages() {
    let f = Fixture::start(false, |a| {
        a.scope_policy(
            ScopePolicy::new()
                .tool("admin-action", ["admin"])
                .tool("read-tool", ["mcp:read"]),
        )
    })
    .await;
    let batch = json!([
        {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "read-tool", "arguments": {}}},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "admin-action", "arguments": {}}},
    ]);
    let resp = f.post(&f.token("mcp:read"), &batch).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert!(challenge(&resp).contains("scope=\"mcp:read admin\""));
    let resp = f.post(&f.token("admin"), &batch).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert!(challenge(&resp).contains("scope=\"mcp:read admin\""));
    // Holding the union, the batch reaches rmcp (which answers it as it sees fit).
    let resp = f.post(&f.token("mcp:read admin"), &batch).await;
    assert_ne!(resp.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn rule4_scope_hierarchy_lets_a_broader_scope_pass_a_narrower_rule() {
    let hierarchy = || ScopeHierarchy::chain(["mcp:admin", "mcp:write", "mcp:read"]);
    let policy = || ScopePolicy::new().tool("read-tool", ["mcp:read"]);
    let f = Fixture::start(false, |a| {
        a.scope_policy(policy()).scope_hierarchy(hierarchy())
    })
    .await;
    let admin = f.token("mcp:admin");
    assert_eq!(f.call_tool(&admin, "read-tool").await.status(), 200);
    // The same hierarchy inside the tool: has_scope("mcp:write") holds for mcp:admin.
    let resp = f.call_tool(&admin, "write-inside").await;
    assert_eq!(
        message(resp).await["result"]["content"][0]["text"],
        "written"
    );
    // And for the layer's required scopes.
    let g = Fixture::start(false, |a| {
        a.required_scopes(["mcp:read"]).scope_hierarchy(hierarchy())
    })
    .await;
    assert_eq!(
        g.call_tool(&g.token("mcp:write"), "whoami").await.status(),
        200
    );

    // Without the hierarchy, scopes match exactly.
    let h = Fixture::start(false, |a| a.scope_policy(policy())).await;
    let resp = h.call_tool(&h.token("mcp:admin"), "read-tool").await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert!(challenge(&resp).contains("scope=\"mcp:read\""));
}

#[tokio::test]
async fn rule4_in_tool_checks_stay_a_json_rpc_error_naming_the_missing_scope() {
    let f = Fixture::start(false, admin_policy).await;
    let resp = f.call_tool(&f.token("mcp:read"), "write-inside").await;
    assert_eq!(resp.status(), StatusCode::OK);
    let msg = message(resp).await;
    assert_eq!(
        msg["error"]["data"]["missing_scopes"],
        json!(["mcp:write"]),
        "{msg}"
    );
    assert!(
        msg["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("missing [mcp:write]")),
        "{msg}"
    );
}

#[tokio::test]
async fn non_json_rpc_bodies_go_on_unchanged() {
    let f = Fixture::start(false, |a| {
        a.scope_policy(ScopePolicy::new().base(["mcp:read"]))
    })
    .await;
    // A token without the base scope: JSON-RPC is refused, anything else passes.
    let token = f.token("profile");
    let client = reqwest::Client::new();
    for body in [
        &b"plain text, not JSON"[..],
        br#"{"hello": "world"}"#,
        br#"{"jsonrpc": "2.0", "#,
        &[0xff, 0xfe, 0x00, 0x01],
    ] {
        let resp = client
            .post(f.server.url("/echo"))
            .bearer_auth(&token)
            .body(body.to_vec())
            .send()
            .await
            .expect("send");
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(resp.bytes().await.expect("body"), body, "echoed unchanged");
    }
    let resp = client
        .post(f.server.url("/echo"))
        .bearer_auth(&token)
        .body(r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#)
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    // A JSON-RPC body the token may send reaches the service byte for byte.
    let body =
        "  {\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":{\"x\":\"\\u00e9\"}}\n";
    let resp = client
        .post(f.server.url("/echo"))
        .bearer_auth(f.token("mcp:read"))
        .body(body)
        .send()
        .await
        .expect("send");
    assert_eq!(resp.text().await.expect("text"), body);
}

#[tokio::test]
async fn json_rpc_the_policy_cannot_read_is_refused_not_passed() {
    let f = Fixture::start(false, admin_policy).await;
    // A repeated "name": a reader keeping the first would see whoami.
    let resp = reqwest::Client::new()
        .post(f.server.url("/mcp"))
        .bearer_auth(f.token("mcp:read"))
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json")
        .body(r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"whoami","name":"admin-action","arguments":{}}}"#)
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    // A compressed body cannot be read either.
    let resp = reqwest::Client::new()
        .post(f.server.url("/mcp"))
        .bearer_auth(f.token("mcp:read"))
        .header("content-encoding", "gzip")
        .body(vec![0x1f, 0x8b, 0x08, 0x00])
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

#[tokio::test]
async fn body_over_the_limit_gets_413_before_the_service() {
    let f = Fixture::start(false, |a| admin_policy(a).max_body_bytes(1024)).await;
    let token = f.token("mcp:read admin");
    let big = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
        "params": {"name": "whoami", "arguments": {"pad": "x".repeat(2000)}}});
    // Declared length over the limit.
    let resp = f.post(&token, &big).await;
    assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // Streamed without a length: cut off once the limit is passed.
    let chunks: Vec<Result<http_body::Frame<Bytes>, std::io::Error>> = (0..8)
        .map(|_| Ok(http_body::Frame::data(Bytes::from(vec![b' '; 512]))))
        .collect();
    let resp = reqwest::Client::new()
        .post(f.server.url("/mcp"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap(http_body_util::StreamBody::new(
            futures::stream::iter(chunks),
        )))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // At the limit, fine.
    let small = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
        "params": {"name": "whoami", "arguments": {}}});
    assert_eq!(f.post(&token, &small).await.status(), StatusCode::OK);
    // Unauthenticated: refused before any byte of the body is read.
    let resp = reqwest::Client::new()
        .post(f.server.url("/mcp"))
        .body(big.to_string())
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
}

async fn tool_names(f: &Fixture, sse: bool, token: &str) -> Vec<String> {
    let resp = f
        .post(
            token,
            &json!({"jsonrpc": "2.0", "id": "list-1", "method": "tools/list"}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let content_type = resp.headers().get("content-type").expect("content-type");
    let expected: &[u8] = if sse {
        b"text/event-stream"
    } else {
        b"application/json"
    };
    assert!(
        content_type.as_bytes().starts_with(expected),
        "{content_type:?}"
    );
    let msg = message(resp).await;
    let mut names: Vec<String> = msg["result"]["tools"]
        .as_array()
        .unwrap_or_else(|| panic!("no tools in {msg}"))
        .iter()
        .filter_map(|t| t["name"].as_str().map(str::to_owned))
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn tools_list_omits_tools_the_caller_cannot_call_json_and_sse() {
    for sse in [false, true] {
        let f = Fixture::start(sse, |a| {
            a.scope_policy(
                ScopePolicy::new()
                    .tool("admin-action", ["admin"])
                    .tool("read-tool", ["mcp:read"])
                    .filter_tools_list(true),
            )
            .scope_hierarchy(ScopeHierarchy::chain(["admin", "mcp:read"]))
        })
        .await;
        assert_eq!(
            tool_names(&f, sse, &f.token("profile")).await,
            ["whoami", "write-inside"],
            "sse: {sse}"
        );
        assert_eq!(
            tool_names(&f, sse, &f.token("mcp:read")).await,
            ["read-tool", "whoami", "write-inside"],
            "sse: {sse}"
        );
        assert_eq!(
            tool_names(&f, sse, &f.token("admin")).await,
            ["admin-action", "read-tool", "whoami", "write-inside"],
            "sse: {sse}"
        );
    }
    // Off by default: every tool is listed.
    let f = Fixture::start(true, admin_policy).await;
    assert_eq!(
        tool_names(&f, true, &f.token("profile")).await,
        ["admin-action", "read-tool", "whoami", "write-inside"]
    );
}

#[tokio::test]
async fn rule3_401_challenge_carries_the_scopes_for_basic_use() {
    let no_token = |f: &Fixture| {
        let url = f.server.url("/mcp");
        async move {
            let resp = reqwest::Client::new().post(url).send().await.expect("send");
            assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
            challenge(&resp)
        }
    };
    // Default: the policy's base scopes (after the required ones), no offline_access.
    let f = Fixture::start(false, |a| {
        a.required_scopes(["mcp:read", "offline_access"])
            .scope_policy(
                ScopePolicy::new()
                    .base(["profile"])
                    .tool("admin-action", ["admin"]),
            )
    })
    .await;
    assert_eq!(
        no_token(&f).await,
        format!(
            "Bearer resource_metadata=\"{}\", scope=\"mcp:read profile\"",
            f.metadata_url()
        )
    );
    // Configured explicitly.
    let f = Fixture::start(false, |a| {
        admin_policy(a).challenge_scopes(["mcp:read", "offline_access"])
    })
    .await;
    assert!(no_token(&f).await.ends_with(", scope=\"mcp:read\""));
    // Nothing to say: no scope parameter.
    let f = Fixture::start(false, admin_policy).await;
    assert!(!no_token(&f).await.contains("scope="));
}

#[tokio::test]
async fn rule16a_offline_access_not_in_protected_resource_metadata() {
    let f = Fixture::start(false, |a| a).await;
    let prm = f
        .server
        .get_json("/.well-known/oauth-protected-resource/mcp")
        .await;
    assert_eq!(prm["scopes_supported"], json!(["mcp:read", "admin"]));
    // The authorization-server metadata of proxy mode may keep it.
    let asm = f
        .server
        .get_json("/.well-known/oauth-authorization-server")
        .await;
    assert_eq!(
        asm["scopes_supported"],
        json!(["mcp:read", "admin", "offline_access"])
    );
}
