//! The Node side of the interop suite (`interop/` at the repository root): its
//! installation, the `oidc-provider` identity provider and the MCP TypeScript SDK
//! client, each run as a child process of the test.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::JoinHandle;
use std::time::Duration;

use serde_json::Value;

/// What to install when Node is missing; every failure to find it says this.
const NODE_REQUIRED: &str = "the interop suite needs Node.js 20 or newer with npm on PATH: \
     install it (Debian: `apt-get install nodejs npm`, or https://nodejs.org) and re-run the tests";

/// `interop/` at the repository root.
pub fn interop_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the examples crate lives in the workspace")
        .join("interop")
}

/// Installs the fixture's Node packages from its lock file, once per test process
/// and under a file lock across the processes nextest runs in parallel. Fails the
/// test, never skips it, when Node is missing or the installation fails.
pub fn ensure_installed() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        match Command::new("node").arg("--version").output() {
            Ok(out) if out.status.success() => {}
            Ok(out) => panic!(
                "`node --version` failed ({}): {NODE_REQUIRED}",
                String::from_utf8_lossy(&out.stderr).trim()
            ),
            Err(e) => panic!("cannot run `node` ({e}): {NODE_REQUIRED}"),
        }
        let dir = interop_dir();
        let lock = std::fs::File::create(dir.join(".install.lock"))
            .unwrap_or_else(|e| panic!("cannot create interop/.install.lock: {e}"));
        lock.lock()
            .unwrap_or_else(|e| panic!("cannot lock interop/.install.lock: {e}"));
        let out = Command::new("bash")
            .arg(dir.join("install.sh"))
            .current_dir(&dir)
            .output()
            .unwrap_or_else(|e| panic!("cannot run interop/install.sh: {e}"));
        assert!(
            out.status.success(),
            "interop/install.sh failed ({}):\n{}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    });
}

/// A child process whose stderr is collected in the background; killed on drop.
struct Process {
    child: Child,
    stdin: Option<ChildStdin>,
    stderr: Arc<Mutex<String>>,
    reader: Option<JoinHandle<()>>,
}

impl Process {
    fn spawn(mut cmd: Command) -> (Process, std::process::ChildStdout) {
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {cmd:?} ({e}): {NODE_REQUIRED}"));
        let stdout = child.stdout.take().expect("piped stdout");
        let mut pipe = child.stderr.take().expect("piped stderr");
        let stderr = Arc::new(Mutex::new(String::new()));
        let sink = Arc::clone(&stderr);
        let reader = std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .expect("stderr lock")
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        let stdin = child.stdin.take();
        (
            Process {
                child,
                stdin,
                stderr,
                reader: Some(reader),
            },
            stdout,
        )
    }

    /// Starts `cmd`, a script that announces itself with one JSON line on
    /// stdout, and waits (30 s at most) for that line; the process and the
    /// line's string `field`. Panics with `missing` and the script's stderr
    /// when no such line comes.
    fn spawn_announcing(cmd: Command, field: &str, missing: &str) -> (Process, String) {
        let (process, stdout) = Process::spawn(cmd);
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx.recv_timeout(Duration::from_secs(30)).unwrap_or_default();
        let value = serde_json::from_str::<Value>(&line)
            .ok()
            .and_then(|v| v[field].as_str().map(str::to_owned))
            .unwrap_or_else(|| {
                panic!(
                    "{missing} (stdout: {line:?}); stderr:\n{}",
                    process.stderr()
                )
            });
        (process, value)
    }

    fn stderr(&self) -> String {
        self.stderr.lock().expect("stderr lock").clone()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
    }
}

/// Signing algorithm of the identity provider's access tokens.
#[derive(Debug, Clone, Copy)]
pub enum Alg {
    Rs256,
    Es256,
}

impl Alg {
    pub fn as_str(self) -> &'static str {
        match self {
            Alg::Rs256 => "RS256",
            Alg::Es256 => "ES256",
        }
    }
}

/// `oidc-provider` on 127.0.0.1, issuing JWT access tokens for the given resources.
pub struct Idp {
    process: Process,
    pub issuer: String,
    http: reqwest::Client,
}

impl Idp {
    /// Starts `interop/idp.mjs`; tokens are signed with `alg` and only `resources`
    /// are accepted as resource indicators (the first is the default).
    pub fn start(resources: &[&str], alg: Alg) -> Idp {
        ensure_installed();
        let dir = interop_dir();
        let mut cmd = Command::new("node");
        cmd.arg(dir.join("idp.mjs"))
            .args(["--port", "0", "--alg", alg.as_str()])
            .current_dir(&dir);
        for resource in resources {
            cmd.args(["--resource", resource]);
        }
        let (process, issuer) =
            Process::spawn_announcing(cmd, "issuer", "idp.mjs did not announce its issuer");
        Idp {
            process,
            issuer,
            http: reqwest::Client::new(),
        }
    }

    /// What the provider wrote to stderr so far (for failure messages).
    pub fn logs(&self) -> String {
        self.process.stderr()
    }

    async fn json(&self, req: reqwest::RequestBuilder) -> Value {
        let resp = req
            .timeout(Duration::from_secs(10))
            .send()
            .await
            .expect("request to oidc-provider");
        let status = resp.status();
        let body = resp.text().await.unwrap_or_default();
        assert!(
            status.is_success(),
            "oidc-provider answered {status}: {body}\n{}",
            self.logs()
        );
        serde_json::from_str(&body).expect("oidc-provider answered JSON")
    }

    /// Its OpenID discovery document.
    pub async fn discovery(&self) -> Value {
        self.json(
            self.http
                .get(format!("{}/.well-known/openid-configuration", self.issuer)),
        )
        .await
    }

    /// Rotates its signing key: new tokens carry the returned new `kid`; the old
    /// key stays published.
    pub async fn rotate(&self) -> String {
        let answer = self
            .json(self.http.post(format!("{}/__control/rotate", self.issuer)))
            .await;
        answer["kid"]
            .as_str()
            .expect("rotate answers a kid")
            .to_owned()
    }

    /// How many times its JWKS was fetched so far.
    pub async fn jwks_requests(&self) -> u64 {
        let stats = self
            .json(self.http.get(format!("{}/__control/stats", self.issuer)))
            .await;
        stats["jwks_requests"]
            .as_u64()
            .expect("stats carry jwks_requests")
    }

    /// A token for `resource` through the client-credentials grant of a client
    /// registered for it on the spot (RFC 7591), as an unrelated service would.
    pub async fn client_credentials_token(&self, resource: &str, scope: &str) -> String {
        let discovery = self.discovery().await;
        let registration = self
            .json(
                self.http
                    .post(discovery["registration_endpoint"].as_str().expect("DCR on"))
                    .json(&serde_json::json!({
                        "client_name": "interop service",
                        "grant_types": ["client_credentials"],
                        "response_types": [],
                        "redirect_uris": [],
                        "token_endpoint_auth_method": "client_secret_basic",
                    })),
            )
            .await;
        let token = self
            .json(
                self.http
                    .post(
                        discovery["token_endpoint"]
                            .as_str()
                            .expect("token endpoint"),
                    )
                    .basic_auth(
                        registration["client_id"].as_str().expect("client_id"),
                        registration["client_secret"].as_str(),
                    )
                    .form(&[
                        ("grant_type", "client_credentials"),
                        ("resource", resource),
                        ("scope", scope),
                    ]),
            )
            .await;
        token["access_token"]
            .as_str()
            .expect("an access token")
            .to_owned()
    }
}

/// What `interop/mcp-client.mjs` (the MCP TypeScript SDK) printed on success.
pub struct TsRun {
    /// The whole JSON line.
    pub output: Value,
}

impl TsRun {
    /// `"METHOD url"` of every HTTP exchange the SDK made, in order, with status.
    pub fn sdk_exchanges(&self) -> Vec<(String, String, u64)> {
        exchanges(&self.output["sdk_trace"])
    }

    /// The same for the script's headless browser (authorization pages).
    pub fn browser_exchanges(&self) -> Vec<(String, String, u64)> {
        exchanges(&self.output["browser_trace"])
    }
}

fn exchanges(trace: &Value) -> Vec<(String, String, u64)> {
    trace
        .as_array()
        .expect("a trace array")
        .iter()
        .map(|e| {
            (
                e["method"].as_str().unwrap_or_default().to_owned(),
                e["url"].as_str().unwrap_or_default().to_owned(),
                e["status"].as_u64().unwrap_or_default(),
            )
        })
        .collect()
}

/// Runs the MCP TypeScript SDK client against `mcp_url` as user `login`: the whole
/// OAuth flow, then `tools/call whoami`. Panics with its stderr on any failure.
pub fn run_ts_client(mcp_url: &str, login: &str) -> TsRun {
    run_ts_client_calling(mcp_url, login, "whoami")
}

/// [`run_ts_client`], calling `tool` (stepping up on a 403 `insufficient_scope`).
pub fn run_ts_client_calling(mcp_url: &str, login: &str, tool: &str) -> TsRun {
    run_ts_client_with(mcp_url, login, tool, &[])
}

/// [`run_ts_client`] identified by the Client ID Metadata Document at
/// `client_metadata_url` (the SDK's own CIMD support).
pub fn run_ts_client_by_url(mcp_url: &str, login: &str, client_metadata_url: &str) -> TsRun {
    run_ts_client_with(
        mcp_url,
        login,
        "whoami",
        &["--client-metadata-url", client_metadata_url],
    )
}

fn run_ts_client_with(mcp_url: &str, login: &str, tool: &str, extra: &[&str]) -> TsRun {
    ensure_installed();
    let dir = interop_dir();
    let out = Command::new("node")
        .arg(dir.join("mcp-client.mjs"))
        .args(["--url", mcp_url, "--login", login, "--tool", tool])
        .args(extra)
        .current_dir(&dir)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run mcp-client.mjs ({e}): {NODE_REQUIRED}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the MCP TypeScript SDK client failed ({}):\n{stderr}\nstdout: {stdout}",
        out.status
    );
    let output: Value = stdout
        .lines()
        .rev()
        .find_map(|line| serde_json::from_str(line).ok())
        .unwrap_or_else(|| panic!("no JSON result from mcp-client.mjs: {stdout}\n{stderr}"));
    assert_eq!(output["ok"], true, "mcp-client.mjs: {output}");
    TsRun { output }
}

/// The redirect URI of `interop/mcp-client.mjs`.
pub const TS_CLIENT_REDIRECT_URI: &str = "http://127.0.0.1:53682/callback";

/// A Client ID Metadata Document served over https on 127.0.0.1 by
/// `interop/cimd-host.mjs`, with a certificate of a CA generated for the test
/// (by the `openssl` command): the servers under test trust that CA through
/// `SSL_CERT_FILE` ([`CimdHost::trust_env`]).
pub struct CimdHost {
    process: Process,
    /// The document's URL: the client id.
    pub client_id: String,
    dir: PathBuf,
}

impl CimdHost {
    /// Generates the CA and a certificate for 127.0.0.1, and starts the host
    /// with a document listing `redirect_uri`.
    pub fn start(redirect_uri: &str) -> CimdHost {
        ensure_installed();
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "mcp-auth-cimd-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).expect("temporary directory");
        std::fs::write(
            dir.join("leaf.ext"),
            "subjectAltName=IP:127.0.0.1\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n",
        )
        .expect("extension file");
        let ec = [
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
        ];
        openssl(
            &dir,
            &[
                &["req", "-x509"][..],
                &ec,
                &[
                    "-keyout",
                    "ca.key",
                    "-out",
                    "ca.pem",
                    "-days",
                    "1",
                    "-subj",
                    "/CN=mcp-auth interop test CA",
                    "-addext",
                    "basicConstraints=critical,CA:TRUE",
                    "-addext",
                    "keyUsage=critical,keyCertSign",
                ],
            ]
            .concat(),
        );
        openssl(
            &dir,
            &[
                &["req"][..],
                &ec,
                &[
                    "-keyout",
                    "leaf.key",
                    "-out",
                    "leaf.csr",
                    "-subj",
                    "/CN=127.0.0.1",
                ],
            ]
            .concat(),
        );
        openssl(
            &dir,
            &[
                "x509",
                "-req",
                "-in",
                "leaf.csr",
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                "leaf.pem",
                "-days",
                "1",
                "-extfile",
                "leaf.ext",
            ],
        );
        let mut cmd = Command::new("node");
        cmd.arg(interop_dir().join("cimd-host.mjs"))
            .arg("--cert")
            .arg(dir.join("leaf.pem"))
            .arg("--key")
            .arg(dir.join("leaf.key"))
            .args(["--redirect-uri", redirect_uri])
            .current_dir(interop_dir());
        let (process, client_id) =
            Process::spawn_announcing(cmd, "client_id", "cimd-host.mjs did not announce its URL");
        CimdHost {
            process,
            client_id,
            dir,
        }
    }

    /// The environment a server process needs to trust the host's certificate.
    pub fn trust_env(&self) -> (String, String) {
        (
            "SSL_CERT_FILE".to_owned(),
            self.dir.join("ca.pem").display().to_string(),
        )
    }

    /// How many times the document was requested.
    pub fn fetches(&self) -> usize {
        self.process
            .stderr()
            .matches("cimd-host: GET /client-metadata.json")
            .count()
    }
}

impl Drop for CimdHost {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Runs `openssl args` in `dir`, failing the test with its output.
fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run openssl ({e}): the CIMD interop tests need the openssl command")
        });
    assert!(
        out.status.success(),
        "openssl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
