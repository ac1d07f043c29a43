//! Integration tests of `mcp-auth-core`, one binary: each module was a test file of
//! its own. Shared helpers are in `common` and in `mcp-auth-testkit`.

mod client_metadata_documents;
mod client_metadata_properties;
mod common;
mod cors;
mod custom_env;
mod dangerous_skip;
mod debug_redaction;
mod dev_issuer_consent;
mod dev_issuer_flow;
mod http_layer;
mod jwks_cache;
mod jwt_rules;
mod key_sources;
mod loopback_aliases;
mod mcp_auth_builder;
mod module_graph;
mod properties;
mod proxy_attacks;
mod proxy_broker;
mod proxy_client_metadata;
mod proxy_flow;
mod proxy_redis_outage;
mod public_surface;
mod redis_store;
mod rmcp_e2e;
mod scope_policy;
mod store_semantics;
mod token_cache;
mod upstream_endpoints;
