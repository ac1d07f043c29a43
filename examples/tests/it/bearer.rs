//! The `bearer` example as a process: static API keys in front of a real rmcp server.

use crate::common;

use common::{Server, challenge, free_port};
use serde_json::{Value, json};

async fn start(env: &[(&str, &str)]) -> Server {
    let mut server = Server::spawn(env!("CARGO_BIN_EXE_bearer"), free_port(), env);
    server.wait_ready().await;
    server
}

#[tokio::test]
async fn health_is_public() {
    let server = start(&[]).await;
    let resp = reqwest::get(server.url("/health"))
        .await
        .expect("GET /health");
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.text().await.expect("body"), "ok");
}

#[tokio::test]
async fn no_token_is_401_with_a_challenge() {
    let server = start(&[]).await;
    let resp = server.mcp(None, "tools/list", json!({})).await;
    assert_eq!(resp.status(), 401);
    assert!(
        challenge(&resp).starts_with("Bearer"),
        "challenge: {:?}",
        challenge(&resp)
    );
    let body: Value = resp.json().await.expect("JSON body");
    assert_eq!(body["error"], "unauthorized");
}

#[tokio::test]
async fn valid_key_lists_the_tools() {
    let server = start(&[]).await;
    let resp = server.mcp(Some("sk-abc123"), "tools/list", json!({})).await;
    assert_eq!(resp.status(), 200, "stderr:\n{}", server.stderr());
    let body: Value = resp.json().await.expect("JSON-RPC answer");
    let tools = body["result"]["tools"].as_array().expect("a tools array");
    assert!(
        tools.iter().any(|t| t["name"] == "whoami"),
        "tools: {tools:?}"
    );
}

#[tokio::test]
async fn whoami_returns_the_keys_owner() {
    let server = start(&[]).await;
    let alice = server.call_tool("sk-abc123", "whoami").await;
    assert_eq!(alice["result"]["isError"], false, "{alice}");
    assert_eq!(
        alice["result"]["structuredContent"]["email"], "alice@example.com",
        "{alice}"
    );
    let bob = server.call_tool("sk-def456", "whoami").await;
    assert_eq!(
        bob["result"]["structuredContent"]["email"], "bob@example.com",
        "{bob}"
    );
}

#[tokio::test]
async fn works_without_a_protocol_version_header() {
    let server = start(&[]).await;
    let resp = reqwest::Client::new()
        .post(server.url("/mcp"))
        .bearer_auth("sk-abc123")
        .header("Accept", "application/json, text/event-stream")
        .header("Content-Type", "application/json")
        .body(r#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"whoami","arguments":{}}}"#)
        .send()
        .await
        .expect("POST /mcp");
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.expect("JSON-RPC answer");
    assert_eq!(body["id"], 7);
    assert_eq!(
        body["result"]["structuredContent"]["email"], "alice@example.com",
        "{body}"
    );
}

#[tokio::test]
async fn wrong_key_is_401_invalid_token() {
    let server = start(&[]).await;
    let resp = server.mcp(Some("sk-wrong"), "tools/list", json!({})).await;
    assert_eq!(resp.status(), 401);
    assert!(
        challenge(&resp).contains(r#"error="invalid_token""#),
        "challenge: {:?}",
        challenge(&resp)
    );
    let body: Value = resp.json().await.expect("JSON body");
    assert_eq!(body["error"], "invalid_token");
}

#[tokio::test]
async fn keys_from_the_environment_replace_the_demo_keys() {
    let server = start(&[("MCP_AUTH_API_KEYS", "sk-carol=carol@example.com")]).await;
    let carol = server.call_tool("sk-carol", "whoami").await;
    assert_eq!(
        carol["result"]["structuredContent"]["email"], "carol@example.com",
        "{carol}"
    );
    let resp = server.mcp(Some("sk-abc123"), "tools/list", json!({})).await;
    assert_eq!(resp.status(), 401, "the demo key must be gone");
}

#[test]
fn malformed_key_list_exits_2_naming_the_variable() {
    let mut server = Server::spawn(
        env!("CARGO_BIN_EXE_bearer"),
        free_port(),
        &[("MCP_AUTH_API_KEYS", "no-equals-sign")],
    );
    server.expect_exit_2_naming(&["MCP_AUTH_API_KEYS"]);
}

#[test]
fn malformed_port_exits_2_naming_the_variable() {
    let mut server = Server::spawn(env!("CARGO_BIN_EXE_bearer"), 0, &[("PORT", "not-a-port")]);
    server.expect_exit_2_naming(&["PORT"]);
}
