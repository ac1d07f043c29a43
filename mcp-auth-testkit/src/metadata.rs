//! A provider's endpoints, as its metadata or a discovery document names them,
//! in one value to compare in one assertion.

use mcp_auth_core::ProviderMetadata;
use serde_json::Value;

/// The authorization, token, registration and JWKS endpoints (in that order)
/// that a provider's metadata names.
pub fn endpoints(m: &ProviderMetadata) -> [Option<&str>; 4] {
    [
        m.authorization_endpoint.as_deref(),
        m.token_endpoint.as_deref(),
        m.registration_endpoint.as_deref(),
        m.jwks_uri.as_deref(),
    ]
}

/// The same four endpoints as a discovery document names them.
pub fn discovered_endpoints(doc: &Value) -> [Option<&str>; 4] {
    [
        doc["authorization_endpoint"].as_str(),
        doc["token_endpoint"].as_str(),
        doc["registration_endpoint"].as_str(),
        doc["jwks_uri"].as_str(),
    ]
}
