//! mcp-auth preset for WorkOS AuthKit (in progress).

/// The environment variables this preset reads.
pub const WORKOS_ENV_VARS: &[&str] = &[
    "MCP_USE_OAUTH_WORKOS_SUBDOMAIN",
    "MCP_USE_OAUTH_WORKOS_CLIENT_ID",
    "MCP_USE_OAUTH_WORKOS_API_KEY",
];
