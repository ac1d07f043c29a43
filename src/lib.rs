pub use mcp_auth_core::*;
