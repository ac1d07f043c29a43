//! A Supabase project as the testkit's fake authorization server lays it out,
//! access tokens shaped like the ones Supabase Auth issues, and an MCP server
//! protected by the preset.

#![allow(dead_code)] // each test file uses its own subset

use axum::routing::MethodRouter;
use mcp_auth_supabase::{SupabaseConfig, SupabaseProvider};
use mcp_auth_testkit::{Codes, FakeAuthServer, Layout, McpServer, RefreshTokens, now, sign_hmac};
use serde_json::{Value, json};

/// The legacy JWT secret of the fake project.
pub const SECRET: &str = "super-secret-jwt-token-with-at-least-32-characters-long";

/// Where a Supabase project puts its Auth server: the issuer `{url}/auth/v1`, the
/// JWKS under it, the OAuth 2.1 server's metadata at both the OpenID and the RFC
/// 8414 path, and its endpoints under `/auth/v1/oauth/`.
const SUPABASE: Layout = Layout {
    issuer_path: "/auth/v1",
    jwks_path: "/auth/v1/.well-known/jwks.json",
    discovery_paths: &[
        "/auth/v1/.well-known/openid-configuration",
        "/.well-known/oauth-authorization-server/auth/v1",
    ],
    authorize_path: "/auth/v1/oauth/authorize",
    token_path: "/auth/v1/oauth/token",
    register_path: "/auth/v1/oauth/clients/register",
    other_endpoints: &[("userinfo_endpoint", "/auth/v1/oauth/userinfo")],
};

/// Starts a fake Supabase project on 127.0.0.1 publishing `jwks` (`{"keys": []}`
/// for a legacy-only project). Its base URL is the project URL (what
/// `MCP_USE_OAUTH_SUPABASE_URL` holds); it approves at once with the code
/// `sb-code` and hands out the access token set with `set_access_token`.
pub async fn start_project(jwks: Value) -> FakeAuthServer {
    let project = FakeAuthServer::start_with(SUPABASE, jwks).await;
    project.set_discovery_fields(json!({
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "scopes_supported": ["openid", "email", "profile", "phone"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
    }));
    project.set_codes(Codes::Fixed("sb-code".into()));
    project.set_refresh_tokens(RefreshTokens::Fixed("sb-refresh".into()));
    project.set_token_fields(json!({"token_type": "bearer", "scope": "openid email"}));
    project.set_registered_client_id("9a1f0c6e-dcr-client");
    project.set_registration_fields(json!({"registration_type": "dynamic"}));
    project
}

/// Serves `/mcp` (answered by `mcp`) protected by the preset built from `config`,
/// with the discovery routes.
pub async fn serve(config: SupabaseConfig, mcp: MethodRouter) -> McpServer {
    McpServer::protected(SupabaseProvider::new(config).expect("provider"), mcp).await
}

/// The claims of a Supabase access token for a user who signed in with GitHub,
/// as Supabase Auth issues them.
pub fn user_claims(issuer: &str) -> Value {
    json!({
        "iss": issuer,
        "sub": "8d5c9a52-0d4e-4f4f-9a57-3a1f0c6e2b11",
        "aud": "authenticated",
        "exp": now() + 3600,
        "iat": now(),
        "email": "ada@example.com",
        "phone": "",
        "app_metadata": {"provider": "github", "providers": ["github"]},
        "user_metadata": {
            "avatar_url": "https://avatars.githubusercontent.com/u/1?v=4",
            "email": "ada@example.com",
            "email_verified": true,
            "full_name": "Ada Lovelace",
            "iss": "https://api.github.com",
            "name": "Ada Lovelace",
            "preferred_username": "ada",
            "provider_id": "1",
            "sub": "1",
            "user_name": "ada"
        },
        "role": "authenticated",
        "aal": "aal1",
        "amr": [{"method": "oauth", "timestamp": now() - 60}],
        "session_id": "0b7a3f3c-6d3c-4f0e-8a55-7b3c2d1e0f9a",
        "is_anonymous": false
    })
}

/// A legacy HS256 token, signed with `secret` as Supabase signs it.
pub fn legacy_token(secret: &str, claims: &Value) -> String {
    sign_hmac(
        secret.as_bytes(),
        mcp_auth_testkit::Algorithm::HS256,
        Some("ZsF3a1bC"),
        claims,
    )
}
