//! The quickstart binary started as a process: it prints a token, and that token
//! calls `whoami`; an OAuth client registers and logs in through its dev issuer.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use mcp_auth_testkit::{Browser, hidden_input, location};
use serde_json::{Value, json};

use crate::common;
use common::free_port;

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the quickstart and returns it with the access token it printed.
fn start(port: u16, auto_approve: bool) -> (Killed, String) {
    let (guard, token, _) = start_printing(port, auto_approve);
    (guard, token)
}

/// Starts the quickstart; the access token it printed, and every line it
/// printed before serving.
fn start_printing(port: u16, auto_approve: bool) -> (Killed, String, Vec<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_quickstart"))
        .env("PORT", port.to_string())
        .env_remove("MCP_URL")
        .env(
            "MCP_AUTH_DEV_AUTO_APPROVE",
            if auto_approve { "1" } else { "0" },
        )
        .current_dir(std::env::temp_dir())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start quickstart");
    let stdout = child.stdout.take().expect("stdout");
    let guard = Killed(child);
    let mut token = None;
    let mut printed = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("line");
        if let Some(t) = line.strip_prefix("Access token: ") {
            token = Some(t.trim().to_owned());
        }
        let last = line.trim_start().starts_with("then open");
        printed.push(line);
        if last {
            break;
        }
    }
    (
        guard,
        token.expect("the quickstart printed an access token"),
        printed,
    )
}

async fn wait_ready(base: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if reqwest::get(format!("{base}/health"))
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("quickstart not ready on {base}");
}

async fn send(base: &str, token: &str, tool: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{base}/mcp"))
        .bearer_auth(token)
        .header("accept", "application/json, text/event-stream")
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": tool, "arguments": {}}}))
        .send()
        .await
        .expect("send")
}

async fn call(base: &str, token: &str, tool: &str) -> Value {
    let resp = send(base, token, tool).await;
    assert_eq!(resp.status(), 200, "tools/call {tool}");
    resp.json().await.expect("json")
}

#[tokio::test]
async fn the_printed_token_calls_whoami() {
    let port = free_port();
    let (_server, token) = start(port, false);
    let base = format!("http://127.0.0.1:{port}");
    wait_ready(&base).await;
    let body = call(&base, &token, "whoami").await;
    assert_eq!(
        body["result"]["structuredContent"]["user_id"], "dev-user",
        "{body}"
    );
    assert_eq!(
        body["result"]["structuredContent"]["email"],
        "dev@example.com"
    );
    // The printed token has no admin scope: the layer refuses the gated tool with
    // the 403 clients step up on, naming every scope the call needs.
    let resp = send(&base, &token, "admin-action").await;
    assert_eq!(resp.status(), 403);
    assert_eq!(
        resp.headers()["www-authenticate"].to_str().expect("ascii"),
        format!(
            "Bearer error=\"insufficient_scope\", scope=\"mcp:tools admin\", \
             error_description=\"The token lacks a required scope\", \
             resource_metadata=\"http://127.0.0.1:{port}/.well-known/oauth-protected-resource/mcp\""
        )
    );
    let body: Value = resp.json().await.expect("json");
    assert_eq!(body["missing_scopes"], json!(["admin"]), "{body}");
    // No token: the 401 says what basic use needs.
    let resp = reqwest::Client::new()
        .post(format!("{base}/mcp"))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 401);
    assert!(
        resp.headers()["www-authenticate"]
            .to_str()
            .expect("ascii")
            .ends_with(", scope=\"mcp:tools\""),
        "{:?}",
        resp.headers()["www-authenticate"]
    );
    // The client reached the server as 127.0.0.1: the challenge names the
    // metadata under that name (the resource is on a loopback host).
    assert!(resp.headers()["www-authenticate"].to_str().expect("ascii").contains(&format!(
        "resource_metadata=\"http://127.0.0.1:{port}/.well-known/oauth-protected-resource/mcp\""
    )));
}

#[test]
fn it_prints_the_url_and_the_inspector_command_that_connects_to_it() {
    let port = free_port();
    let (_server, _, printed) = start_printing(port, false);
    let url = format!("http://localhost:{port}/mcp");
    assert!(
        printed.iter().any(|l| l == &format!("MCP URL: {url}")),
        "{printed:#?}"
    );
    let inspector =
        format!("npx -y @modelcontextprotocol/inspector@1.0.3 --transport http --server-url {url}");
    assert!(
        printed.iter().any(|l| l.trim() == inspector),
        "{printed:#?}"
    );
    // The interop suite drives the Inspector version the quickstart names.
    let lock = include_str!("../../../interop/package.json");
    assert!(
        lock.contains("\"@modelcontextprotocol/inspector\": \"1.0.3\""),
        "interop/package.json pins another Inspector"
    );
}

#[tokio::test]
async fn an_oauth_client_logs_in_through_the_dev_issuer() {
    let port = free_port();
    // The consent page: admin is granted only when the user ticks it there.
    let (_server, _) = start(port, false);
    let base = format!("http://127.0.0.1:{port}");
    wait_ready(&base).await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let asm: Value = http
        .get(format!("{base}/.well-known/oauth-authorization-server"))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(
        asm["issuer"],
        format!("http://127.0.0.1:{port}"),
        "the issuer under the loopback name the client used"
    );
    let client: Value = http
        .post(format!("{base}/register"))
        .json(&json!({"redirect_uris": ["http://127.0.0.1:9/cb"], "token_endpoint_auth_method": "none"}))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    let id = client["client_id"].as_str().expect("id");
    let verifier = "quickstart-test-verifier-0123456789-abcdefghijklmnop";
    let challenge = mcp_auth_testkit::s256_challenge(verifier);
    let mut authorize = url::Url::parse(&format!("{base}/authorize")).expect("url");
    authorize
        .query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", id)
        .append_pair("redirect_uri", "http://127.0.0.1:9/cb")
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256")
        .append_pair("scope", "mcp:tools admin");
    let mut browser = Browser::default();
    let page = browser.get(authorize.as_str()).await;
    assert_eq!(page.status(), 200, "the consent page");
    let html = page.text().await.expect("html");
    let request_id = hidden_input(&html, "request_id");
    let csrf_token = hidden_input(&html, "csrf_token");
    let resp = browser
        .post_form(
            &format!("{base}/authorize/consent"),
            &[
                ("request_id", &request_id),
                ("csrf_token", &csrf_token),
                ("grant_scope", "admin"),
                ("decision", "approve"),
            ],
        )
        .await;
    let location = location(&resp);
    let code = location
        .split("code=")
        .nth(1)
        .and_then(|r| r.split('&').next())
        .expect("code");
    let tokens: Value = http
        .post(format!("{base}/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("code_verifier", verifier),
            ("client_id", id),
        ])
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    let access = tokens["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("{tokens}"));
    let body = call(&base, access, "admin-action").await;
    assert_eq!(
        body["result"]["content"][0]["text"], "admin action performed by dev-user",
        "{body}"
    );
}
