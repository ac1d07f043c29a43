//! CORS for browser-based MCP clients over HTTP: [`McpCors`] outside the auth
//! layer answers preflights without a token and puts the CORS headers, with
//! `WWW-Authenticate` and `Mcp-Session-Id` exposed, on the layer's own 401 and
//! 403 as on a 200. The real-browser side (a page of another origin reading
//! the challenge and calling a tool) is in the interop suite.

use axum::Router;
use axum::routing::any;
use mcp_auth_core::{
    AuthContext, CustomConfig, CustomProvider, McpAuth, McpCors, ScopePolicy, jwt::JwksConfig,
};
use mcp_auth_testkit::{FakeIdp, McpServer, TestKey, claims, jwks};
use reqwest::Method;
use serde_json::json;

const PAGE: &str = "https://app.example.com";

async fn whoami(ctx: Option<AuthContext>) -> ([(&'static str, &'static str); 1], String) {
    (
        [("mcp-session-id", "session-1")],
        ctx.map_or_else(|| "anonymous".to_owned(), |c| c.user().user_id.clone()),
    )
}

struct Setup {
    server: McpServer,
    key: TestKey,
    idp: FakeIdp,
}

async fn start(cors: McpCors) -> Setup {
    let key = TestKey::ec_p256("k1");
    let idp = FakeIdp::start(jwks(&[key.jwk()])).await;
    let mut config = CustomConfig::new(idp.issuer());
    config.jwks_url = Some(idp.jwks_url());
    config.scopes_supported = vec!["read".into(), "admin".into()];
    config.jwks = JwksConfig::default();
    let provider = CustomProvider::new(config).expect("provider");
    let server = McpServer::start(|resource| {
        let auth = McpAuth::builder(provider)
            .resource_url(resource)
            .scope_policy(
                ScopePolicy::new()
                    .base(["read"])
                    .tool("admin-action", ["admin"]),
            )
            .build()
            .expect("resource");
        Router::new()
            .route("/mcp", any(whoami))
            .layer(auth.layer())
            .layer(cors.layer())
            .merge(auth.routes())
    })
    .await;
    Setup { server, key, idp }
}

impl Setup {
    fn token(&self, scope: &str) -> String {
        let mut claims = claims(&self.idp.issuer(), &self.server.resource, "alice");
        claims["scope"] = json!(scope);
        self.key.sign(&claims)
    }

    async fn post(&self, origin: &str, token: Option<&str>, tool: &str) -> reqwest::Response {
        let mut req = reqwest::Client::new()
            .post(self.server.url("/mcp"))
            .header("origin", origin)
            .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                          "params": {"name": tool, "arguments": {}}}));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        req.send().await.expect("send")
    }
}

fn header(resp: &reqwest::Response, name: &str) -> String {
    resp.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase()
}

/// The exposed headers a script can read on `resp`.
fn assert_readable_by_script(resp: &reqwest::Response, origin: &str) {
    assert_eq!(
        header(resp, "access-control-allow-origin"),
        origin.to_ascii_lowercase()
    );
    let exposed = header(resp, "access-control-expose-headers");
    for name in ["www-authenticate", "mcp-session-id"] {
        assert!(exposed.contains(name), "{name} not exposed: {exposed:?}");
    }
    assert!(
        header(resp, "access-control-allow-credentials").is_empty(),
        "never credentials"
    );
}

#[tokio::test]
async fn a_preflight_is_answered_without_a_token() {
    let s = start(McpCors::any_origin()).await;
    let resp = reqwest::Client::new()
        .request(Method::OPTIONS, s.server.url("/mcp"))
        .header("origin", PAGE)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization, content-type, mcp-protocol-version, mcp-session-id, last-event-id",
        )
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 200);
    assert_eq!(header(&resp, "access-control-allow-origin"), "*");
    let methods = header(&resp, "access-control-allow-methods");
    for m in ["get", "post", "delete"] {
        assert!(methods.contains(m), "{methods}");
    }
    let allowed = header(&resp, "access-control-allow-headers");
    for h in [
        "authorization",
        "content-type",
        "mcp-protocol-version",
        "mcp-session-id",
        "last-event-id",
    ] {
        assert!(allowed.contains(h), "{h} not allowed: {allowed}");
    }
    assert!(
        resp.headers().get("www-authenticate").is_none(),
        "no challenge on a preflight"
    );
}

#[tokio::test]
async fn the_layers_401_is_readable_by_a_script_of_another_origin() {
    let s = start(McpCors::any_origin()).await;
    let resp = s.post(PAGE, None, "whoami").await;
    assert_eq!(resp.status(), 401);
    assert_eq!(header(&resp, "access-control-allow-origin"), "*");
    assert!(header(&resp, "access-control-expose-headers").contains("www-authenticate"));
    assert!(header(&resp, "www-authenticate").contains("resource_metadata="));

    let resp = s.post(PAGE, Some("not-a-jwt"), "whoami").await;
    assert_eq!(resp.status(), 401);
    assert!(header(&resp, "access-control-expose-headers").contains("www-authenticate"));
    assert!(header(&resp, "www-authenticate").contains("invalid_token"));
}

#[tokio::test]
async fn the_layers_403_and_a_200_are_readable_by_a_listed_origin() {
    let s = start(McpCors::allow_origins([PAGE]).expect("origins")).await;
    let token = s.token("read");
    let resp = s.post(PAGE, Some(&token), "admin-action").await;
    assert_eq!(resp.status(), 403);
    assert_readable_by_script(&resp, PAGE);
    assert!(header(&resp, "www-authenticate").contains("insufficient_scope"));

    let resp = s.post(PAGE, Some(&token), "whoami").await;
    assert_eq!(resp.status(), 200);
    assert_readable_by_script(&resp, PAGE);
    assert_eq!(header(&resp, "mcp-session-id"), "session-1");
    assert_eq!(resp.text().await.expect("body"), "alice");
}

#[tokio::test]
async fn an_origin_off_the_list_gets_no_cors_headers() {
    let s = start(McpCors::allow_origins([PAGE]).expect("origins")).await;
    let resp = reqwest::Client::new()
        .request(Method::OPTIONS, s.server.url("/mcp"))
        .header("origin", "https://evil.example")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "authorization")
        .send()
        .await
        .expect("send");
    assert!(resp.headers().get("access-control-allow-origin").is_none());
    let resp = s.post("https://evil.example", None, "whoami").await;
    assert_eq!(
        resp.status(),
        401,
        "the server answers; the browser hides it"
    );
    // Without `Access-Control-Allow-Origin` the browser hides the whole
    // answer from the page's script (exposed headers included).
    assert!(resp.headers().get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn loopback_origins_admit_pages_of_this_machine_only() {
    let s = start(McpCors::loopback_origins()).await;
    let resp = s.post("http://localhost:6274", None, "whoami").await;
    assert_readable_by_script(&resp, "http://localhost:6274");
    let resp = s.post(PAGE, None, "whoami").await;
    assert!(resp.headers().get("access-control-allow-origin").is_none());
}
