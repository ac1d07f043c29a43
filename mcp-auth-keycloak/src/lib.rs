//! mcp-auth preset for Keycloak (in progress).

/// The environment variables this preset reads.
pub const KEYCLOAK_ENV_VARS: &[&str] = &[
    "MCP_USE_OAUTH_KEYCLOAK_SERVER_URL",
    "MCP_USE_OAUTH_KEYCLOAK_REALM",
    "MCP_USE_OAUTH_KEYCLOAK_CLIENT_ID",
];
