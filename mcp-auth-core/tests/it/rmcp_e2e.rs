//! End to end over HTTP: a real rmcp streamable-HTTP server behind the layer; its
//! tools read the caller with `mcp_auth_core::rmcp` (feature `rmcp`).
#![cfg(feature = "rmcp")]

use axum::Router;
use mcp_auth_core::rmcp::{Auth, auth_context};
use mcp_auth_core::{CustomConfig, CustomProvider, McpAuth, jwt::Algorithm};
use mcp_auth_testkit::{FakeIdp, TestKey, claims, jwks};
use rmcp::RoleServer;
use rmcp::service::RequestContext;
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{ErrorData, tool, tool_router};
use serde_json::{Value, json};

#[derive(Clone)]
struct Tools;

#[tool_router(server_handler)]
impl Tools {
    #[tool(description = "The caller, read with the helper")]
    fn whoami(&self, ctx: RequestContext<RoleServer>) -> Result<String, ErrorData> {
        let who = auth_context(&ctx)?;
        Ok(json!({"user_id": who.user().user_id, "email": who.user().email, "scopes": who.scopes()}).to_string())
    }

    #[tool(description = "Needs the admin scope, read with the extractor")]
    fn admin(&self, Auth(who): Auth) -> Result<String, ErrorData> {
        who.require_scope("admin")?;
        Ok("admin done".into())
    }
}

async fn call(addr: &str, token: &str, tool: &str) -> (u16, Value) {
    let resp = reqwest::Client::new()
        .post(format!("http://{addr}/mcp"))
        .bearer_auth(token)
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json")
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": tool, "arguments": {}}}))
        .send()
        .await
        .expect("send");
    let status = resp.status().as_u16();
    let text = resp.text().await.expect("body");
    (
        status,
        serde_json::from_str(&text).unwrap_or_else(|_| json!({ "raw": text })),
    )
}

#[tokio::test]
async fn a_tool_reads_the_authenticated_user() {
    let key = TestKey::rsa("k", Algorithm::RS256);
    let idp = FakeIdp::start(jwks(&[key.jwk()])).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    let resource = format!(
        "http://localhost:{}/mcp",
        addr.rsplit(':').next().expect("port")
    );
    let mut config = CustomConfig::new(idp.issuer());
    config.jwks_url = Some(idp.jwks_url());
    let auth = McpAuth::builder(CustomProvider::new(config).expect("provider"))
        .resource_url(&resource)
        .build()
        .expect("url");
    let mcp = StreamableHttpService::new(
        || Ok(Tools),
        NeverSessionManager::default().into(),
        StreamableHttpServerConfig::default()
            .with_legacy_session_mode(false)
            .with_json_response(true),
    );
    let app = Router::new()
        .nest_service("/mcp", mcp)
        .layer(auth.layer())
        .merge(auth.routes());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });

    let mut c = claims(&idp.issuer(), &resource, "alice");
    c["email"] = json!("alice@example.com");
    let token = key.sign(&c);
    let (status, body) = call(&addr, &token, "whoami").await;
    assert_eq!(status, 200, "{body}");
    let text = body["result"]["content"][0]["text"]
        .as_str()
        .unwrap_or_else(|| panic!("no text in {body}"));
    let who: Value = serde_json::from_str(text).expect("tool output is JSON");
    assert_eq!(
        who,
        json!({"user_id": "alice", "email": "alice@example.com", "scopes": ["read", "write"]})
    );

    // A scope check inside a tool becomes a JSON-RPC error naming the scopes.
    let (status, body) = call(&addr, &token, "admin").await;
    assert_eq!(status, 200);
    assert_eq!(
        body["error"]["data"]["required_scopes"],
        json!(["admin"]),
        "{body}"
    );
    assert_eq!(
        body["error"]["data"]["granted_scopes"],
        json!(["read", "write"])
    );
    c["scope"] = json!("admin");
    let (_, body) = call(&addr, &key.sign(&c), "admin").await;
    assert_eq!(body["result"]["content"][0]["text"], "admin done", "{body}");

    // Without a token, rmcp never sees the request.
    let resp = reqwest::Client::new()
        .post(format!("http://{addr}/mcp"))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status().as_u16(), 401);
}

/// `McpAuth::streamable_http_config` with the README's resource: rmcp accepts
/// the resource's `Host` (with its own default configuration it refuses it with
/// `403 Host header is not allowed`), and still refuses any other.
#[tokio::test]
async fn rmcp_accepts_the_host_of_the_resource_url_and_refuses_others() {
    const RESOURCE: &str = "https://mcp.example.com/mcp";
    let key = TestKey::rsa("k", Algorithm::RS256);
    let idp = FakeIdp::start(jwks(&[key.jwk()])).await;
    let mut config = CustomConfig::new(idp.issuer());
    config.jwks_url = Some(idp.jwks_url());
    let auth = McpAuth::builder(CustomProvider::new(config).expect("provider"))
        .resource_url(RESOURCE)
        .build()
        .expect("configuration");
    let serve = |rmcp_config: StreamableHttpServerConfig| {
        let mcp = StreamableHttpService::new(
            || Ok(Tools),
            NeverSessionManager::default().into(),
            rmcp_config
                .with_legacy_session_mode(false)
                .with_json_response(true),
        );
        Router::new()
            .nest_service("/mcp", mcp)
            .layer(auth.layer())
            .merge(auth.routes())
    };
    let token = key.sign(&claims(&idp.issuer(), RESOURCE, "alice"));
    let call_as = |app: Router, host: &'static str| {
        let token = token.clone();
        async move {
            let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                "params": {"name": "whoami", "arguments": {}}});
            let req = axum::http::Request::post("/mcp")
                .header("host", host)
                .header("authorization", format!("Bearer {token}"))
                .header("accept", "application/json, text/event-stream")
                .header("content-type", "application/json")
                .body(axum::body::Body::from(body.to_string()))
                .expect("request");
            let resp = tower::ServiceExt::oneshot(app, req)
                .await
                .expect("infallible");
            let status = resp.status().as_u16();
            let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
                .await
                .expect("body");
            (status, String::from_utf8_lossy(&bytes).into_owned())
        }
    };

    let app = serve(auth.streamable_http_config());
    let (status, body) = call_as(app.clone(), "mcp.example.com").await;
    assert_eq!(status, 200, "{body}");
    let answer: Value = serde_json::from_str(&body).expect("JSON-RPC answer");
    let who: Value = serde_json::from_str(
        answer["result"]["content"][0]["text"]
            .as_str()
            .unwrap_or_else(|| panic!("no text in {answer}")),
    )
    .expect("tool output is JSON");
    assert_eq!(who["user_id"], "alice");
    let (status, _) = call_as(app.clone(), "mcp.example.com:443").await;
    assert_eq!(status, 200, "the resource's host on its port");
    let (status, body) = call_as(app, "evil.example").await;
    assert_eq!(status, 403, "a foreign Host: {body}");

    // What the helper fixes: rmcp's default configuration refuses the resource's host.
    let (status, body) = call_as(
        serve(StreamableHttpServerConfig::default()),
        "mcp.example.com",
    )
    .await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("Host"), "{body}");
}

#[test]
fn the_rmcp_config_without_a_resource_is_rmcps_default_and_a_loopback_resource_allows_every_alias()
{
    use mcp_auth_core::StaticApiKeys;
    let default = StreamableHttpServerConfig::default().allowed_hosts;
    let without = McpAuth::builder_with_verifier(StaticApiKeys::new())
        .build()
        .expect("configuration");
    assert_eq!(without.streamable_http_config().allowed_hosts, default);

    let loopback = McpAuth::builder_with_verifier(StaticApiKeys::new())
        .resource_url("http://127.0.0.1:3000/mcp")
        .build()
        .expect("configuration");
    let hosts = loopback.streamable_http_config().allowed_hosts;
    for alias in ["localhost", "127.0.0.1", "::1"] {
        assert!(hosts.iter().any(|h| h == alias), "{alias} in {hosts:?}");
    }

    let public = McpAuth::builder_with_verifier(StaticApiKeys::new())
        .resource_url("https://MCP.Example.com/mcp")
        .build()
        .expect("configuration");
    let hosts = public.streamable_http_config().allowed_hosts;
    assert!(hosts.iter().any(|h| h == "mcp.example.com"), "{hosts:?}");
    assert_eq!(hosts.len(), default.len() + 1, "{hosts:?}");
}
