//! Runs an example binary as a child process on a free port and talks to it over HTTP.

#![allow(dead_code)] // each test file uses its own subset

use std::io::Read;
use std::net::TcpListener;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// Environment variables of the examples that the tests control; removed from the
/// child's environment unless a test sets them.
const CONTROLLED_VARS: &[&str] = &[
    "PORT",
    "MCP_URL",
    "MCP_AUTH_API_KEYS",
    "MCP_USE_OAUTH_CUSTOM_ISSUER",
    "MCP_USE_OAUTH_CUSTOM_AUDIENCE",
    "MCP_USE_OAUTH_CUSTOM_JWKS_URL",
    "MCP_USE_OAUTH_CUSTOM_AUTH_ENDPOINT",
    "MCP_USE_OAUTH_CUSTOM_TOKEN_ENDPOINT",
    "MCP_USE_OAUTH_CUSTOM_REGISTRATION_ENDPOINT",
    "MCP_USE_OAUTH_CUSTOM_SCOPES",
    "MCP_USE_OAUTH_CUSTOM_MODE",
    "MCP_USE_OAUTH_AUTH0_DOMAIN",
    "MCP_USE_OAUTH_AUTH0_AUDIENCE",
    "MCP_USE_OAUTH_WORKOS_SUBDOMAIN",
    "MCP_USE_OAUTH_WORKOS_CLIENT_ID",
    "MCP_USE_OAUTH_WORKOS_API_KEY",
    "MCP_USE_OAUTH_SUPABASE_PROJECT_ID",
    "MCP_USE_OAUTH_SUPABASE_URL",
    "MCP_USE_OAUTH_SUPABASE_JWT_SECRET",
    "MCP_USE_OAUTH_KEYCLOAK_SERVER_URL",
    "MCP_USE_OAUTH_KEYCLOAK_REALM",
    "MCP_USE_OAUTH_KEYCLOAK_CLIENT_ID",
    "MCP_USE_OAUTH_KEYCLOAK_CLIENT_SECRET",
    "MCP_AUTH_DEV_AUTO_APPROVE",
    "MCP_AUTH_STATE_KEY",
    "MCP_AUTH_REDIS_URL",
    "MCP_AUTH_REDIS_KEY_PREFIX",
];

/// A port that was free a moment ago, chosen below Linux's ephemeral range
/// (32768-60999): the fake servers of parallel tests bind port 0 and get ports
/// from that range, so they cannot take this one between our check and the
/// child's bind.
pub fn free_port() -> u16 {
    use std::hash::{BuildHasher, RandomState};
    let random = RandomState::new();
    for attempt in 0u32..1000 {
        let port = 20_000 + (random.hash_one((std::process::id(), attempt)) % 12_000) as u16;
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free port found below the ephemeral range");
}

/// A running example. Dropping it kills the process.
pub struct Server {
    child: Child,
    stderr: Arc<Mutex<String>>,
    reader: Option<JoinHandle<()>>,
    pub port: u16,
}

impl Server {
    /// Starts `bin` on a free port with `env`; each of `blank` that `env` does not
    /// set is set empty, which counts as unset, so nothing leaks in from the
    /// test's own environment.
    pub fn spawn_blanking(bin: &str, blank: &[&str], env: &[(&str, &str)]) -> Server {
        let mut all: Vec<(&str, &str)> = blank
            .iter()
            .filter(|v| !env.iter().any(|(name, _)| name == *v))
            .map(|v| (*v, ""))
            .collect();
        all.extend_from_slice(env);
        Server::spawn(bin, free_port(), &all)
    }

    /// Waits (30 s at most) for the process to end, which must be with status 2
    /// (a configuration error); its stderr.
    pub fn expect_exit_2(&mut self) -> String {
        let (status, stderr) = self.wait_exit(Duration::from_secs(30));
        assert_eq!(status.code(), Some(2), "stderr:\n{stderr}");
        stderr
    }

    /// As [`Server::expect_exit_2`], and the error names each of `names` (the
    /// variables to fix); its stderr.
    pub fn expect_exit_2_naming(&mut self, names: &[&str]) -> String {
        let stderr = self.expect_exit_2();
        for name in names {
            assert!(stderr.contains(name), "{name} in stderr:\n{stderr}");
        }
        stderr
    }

    /// `GET /.well-known/oauth-protected-resource/mcp` as JSON.
    pub async fn resource_metadata(&self) -> Value {
        reqwest::get(self.url("/.well-known/oauth-protected-resource/mcp"))
            .await
            .expect("GET metadata")
            .json()
            .await
            .expect("JSON metadata")
    }

    /// The protected-resource metadata of an example in proxy mode, which must
    /// name the example itself (`http://localhost:PORT`) as the authorization
    /// server.
    pub async fn proxy_resource_metadata(&self) -> Value {
        let metadata = self.resource_metadata().await;
        assert_eq!(
            metadata["authorization_servers"][0],
            format!("http://localhost:{}", self.port),
            "{metadata}"
        );
        metadata
    }

    /// Starts `bin` with `env` (and nothing else of the controlled variables), in a
    /// directory without a `.env`, and captures its stderr.
    pub fn spawn(bin: &str, port: u16, env: &[(&str, &str)]) -> Server {
        let mut cmd = Command::new(bin);
        for var in CONTROLLED_VARS {
            cmd.env_remove(var);
        }
        cmd.env("PORT", port.to_string())
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1");
        cmd.envs(env.iter().copied());
        // dotenvy searches the working directory and its parents for `.env`.
        cmd.current_dir(std::env::temp_dir());
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {bin}: {e}"));
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut pipe = child.stderr.take().expect("piped stderr");
        let sink = Arc::clone(&stderr);
        // Drain stderr continuously so a chatty server never blocks on a full pipe.
        let reader = std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            loop {
                match pipe.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => sink
                        .lock()
                        .expect("stderr lock")
                        .push_str(&String::from_utf8_lossy(&buf[..n])),
                }
            }
        });
        Server {
            child,
            stderr,
            reader: Some(reader),
            port,
        }
    }

    /// The process id.
    #[allow(dead_code)]
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// What the process wrote to stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().expect("stderr lock").clone()
    }

    /// Waits for the process to exit on its own, at most `limit`, and returns its
    /// status with everything it wrote to stderr.
    pub fn wait_exit(&mut self, limit: Duration) -> (ExitStatus, String) {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                if let Some(reader) = self.reader.take() {
                    let _ = reader.join();
                }
                return (status, self.stderr());
            }
            assert!(
                Instant::now() < deadline,
                "process still running after {limit:?}; stderr:\n{}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `http://127.0.0.1:PORT` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Polls `GET /health` until it answers "ok" (at most 30 s), failing early if
    /// the process exits.
    pub async fn wait_ready(&mut self) {
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                panic!(
                    "server exited before becoming ready ({status}); stderr:\n{}",
                    self.stderr()
                );
            }
            if let Ok(resp) = client
                .get(self.url("/health"))
                .timeout(Duration::from_secs(2))
                .send()
                .await
                && resp.status() == 200
                && resp.text().await.is_ok_and(|body| body == "ok")
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "server not ready after 30 s; stderr:\n{}",
                self.stderr()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// POSTs one JSON-RPC request to `/mcp` as a stateless streamable-HTTP client
    /// does (no `initialize`), with `token` as bearer if given.
    pub async fn mcp(&self, token: Option<&str>, method: &str, params: Value) -> reqwest::Response {
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        let mut req = reqwest::Client::new()
            .post(self.url("/mcp"))
            .header("Accept", "application/json, text/event-stream")
            .header("Content-Type", "application/json")
            .header("MCP-Protocol-Version", "2025-06-18")
            .body(body.to_string())
            .timeout(Duration::from_secs(10));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        req.send().await.expect("POST /mcp")
    }

    /// `tools/call` of `name` without arguments; the JSON-RPC answer.
    pub async fn call_tool(&self, token: &str, name: &str) -> Value {
        let resp = self
            .mcp(
                Some(token),
                "tools/call",
                json!({"name": name, "arguments": {}}),
            )
            .await;
        assert_eq!(
            resp.status(),
            200,
            "tools/call {name}; stderr:\n{}",
            self.stderr()
        );
        resp.json().await.expect("JSON-RPC answer")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
    }
}

/// Asserts that `resp` is a 401 whose challenge says `invalid_token`.
pub fn assert_invalid_token(resp: &reqwest::Response) {
    assert_eq!(resp.status(), 401);
    assert!(
        challenge(resp).contains(r#"error="invalid_token""#),
        "{:?}",
        challenge(resp)
    );
}

/// Serves `doc` as JSON at `path` on a free port (a vendor's JWKS); the base URL.
pub async fn serve_json(path: &str, doc: Value) -> String {
    let app = axum::Router::new().route(
        path,
        axum::routing::get(move || {
            let doc = doc.clone();
            async move { axum::Json(doc) }
        }),
    );
    mcp_auth_testkit::serve(app).await.1
}

pub use mcp_auth_testkit::challenge;

/// The `custom` example in proxy mode as the broker, in front of `idp`, with
/// `mcp-server` / `upstream-secret` as its pre-registered client (which `idp`
/// learns), on a free port, ready; `extra` adds variables.
#[allow(dead_code)]
pub async fn custom_broker(idp: &mcp_auth_testkit::FakeIdp, extra: &[(&str, &str)]) -> Server {
    idp.add_confidential_client("mcp-server", "upstream-secret");
    let (issuer, authorize, token) = (idp.issuer(), idp.authorize_url(), idp.token_url());
    let mut env = vec![
        ("MCP_USE_OAUTH_CUSTOM_ISSUER", issuer.as_str()),
        ("MCP_USE_OAUTH_CUSTOM_MODE", "proxy"),
        ("MCP_USE_OAUTH_CUSTOM_AUTH_ENDPOINT", authorize.as_str()),
        ("MCP_USE_OAUTH_CUSTOM_TOKEN_ENDPOINT", token.as_str()),
        ("MCP_USE_OAUTH_CUSTOM_CLIENT_ID", "mcp-server"),
        ("MCP_USE_OAUTH_CUSTOM_CLIENT_SECRET", "upstream-secret"),
    ];
    env.extend_from_slice(extra);
    let mut server = Server::spawn(env!("CARGO_BIN_EXE_custom"), free_port(), &env);
    server.wait_ready().await;
    server
}
