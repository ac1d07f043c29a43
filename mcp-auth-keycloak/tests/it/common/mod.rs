//! A Keycloak realm as the testkit's fake authorization server lays it out,
//! access tokens shaped like the ones a Keycloak realm issues, and an MCP server
//! protected by the preset.

#![allow(dead_code)] // each test file uses its own subset

use axum::routing::MethodRouter;
use mcp_auth_keycloak::{KeycloakConfig, KeycloakProvider};
use mcp_auth_testkit::{Codes, FakeAuthServer, Layout, McpServer, RefreshTokens, now};
use serde_json::{Value, json};

/// The realm the fake serves.
pub const REALM: &str = "acme";
/// The client the MCP server is registered as (a confidential client).
pub const CLIENT: &str = "mcp-server";
/// Its secret, which the token endpoint requires.
pub const CLIENT_SECRET: &str = "kc-client-secret";

/// Where Keycloak puts the [`REALM`]: the issuer `/realms/acme`, its discovery
/// document, the `certs`, `auth` and `token` endpoints under
/// `protocol/openid-connect/`, and dynamic client registration at
/// `clients-registrations/openid-connect`. Other realms are 404.
const KEYCLOAK: Layout = Layout {
    issuer_path: "/realms/acme",
    jwks_path: "/realms/acme/protocol/openid-connect/certs",
    discovery_paths: &["/realms/acme/.well-known/openid-configuration"],
    authorize_path: "/realms/acme/protocol/openid-connect/auth",
    token_path: "/realms/acme/protocol/openid-connect/token",
    register_path: "/realms/acme/clients-registrations/openid-connect",
    other_endpoints: &[
        (
            "introspection_endpoint",
            "/realms/acme/protocol/openid-connect/token/introspect",
        ),
        (
            "userinfo_endpoint",
            "/realms/acme/protocol/openid-connect/userinfo",
        ),
        (
            "end_session_endpoint",
            "/realms/acme/protocol/openid-connect/logout",
        ),
    ],
};

/// Starts a fake Keycloak on 127.0.0.1 publishing `certs` for the realm. Its base
/// URL is the server URL (what `MCP_USE_OAUTH_KEYCLOAK_SERVER_URL` holds); it
/// approves at once with the code `kc-code`, requires [`CLIENT_SECRET`] of
/// [`CLIENT`], and hands out the access token set with `set_access_token`.
pub async fn start_keycloak(certs: Value) -> FakeAuthServer {
    let kc = FakeAuthServer::start_with(KEYCLOAK, certs).await;
    kc.set_discovery_fields(json!({
        "grant_types_supported": ["authorization_code", "implicit", "refresh_token", "password", "client_credentials", "urn:ietf:params:oauth:grant-type:device_code"],
        "response_types_supported": ["code", "none", "id_token", "token", "id_token token", "code id_token", "code token", "code id_token token"],
        "scopes_supported": ["openid", "profile", "email", "roles", "web-origins", "offline_access", "acr", "basic", "address", "phone", "microprofile-jwt"],
        "code_challenge_methods_supported": ["plain", "S256"],
        "id_token_signing_alg_values_supported": ["PS384", "RS384", "EdDSA", "ES384", "HS256", "HS512", "ES256", "RS256", "HS384", "ES512", "PS256", "PS512", "RS512"],
    }));
    kc.set_codes(Codes::Fixed("kc-code".into()));
    kc.add_confidential_client(CLIENT, CLIENT_SECRET);
    kc.set_refresh_tokens(RefreshTokens::Fixed("kc-refresh".into()));
    kc.set_token_fields(json!({
        "expires_in": 300,
        "refresh_expires_in": 1800,
        "not-before-policy": 0,
        "session_state": "7c9e6679-7425-40de-944b-e07fc1f90ae7",
        "scope": "openid email profile"
    }));
    kc.set_registered_client_id("a1b2c3d4-dcr-client");
    kc.set_registration_fields(json!({"registration_access_token": "eyJhbGciOiJIUzI1NiJ9.e30.x"}));
    kc
}

/// Serves `/mcp` (answered by `mcp`) protected by the preset built from `config`,
/// with the discovery routes.
pub async fn serve(config: KeycloakConfig, mcp: MethodRouter) -> McpServer {
    McpServer::protected(KeycloakProvider::new(config).expect("provider"), mcp).await
}

/// The claims of an access token the realm issued to `azp` for alice, as Keycloak
/// issues them: `aud: "account"`, realm roles, and roles in several clients.
pub fn access_token_claims(issuer: &str, azp: &str) -> Value {
    json!({
        "exp": now() + 300,
        "iat": now(),
        "auth_time": now() - 10,
        "jti": "onrtac:6f0c2a4e-8d1b-4f3e-9a7c-5b2d1e0f3a4b",
        "iss": issuer,
        "aud": "account",
        "sub": "f2b1c3d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
        "typ": "Bearer",
        "azp": azp,
        "sid": "7c9e6679-7425-40de-944b-e07fc1f90ae7",
        "acr": "1",
        "allowed-origins": ["http://localhost:3000"],
        "realm_access": {"roles": ["offline_access", "default-roles-acme", "uma_authorization", "analyst"]},
        "resource_access": {
            "mcp-server": {"roles": ["tools:write", "admin"]},
            "other-client": {"roles": ["superuser"]},
            "account": {"roles": ["manage-account", "manage-account-links", "view-profile"]}
        },
        "scope": "openid email profile",
        "email_verified": true,
        "name": "Alice Liddell",
        "preferred_username": "alice",
        "given_name": "Alice",
        "family_name": "Liddell",
        "email": "alice@example.com"
    })
}
