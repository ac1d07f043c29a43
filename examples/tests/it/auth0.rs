//! The `auth0` example as a process, against a local fake of an Auth0 tenant.

use crate::common;

use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use common::{Server, assert_invalid_token, free_port};
use mcp_auth_testkit::{Algorithm, TestKey, jwks, now};
use serde_json::{Value, json};

const DOMAIN: &str = "MCP_USE_OAUTH_AUTH0_DOMAIN";
const AUDIENCE_VAR: &str = "MCP_USE_OAUTH_AUTH0_AUDIENCE";
const AUDIENCE: &str = "https://api.example.com";

#[test]
fn missing_variables_exit_2_naming_both() {
    let mut server = Server::spawn(env!("CARGO_BIN_EXE_auth0"), free_port(), &[]);
    server.expect_exit_2_naming(&[DOMAIN, AUDIENCE_VAR]);
}

#[test]
fn missing_audience_exits_2_naming_it() {
    let mut server = Server::spawn(
        env!("CARGO_BIN_EXE_auth0"),
        free_port(),
        &[(DOMAIN, "your-tenant.auth0.com")],
    );
    let stderr = server.expect_exit_2_naming(&[AUDIENCE_VAR]);
    assert!(!stderr.contains(DOMAIN), "stderr:\n{stderr}");
}

#[test]
fn malformed_domain_exits_2_naming_it() {
    let env = [
        (DOMAIN, "http://your-tenant.auth0.com"),
        (AUDIENCE_VAR, AUDIENCE),
    ];
    let mut server = Server::spawn(env!("CARGO_BIN_EXE_auth0"), free_port(), &env);
    server.expect_exit_2_naming(&[DOMAIN]);
}

struct TenantState {
    jwks: Value,
    /// Status `/userinfo` answers with; 200 serves the profile.
    userinfo_status: AtomicU16,
    /// The `Authorization` headers `/userinfo` received.
    userinfo_auth: Mutex<Vec<String>>,
}

async fn tenant_jwks(State(s): State<Arc<TenantState>>) -> Response {
    axum::Json(s.jwks.clone()).into_response()
}

async fn tenant_userinfo(State(s): State<Arc<TenantState>>, headers: HeaderMap) -> Response {
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    s.userinfo_auth.lock().expect("lock").push(auth);
    let status = s.userinfo_status.load(Ordering::SeqCst);
    if status != 200 {
        return StatusCode::from_u16(status)
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
            .into_response();
    }
    axum::Json(json!({
        "sub": "auth0|alice",
        "email": "alice@example.com",
        "email_verified": true,
        "name": "Alice Example",
        "updated_at": "2026-01-01T00:00:00.000Z",
    }))
    .into_response()
}

/// A fake tenant (`/.well-known/jwks.json`, `/userinfo`) and the example started
/// against it with `MCP_USE_OAUTH_AUTH0_DOMAIN=http://127.0.0.1:PORT`.
struct Setup {
    base: String,
    key: TestKey,
    state: Arc<TenantState>,
    server: Server,
}

impl Setup {
    async fn start() -> Setup {
        let key = TestKey::rsa("auth0-k1", Algorithm::RS256);
        let state = Arc::new(TenantState {
            jwks: jwks(&[key.jwk()]),
            userinfo_status: AtomicU16::new(200),
            userinfo_auth: Mutex::new(Vec::new()),
        });
        let app = axum::Router::new()
            .route("/.well-known/jwks.json", get(tenant_jwks))
            .route("/userinfo", get(tenant_userinfo))
            .with_state(Arc::clone(&state));
        let (_, base) = mcp_auth_testkit::serve(app).await;
        let mut server = Server::spawn(
            env!("CARGO_BIN_EXE_auth0"),
            free_port(),
            &[(DOMAIN, &base), (AUDIENCE_VAR, AUDIENCE)],
        );
        server.wait_ready().await;
        Setup {
            base,
            key,
            state,
            server,
        }
    }

    /// An Auth0-shaped access token for the API.
    fn token(&self, sub: &str) -> String {
        self.key.sign(&json!({
            "iss": format!("{}/", self.base),
            "sub": sub,
            "aud": [AUDIENCE, format!("{}/userinfo", self.base)],
            "iat": now(),
            "exp": now() + 3600,
            "azp": "clientXYZ",
            "scope": "openid profile email",
            "permissions": ["read:reports"],
            "https://api.example.com/roles": ["admin"],
        }))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whoami_and_get_user_info_read_the_auth0_token() {
    let s = Setup::start().await;
    let token = s.token("auth0|alice");
    let answer = s.server.call_tool(&token, "whoami").await;
    let user = &answer["result"]["structuredContent"];
    assert_eq!(user["user_id"], "auth0|alice", "{answer}");
    assert_eq!(user["roles"], json!(["admin"]), "{answer}");

    let answer = s.server.call_tool(&token, "get-user-info").await;
    let info = &answer["result"]["structuredContent"];
    assert_eq!(info["userId"], "auth0|alice", "{answer}");
    assert_eq!(info["permissions"], json!(["read:reports"]), "{answer}");
    assert_eq!(
        info["scopes"],
        json!(["openid", "profile", "email"]),
        "{answer}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_auth0_profile_calls_userinfo_with_the_callers_token() {
    let s = Setup::start().await;
    let token = s.token("auth0|alice");
    let answer = s.server.call_tool(&token, "get-auth0-profile").await;
    assert_eq!(answer["result"]["isError"], false, "{answer}");
    let profile = &answer["result"]["structuredContent"];
    assert_eq!(profile["email"], "alice@example.com", "{answer}");
    assert_eq!(profile["name"], "Alice Example", "{answer}");
    assert_eq!(
        *s.state.userinfo_auth.lock().expect("lock"),
        [format!("Bearer {token}")]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn userinfo_failure_is_a_tool_error() {
    let s = Setup::start().await;
    s.state.userinfo_status.store(429, Ordering::SeqCst);
    let answer = s
        .server
        .call_tool(&s.token("auth0|alice"), "get-auth0-profile")
        .await;
    assert_eq!(answer["result"]["isError"], true, "{answer}");
    let text = answer["result"]["content"][0]["text"]
        .as_str()
        .unwrap_or_default();
    assert!(text.contains("429"), "{answer}");
    // The server is still up.
    let again = s.server.call_tool(&s.token("auth0|alice"), "whoami").await;
    assert_eq!(again["result"]["isError"], false, "{again}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_for_another_api_is_refused_and_the_metadata_names_this_server() {
    let s = Setup::start().await;
    let foreign = s.key.sign(&json!({
        "iss": format!("{}/", s.base),
        "sub": "auth0|alice",
        "aud": ["https://billing.example.com", format!("{}/userinfo", s.base)],
        "iat": now(),
        "exp": now() + 3600,
    }));
    let resp = s.server.mcp(Some(&foreign), "tools/list", json!({})).await;
    assert_invalid_token(&resp);

    let metadata: Value = reqwest::get(s.server.url("/.well-known/oauth-protected-resource/mcp"))
        .await
        .expect("GET metadata")
        .json()
        .await
        .expect("JSON");
    // Proxy mode: the example is its own authorization server.
    assert_eq!(
        metadata["authorization_servers"],
        json!([format!("http://localhost:{}", s.server.port)])
    );
}
