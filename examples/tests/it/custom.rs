//! The `custom` example as a process, verifying JWTs from a local fake issuer.

use crate::common;

use common::{Server, assert_invalid_token, challenge, custom_broker, free_port};
use mcp_auth_testkit::{Algorithm, Browser, FakeIdp, ProxyClient, TestKey, claims, jwks};
use serde_json::{Value, json};

#[test]
fn missing_issuer_exits_2_naming_the_variable() {
    let mut server = Server::spawn(env!("CARGO_BIN_EXE_custom"), free_port(), &[]);
    let stderr = server.expect_exit_2();
    assert!(
        stderr.contains("MCP_USE_OAUTH_CUSTOM_ISSUER"),
        "stderr:\n{stderr}"
    );
}

#[test]
fn malformed_mode_exits_2_naming_the_variable() {
    let env = [
        ("MCP_USE_OAUTH_CUSTOM_ISSUER", "https://auth.example.com"),
        ("MCP_USE_OAUTH_CUSTOM_MODE", "sideways"),
    ];
    let mut server = Server::spawn(env!("CARGO_BIN_EXE_custom"), free_port(), &env);
    let stderr = server.expect_exit_2();
    assert!(
        stderr.contains("MCP_USE_OAUTH_CUSTOM_MODE"),
        "stderr:\n{stderr}"
    );
}

#[test]
fn a_plain_http_issuer_on_another_host_exits_2_naming_the_variable() {
    let env = [("MCP_USE_OAUTH_CUSTOM_ISSUER", "http://auth.example.com")];
    let mut server = Server::spawn(env!("CARGO_BIN_EXE_custom"), free_port(), &env);
    let stderr = server.expect_exit_2();
    assert!(
        stderr.contains("MCP_USE_OAUTH_CUSTOM_ISSUER") && stderr.contains("https"),
        "stderr:\n{stderr}"
    );
}

#[test]
fn a_plain_http_resource_url_on_another_host_exits_2_naming_the_variable() {
    let env = [
        ("MCP_USE_OAUTH_CUSTOM_ISSUER", "https://auth.example.com"),
        ("MCP_URL", "http://mcp.example.com/mcp"),
    ];
    let mut server = Server::spawn(env!("CARGO_BIN_EXE_custom"), free_port(), &env);
    let stderr = server.expect_exit_2();
    assert!(
        stderr.contains("MCP_URL") && stderr.contains("https"),
        "stderr:\n{stderr}"
    );
}

/// At the default level (no `RUST_LOG`) and with stderr a pipe (no terminal, no
/// `NO_COLOR`): plain-text lines without ANSI escapes, and none of rmcp's
/// per-request INFO lines, however many requests are served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn default_logs_are_plain_text_without_rmcp_request_lines() {
    let key = TestKey::rsa("k1", Algorithm::RS256);
    let idp = FakeIdp::start(jwks(&[key.jwk()])).await;
    let port = free_port();
    let issuer = idp.issuer();
    // Empty counts as unset for both.
    let env = [
        ("MCP_USE_OAUTH_CUSTOM_ISSUER", issuer.as_str()),
        ("RUST_LOG", ""),
        ("NO_COLOR", ""),
    ];
    let mut server = Server::spawn(env!("CARGO_BIN_EXE_custom"), port, &env);
    server.wait_ready().await;
    let mut c = claims(&issuer, &format!("http://localhost:{port}/mcp"), "u");
    c["scope"] = json!("read");
    let token = key.sign(&c);
    for _ in 0..3 {
        let resp = server.mcp(Some(&token), "tools/list", json!({})).await;
        assert_eq!(resp.status(), 200, "stderr:\n{}", server.stderr());
    }
    let stderr = server.stderr();
    assert!(stderr.contains("MCP server listening"), "stderr:\n{stderr}");
    assert!(!stderr.contains('\u{1b}'), "ANSI escapes in:\n{stderr}");
    for rmcp_line in [
        "Service initialized",
        "serve finished",
        "input stream terminated",
    ] {
        assert!(!stderr.contains(rmcp_line), "{rmcp_line:?} in:\n{stderr}");
    }
}

/// A fake issuer, the example started against it, and a signing key it publishes.
struct Setup {
    idp: FakeIdp,
    key: TestKey,
    server: Server,
}

impl Setup {
    async fn start() -> Setup {
        let key = TestKey::rsa("k1", Algorithm::RS256);
        let idp = FakeIdp::start(jwks(&[key.jwk()])).await;
        let port = free_port();
        // No JWKS URL: the example finds it through the issuer's OpenID discovery.
        let mut server = Server::spawn(
            env!("CARGO_BIN_EXE_custom"),
            port,
            &[("MCP_USE_OAUTH_CUSTOM_ISSUER", &idp.issuer())],
        );
        server.wait_ready().await;
        Setup { idp, key, server }
    }

    /// The resource URL the example uses by default, hence the audience it requires.
    fn resource(&self) -> String {
        format!("http://localhost:{}/mcp", self.server.port)
    }

    fn token(&self, sub: &str, scope: &str) -> String {
        let mut c = claims(&self.idp.issuer(), &self.resource(), sub);
        c["scope"] = json!(scope);
        c["email"] = json!(format!("{sub}@example.com"));
        self.key.sign(&c)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_token_points_at_the_resource_metadata() {
    let s = Setup::start().await;
    let resp = s.server.mcp(None, "tools/list", json!({})).await;
    assert_eq!(resp.status(), 401);
    // The resource is http://localhost:PORT/mcp and the request named
    // 127.0.0.1: the challenge points at the metadata under that loopback name.
    let metadata_url = format!(
        "http://127.0.0.1:{}/.well-known/oauth-protected-resource/mcp",
        s.server.port
    );
    assert!(
        challenge(&resp).contains(&format!("resource_metadata=\"{metadata_url}\"")),
        "{:?}",
        challenge(&resp)
    );

    let metadata = s.server.resource_metadata().await;
    // Asked as 127.0.0.1, the metadata names the resource under that name.
    assert_eq!(metadata["resource"], s.server.url("/mcp"));
    assert_eq!(metadata["authorization_servers"][0], s.idp.issuer());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whoami_returns_the_tokens_subject() {
    let s = Setup::start().await;
    let answer = s
        .server
        .call_tool(&s.token("alice", "read"), "whoami")
        .await;
    let user = &answer["result"]["structuredContent"];
    assert_eq!(user["user_id"], "alice", "{answer}");
    assert_eq!(user["email"], "alice@example.com", "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_action_requires_the_admin_scope() {
    let s = Setup::start().await;
    // Refused at the HTTP layer: the 403 clients step up on, naming admin.
    let refused = s
        .server
        .mcp(
            Some(&s.token("alice", "read")),
            "tools/call",
            json!({"name": "admin-action", "arguments": {}}),
        )
        .await;
    assert_eq!(refused.status(), 403);
    let challenge = challenge(&refused);
    assert!(
        challenge.starts_with("Bearer error=\"insufficient_scope\", scope=\"admin\""),
        "{challenge}"
    );
    assert!(challenge.contains("resource_metadata=\""), "{challenge}");
    // The same token calls whoami.
    let whoami = s
        .server
        .call_tool(&s.token("alice", "read"), "whoami")
        .await;
    assert_eq!(whoami["result"]["structuredContent"]["user_id"], "alice");

    let allowed = s
        .server
        .call_tool(&s.token("root", "read admin"), "admin-action")
        .await;
    assert_eq!(allowed["result"]["isError"], false, "{allowed}");
    assert!(
        allowed["result"]["content"][0]["text"]
            .as_str()
            .is_some_and(|t| t.contains("root")),
        "{allowed}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_for_another_audience_is_invalid() {
    let s = Setup::start().await;
    let foreign = s.key.sign(&claims(
        &s.idp.issuer(),
        "https://other.example.com/mcp",
        "alice",
    ));
    let resp = s.server.mcp(Some(&foreign), "tools/list", json!({})).await;
    assert_invalid_token(&resp);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issuer_down_before_any_key_is_cached_is_503_with_retry_after() {
    let mut s = Setup::start().await;
    let token = s.token("alice", "read");
    s.idp.stop().await;
    let resp = s.server.mcp(Some(&token), "tools/list", json!({})).await;
    assert_eq!(resp.status(), 503, "stderr:\n{}", s.server.stderr());
    assert!(resp.headers().contains_key("retry-after"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxy_mode_with_a_pre_registered_client_runs_the_broker_from_the_environment() {
    let key = TestKey::rsa("k1", Algorithm::RS256);
    let idp = FakeIdp::start(jwks(&[key.jwk()])).await;
    idp.set_refuse_unknown_clients(true);
    let server = custom_broker(&idp, &[]).await;
    let port = server.port;
    let base = format!("http://localhost:{port}");
    idp.set_access_token(key.sign(&claims(&idp.issuer(), &format!("{base}/mcp"), "bob")));

    let metadata: Value = reqwest::get(format!("{base}/.well-known/oauth-authorization-server"))
        .await
        .expect("GET metadata")
        .json()
        .await
        .expect("JSON");
    assert_eq!(metadata["issuer"], base);
    assert_eq!(
        metadata["token_endpoint_auth_methods_supported"],
        json!(["none"])
    );
    assert_eq!(
        metadata["authorization_response_iss_parameter_supported"],
        true
    );

    let client = ProxyClient::register(&base, "http://127.0.0.1:9/callback").await;
    let back = client.log_in(&mut Browser::default(), &[]).await;
    assert_eq!(back["iss"], base);
    assert_eq!(idp.authorize_queries()[0]["client_id"], "mcp-server");
    assert_eq!(idp.token_forms()[0]["client_secret"], "upstream-secret");
    let (status, tokens) = client.redeem(&back["code"]).await;
    assert_eq!(status, 200, "{tokens}\n{}", server.stderr());
    let access = tokens["access_token"].as_str().expect("access token");
    let answer = server.call_tool(access, "whoami").await;
    assert_eq!(
        answer["result"]["structuredContent"]["user_id"], "bob",
        "{answer}"
    );
}

#[test]
fn a_client_secret_without_a_client_id_exits_2_naming_the_variable() {
    let env = [
        ("MCP_USE_OAUTH_CUSTOM_ISSUER", "https://auth.example.com"),
        ("MCP_USE_OAUTH_CUSTOM_CLIENT_SECRET", "s"),
    ];
    let mut server = Server::spawn(env!("CARGO_BIN_EXE_custom"), free_port(), &env);
    let stderr = server.expect_exit_2();
    assert!(
        stderr.contains("MCP_USE_OAUTH_CUSTOM_CLIENT_SECRET"),
        "stderr:\n{stderr}"
    );
}
