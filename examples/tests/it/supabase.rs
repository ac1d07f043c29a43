//! The `supabase` example as a process, verifying tokens of a local fake Supabase
//! project (`/auth/v1/.well-known/jwks.json`): ES256 through the JWKS and legacy
//! HS256 with the project's secret.

use crate::common;

use common::{Server, assert_invalid_token};
use mcp_auth_testkit::{Algorithm, TestKey, jwks, now, sign_hmac};
use serde_json::{Value, json};

const PROJECT_ID: &str = "MCP_USE_OAUTH_SUPABASE_PROJECT_ID";
const URL: &str = "MCP_USE_OAUTH_SUPABASE_URL";
const SECRET_VAR: &str = "MCP_USE_OAUTH_SUPABASE_JWT_SECRET";
const SECRET: &str = "super-secret-jwt-token-with-at-least-32-characters-long";

/// Starts `supabase` with `env`, the other Supabase variables set empty.
fn spawn(env: &[(&str, &str)]) -> Server {
    Server::spawn_blanking(
        env!("CARGO_BIN_EXE_supabase"),
        &[PROJECT_ID, URL, SECRET_VAR],
        env,
    )
}

#[test]
fn missing_project_exits_2_naming_the_variables() {
    let mut server = spawn(&[]);
    server.expect_exit_2_naming(&[PROJECT_ID, URL]);
}

#[test]
fn malformed_url_exits_2_naming_the_variable() {
    let mut server = spawn(&[(URL, "abcdefghijklmnopqrst.supabase.co")]);
    server.expect_exit_2_naming(&[URL]);
}

#[test]
fn a_jwt_secret_shorter_than_32_bytes_exits_2_naming_the_variable() {
    let mut server = spawn(&[
        (PROJECT_ID, "abcdefghijklmnopqrst"),
        (SECRET_VAR, "too-short-a-secret"),
    ]);
    let stderr = server.expect_exit_2_naming(&[SECRET_VAR]);
    assert!(!stderr.contains("too-short-a-secret"), "stderr:\n{stderr}");
}

/// A fake project publishing one ES256 key, and the example started against it
/// with the legacy secret configured as well.
struct Setup {
    project: String,
    key: TestKey,
    server: Server,
}

impl Setup {
    async fn start() -> Setup {
        let key = TestKey::ec_p256("b1d6c4f2-5a8e-4c1d-9e3f-2a7b6c5d4e3f");
        let project =
            common::serve_json("/auth/v1/.well-known/jwks.json", jwks(&[key.jwk()])).await;
        let mut server = spawn(&[(URL, &project), (SECRET_VAR, SECRET)]);
        server.wait_ready().await;
        Setup {
            project,
            key,
            server,
        }
    }

    fn claims(&self, app_roles: &[&str]) -> Value {
        json!({
            "iss": format!("{}/auth/v1", self.project),
            "sub": "8d5c9a52-0d4e-4f4f-9a57-3a1f0c6e2b11",
            "aud": "authenticated",
            "exp": now() + 3600,
            "iat": now(),
            "email": "ada@example.com",
            "phone": "",
            "app_metadata": {"provider": "github", "providers": ["github"], "roles": app_roles},
            "user_metadata": {"full_name": "Ada Lovelace", "avatar_url": "https://avatars.example.com/ada.png"},
            "role": "authenticated",
            "aal": "aal2",
            "amr": [{"method": "oauth", "timestamp": now() - 120}, {"method": "totp", "timestamp": now() - 60}],
            "session_id": "0b7a3f3c-6d3c-4f0e-8a55-7b3c2d1e0f9a",
            "is_anonymous": false
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whoami_and_get_user_info_show_the_supabase_user() {
    let s = Setup::start().await;
    let token = s.key.sign(&s.claims(&[]));
    let answer = s.server.call_tool(&token, "whoami").await;
    let user = &answer["result"]["structuredContent"];
    assert_eq!(
        user["user_id"], "8d5c9a52-0d4e-4f4f-9a57-3a1f0c6e2b11",
        "{answer}"
    );
    assert_eq!(user["name"], "Ada Lovelace", "{answer}");

    let answer = s.server.call_tool(&token, "get-user-info").await;
    let info = &answer["result"]["structuredContent"];
    assert_eq!(info["email"], "ada@example.com", "{answer}");
    assert_eq!(info["aal"], "aal2", "{answer}");
    assert_eq!(info["amr"], json!(["oauth", "totp"]), "{answer}");
    assert_eq!(info["provider"], "github", "{answer}");
    assert_eq!(
        info["sessionId"], "0b7a3f3c-6d3c-4f0e-8a55-7b3c2d1e0f9a",
        "{answer}"
    );
    assert_eq!(info["roles"], json!(["authenticated"]), "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_action_requires_the_admin_role() {
    let s = Setup::start().await;
    let refused = s
        .server
        .call_tool(&s.key.sign(&s.claims(&[])), "admin-action")
        .await;
    assert_eq!(
        refused["error"]["data"]["error"], "insufficient_role",
        "{refused}"
    );
    assert_eq!(
        refused["error"]["data"]["required_role"], "admin",
        "{refused}"
    );

    let allowed = s
        .server
        .call_tool(&s.key.sign(&s.claims(&["admin"])), "admin-action")
        .await;
    assert_eq!(allowed["result"]["isError"], false, "{allowed}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legacy_hs256_tokens_pass_with_the_secret_and_foreign_audiences_do_not() {
    let s = Setup::start().await;
    let legacy = sign_hmac(
        SECRET.as_bytes(),
        Algorithm::HS256,
        Some("ZsF3a1bC"),
        &s.claims(&[]),
    );
    let answer = s.server.call_tool(&legacy, "whoami").await;
    assert_eq!(
        answer["result"]["structuredContent"]["email"], "ada@example.com",
        "{answer}"
    );

    let mut anon = s.claims(&[]);
    anon["aud"] = json!("anon");
    let resp = s
        .server
        .mcp(Some(&s.key.sign(&anon)), "tools/list", json!({}))
        .await;
    assert_invalid_token(&resp);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_metadata_names_this_server_in_proxy_mode() {
    let s = Setup::start().await;
    s.server.proxy_resource_metadata().await;
}
