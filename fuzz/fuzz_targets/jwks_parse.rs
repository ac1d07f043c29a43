//! The JWKS document parser: arbitrary bytes as JSON, then `KeySet::from_jwks`.
//! Never a panic; a key set that parses never holds more keys than the document.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mcp_auth_core::jwt::KeySet;

fuzz_target!(|data: &[u8]| {
    let Ok(serde_json::Value::Object(doc)) = serde_json::from_slice(data) else {
        return;
    };
    let listed = doc
        .get("keys")
        .and_then(serde_json::Value::as_array)
        .map_or(0, Vec::len);
    if let Ok(set) = KeySet::from_jwks(&doc) {
        assert!(set.len() <= listed, "{} keys from {listed} JWKs", set.len());
    }
});
