//! The whole authorization-code + PKCE flow against the dev issuer over HTTP:
//! DCR, authorize, code, token, an MCP call, refresh, revoke; then every negative
//! case with its exact error code.
#![cfg(all(feature = "dev-issuer", feature = "rmcp"))]

use std::time::Duration;

use axum::Router;
use mcp_auth_core::McpAuth;
use mcp_auth_core::dev_issuer::{DevIssuer, DevIssuerConfig};
use mcp_auth_core::rmcp::Auth;
use mcp_auth_testkit::s256_challenge;
use mcp_auth_testkit::{Browser, hidden_input, location, no_redirects, serve_with};
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

struct App {
    base: String,
    resource: String,
    http: reqwest::Client,
}

async fn start(tweak: impl FnOnce(&mut DevIssuerConfig)) -> App {
    let (_, base) = serve_with(|base| {
        let resource = format!("{base}/mcp");
        let mut config = DevIssuerConfig::new(base, &resource);
        config.auto_approve = true;
        tweak(&mut config);
        let issuer = DevIssuer::new(config).expect("issuer");
        let auth = McpAuth::builder(issuer.provider(&issuer.jwks_url()).expect("provider"))
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
        Router::new()
            .nest_service("/mcp", mcp)
            .layer(auth.layer())
            .merge(auth.routes())
            .merge(issuer.routes())
    })
    .await;
    App {
        resource: format!("{base}/mcp"),
        base,
        http: no_redirects(),
    }
}

/// Asserts an OAuth error answer: its status and `error` code.
async fn assert_oauth_error(resp: reqwest::Response, status: u16, error: &str) {
    assert_eq!(resp.status(), status);
    assert_eq!(resp.json::<Value>().await.expect("json")["error"], error);
}

impl App {
    /// `GET path`, as JSON.
    async fn get_json(&self, path: &str) -> Value {
        self.http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .expect("send")
            .json()
            .await
            .expect("json")
    }

    /// POSTs `metadata` to `/register`.
    async fn post_register(&self, metadata: &Value) -> reqwest::Response {
        self.http
            .post(format!("{}/register", self.base))
            .json(metadata)
            .send()
            .await
            .expect("send")
    }

    async fn register(&self, auth_method: &str, grants: &[&str]) -> Value {
        let resp = self
            .post_register(&json!({"redirect_uris": [REDIRECT], "token_endpoint_auth_method": auth_method, "client_name": "test client", "grant_types": grants}))
            .await;
        assert_eq!(resp.status(), 201);
        resp.json().await.expect("json")
    }

    async fn authorize(&self, client_id: &str, extra: &[(&str, &str)]) -> reqwest::Response {
        let challenge = s256_challenge(VERIFIER);
        let mut q = vec![
            ("response_type", "code"),
            ("client_id", client_id),
            ("redirect_uri", REDIRECT),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
            ("state", "opaque state/="),
            ("scope", "mcp:tools profile"),
            ("resource", self.resource.as_str()),
        ];
        for (k, v) in extra {
            q.retain(|(qk, _)| qk != k);
            q.push((k, v));
        }
        self.http
            .get(format!("{}/authorize", self.base))
            .query(&q)
            .send()
            .await
            .expect("send")
    }

    /// The `/authorize` URL `authorize` requests.
    fn authorize_url(&self, client_id: &str) -> String {
        let challenge = s256_challenge(VERIFIER);
        let mut url = url::Url::parse(&format!("{}/authorize", self.base)).expect("url");
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", client_id)
            .append_pair("redirect_uri", REDIRECT)
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256")
            .append_pair("state", "opaque state/=")
            .append_pair("scope", "mcp:tools profile")
            .append_pair("resource", &self.resource);
        url.into()
    }

    async fn code(&self, client_id: &str) -> String {
        let resp = self.authorize(client_id, &[]).await;
        assert_eq!(resp.status(), 303, "{:?}", resp.text().await);
        let location =
            url::Url::parse(resp.headers()["location"].to_str().expect("ascii")).expect("url");
        let q: std::collections::HashMap<_, _> = location.query_pairs().into_owned().collect();
        assert_eq!(
            q["state"], "opaque state/=",
            "state passes through unchanged"
        );
        assert_eq!(q["iss"], self.base, "RFC 9207 iss");
        assert!(location.as_str().starts_with(REDIRECT));
        q["code"].clone()
    }

    async fn token(&self, form: &[(&str, &str)]) -> (u16, Value, Option<String>) {
        let resp = self
            .http
            .post(format!("{}/token", self.base))
            .form(form)
            .send()
            .await
            .expect("send");
        let cc = resp
            .headers()
            .get("cache-control")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        (resp.status().as_u16(), resp.json().await.expect("json"), cc)
    }

    async fn whoami(&self, token: &str) -> (u16, Value) {
        let resp = self
            .http
            .post(format!("{}/mcp", self.base))
            .bearer_auth(token)
            .header("accept", "application/json, text/event-stream")
            .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "whoami", "arguments": {}}}))
            .send()
            .await
            .expect("send");
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }
}

#[tokio::test]
async fn full_flow_dcr_authorize_token_call_refresh_revoke() {
    let app = start(|_| {}).await;
    // Discovery: the 401 points at metadata naming this server as issuer.
    let prm: Value = app
        .get_json("/.well-known/oauth-protected-resource/mcp")
        .await;
    assert_eq!(prm["authorization_servers"], json!([app.base]));
    let asm: Value = app
        .get_json("/.well-known/oauth-authorization-server")
        .await;
    assert_eq!(asm["issuer"], json!(app.base));
    assert_eq!(asm["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(
        asm["authorization_response_iss_parameter_supported"],
        json!(true)
    );

    let client = app
        .register("none", &["authorization_code", "refresh_token"])
        .await;
    let client_id = client["client_id"].as_str().expect("client_id");
    assert!(client.get("client_secret").is_none(), "public client");
    let code = app.code(client_id).await;
    assert!(code.len() >= 27, "at least 160 bits of entropy");
    let (status, tokens, cc) = app
        .token(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("code_verifier", VERIFIER),
            ("client_id", client_id),
            ("redirect_uri", REDIRECT),
        ])
        .await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(cc.as_deref(), Some("no-store"));
    let access = tokens["access_token"].as_str().expect("access");
    let (status, body) = app.whoami(access).await;
    assert_eq!(status, 200);
    assert_eq!(body["result"]["content"][0]["text"], "dev-user", "{body}");

    // Refresh rotates: the new refresh token works, the old one no longer does.
    let refresh = tokens["refresh_token"].as_str().expect("refresh");
    let (status, rotated, _) = app
        .token(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh),
            ("client_id", client_id),
        ])
        .await;
    assert_eq!(status, 200, "{rotated}");
    assert_ne!(rotated["refresh_token"], tokens["refresh_token"]);
    let (status, err, _) = app
        .token(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh),
            ("client_id", client_id),
        ])
        .await;
    assert_eq!(
        (status, err["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let new_access = rotated["access_token"].as_str().expect("access");
    assert_eq!(app.whoami(new_access).await.0, 200);

    // Revoke the access token: the MCP endpoint refuses it.
    let resp = app
        .http
        .post(format!("{}/revoke", app.base))
        .form(&[("token", new_access), ("client_id", client_id)])
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 200);
    assert_eq!(app.whoami(new_access).await.0, 401);
}

#[tokio::test]
async fn negative_cases_have_their_exact_error_codes() {
    let app = start(|c| {
        c.code_ttl = Duration::from_secs(1);
        c.allow_client_credentials = true;
    })
    .await;
    let client = app
        .register("none", &["authorization_code", "refresh_token"])
        .await;
    let id = client["client_id"].as_str().expect("id").to_owned();
    let other = app.register("none", &["authorization_code"]).await;
    let other_id = other["client_id"].as_str().expect("id").to_owned();
    let exchange = |code: String, verifier: &'static str, cid: String| {
        let app = &app;
        async move {
            app.token(&[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("code_verifier", verifier),
                ("client_id", &cid),
            ])
            .await
        }
    };

    // Wrong verifier.
    let code = app.code(&id).await;
    let (s, e, _) = exchange(
        code.clone(),
        "the-wrong-pkce-code-verifier-that-is-long-enough-000",
        id.clone(),
    )
    .await;
    assert_eq!((s, e["error"].as_str()), (400, Some("invalid_grant")));
    // Reused code.
    let code = app.code(&id).await;
    assert_eq!(exchange(code.clone(), VERIFIER, id.clone()).await.0, 200);
    let (s, e, _) = exchange(code, VERIFIER, id.clone()).await;
    assert_eq!((s, e["error"].as_str()), (400, Some("invalid_grant")));
    // Wrong client: a code issued to one client, redeemed by another.
    let code = app.code(&id).await;
    let (s, e, _) = exchange(code, VERIFIER, other_id.clone()).await;
    assert_eq!((s, e["error"].as_str()), (400, Some("invalid_grant")));
    // Unknown client: 401 invalid_client (RFC 6749 §5.2), so clients re-register.
    let code = app.code(&id).await;
    let (s, e, _) = exchange(code, VERIFIER, "no-such-client".into()).await;
    assert_eq!((s, e["error"].as_str()), (401, Some("invalid_client")));
    // Expired code.
    let code = app.code(&id).await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let (s, e, _) = exchange(code, VERIFIER, id.clone()).await;
    assert_eq!((s, e["error"].as_str()), (400, Some("invalid_grant")));
    // Foreign redirect: refused here, never redirected to.
    let resp = app
        .authorize(&id, &[("redirect_uri", "https://evil.example.com/cb")])
        .await;
    assert_eq!(resp.status(), 400);
    assert!(resp.headers().get("location").is_none());
    assert_eq!(
        resp.json::<Value>().await.expect("json")["error"],
        "invalid_request"
    );
    // plain PKCE: an error redirected to the (valid) redirect URI.
    let resp = app
        .authorize(&id, &[("code_challenge_method", "plain")])
        .await;
    assert_eq!(resp.status(), 303);
    assert!(
        resp.headers()["location"]
            .to_str()
            .expect("ascii")
            .contains("error=invalid_request")
    );
    // A resource that is not this server.
    let resp = app
        .authorize(&id, &[("resource", "https://other.example.com/mcp")])
        .await;
    assert!(
        resp.headers()["location"]
            .to_str()
            .expect("ascii")
            .contains("error=invalid_target")
    );
    // Registration refuses non-loopback http redirect URIs.
    assert_oauth_error(
        app.post_register(&json!({"redirect_uris": ["http://evil.example.com/cb"]}))
            .await,
        400,
        "invalid_redirect_uri",
    )
    .await;
    // A confidential client with a wrong secret: 401 invalid_client.
    let conf = app
        .register("client_secret_post", &["client_credentials"])
        .await;
    let cid = conf["client_id"].as_str().expect("id");
    let (s, e, _) = app
        .token(&[
            ("grant_type", "client_credentials"),
            ("client_id", cid),
            ("client_secret", "wrong"),
        ])
        .await;
    assert_eq!((s, e["error"].as_str()), (401, Some("invalid_client")));
    let secret = conf["client_secret"].as_str().expect("secret");
    let (s, t, _) = app
        .token(&[
            ("grant_type", "client_credentials"),
            ("client_id", cid),
            ("client_secret", secret),
            ("scope", "mcp:tools"),
        ])
        .await;
    assert_eq!(s, 200, "{t}");
    assert_eq!(
        app.whoami(t["access_token"].as_str().expect("token"))
            .await
            .0,
        200
    );
    // Oversized body.
    let resp = app
        .http
        .post(format!("{}/token", app.base))
        .body("a=".to_owned() + &"x".repeat(64 * 1024))
        .header("content-type", "application/x-www-form-urlencoded")
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 413);
}

#[tokio::test]
async fn browsers_get_a_consent_page_that_cannot_be_framed() {
    let app = start(|c| c.auto_approve = false).await;
    let client = app.register("none", &["authorization_code"]).await;
    let id = client["client_id"].as_str().expect("id");
    let mut browser = Browser::default();
    let resp = browser.get(&app.authorize_url(id)).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["x-frame-options"], "DENY");
    let html = resp.text().await.expect("html");
    assert!(html.contains("test client") && html.contains("mcp:tools profile"));
    let form = [
        ("request_id", hidden_input(&html, "request_id")),
        ("csrf_token", hidden_input(&html, "csrf_token")),
        ("decision", "approve".to_owned()),
    ];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let consent = format!("{}/authorize/consent", app.base);
    let resp = browser.post_form(&consent, &form).await;
    assert_eq!(resp.status(), 303);
    assert!(location(&resp).contains("code="));
    // Single use.
    let resp = browser.post_form(&consent, &form).await;
    assert_eq!(resp.status(), 400);
}

#[tokio::test]
async fn client_credentials_is_off_unless_enabled() {
    let app = start(|_| {}).await;
    assert_oauth_error(app.post_register(&json!({"redirect_uris": [REDIRECT], "token_endpoint_auth_method": "client_secret_post", "grant_types": ["client_credentials"]})).await, 400, "invalid_client_metadata").await;
    let conf = app
        .register("client_secret_post", &["authorization_code"])
        .await;
    let (status, body, _) = app
        .token(&[
            ("grant_type", "client_credentials"),
            ("client_id", conf["client_id"].as_str().expect("id")),
            (
                "client_secret",
                conf["client_secret"].as_str().expect("secret"),
            ),
        ])
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("unsupported_grant_type"))
    );
    let metadata: Value = app
        .get_json("/.well-known/oauth-authorization-server")
        .await;
    assert!(
        !metadata["grant_types_supported"]
            .as_array()
            .expect("grants")
            .contains(&json!("client_credentials")),
        "{metadata}"
    );
}

#[tokio::test]
async fn only_pages_of_this_machine_may_call_register_and_token_from_script() {
    let app = start(|_| {}).await;
    for path in ["/register", "/token"] {
        for (origin, allowed) in [
            ("http://localhost:6274", true),
            ("http://127.0.0.1:5173", true),
            ("http://[::1]:8080", true),
            ("https://evil.example.com", false),
            ("http://localhost.evil.example.com", false),
            ("null", false),
        ] {
            let preflight = app
                .http
                .request(reqwest::Method::OPTIONS, format!("{}{path}", app.base))
                .header("origin", origin)
                .header("access-control-request-method", "POST")
                .header("access-control-request-headers", "content-type")
                .send()
                .await
                .expect("preflight");
            let granted = preflight
                .headers()
                .get("access-control-allow-origin")
                .is_some_and(|v| v == origin);
            assert_eq!(granted, allowed, "{path} from {origin}");
        }
    }
    // The metadata stays readable from anywhere.
    let resp = app
        .http
        .get(format!(
            "{}/.well-known/oauth-authorization-server",
            app.base
        ))
        .header("origin", "https://evil.example.com")
        .send()
        .await
        .expect("send");
    assert_eq!(resp.headers()["access-control-allow-origin"], "*");
}
