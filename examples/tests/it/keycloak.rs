//! The `keycloak` example as a process, verifying tokens of a local fake Keycloak
//! realm (`/realms/acme/protocol/openid-connect/certs`) issued to `mcp-server`.

use crate::common;

use common::{Server, assert_invalid_token};
use mcp_auth_testkit::{Algorithm, TestKey, jwks, now};
use serde_json::json;

const SERVER_URL: &str = "MCP_USE_OAUTH_KEYCLOAK_SERVER_URL";
const REALM_VAR: &str = "MCP_USE_OAUTH_KEYCLOAK_REALM";
const CLIENT_ID: &str = "MCP_USE_OAUTH_KEYCLOAK_CLIENT_ID";
const CLIENT_SECRET: &str = "MCP_USE_OAUTH_KEYCLOAK_CLIENT_SECRET";
const REALM: &str = "acme";
const CLIENT: &str = "mcp-server";

/// Starts `keycloak` with `env`, the other Keycloak variables set empty.
fn spawn(env: &[(&str, &str)]) -> Server {
    Server::spawn_blanking(
        env!("CARGO_BIN_EXE_keycloak"),
        &[SERVER_URL, REALM_VAR, CLIENT_ID, CLIENT_SECRET],
        env,
    )
}

#[test]
fn missing_server_and_realm_exit_2_naming_both() {
    let mut server = spawn(&[(CLIENT_ID, CLIENT)]);
    server.expect_exit_2_naming(&[SERVER_URL, REALM_VAR]);
}

#[test]
fn a_secret_without_a_client_exits_2_naming_both() {
    let mut server = spawn(&[
        (SERVER_URL, "https://sso.example.com"),
        (REALM_VAR, REALM),
        (CLIENT_SECRET, "orphan-secret"),
    ]);
    let stderr = server.expect_exit_2_naming(&[CLIENT_SECRET, CLIENT_ID]);
    assert!(!stderr.contains("orphan-secret"), "stderr:\n{stderr}");
}

#[test]
fn a_plain_http_server_url_on_another_host_exits_2_naming_it() {
    let mut server = spawn(&[(SERVER_URL, "http://sso.example.com"), (REALM_VAR, REALM)]);
    let stderr = server.expect_exit_2();
    assert!(
        stderr.contains(SERVER_URL) && stderr.contains("https"),
        "stderr:\n{stderr}"
    );
}

/// A fake Keycloak publishing one RS256 key for the realm, and the example started
/// against it with `mcp-server` as its client.
struct Setup {
    issuer: String,
    key: TestKey,
    server: Server,
}

impl Setup {
    async fn start() -> Setup {
        let key = TestKey::rsa("Xk2vQ7nR", Algorithm::RS256);
        let base = common::serve_json(
            &format!("/realms/{REALM}/protocol/openid-connect/certs"),
            jwks(&[key.jwk()]),
        )
        .await;
        let mut server = spawn(&[(SERVER_URL, &base), (REALM_VAR, REALM), (CLIENT_ID, CLIENT)]);
        server.wait_ready().await;
        Setup {
            issuer: format!("{base}/realms/{REALM}"),
            key,
            server,
        }
    }

    /// A Keycloak access token for alice issued to `azp`, holding `client_roles` in mcp-server.
    fn token(&self, azp: &str, client_roles: &[&str]) -> String {
        self.key.sign(&json!({
            "exp": now() + 300,
            "iat": now(),
            "jti": "onrtac:6f0c2a4e-8d1b-4f3e-9a7c-5b2d1e0f3a4b",
            "iss": self.issuer,
            "aud": "account",
            "sub": "f2b1c3d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
            "typ": "Bearer",
            "azp": azp,
            "sid": "7c9e6679-7425-40de-944b-e07fc1f90ae7",
            "realm_access": {"roles": ["offline_access", "default-roles-acme", "uma_authorization"]},
            "resource_access": {
                "mcp-server": {"roles": client_roles},
                "account": {"roles": ["manage-account", "view-profile"]}
            },
            "scope": "openid email profile",
            "email_verified": true,
            "name": "Alice Liddell",
            "preferred_username": "alice",
            "given_name": "Alice",
            "family_name": "Liddell",
            "email": "alice@example.com"
        }))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whoami_and_get_user_info_show_the_keycloak_user() {
    let s = Setup::start().await;
    let token = s.token(CLIENT, &["tools:read"]);
    let answer = s.server.call_tool(&token, "whoami").await;
    let user = &answer["result"]["structuredContent"];
    assert_eq!(user["username"], "alice", "{answer}");
    assert_eq!(user["email"], "alice@example.com", "{answer}");

    let answer = s.server.call_tool(&token, "get-user-info").await;
    let info = &answer["result"]["structuredContent"];
    assert_eq!(
        info["realmRoles"],
        json!(["offline_access", "default-roles-acme", "uma_authorization"]),
        "{answer}"
    );
    assert_eq!(info["clientRoles"], json!(["tools:read"]), "{answer}");
    assert_eq!(info["authorizedParty"], CLIENT, "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_action_requires_the_admin_role() {
    let s = Setup::start().await;
    let refused = s
        .server
        .call_tool(&s.token(CLIENT, &["tools:read"]), "admin-action")
        .await;
    assert_eq!(
        refused["error"]["data"]["error"], "insufficient_role",
        "{refused}"
    );

    let allowed = s
        .server
        .call_tool(&s.token(CLIENT, &["admin"]), "admin-action")
        .await;
    assert_eq!(allowed["result"]["isError"], false, "{allowed}");
    assert!(
        allowed["result"]["content"][0]["text"]
            .as_str()
            .is_some_and(|t| t.contains("alice")),
        "{allowed}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_issued_to_another_client_is_invalid() {
    let s = Setup::start().await;
    let resp = s
        .server
        .mcp(
            Some(&s.token("other-client", &["admin"])),
            "tools/list",
            json!({}),
        )
        .await;
    assert_invalid_token(&resp);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_metadata_names_this_server_in_proxy_mode() {
    let s = Setup::start().await;
    let metadata = s.server.proxy_resource_metadata().await;
    assert!(
        metadata["scopes_supported"]
            .as_array()
            .is_some_and(|s| s.contains(&json!("roles"))),
        "{metadata}"
    );
}
