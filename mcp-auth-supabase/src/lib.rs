//! mcp-auth preset for Supabase Auth (in progress).

/// The environment variables this preset reads.
pub const SUPABASE_ENV_VARS: &[&str] = &[
    "MCP_USE_OAUTH_SUPABASE_PROJECT_ID",
    "MCP_USE_OAUTH_SUPABASE_URL",
    "MCP_USE_OAUTH_SUPABASE_JWT_SECRET",
];
