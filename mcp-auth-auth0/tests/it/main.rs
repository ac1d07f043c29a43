//! Integration tests of `mcp-auth-auth0`, one binary: each module was a test file of
//! its own. Shared helpers are in `common` and in `mcp-auth-testkit`.

mod common;
mod debug_redaction;
mod env;
mod metadata;
mod proxy;
mod verify;
