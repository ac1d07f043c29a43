//! An Auth0 tenant as the testkit's fake authorization server lays it out
//! (`/.well-known/jwks.json` and `/.well-known/openid-configuration` at the domain
//! root, `/oauth/token`, `/oidc/register`), tokens shaped like Auth0's, and an MCP
//! server protected by the preset.

#![allow(dead_code)] // each test file uses its own subset

use std::ops::Deref;

use axum::routing::any;
use mcp_auth_auth0::{Auth0Config, Auth0Provider};
use mcp_auth_core::AuthContext;
use mcp_auth_testkit::{
    Algorithm, Codes, FakeAuthServer, Layout, McpServer, RefreshTokens, TestKey, jwks, now,
};
use serde_json::{Value, json};

/// The API identifier of the tests' Auth0 API.
pub const AUDIENCE: &str = "https://api.example.com";
/// The roles claim an Auth0 Action adds under the API's namespace (the preset's default).
pub const ROLES_CLAIM: &str = "https://api.example.com/roles";

/// Where Auth0 puts a tenant's endpoints under `https://{domain}`.
const AUTH0: Layout = Layout {
    issuer_path: "/",
    jwks_path: "/.well-known/jwks.json",
    discovery_paths: &["/.well-known/openid-configuration"],
    authorize_path: "/authorize",
    token_path: "/oauth/token",
    register_path: "/oidc/register",
    other_endpoints: &[
        ("device_authorization_endpoint", "/oauth/device/code"),
        ("userinfo_endpoint", "/userinfo"),
        ("mfa_challenge_endpoint", "/mfa/challenge"),
        ("revocation_endpoint", "/oauth/revoke"),
    ],
};

/// A fake Auth0 tenant on 127.0.0.1 with one RS256 signing key; the server's
/// recorders and switches are reached through `Deref`.
pub struct FakeAuth0 {
    server: FakeAuthServer,
    key: TestKey,
}

impl Deref for FakeAuth0 {
    type Target = FakeAuthServer;

    fn deref(&self) -> &FakeAuthServer {
        &self.server
    }
}

fn tenant_claims(base: &str, sub: &str) -> Value {
    json!({
        "iss": format!("{base}/"),
        "sub": sub,
        "aud": [AUDIENCE, format!("{base}/userinfo")],
        "iat": now(),
        "exp": now() + 3600,
        "azp": "Xq3lA5pU0ZrTw1mS8dN2cV7bE4kY6hJ9",
        "scope": "openid profile email",
        "permissions": ["read:reports", "write:reports"],
        ROLES_CLAIM: ["admin", "editor"],
    })
}

impl FakeAuth0 {
    /// Starts the tenant: it accepts the code `auth0-code-123` (refusing others
    /// with Auth0's 403 `invalid_grant`) and answers with an Auth0-shaped access
    /// token for [`AUDIENCE`]; registration hands out `dcr-client-7Yh2`.
    pub async fn start() -> FakeAuth0 {
        let key = TestKey::rsa("auth0-key-1", Algorithm::RS256);
        let server = FakeAuthServer::start_with(AUTH0, jwks(&[key.jwk()])).await;
        // What `https://{tenant}/.well-known/openid-configuration` says besides the endpoints (abridged).
        server.set_discovery_fields(json!({
            "scopes_supported": ["openid", "profile", "offline_access", "name", "given_name", "family_name", "nickname", "email", "email_verified", "picture", "created_at", "identities", "phone", "address"],
            "response_types_supported": ["code", "token", "id_token", "code token", "code id_token", "token id_token", "code token id_token"],
            "code_challenge_methods_supported": ["S256", "plain"],
            "grant_types_supported": ["authorization_code", "implicit", "refresh_token", "client_credentials"],
            "id_token_signing_alg_values_supported": ["HS256", "RS256", "PS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "private_key_jwt"],
        }));
        server.set_codes(Codes::Fixed("auth0-code-123".into()));
        server.set_invalid_grant_status(403);
        server.set_refresh_tokens(RefreshTokens::None);
        server.set_token_fields(json!({"expires_in": 86400, "scope": "openid profile email"}));
        server.set_access_token(key.sign(&tenant_claims(
            &server.base(),
            "auth0|64f1c2d3e4b5a6978899aabb",
        )));
        server.set_registered_client_id("dcr-client-7Yh2");
        FakeAuth0 { server, key }
    }

    /// The tenant's signing key.
    pub fn key(&self) -> &TestKey {
        &self.key
    }

    /// The preset pointed at this tenant, for [`AUDIENCE`].
    pub fn config(&self) -> Auth0Config {
        Auth0Config::new("tenant.example.com", AUDIENCE).with_base_url(self.base())
    }

    /// An access token as Auth0 issues it for [`AUDIENCE`] with RBAC permissions and
    /// an Action adding namespaced roles.
    pub fn claims(&self, sub: &str) -> Value {
        tenant_claims(&self.base(), sub)
    }

    /// Signs `claims` with the tenant's key.
    pub fn sign(&self, claims: &Value) -> String {
        self.key.sign(claims)
    }
}

/// The handler behind the layer: the caller as the layer saw it.
async fn whoami(ctx: AuthContext) -> axum::Json<Value> {
    axum::Json(json!({
        "user": ctx.user(),
        "scopes": ctx.scopes(),
        "permissions": ctx.permissions(),
        "client_id": ctx.client_id(),
    }))
}

/// Serves `/mcp` protected by `provider`, with the discovery routes, the way a
/// user mounts it.
pub async fn serve(provider: Auth0Provider) -> McpServer {
    McpServer::protected(provider, any(whoami)).await
}

pub use mcp_auth_testkit::challenge;
