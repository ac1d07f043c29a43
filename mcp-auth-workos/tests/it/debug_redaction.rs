//! No secret appears in the `Debug` output (`{:?}` or `{:#?}`) of this preset's
//! config or provider, nor of the environment it was read from. Removing any
//! redaction makes this fail.

use mcp_auth_core::env::EnvSource;
use mcp_auth_testkit::assert_debug_redacted;
use mcp_auth_workos::{WorkosConfig, WorkosProvider};

const CLIENT_SECRET: &str = "marker-client-secret-5f1c";
const API_KEY: &str = "marker-api-key-sk_3b9a";

#[test]
fn config_provider_and_env_never_print_secrets() {
    let markers = &[CLIENT_SECRET, API_KEY];
    let config = WorkosConfig::new("your-company")
        .with_client_id("client_01")
        .with_client_secret(CLIENT_SECRET)
        .with_api_key(API_KEY);
    assert_debug_redacted("config", &config, markers);
    let provider = WorkosProvider::new(config).expect("provider");
    assert_debug_redacted("provider", &provider, markers);
    assert_debug_redacted("config of the provider", provider.config(), markers);
    assert_debug_redacted("verifier", provider.verifier(), markers);
    let source = EnvSource::from_vars([
        ("MCP_USE_OAUTH_SECRET", CLIENT_SECRET),
        ("MCP_USE_OAUTH_WORKOS_API_KEY", API_KEY),
    ]);
    assert_debug_redacted("EnvSource", &source, markers);
}
