//! Loopback aliases over HTTP: a server whose resource is on a loopback host
//! (`http://localhost:PORT/mcp`) answers clients that reached it as
//! `127.0.0.1` or `[::1]` with metadata under that name (checklist items 1, 2,
//! 10: `resource` and `issuer` equal the URL the client built them from), and
//! binds a token minted for an alias to requests naming that alias (item 6).
//! A non-loopback resource never follows the `Host` header.
//!
//! The server listens on 127.0.0.1; each request names the alias in its `Host`
//! header, as a client that connected under that name does.
#![cfg(all(feature = "dev-issuer", feature = "rmcp"))]

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use mcp_auth_core::McpAuth;
use mcp_auth_core::dev_issuer::{DevIssuer, DevIssuerConfig};
use mcp_auth_core::rmcp::Auth;
use mcp_auth_testkit::s256_challenge;
use mcp_auth_testkit::{no_redirects, serve_with};
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{ErrorData, tool, tool_router};
use serde_json::{Value, json};

#[derive(Clone)]
struct Tools;

#[tool_router(server_handler)]
impl Tools {
    #[tool(description = "The caller")]
    fn whoami(&self, Auth(who): Auth) -> Result<String, ErrorData> {
        Ok(who.user().user_id.clone())
    }
}

const VERIFIER: &str = "a-pkce-code-verifier-that-is-long-enough-0123456789";
const REDIRECT: &str = "http://127.0.0.1:9/callback";

/// The quickstart's shape: a dev issuer and an rmcp server in one process,
/// resource `{public}/mcp`, listening on 127.0.0.1.
struct App {
    /// Where the server really listens: `http://127.0.0.1:PORT`.
    socket: String,
    port: u16,
    issuer: Arc<DevIssuer>,
    http: reqwest::Client,
}

/// Starts the app; `public(port)` is its configured base URL.
async fn start(public: impl FnOnce(u16) -> String) -> App {
    let mut issuer_slot = None;
    let (addr, socket) = serve_with(|base| {
        let port: u16 = base
            .rsplit(':')
            .next()
            .expect("port")
            .parse()
            .expect("port");
        let public = public(port);
        let resource = format!("{public}/mcp");
        let mut config = DevIssuerConfig::new(&public, &resource);
        config.auto_approve = true;
        let issuer = DevIssuer::new(config).expect("issuer");
        let auth = McpAuth::builder(
            issuer
                .provider(&format!("{base}/jwks.json"))
                .expect("provider"),
        )
        .resource_url(&resource)
        .build()
        .expect("url");
        let mcp = StreamableHttpService::new(
            || Ok(Tools),
            NeverSessionManager::default().into(),
            StreamableHttpServerConfig::default()
                .with_legacy_session_mode(false)
                .with_json_response(true)
                .with_allowed_hosts(["localhost", "127.0.0.1", "::1", "mcp.example.com"]),
        );
        let app = Router::new()
            .nest_service("/mcp", mcp)
            .layer(auth.layer())
            .merge(auth.routes())
            .merge(issuer.routes());
        issuer_slot = Some(issuer);
        app
    })
    .await;
    App {
        socket,
        port: addr.port(),
        issuer: issuer_slot.expect("issuer built"),
        http: no_redirects(),
    }
}

impl App {
    async fn get_json(&self, host: &str, path: &str) -> Value {
        let resp = self
            .http
            .get(format!("{}{path}", self.socket))
            .header("host", host)
            .send()
            .await
            .expect("send");
        assert_eq!(resp.status(), 200, "GET {path} with Host {host}");
        resp.json().await.expect("json")
    }

    /// `tools/call whoami` with `token`, naming `host`: the status and the
    /// `WWW-Authenticate` challenge.
    async fn call(&self, host: &str, token: Option<&str>) -> (u16, String) {
        let mut req = self
            .http
            .post(format!("{}/mcp", self.socket))
            .header("host", host)
            .header("accept", "application/json, text/event-stream")
            .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                          "params": {"name": "whoami", "arguments": {}}}));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        let resp = req.send().await.expect("send");
        let challenge = resp
            .headers()
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        (resp.status().as_u16(), challenge)
    }

    /// The whole flow of a client that reached the server as `host`: it
    /// registers, authorizes for the resource it read in the metadata, and
    /// redeems the code. The access token and the authorization response's `iss`.
    async fn log_in_as(&self, host: &str, resource: &str) -> (String, String) {
        let registered: Value = self
            .http
            .post(format!("{}/register", self.socket))
            .header("host", host)
            .json(
                &json!({"redirect_uris": [REDIRECT], "token_endpoint_auth_method": "none",
                          "grant_types": ["authorization_code", "refresh_token"]}),
            )
            .send()
            .await
            .expect("send")
            .json()
            .await
            .expect("json");
        let client_id = registered["client_id"].as_str().expect("client_id");
        let challenge = s256_challenge(VERIFIER);
        let resp = self
            .http
            .get(format!("{}/authorize", self.socket))
            .header("host", host)
            .query(&[
                ("response_type", "code"),
                ("client_id", client_id),
                ("redirect_uri", REDIRECT),
                ("code_challenge", challenge.as_str()),
                ("code_challenge_method", "S256"),
                ("state", "s"),
                ("scope", "mcp:tools"),
                ("resource", resource),
            ])
            .send()
            .await
            .expect("send");
        assert_eq!(resp.status(), 303, "{:?}", resp.text().await);
        let location = url::Url::parse(resp.headers()["location"].to_str().expect("ascii"))
            .expect("redirect URL");
        let q: HashMap<_, _> = location.query_pairs().into_owned().collect();
        let code = q.get("code").unwrap_or_else(|| panic!("no code: {q:?}"));
        let tokens: Value = self
            .http
            .post(format!("{}/token", self.socket))
            .header("host", host)
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", REDIRECT),
                ("client_id", client_id),
                ("code_verifier", VERIFIER),
                ("resource", resource),
            ])
            .send()
            .await
            .expect("send")
            .json()
            .await
            .expect("json");
        let token = tokens["access_token"]
            .as_str()
            .unwrap_or_else(|| panic!("no access token: {tokens}"))
            .to_owned();
        (token, q["iss"].clone())
    }

    /// Asked as `host`, the protected-resource metadata names the resource
    /// `{base}/mcp` and the authorization server `base`.
    async fn assert_resource_metadata(&self, host: &str, base: &str) {
        let prm = self
            .get_json(host, "/.well-known/oauth-protected-resource/mcp")
            .await;
        assert_eq!(prm["resource"], json!(format!("{base}/mcp")), "{host}");
        assert_eq!(prm["authorization_servers"], json!([base]), "{host}");
    }

    /// Asked as `host` without a token: a 401 whose challenge points at the
    /// protected-resource metadata under `base`.
    async fn assert_challenge_points_under(&self, host: &str, base: &str) {
        let (status, challenge) = self.call(host, None).await;
        assert_eq!(status, 401);
        assert!(
            challenge.contains(&format!(
                "resource_metadata=\"{base}/.well-known/oauth-protected-resource/mcp\""
            )),
            "{host}: {challenge}"
        );
    }
}

fn aud_of(token: &str) -> Value {
    use base64::Engine as _;
    let payload = token.split('.').nth(1).expect("JWT");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("base64url");
    let claims: Value = serde_json::from_slice(&bytes).expect("JSON");
    claims["aud"].clone()
}

#[tokio::test]
async fn rule1_metadata_names_the_loopback_alias_the_client_used() {
    let app = start(|port| format!("http://localhost:{port}")).await;
    let port = app.port;
    for name in ["localhost", "127.0.0.1", "[::1]"] {
        let host = format!("{name}:{port}");
        let base = format!("http://{host}");
        app.assert_resource_metadata(&host, &base).await;
        let asm = app
            .get_json(&host, "/.well-known/oauth-authorization-server")
            .await;
        assert_eq!(asm["issuer"], json!(base), "RFC 8414 §3.3 under {host}");
        assert_eq!(
            asm["authorization_endpoint"],
            json!(format!("{base}/authorize"))
        );
        assert_eq!(asm["token_endpoint"], json!(format!("{base}/token")));
        assert_eq!(
            asm["registration_endpoint"],
            json!(format!("{base}/register"))
        );
        assert_eq!(asm["jwks_uri"], json!(format!("{base}/jwks.json")));
        // The 401 points at the metadata under the same name.
        app.assert_challenge_points_under(&host, &base).await;
    }
}

#[tokio::test]
async fn rule1_other_names_and_ports_get_the_configured_resource() {
    let app = start(|port| format!("http://localhost:{port}")).await;
    let port = app.port;
    let configured = format!("http://localhost:{port}");
    for host in [
        format!("evil.example:{port}"),
        format!("127.0.0.2:{port}"),
        format!("127.0.0.1:{}", port.wrapping_add(1)),
        "127.0.0.1".to_owned(),
    ] {
        app.assert_resource_metadata(&host, &configured).await;
        let resp = app
            .http
            .get(format!(
                "{}/.well-known/oauth-authorization-server",
                app.socket
            ))
            .header("host", &host)
            .send()
            .await
            .expect("send");
        if host.starts_with("evil.example") || host.starts_with("127.0.0.2") {
            // Not a name of this machine the dev issuer answers to (DNS
            // rebinding): 421, never metadata under that name.
            assert_eq!(resp.status(), 421, "{host}");
            continue;
        }
        assert_eq!(resp.status(), 200, "{host}");
        let asm: Value = resp.json().await.expect("json");
        assert_eq!(asm["issuer"], json!(configured), "{host}");
    }
}

#[tokio::test]
async fn rule1_a_non_loopback_resource_never_follows_a_spoofed_host() {
    let app = start(|_| "https://mcp.example.com".to_owned()).await;
    let port = app.port;
    for host in [
        format!("localhost:{port}"),
        format!("127.0.0.1:{port}"),
        "localhost".into(),
    ] {
        app.assert_resource_metadata(&host, "https://mcp.example.com")
            .await;
        let asm = app
            .get_json(&host, "/.well-known/oauth-authorization-server")
            .await;
        assert_eq!(asm["issuer"], json!("https://mcp.example.com"), "{host}");
        app.assert_challenge_points_under(&host, "https://mcp.example.com")
            .await;
    }
}

#[tokio::test]
async fn rule6_a_token_minted_for_an_alias_is_accepted_on_that_alias_only() {
    let app = start(|port| format!("http://localhost:{port}")).await;
    let port = app.port;
    let alias = format!("127.0.0.1:{port}");
    let resource = format!("http://{alias}/mcp");
    let (token, iss) = app.log_in_as(&alias, &resource).await;
    assert_eq!(
        iss,
        format!("http://{alias}"),
        "RFC 9207 iss under the alias"
    );
    assert_eq!(aud_of(&token), json!(resource), "minted for the alias");

    assert_eq!(app.call(&alias, Some(&token)).await.0, 200, "same alias");
    for other in [format!("localhost:{port}"), format!("[::1]:{port}")] {
        let (status, challenge) = app.call(&other, Some(&token)).await;
        assert_eq!(status, 401, "a token for {alias} used as {other}");
        assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
    }
    // A request naming no alias at all cannot use it either.
    assert_eq!(
        app.call(&format!("evil.example:{port}"), Some(&token))
            .await
            .0,
        401
    );
}

#[tokio::test]
async fn rule6_a_token_for_the_configured_resource_is_accepted_under_every_alias() {
    let app = start(|port| format!("http://localhost:{port}")).await;
    let port = app.port;
    let token = app
        .issuer
        .mint_access_token("cli", &["mcp:tools".into()])
        .expect("token");
    assert_eq!(
        aud_of(&token),
        json!(format!("http://localhost:{port}/mcp"))
    );
    for name in ["localhost", "127.0.0.1", "[::1]"] {
        let host = format!("{name}:{port}");
        assert_eq!(app.call(&host, Some(&token)).await.0, 200, "{host}");
    }
}

#[tokio::test]
async fn rule6_the_dev_issuer_refuses_resources_that_are_not_aliases() {
    let app = start(|port| format!("http://localhost:{port}")).await;
    let port = app.port;
    app.assert_invalid_targets(&[
        format!("http://127.0.0.2:{port}/mcp"),
        format!("http://127.0.0.1:{}/mcp", port.wrapping_add(1)),
        format!("http://127.0.0.1:{port}/other"),
        "https://mcp.example.com/mcp".to_owned(),
    ])
    .await;
}

#[tokio::test]
async fn rule6_a_public_resource_has_no_loopback_aliases_to_mint_for() {
    let app = start(|_| "https://mcp.example.com".to_owned()).await;
    let port = app.port;
    app.assert_invalid_targets(&[
        format!("http://localhost:{port}/mcp"),
        format!("http://127.0.0.1:{port}/mcp"),
    ])
    .await;
}

impl App {
    /// Each of `resources` asked for at `/authorize` (named by a loopback
    /// `Host`) is refused with `invalid_target`, and no code is issued.
    async fn assert_invalid_targets(&self, resources: &[String]) {
        let app = self;
        let host = format!("127.0.0.1:{}", app.port);
        let registered: Value = app
            .http
            .post(format!("{}/register", app.socket))
            .json(&json!({"redirect_uris": [REDIRECT], "token_endpoint_auth_method": "none"}))
            .send()
            .await
            .expect("send")
            .json()
            .await
            .expect("json");
        let client_id = registered["client_id"].as_str().expect("client_id");
        let challenge = s256_challenge(VERIFIER);
        for other in resources {
            let resp = app
                .http
                .get(format!("{}/authorize", app.socket))
                .header("host", &host)
                .query(&[
                    ("response_type", "code"),
                    ("client_id", client_id),
                    ("redirect_uri", REDIRECT),
                    ("code_challenge", challenge.as_str()),
                    ("code_challenge_method", "S256"),
                    ("resource", other.as_str()),
                ])
                .send()
                .await
                .expect("send");
            assert_eq!(resp.status(), 303);
            let location = resp.headers()["location"]
                .to_str()
                .expect("ascii")
                .to_owned();
            assert!(
                location.contains("error=invalid_target"),
                "{other}: {location}"
            );
            assert!(!location.contains("code="), "{location}");
        }
    }
}
