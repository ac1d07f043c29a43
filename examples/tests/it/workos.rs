//! The `workos` example as a process, against a local fake of AuthKit and of the
//! WorkOS API.

use crate::common;

use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use common::{Server, assert_invalid_token, free_port};
use mcp_auth_testkit::{Algorithm, TestKey, jwks, now};
use serde_json::{Value, json};

const SUBDOMAIN: &str = "MCP_USE_OAUTH_WORKOS_SUBDOMAIN";
const CLIENT_ID: &str = "MCP_USE_OAUTH_WORKOS_CLIENT_ID";
const API_KEY: &str = "MCP_USE_OAUTH_WORKOS_API_KEY";
const API_BASE_URL: &str = "WORKOS_API_BASE_URL";
const KEY: &str = "sk_test_a1b2c3d4e5f6";

#[test]
fn missing_subdomain_exits_2_naming_it() {
    let mut server = Server::spawn(
        env!("CARGO_BIN_EXE_workos"),
        free_port(),
        &[(CLIENT_ID, "client_01")],
    );
    server.expect_exit_2_naming(&[SUBDOMAIN]);
}

#[test]
fn malformed_subdomain_exits_2_naming_it() {
    let mut server = Server::spawn(
        env!("CARGO_BIN_EXE_workos"),
        free_port(),
        &[(SUBDOMAIN, "your company")],
    );
    server.expect_exit_2_naming(&[SUBDOMAIN]);
}

#[test]
fn malformed_api_base_url_exits_2_naming_it() {
    let env = [(SUBDOMAIN, "your-company"), (API_BASE_URL, "not a url")];
    let mut server = Server::spawn(env!("CARGO_BIN_EXE_workos"), free_port(), &env);
    server.expect_exit_2_naming(&[API_BASE_URL]);
}

struct FakeState {
    base: String,
    jwks: Value,
    /// The `Authorization` headers the user API received.
    api_auth: Mutex<Vec<String>>,
}

async fn authkit_jwks(State(s): State<Arc<FakeState>>) -> Response {
    axum::Json(s.jwks.clone()).into_response()
}

async fn authkit_metadata(State(s): State<Arc<FakeState>>) -> Response {
    let base = &s.base;
    axum::Json(json!({
        "issuer": base,
        "authorization_endpoint": format!("{base}/oauth2/authorize"),
        "token_endpoint": format!("{base}/oauth2/token"),
        "registration_endpoint": format!("{base}/oauth2/register"),
        "jwks_uri": format!("{base}/oauth2/jwks"),
        "response_types_supported": ["code"],
        "code_challenge_methods_supported": ["S256"],
    }))
    .into_response()
}

/// `GET /user_management/users/{id}` of the WorkOS API.
async fn api_user(
    State(s): State<Arc<FakeState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    s.api_auth.lock().expect("lock").push(auth.clone());
    if auth != format!("Bearer {KEY}") {
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({"message": "Unauthorized"})),
        )
            .into_response();
    }
    if id != "user_01HXYZ" {
        return (
            StatusCode::NOT_FOUND,
            axum::Json(json!({"message": "User not found", "code": "entity_not_found"})),
        )
            .into_response();
    }
    axum::Json(json!({
        "object": "user",
        "id": id,
        "email": "ada@example.com",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email_verified": true,
        "profile_picture_url": null,
        "created_at": "2026-01-01T00:00:00.000Z",
        "updated_at": "2026-01-01T00:00:00.000Z",
    }))
    .into_response()
}

/// A fake AuthKit and WorkOS API on one port, and the example started against it.
struct Setup {
    base: String,
    key: TestKey,
    state: Arc<FakeState>,
    server: Server,
}

impl Setup {
    async fn start(with_api_key: bool) -> Setup {
        let key = TestKey::rsa("key_01H", Algorithm::RS256);
        let mut state = None;
        let (_, base) = mcp_auth_testkit::serve_with(|base| {
            let shared = Arc::new(FakeState {
                base: base.to_owned(),
                jwks: jwks(&[key.jwk()]),
                api_auth: Mutex::new(Vec::new()),
            });
            state = Some(Arc::clone(&shared));
            axum::Router::new()
                .route("/oauth2/jwks", get(authkit_jwks))
                .route(
                    "/.well-known/oauth-authorization-server",
                    get(authkit_metadata),
                )
                .route("/user_management/users/{id}", get(api_user))
                .with_state(shared)
        })
        .await;
        let state = state.expect("the app was built");
        let mut env = vec![(SUBDOMAIN, base.as_str()), (API_BASE_URL, base.as_str())];
        if with_api_key {
            env.push((API_KEY, KEY));
        }
        let mut server = Server::spawn(env!("CARGO_BIN_EXE_workos"), free_port(), &env);
        server.wait_ready().await;
        Setup {
            base,
            key,
            state,
            server,
        }
    }

    /// The example's resource URL: the audience its tokens must carry.
    fn resource(&self) -> String {
        format!("http://localhost:{}/mcp", self.server.port)
    }

    /// An AuthKit-shaped access token for `aud`.
    fn token(&self, aud: &str, sub: &str) -> String {
        self.key.sign(&json!({
            "iss": self.base,
            "sub": sub,
            "aud": aud,
            "sid": "session_01HQ",
            "jti": "01HQJTI",
            "org_id": "org_01HR",
            "role": "admin",
            "permissions": ["widgets:write"],
            "iat": now(),
            "exp": now() + 300,
        }))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_user_info_reads_the_organization_and_session() {
    let s = Setup::start(true).await;
    let token = s.token(&s.resource(), "user_01HXYZ");
    let answer = s.server.call_tool(&token, "get-user-info").await;
    let info = &answer["result"]["structuredContent"];
    assert_eq!(info["userId"], "user_01HXYZ", "{answer}");
    assert_eq!(info["organizationId"], "org_01HR", "{answer}");
    assert_eq!(info["role"], "admin", "{answer}");
    assert_eq!(info["roles"], json!(["admin"]), "{answer}");
    assert_eq!(info["permissions"], json!(["widgets:write"]), "{answer}");
    assert_eq!(info["sessionId"], "session_01HQ", "{answer}");

    let answer = s.server.call_tool(&token, "whoami").await;
    assert_eq!(
        answer["result"]["structuredContent"]["user_id"],
        "user_01HXYZ"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_workos_user_calls_the_api_with_the_api_key() {
    let s = Setup::start(true).await;
    let token = s.token(&s.resource(), "user_01HXYZ");
    let answer = s.server.call_tool(&token, "get-workos-user").await;
    assert_eq!(answer["result"]["isError"], false, "{answer}");
    let user = &answer["result"]["structuredContent"];
    assert_eq!(user["id"], "user_01HXYZ", "{answer}");
    assert_eq!(user["email"], "ada@example.com", "{answer}");
    // The API key, never the caller's token.
    assert_eq!(
        *s.state.api_auth.lock().expect("lock"),
        [format!("Bearer {KEY}")]
    );

    // An API refusal is a tool error that says why.
    let answer = s
        .server
        .call_tool(&s.token(&s.resource(), "user_01UNKNOWN"), "get-workos-user")
        .await;
    assert_eq!(answer["result"]["isError"], true, "{answer}");
    let text = answer["result"]["content"][0]["text"]
        .as_str()
        .unwrap_or_default();
    assert!(
        text.contains("404") && text.contains("User not found"),
        "{answer}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_an_api_key_get_workos_user_is_a_tool_error() {
    let s = Setup::start(false).await;
    let answer = s
        .server
        .call_tool(&s.token(&s.resource(), "user_01HXYZ"), "get-workos-user")
        .await;
    assert_eq!(answer["result"]["isError"], true, "{answer}");
    let text = answer["result"]["content"][0]["text"]
        .as_str()
        .unwrap_or_default();
    assert!(text.contains(API_KEY), "{answer}");
    assert!(s.state.api_auth.lock().expect("lock").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_for_another_resource_is_refused_and_the_metadata_names_authkit() {
    let s = Setup::start(true).await;
    let foreign = s.token("https://other.example.com/mcp", "user_01HXYZ");
    let resp = s.server.mcp(Some(&foreign), "tools/list", json!({})).await;
    assert_invalid_token(&resp);

    let metadata: Value = reqwest::get(s.server.url("/.well-known/oauth-protected-resource/mcp"))
        .await
        .expect("GET metadata")
        .json()
        .await
        .expect("JSON");
    // Direct mode: clients are sent to AuthKit itself.
    assert_eq!(metadata["authorization_servers"], json!([s.base]));
    // Asked as 127.0.0.1, the metadata names the resource under that name.
    assert_eq!(metadata["resource"], s.server.url("/mcp"));
}
