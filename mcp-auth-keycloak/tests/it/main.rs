//! Integration tests of `mcp-auth-keycloak`, one binary: each module was a test file of
//! its own. Shared helpers are in `common` and in `mcp-auth-testkit`.

mod common;
mod debug_redaction;
mod discovery;
mod env;
mod proxy;
mod verify;
