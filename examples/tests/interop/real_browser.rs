//! Real-browser tests: Debian's Chromium, driven by `playwright-core`
//! (`interop/real-browser.mjs`), against the example servers started as
//! processes. What a person sees and what a browser enforces: both consent
//! pages (dev issuer, proxy broker) approved and denied by click and by
//! keyboard alone, without a CSP violation, refusing to render inside a frame
//! of another origin; a page of another origin reading the 401 challenge and
//! calling a tool (CORS); the MCP Inspector logging in to the quickstart and
//! to proxy mode in front of `oidc-provider`, listing tools and calling
//! `whoami`. And the MCP TypeScript SDK reaching the quickstart under both
//! loopback names.
//!
//! Chromium is installed by `interop/install-chromium.sh` when missing (apt-get,
//! Debian's package `chromium`); the Node packages (playwright-core, the
//! Inspector, Node 22 for it) come from `interop/package-lock.json`.
//! Screenshots are kept in `interop/artifacts/` (ignored by git).

use crate::{common, fixture};

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use common::{Server, free_port};
use fixture::{Alg, Idp, ensure_installed, interop_dir, run_ts_client};
use mcp_auth_testkit::{FakeIdp, TestKey, claims, jwks};
use serde_json::Value;

/// Where the screenshots go.
fn artifacts() -> PathBuf {
    interop_dir().join("artifacts")
}

/// Installs Chromium (once per test process) and the Node packages.
fn ensure_browser() {
    static CHROMIUM: OnceLock<()> = OnceLock::new();
    ensure_installed();
    CHROMIUM.get_or_init(|| {
        let out = Command::new("bash")
            .arg(interop_dir().join("install-chromium.sh"))
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("cannot run interop/install-chromium.sh: {e}"));
        assert!(
            out.status.success(),
            "interop/install-chromium.sh failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    });
}

/// Runs one scenario of `interop/real-browser.mjs`; its JSON result.
fn scenario(name: &str, args: &[(&str, &str)], logs: impl Fn() -> String) -> Value {
    ensure_browser();
    let dir = interop_dir();
    let mut cmd = Command::new("node");
    cmd.arg(dir.join("real-browser.mjs")).arg(name);
    for (k, v) in args {
        cmd.arg(format!("--{k}")).arg(v);
    }
    let out = cmd
        .current_dir(&dir)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run real-browser.mjs: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "real-browser.mjs {name} failed ({}):\n{stderr}\n--- servers:\n{}",
        out.status,
        logs()
    );
    let result: Value = stdout
        .lines()
        .rev()
        .find_map(|l| serde_json::from_str(l).ok())
        .unwrap_or_else(|| panic!("no JSON from real-browser.mjs {name}: {stdout}\n{stderr}"));
    assert_eq!(result["ok"], true, "{result}");
    result
}

/// The quickstart as a new user runs it (public URL `http://localhost:PORT/mcp`),
/// with its consent page.
async fn quickstart() -> Server {
    let mut server = Server::spawn(env!("CARGO_BIN_EXE_quickstart"), free_port(), &[]);
    server.wait_ready().await;
    server
}

/// The assertions every consent page must pass in the browser.
fn assert_consent_page(result: &Value, name: &str) {
    let decisions = result["decisions"].as_array().expect("decisions");
    let seen: Vec<(String, String)> = decisions
        .iter()
        .map(|d| {
            (
                d["decision"].as_str().unwrap_or_default().to_owned(),
                d["how"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("approve".into(), "click".into()),
            ("deny".into(), "click".into()),
            ("approve".into(), "keyboard".into()),
            ("deny".into(), "keyboard".into())
        ]
    );
    for d in decisions {
        assert_eq!(d["state_ok"], true, "state comes back unchanged: {d}");
        assert!(d["iss"].is_string(), "RFC 9207 iss: {d}");
        assert_eq!(d["frame_headers"]["x_frame_options"], "DENY", "{d}");
        assert!(
            d["frame_headers"]["csp"]
                .as_str()
                .is_some_and(|c| c.contains("frame-ancestors 'none'")),
            "{d}"
        );
        match d["decision"].as_str() {
            Some("approve") => {
                assert_eq!(d["code"], true, "approving yields a code: {d}");
                assert!(d["error"].is_null(), "{d}");
            }
            _ => {
                assert_eq!(d["code"], false, "denying yields no code: {d}");
                assert_eq!(d["error"], "access_denied", "{d}");
            }
        }
        if d["how"] == "keyboard" {
            assert!(d["tabs"].as_u64().is_some_and(|t| t >= 1), "{d}");
        }
    }
    assert_eq!(
        result["csp_violations"],
        serde_json::json!([]),
        "no CSP violation in the console"
    );
    // Inside a frame of another origin, Chromium refuses to render the page.
    assert_eq!(
        result["framed"]["buttons"], 0,
        "the framed page rendered: {}",
        result["framed"]
    );
    assert!(
        result["framed"]["frame_url"]
            .as_str()
            .is_some_and(|u| u.starts_with("chrome-error://")),
        "{}",
        result["framed"]
    );
    let screenshot = artifacts().join(format!("{name}-consent.png"));
    let size = std::fs::metadata(&screenshot)
        .unwrap_or_else(|e| panic!("no screenshot at {}: {e}", screenshot.display()))
        .len();
    assert!(size > 1000, "{} is {size} bytes", screenshot.display());
}

#[tokio::test]
async fn the_dev_issuer_consent_page_works_by_click_and_keyboard_and_refuses_frames() {
    let server = quickstart().await;
    let base = format!("http://localhost:{}", server.port);
    let resource = format!("{base}/mcp");
    let result = scenario(
        "consent",
        &[
            ("base", &base),
            ("resource", &resource),
            ("name", "dev-issuer"),
            ("artifacts", &artifacts().to_string_lossy()),
        ],
        || server.stderr(),
    );
    assert_consent_page(&result, "dev-issuer");
}

/// `oidc-provider` (`interop/idp.mjs`) with one pre-registered confidential
/// client, for the broker. It exits when its stdin closes (on drop) and is
/// killed for good measure.
struct ProviderWithClient {
    child: std::process::Child,
    issuer: String,
}

impl ProviderWithClient {
    fn start(resource: &str, client: &str) -> ProviderWithClient {
        use std::io::{BufRead, BufReader};
        ensure_installed();
        let dir = interop_dir();
        let mut child = Command::new("node")
            .arg(dir.join("idp.mjs"))
            .args(["--port", "0", "--resource", resource, "--client", client])
            .current_dir(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start idp.mjs: {e}"));
        let mut line = String::new();
        let stdout = child.stdout.take().expect("piped stdout");
        let _ = BufReader::new(stdout).read_line(&mut line);
        let issuer = serde_json::from_str::<Value>(&line)
            .ok()
            .and_then(|v| v["issuer"].as_str().map(str::to_owned))
            .unwrap_or_else(|| panic!("idp.mjs did not announce its issuer: {line:?}"));
        ProviderWithClient { child, issuer }
    }
}

impl Drop for ProviderWithClient {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn the_broker_consent_page_works_by_click_and_keyboard_and_refuses_frames() {
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let resource = format!("{base}/mcp");
    let idp = ProviderWithClient::start(
        &resource,
        &format!("mcp-server:upstream-secret:{base}/oauth/callback"),
    );
    let issuer = &idp.issuer;
    let (auth, token) = (format!("{issuer}/auth"), format!("{issuer}/token"));
    let mut server = Server::spawn(
        env!("CARGO_BIN_EXE_custom"),
        port,
        &[
            ("MCP_URL", &resource),
            ("MCP_USE_OAUTH_CUSTOM_ISSUER", issuer),
            ("MCP_USE_OAUTH_CUSTOM_SCOPES", "mcp:tools"),
            ("MCP_USE_OAUTH_CUSTOM_MODE", "proxy"),
            ("MCP_USE_OAUTH_CUSTOM_AUTH_ENDPOINT", &auth),
            ("MCP_USE_OAUTH_CUSTOM_TOKEN_ENDPOINT", &token),
            ("MCP_USE_OAUTH_CUSTOM_CLIENT_ID", "mcp-server"),
            ("MCP_USE_OAUTH_CUSTOM_CLIENT_SECRET", "upstream-secret"),
        ],
    );
    server.wait_ready().await;
    let result = scenario(
        "consent",
        &[
            ("base", &base),
            ("resource", &resource),
            ("name", "broker"),
            ("login", "alice"),
            ("artifacts", &artifacts().to_string_lossy()),
        ],
        || server.stderr(),
    );
    assert_consent_page(&result, "broker");
    for d in result["decisions"].as_array().expect("decisions") {
        assert_eq!(d["iss"], base.as_str(), "the broker's own iss: {d}");
    }
}

// The fake provider serves from this runtime while the scenario blocks a thread.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_of_another_origin_reads_the_challenge_and_calls_a_tool() {
    let key = TestKey::ec_p256("k1");
    let idp = FakeIdp::start(jwks(&[key.jwk()])).await;
    let port = free_port();
    let mcp_url = format!("http://127.0.0.1:{port}/mcp");
    let (issuer, jwks_url) = (idp.issuer(), idp.jwks_url());
    let mut server = Server::spawn(
        env!("CARGO_BIN_EXE_custom"),
        port,
        &[
            ("MCP_URL", &mcp_url),
            ("MCP_USE_OAUTH_CUSTOM_ISSUER", &issuer),
            ("MCP_USE_OAUTH_CUSTOM_JWKS_URL", &jwks_url),
            ("MCP_USE_OAUTH_CUSTOM_SCOPES", "mcp:tools"),
        ],
    );
    server.wait_ready().await;
    let token = key.sign(&claims(&issuer, &mcp_url, "alice"));
    let result = scenario(
        "cross-origin",
        &[("mcp-url", &mcp_url), ("token", &token)],
        || server.stderr(),
    );
    assert_ne!(
        result["origin"].as_str().unwrap_or_default(),
        server.url(""),
        "the page is of another origin"
    );
    assert_eq!(result["challenge_status"], 401, "{result}");
    let challenge = result["challenge"].as_str().unwrap_or_default();
    assert!(
        challenge.contains(&format!(
            "resource_metadata=\"http://127.0.0.1:{port}/.well-known/oauth-protected-resource/mcp\""
        )),
        "the script read the challenge: {result}"
    );
    assert_eq!(result["metadata"]["resource"], mcp_url.as_str());
    assert_eq!(result["call_status"], 200, "{result}");
    assert_eq!(
        result["call"]["result"]["structuredContent"]["user_id"], "alice",
        "{result}"
    );
}

/// The Inspector's run must show the whole flow: login, tools listed, whoami
/// answered for `user`.
fn assert_inspector_run(result: &Value, user: &str) {
    let tools: Vec<&str> = result["tools"]
        .as_array()
        .expect("tools")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(tools.contains(&"whoami"), "{result}");
    assert_eq!(result["user_id"], user, "{result}");
    let navigations: Vec<&str> = result["navigations"]
        .as_array()
        .expect("navigations")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    // One login, whether the Inspector connected on its own after it or
    // needed Connect pressed again (`connect_pressed_again`).
    assert_eq!(
        navigations
            .iter()
            .filter(|u| u.contains("/oauth/callback?code="))
            .count(),
        1,
        "the OAuth flow came back with a code, once: {navigations:?}"
    );
}

#[tokio::test]
async fn the_inspector_logs_in_to_the_quickstart_lists_tools_and_calls_whoami() {
    let server = quickstart().await;
    let mcp_url = format!("http://localhost:{}/mcp", server.port);
    let result = scenario(
        "inspector",
        &[
            ("mcp-url", &mcp_url),
            ("name", "inspector-quickstart"),
            ("artifacts", &artifacts().to_string_lossy()),
        ],
        || server.stderr(),
    );
    assert_eq!(result["consent_seen"], true, "{result}");
    assert_inspector_run(&result, "dev-user");
    assert_eq!(result["email"], "dev@example.com");
}

#[tokio::test]
async fn the_inspector_logs_in_through_proxy_mode_in_front_of_oidc_provider() {
    let port = free_port();
    let mcp_url = format!("http://127.0.0.1:{port}/mcp");
    let idp = Idp::start(&[&mcp_url], Alg::Rs256);
    let discovery = idp.discovery().await;
    let endpoint = |name: &str| {
        discovery[name]
            .as_str()
            .unwrap_or_else(|| panic!("oidc-provider advertises no {name}"))
            .to_owned()
    };
    let (auth, token, register) = (
        endpoint("authorization_endpoint"),
        endpoint("token_endpoint"),
        endpoint("registration_endpoint"),
    );
    let mut server = Server::spawn(
        env!("CARGO_BIN_EXE_custom"),
        port,
        &[
            ("MCP_URL", &mcp_url),
            ("MCP_USE_OAUTH_CUSTOM_ISSUER", &idp.issuer),
            ("MCP_USE_OAUTH_CUSTOM_SCOPES", "mcp:tools"),
            ("MCP_USE_OAUTH_CUSTOM_MODE", "proxy"),
            ("MCP_USE_OAUTH_CUSTOM_AUTH_ENDPOINT", &auth),
            ("MCP_USE_OAUTH_CUSTOM_TOKEN_ENDPOINT", &token),
            ("MCP_USE_OAUTH_CUSTOM_REGISTRATION_ENDPOINT", &register),
        ],
    );
    server.wait_ready().await;
    let result = scenario(
        "inspector",
        &[
            ("mcp-url", &mcp_url),
            ("name", "inspector-proxy"),
            ("login", "alice"),
            ("artifacts", &artifacts().to_string_lossy()),
        ],
        || format!("{}\n--- oidc-provider:\n{}", server.stderr(), idp.logs()),
    );
    assert_inspector_run(&result, "alice");
    let navigations = result["navigations"].to_string();
    assert!(
        navigations.contains(&format!("{}/interaction/", idp.issuer)),
        "the user logged in at the provider: {navigations}"
    );
    // The authorization response came back through our relay, with our iss.
    let ours = format!("iss=http%3A%2F%2F127.0.0.1%3A{port}");
    assert!(
        navigations.contains(&ours),
        "the callback carries {ours}: {navigations}"
    );
}

/// The TS SDK checks that the protected-resource metadata names the URL it
/// connected to: the quickstart (`http://localhost:PORT/mcp`) answers under
/// both loopback names.
#[tokio::test]
async fn the_ts_sdk_logs_in_to_the_quickstart_as_localhost_and_as_127_0_0_1() {
    let server = quickstart().await;
    for name in ["localhost", "127.0.0.1"] {
        let mcp_url = format!("http://{name}:{}/mcp", server.port);
        let run = run_ts_client(&mcp_url, "ignored");
        let out = &run.output;
        assert_eq!(
            out["result"]["structuredContent"]["user_id"], "dev-user",
            "{out}"
        );
        assert_eq!(out["token_claims"]["aud"], mcp_url.as_str(), "{out}");
        assert_eq!(
            out["callback_iss"],
            format!("http://{name}:{}", server.port),
            "{out}"
        );
    }
}
