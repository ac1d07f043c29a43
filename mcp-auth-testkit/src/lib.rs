//! Test support for mcp-auth: keys generated per test, tokens signed with them by
//! `jsonwebtoken` (an implementation independent of the verifier under test), one
//! configurable fake authorization server over real local HTTP — JWKS, discovery,
//! authorize, token and registration endpoints laid out as a vendor lays them out,
//! recording what they receive, with behaviour (errors, garbage, huge bodies,
//! stopping, refusals) the test controls — and helpers serving the app under test.

#![allow(clippy::missing_panics_doc)]

mod auth_server;
mod browser;
mod documents;
mod env;
mod keys;
mod metadata;
mod redaction;
mod redis_server;
mod serve;

use std::time::{SystemTime, UNIX_EPOCH};

pub use auth_server::{
    Behavior, Codes, FakeAuthServer, FakeIdp, Layout, RefreshTokens, s256_challenge,
};
pub use browser::{
    Browser, ProxyClient, binding_cookie, hidden_input, location, query_of, set_cookies,
};
pub use documents::{DocumentServer, Served, client_metadata_document};
pub use env::{DotenvFile, Vars};
pub use jsonwebtoken::Algorithm;
pub use keys::{TestKey, assemble, jwks, sign_hmac};
pub use metadata::{discovered_endpoints, endpoints};
pub use redaction::assert_debug_redacted;
pub use redis_server::{RedisServer, TEST_REDIS_URL_VAR};
use serde_json::{Value, json};
pub use serve::{
    McpServer, call_mcp, challenge, no_redirects, post_register, serve, serve_with, unreachable_url,
};

/// Seconds since the Unix epoch.
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Standard access-token claims valid for an hour.
pub fn claims(issuer: &str, audience: &str, sub: &str) -> Value {
    json!({
        "iss": issuer,
        "aud": audience,
        "sub": sub,
        "exp": now() + 3600,
        "iat": now(),
        "scope": "read write",
    })
}
