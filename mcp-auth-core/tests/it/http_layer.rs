//! The axum layer over real HTTP: exact statuses, challenges and bodies for every
//! refusal (spec-checklist items 3-5, 7), what passes unprotected, and the extractor.

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::routing::{any, get};
use mcp_auth_core::{
    AuthContext, CustomConfig, CustomProvider, InsufficientScope, McpAuth, McpAuthBuilder,
    ScopeHierarchy, jwt::Algorithm, jwt::JwksConfig,
};
use mcp_auth_testkit::{FakeIdp, McpServer, TestKey, claims, jwks, now, unreachable_url};
use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use serde_json::{Value, json};

struct Server {
    addr: SocketAddr,
    resource: String,
    /// One client for every request of a test.
    http: reqwest::Client,
}

impl Server {
    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
    /// A `POST path` to this server, to complete and [`send`].
    fn post(&self, path: &str) -> reqwest::RequestBuilder {
        self.request(reqwest::Method::POST, path)
    }
    /// A `GET path` to this server, to complete and [`send`].
    fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.request(reqwest::Method::GET, path)
    }
    /// A `method path` request to this server, to complete and [`send`].
    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http.request(method, self.url(path))
    }
    /// The `WWW-Authenticate` of a 401 for a token that fails verification.
    fn invalid_token_challenge(&self) -> String {
        format!(
            "Bearer error=\"invalid_token\", error_description=\"Token is invalid or expired\", resource_metadata=\"{}\"",
            self.metadata_url()
        )
    }
    /// The `WWW-Authenticate` of a 403 asking for `scopes` (space-separated).
    fn insufficient_scope_challenge(&self, scopes: &str) -> String {
        format!(
            "Bearer error=\"insufficient_scope\", scope=\"{scopes}\", error_description=\"The token lacks a required scope\", resource_metadata=\"{}\"",
            self.metadata_url()
        )
    }
    fn metadata_url(&self) -> String {
        format!(
            "http://{}/.well-known/oauth-protected-resource/mcp",
            self.addr
        )
    }
}

/// Answers "anonymous" when the layer let a request through without a user
/// (a CORS preflight), so such a pass is visible as a 200.
async fn whoami(ctx: Option<AuthContext>) -> String {
    ctx.map_or_else(|| "anonymous".to_owned(), |c| c.user().user_id.clone())
}

async fn admin(ctx: AuthContext) -> Result<&'static str, InsufficientScope> {
    ctx.require_scope("admin")?;
    Ok("admin ok")
}

/// Any of two: the client should be asked for one, the narrowest.
async fn files(ctx: AuthContext) -> Result<&'static str, InsufficientScope> {
    ctx.require_any_scope(&["files:admin", "files:read"])?;
    Ok("files ok")
}

async fn start(
    issuer: &str,
    jwks_url: &str,
    tweak: impl FnOnce(McpAuthBuilder) -> McpAuthBuilder,
) -> Server {
    let mut config = CustomConfig::new(issuer);
    config.jwks_url = Some(jwks_url.to_owned());
    config.scopes_supported = vec!["read".into(), "write".into()];
    config.jwks = JwksConfig::default();
    let provider = CustomProvider::new(config).expect("provider");
    let server = McpServer::start(|resource| {
        let auth = tweak(McpAuth::builder(provider).resource_url(resource))
            .build()
            .expect("configuration");
        Router::new()
            .route("/mcp", any(whoami))
            .route("/mcp/{*rest}", any(whoami))
            .route("/admin", get(admin))
            .route("/files", get(files))
            .route("/health", get(|| async { "ok" }))
            .route("/docs", get(|| async { "docs" }))
            .route("/inspector/{*rest}", get(|| async { "inspector" }))
            .route("/openmcp.json", get(|| async { "{}" }))
            .layer(auth.layer())
            .merge(auth.routes())
    })
    .await;
    Server {
        addr: server.addr,
        resource: server.resource,
        http: reqwest::Client::new(),
    }
}

/// Sends `request`, which must reach the server; the response.
async fn send(request: reqwest::RequestBuilder) -> reqwest::Response {
    request.send().await.expect("send")
}

async fn body(resp: reqwest::Response) -> Value {
    resp.json().await.expect("JSON body")
}

fn challenge(resp: &reqwest::Response) -> String {
    resp.headers()
        .get(WWW_AUTHENTICATE)
        .expect("WWW-Authenticate")
        .to_str()
        .expect("ascii")
        .to_owned()
}

#[tokio::test]
async fn rule3_no_token_gets_401_with_resource_metadata_and_no_error() {
    let idp = FakeIdp::start(jwks(&[])).await;
    let s = start(&idp.issuer(), &idp.jwks_url(), |a| a).await;
    let resp = send(s.post("/mcp")).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        challenge(&resp),
        format!("Bearer resource_metadata=\"{}\"", s.metadata_url())
    );
    assert_eq!(
        body(resp).await,
        json!({"error": "unauthorized", "error_description": "Authentication required"})
    );
    // Another scheme is no bearer credential at all: same answer.
    let resp = send(s.post("/mcp").header(AUTHORIZATION, "Basic dXNlcjpwdw==")).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert!(!challenge(&resp).contains("error="));
    assert_eq!(idp.jwks_hits(), 0);
}

#[tokio::test]
async fn rule3_required_scopes_are_advertised_without_offline_access() {
    let idp = FakeIdp::start(jwks(&[])).await;
    let s = start(&idp.issuer(), &idp.jwks_url(), |a| {
        a.required_scopes(["mcp:tools", "offline_access"])
    })
    .await;
    let resp = send(s.get("/mcp")).await;
    assert_eq!(
        challenge(&resp),
        format!(
            "Bearer resource_metadata=\"{}\", scope=\"mcp:tools\"",
            s.metadata_url()
        )
    );
}

#[tokio::test]
async fn rule3_invalid_and_expired_tokens_get_invalid_token() {
    let key = TestKey::rsa("k", Algorithm::RS256);
    let idp = FakeIdp::start(jwks(&[key.jwk()])).await;
    let s = start(&idp.issuer(), &idp.jwks_url(), |a| a).await;
    let mut expired = claims(&idp.issuer(), &s.resource, "u");
    expired["exp"] = json!(now() - 3600);
    let forged = TestKey::rsa("k", Algorithm::RS256).sign(&claims(&idp.issuer(), &s.resource, "u"));
    let wrong_aud = key.sign(&claims(&idp.issuer(), "https://other.example.com", "u"));
    for token in [
        key.sign(&expired),
        forged,
        wrong_aud,
        "not-a-jwt".to_owned(),
    ] {
        let resp = send(s.post("/mcp").bearer_auth(&token)).await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(challenge(&resp), s.invalid_token_challenge());
        assert_eq!(
            body(resp).await,
            json!({"error": "invalid_token", "error_description": "Token is invalid or expired"})
        );
    }
}

#[tokio::test]
async fn valid_token_reaches_the_handler_with_its_context() {
    let key = TestKey::ec_p256("k");
    let idp = FakeIdp::start(jwks(&[key.jwk()])).await;
    let s = start(&idp.issuer(), &idp.jwks_url(), |a| a).await;
    let token = key.sign(&claims(&idp.issuer(), &s.resource, "alice"));
    for scheme in ["Bearer", "bearer", "BEARER"] {
        let resp = send(
            s.post("/mcp/sub/path")
                .header(AUTHORIZATION, format!("{scheme} {token}")),
        )
        .await;
        assert_eq!(resp.status(), StatusCode::OK, "{scheme}");
        assert_eq!(resp.text().await.expect("text"), "alice");
    }
}

#[tokio::test]
async fn rule4_missing_required_scope_gets_403_naming_all_required() {
    let key = TestKey::rsa("k", Algorithm::RS256);
    let idp = FakeIdp::start(jwks(&[key.jwk()])).await;
    let s = start(&idp.issuer(), &idp.jwks_url(), |a| {
        a.required_scopes(["read", "admin"])
    })
    .await;
    let token = key.sign(&claims(&idp.issuer(), &s.resource, "u")); // scope: "read write"
    let resp = send(s.post("/mcp").bearer_auth(&token)).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        challenge(&resp),
        s.insufficient_scope_challenge("read admin")
    );
    let b = body(resp).await;
    assert_eq!(b["error"], "insufficient_scope");
    assert_eq!(b["required_scopes"], json!(["read", "admin"]));
    assert_eq!(b["granted_scopes"], json!(["read", "write"]));
    let mut c = claims(&idp.issuer(), &s.resource, "u");
    c["scope"] = json!("read admin");
    let resp = send(s.post("/mcp").bearer_auth(key.sign(&c))).await;
    assert_eq!(resp.status(), StatusCode::OK);
}

#[tokio::test]
async fn handler_scope_check_is_a_403_naming_required_and_granted() {
    let key = TestKey::rsa("k", Algorithm::RS256);
    let idp = FakeIdp::start(jwks(&[key.jwk()])).await;
    let s = start(&idp.issuer(), &idp.jwks_url(), |a| a).await;
    let token = key.sign(&claims(&idp.issuer(), &s.resource, "u"));
    let resp = send(s.get("/admin").bearer_auth(&token)).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert!(challenge(&resp).starts_with("Bearer error=\"insufficient_scope\", scope=\"admin\""));
    let b = body(resp).await;
    assert_eq!(b["required_scopes"], json!(["admin"]));
    assert_eq!(b["granted_scopes"], json!(["read", "write"]));
}

#[tokio::test]
async fn rule4_handler_403_behind_the_layer_carries_resource_metadata_and_all_needed_scopes() {
    let key = TestKey::rsa("k", Algorithm::RS256);
    let idp = FakeIdp::start(jwks(&[key.jwk()])).await;
    let s = start(&idp.issuer(), &idp.jwks_url(), |a| {
        a.required_scopes(["read"])
    })
    .await;
    let token = key.sign(&claims(&idp.issuer(), &s.resource, "u")); // scope: "read write"
    let resp = send(s.get("/admin").bearer_auth(&token)).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        challenge(&resp),
        s.insufficient_scope_challenge("read admin")
    );
    let b = body(resp).await;
    assert_eq!(b["missing_scopes"], json!(["admin"]));
}

#[tokio::test]
async fn rule4_failed_any_of_challenges_with_one_acceptable_scope_not_the_union() {
    let key = TestKey::rsa("k", Algorithm::RS256);
    let idp = FakeIdp::start(jwks(&[key.jwk()])).await;
    let s = start(&idp.issuer(), &idp.jwks_url(), |a| {
        a.scope_hierarchy(ScopeHierarchy::chain(["files:admin", "files:read"]))
    })
    .await;
    let token = key.sign(&claims(&idp.issuer(), &s.resource, "u"));
    let resp = send(s.get("/files").bearer_auth(&token)).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    // files:admin implies files:read: the narrower one is enough.
    assert!(
        challenge(&resp).contains("scope=\"files:read\","),
        "{}",
        challenge(&resp)
    );
    let mut c = claims(&idp.issuer(), &s.resource, "u");
    c["scope"] = json!("files:admin");
    let resp = send(s.get("/files").bearer_auth(key.sign(&c))).await;
    assert_eq!(resp.status(), StatusCode::OK);
}

#[tokio::test]
async fn keys_unobtainable_is_503_with_retry_after_not_401() {
    let key = TestKey::rsa("k", Algorithm::RS256);
    let dead = unreachable_url("/jwks.json").await;
    let s = start("https://issuer.example.com", &dead, |a| a).await;
    let token = key.sign(&claims("https://issuer.example.com", &s.resource, "u"));
    let resp = send(s.post("/mcp").bearer_auth(&token)).await;
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        resp.headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("30")
    );
    assert!(
        resp.headers().get(WWW_AUTHENTICATE).is_none(),
        "a 503 must not ask for a new login"
    );
    assert_eq!(body(resp).await["error"], "temporarily_unavailable");
}

#[tokio::test]
async fn rule5_malformed_requests_are_400_malformed_tokens_401_never_500() {
    let key = TestKey::rsa("k", Algorithm::RS256);
    let idp = FakeIdp::start(jwks(&[key.jwk()])).await;
    let s = start(&idp.issuer(), &idp.jwks_url(), |a| a).await;
    let token = key.sign(&claims(&idp.issuer(), &s.resource, "u"));
    // Two Authorization headers, even both valid.
    let resp = send(
        s.post("/mcp")
            .header(AUTHORIZATION, format!("Bearer {token}"))
            .header(AUTHORIZATION, format!("Bearer {token}")),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert!(challenge(&resp).starts_with("Bearer error=\"invalid_request\""));
    assert_eq!(body(resp).await["error"], "invalid_request");
    // A malformed token is a token problem (rule 3, RFC 6750 §3.1): 401
    // invalid_token, so the client re-authenticates.
    for value in [
        "Bearer",
        "Bearer    ",
        "Bearer a b c",
        "Bearer {\"json\":1}",
        "Bearer a,b",
        "Bearer ===",
    ] {
        let resp = send(s.post("/mcp").header(AUTHORIZATION, value)).await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "{value:?}");
        assert!(
            challenge(&resp).starts_with("Bearer error=\"invalid_token\""),
            "{value:?}"
        );
        assert_eq!(body(resp).await["error"], "invalid_token", "{value:?}");
    }
    // A token in the query string is refused, never used (rule 7).
    let resp = send(s.post(&format!("/mcp?access_token={token}"))).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    // Non-ASCII bytes in the token: 401 invalid_token as well.
    let resp = send(s.post("/mcp").header(
        AUTHORIZATION,
        reqwest::header::HeaderValue::from_bytes(b"Bearer \xff\xfe").expect("bytes"),
    ))
    .await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert!(challenge(&resp).contains("error=\"invalid_token\""));
    // An oversized token: 401 invalid_token, without touching the IdP.
    let hits = idp.jwks_hits();
    let resp = send(s.post("/mcp").bearer_auth("a".repeat(9000))).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert!(challenge(&resp).contains("error=\"invalid_token\""));
    assert_eq!(idp.jwks_hits(), hits);
    // And the server is still serving.
    let resp = send(s.post("/mcp").bearer_auth(&token)).await;
    assert_eq!(resp.status(), StatusCode::OK);
}

#[tokio::test]
async fn preflight_and_debug_paths_pass_head_and_plain_options_do_not() {
    let idp = FakeIdp::start(jwks(&[])).await;
    let s = start(&idp.issuer(), &idp.jwks_url(), |a| a).await;
    for path in ["/health", "/docs", "/inspector/index.html", "/openmcp.json"] {
        let resp = send(s.get(path)).await;
        assert_eq!(resp.status(), StatusCode::OK, "{path}");
    }
    let preflight = send(
        s.request(reqwest::Method::OPTIONS, "/mcp")
            .header("origin", "https://app.example.com")
            .header("access-control-request-method", "POST"),
    )
    .await;
    assert_eq!(preflight.status(), StatusCode::OK);
    assert_eq!(preflight.text().await.expect("text"), "anonymous");
    let plain_options = send(s.request(reqwest::Method::OPTIONS, "/mcp")).await;
    assert_eq!(plain_options.status(), StatusCode::UNAUTHORIZED);
    let head = send(s.request(reqwest::Method::HEAD, "/mcp")).await;
    assert_eq!(head.status(), StatusCode::UNAUTHORIZED);
    // Near-misses of public paths stay protected.
    for path in ["/healthz", "/docsx", "/health%2F..%2Fmcp"] {
        let resp = send(s.get(path)).await;
        assert_ne!(resp.status(), StatusCode::OK, "{path}");
    }
}

#[tokio::test]
async fn dot_segments_never_reach_a_public_prefix() {
    use tower::ServiceExt as _;
    let idp = FakeIdp::start(jwks(&[])).await;
    let mut config = CustomConfig::new(idp.issuer());
    config.jwks_url = Some(idp.jwks_url());
    let auth = McpAuth::builder(CustomProvider::new(config).expect("provider"))
        .resource_url("http://localhost/mcp")
        .build()
        .expect("url");
    let app: Router = Router::new()
        .fallback(|| async { "reached" })
        .layer(auth.layer());
    for path in ["/health/../mcp", "/health/./x", "/inspector/../../mcp"] {
        let req = axum::http::Request::builder()
            .uri(path)
            .body(axum::body::Body::empty())
            .expect("request");
        let resp = app.clone().oneshot(req).await.expect("infallible");
        assert_eq!(
            resp.status(),
            axum::http::StatusCode::UNAUTHORIZED,
            "{path}"
        );
    }
}

#[tokio::test]
async fn discovery_documents_proxy_and_direct() {
    let idp = FakeIdp::start(jwks(&[])).await;
    // Direct (the CustomProvider default): the upstream issuer is the authorization server.
    let s = start(&idp.issuer(), &idp.jwks_url(), |a| {
        a.resource_name("Test server")
    })
    .await;
    for path in [
        "/.well-known/oauth-protected-resource",
        "/.well-known/oauth-protected-resource/mcp",
    ] {
        let resp = send(s.get(path).header("origin", "https://app.example.com")).await;
        assert_eq!(resp.status(), StatusCode::OK, "{path}");
        assert_eq!(
            resp.headers()
                .get("access-control-allow-origin")
                .and_then(|v| v.to_str().ok()),
            Some("*")
        );
        assert!(
            resp.headers()["content-type"]
                .to_str()
                .expect("ascii")
                .starts_with("application/json")
        );
        assert_eq!(
            body(resp).await,
            json!({
                "resource": s.resource,
                "authorization_servers": [idp.issuer()],
                "scopes_supported": ["read", "write"],
                "bearer_methods_supported": ["header"],
                "resource_name": "Test server",
            })
        );
    }
    for path in [
        "/.well-known/oauth-authorization-server",
        "/.well-known/openid-configuration",
    ] {
        let resp = send(s.get(path)).await;
        assert_eq!(resp.status(), StatusCode::OK);
        let doc = body(resp).await;
        assert_eq!(doc["issuer"], json!(idp.issuer()));
        assert_eq!(doc["jwks_uri"], json!(idp.jwks_url()));
    }
    assert_eq!(
        idp.discovery_hits(),
        1,
        "the upstream document is fetched once and cached"
    );

    // Proxy: this server names itself.
    let mut config = CustomConfig::new(idp.issuer());
    config.jwks_url = Some(idp.jwks_url());
    config.mode = mcp_auth_core::Mode::Proxy;
    config.authorization_endpoint = Some(format!("{}/authorize", idp.issuer()));
    config.token_endpoint = Some(format!("{}/token", idp.issuer()));
    config.registration_endpoint = Some(format!("{}/register", idp.issuer()));
    let proxy =
        McpServer::protected(CustomProvider::new(config).expect("provider"), any(whoami)).await;
    let addr = proxy.addr;
    let prm = proxy
        .get_json("/.well-known/oauth-protected-resource/mcp")
        .await;
    assert_eq!(
        prm["authorization_servers"],
        json!([format!("http://{addr}")])
    );
    let asm = proxy
        .get_json("/.well-known/oauth-authorization-server")
        .await;
    assert_eq!(asm["issuer"], json!(format!("http://{addr}")));
    assert_eq!(
        asm["authorization_endpoint"],
        json!(format!("http://{addr}/authorize"))
    );
    assert_eq!(
        asm["registration_endpoint"],
        json!(format!("http://{addr}/register"))
    );
    assert_eq!(asm["code_challenge_methods_supported"], json!(["S256"]));
}

#[tokio::test]
async fn direct_mode_upstream_down_is_502_json() {
    let dead_issuer = unreachable_url("").await;
    let s = start(&dead_issuer, &format!("{dead_issuer}/jwks.json"), |a| a).await;
    let resp = tokio::time::timeout(
        Duration::from_secs(20),
        s.get("/.well-known/oauth-authorization-server").send(),
    )
    .await
    .expect("no hang")
    .expect("send");
    assert_eq!(resp.status(), StatusCode::BAD_GATEWAY);
    assert_eq!(body(resp).await["error"], "upstream_unavailable");
    // The protected-resource metadata does not depend on the upstream.
    let resp = send(s.get("/.well-known/oauth-protected-resource")).await;
    assert_eq!(resp.status(), StatusCode::OK);
}

#[tokio::test]
async fn without_configured_scopes_the_metadata_lists_none_rather_than_an_empty_list() {
    let idp = FakeIdp::start(jwks(&[])).await;
    let mut config = CustomConfig::new(idp.issuer());
    config.jwks_url = Some(idp.jwks_url());
    let provider = CustomProvider::new(config).expect("provider");
    let server = McpServer::start(|resource| {
        let auth = McpAuth::builder(provider)
            .resource_url(resource)
            .build()
            .expect("resource");
        Router::new()
            .route("/mcp", any(whoami))
            .layer(auth.layer())
            .merge(auth.routes())
    })
    .await;
    let doc = server
        .get_json("/.well-known/oauth-protected-resource/mcp")
        .await;
    assert_eq!(doc["resource"], json!(server.resource));
    // An empty list would tell clients to request no scope, which strict
    // providers (oidc-provider among them) refuse.
    assert!(doc.get("scopes_supported").is_none(), "{doc}");
}
