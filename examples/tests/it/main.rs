//! Integration tests of `examples`, one binary: each module was a test file of
//! its own. Shared helpers are in `common` and in `mcp-auth-testkit`.

mod auth0;
mod bearer;
mod common;
mod custom;
mod keycloak;
mod proxy_flood;
mod proxy_store_bench;
mod quickstart;
mod redis_scale_out;
mod supabase;
mod workos;
