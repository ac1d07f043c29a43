//! WorkOS AuthKit as the testkit's fake authorization server lays it out
//! (`/oauth2/jwks`, `/.well-known/oauth-authorization-server`, `/oauth2/…`), tokens
//! shaped like AuthKit's, and an MCP server protected by the preset.

#![allow(dead_code)] // each test file uses its own subset

use std::ops::Deref;

use axum::routing::any;
use mcp_auth_core::AuthContext;
use mcp_auth_testkit::{Algorithm, FakeAuthServer, Layout, McpServer, TestKey, jwks, now};
use mcp_auth_workos::{WorkosClaims as _, WorkosConfig, WorkosProvider};
use serde_json::{Value, json};

/// Where AuthKit puts its endpoints under `https://{subdomain}.authkit.app`, the issuer.
const AUTHKIT: Layout = Layout {
    issuer_path: "",
    jwks_path: "/oauth2/jwks",
    discovery_paths: &["/.well-known/oauth-authorization-server"],
    authorize_path: "/oauth2/authorize",
    token_path: "/oauth2/token",
    register_path: "/oauth2/register",
    other_endpoints: &[("introspection_endpoint", "/oauth2/introspection")],
};

/// A fake AuthKit on 127.0.0.1 with one RS256 signing key; the server's recorders
/// and switches are reached through `Deref`.
pub struct FakeAuthKit {
    server: FakeAuthServer,
    pub key: TestKey,
}

impl Deref for FakeAuthKit {
    type Target = FakeAuthServer;

    fn deref(&self) -> &FakeAuthServer {
        &self.server
    }
}

impl FakeAuthKit {
    /// Starts AuthKit.
    pub async fn start() -> FakeAuthKit {
        let key = TestKey::rsa("key_01HAUTHKIT", Algorithm::RS256);
        let server = FakeAuthServer::start_with(AUTHKIT, jwks(&[key.jwk()])).await;
        // What AuthKit's metadata says besides the endpoints.
        server.set_discovery_fields(json!({
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "token_endpoint_auth_methods_supported": ["none", "client_secret_post", "client_secret_basic"],
            "scopes_supported": ["email", "offline_access", "openid", "profile"],
        }));
        FakeAuthKit { server, key }
    }

    /// The preset pointed at this AuthKit.
    pub fn config(&self) -> WorkosConfig {
        WorkosConfig::new("your-company").with_authkit_url(self.base())
    }

    /// An access token as AuthKit issues it for `aud`, for a member of an organization.
    pub fn claims(&self, aud: &str, sub: &str) -> Value {
        json!({
            "iss": self.base(),
            "sub": sub,
            "aud": aud,
            "sid": "session_01HQSXZGF8FHF7A9ZZFCW4387R",
            "jti": "01HQSXZXPPFK2ATHV5JFQ5ZWNY",
            "org_id": "org_01HRDMC6CM357W30QMHMQ96Q0S",
            "role": "admin",
            "roles": ["admin", "billing"],
            "permissions": ["widgets:read", "widgets:write"],
            "entitlements": ["audit-logs"],
            "feature_flags": ["new-dashboard"],
            "iat": now(),
            "exp": now() + 300,
        })
    }

    /// Signs `claims` with AuthKit's key.
    pub fn sign(&self, claims: &Value) -> String {
        self.key.sign(claims)
    }
}

/// The handler behind the layer: the caller as the layer saw it, with the WorkOS
/// accessors.
async fn whoami(ctx: AuthContext) -> axum::Json<Value> {
    axum::Json(json!({
        "user": ctx.user(),
        "scopes": ctx.scopes(),
        "org_id": ctx.org_id(),
        "session_id": ctx.session_id(),
        "organization_role": ctx.organization_role(),
        "entitlements": ctx.entitlements(),
        "feature_flags": ctx.feature_flags(),
    }))
}

/// Serves `/mcp` protected by `provider`, with the discovery routes, the way a
/// user mounts it. The resource URL is `http://127.0.0.1:PORT/mcp`.
pub async fn serve(provider: WorkosProvider) -> McpServer {
    McpServer::protected(provider, any(whoami)).await
}
