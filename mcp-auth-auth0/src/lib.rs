//! mcp-auth preset for Auth0 (in progress).

/// The environment variables this preset reads.
pub const AUTH0_ENV_VARS: &[&str] = &["MCP_USE_OAUTH_AUTH0_DOMAIN", "MCP_USE_OAUTH_AUTH0_AUDIENCE"];
