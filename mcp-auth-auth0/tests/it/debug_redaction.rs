//! No secret appears in the `Debug` output (`{:?}` or `{:#?}`) of this preset's
//! config or provider, nor of the environment it was read from. Removing any
//! redaction makes this fail.

use mcp_auth_auth0::{Auth0Config, Auth0Provider};
use mcp_auth_core::env::EnvSource;

const CLIENT_SECRET: &str = "marker-client-secret-5f1c";

/// Neither `{:?}` nor `{:#?}` of `value` shows a marker.
fn assert_redacted(what: &str, value: &impl std::fmt::Debug, markers: &[&str]) {
    for shown in [format!("{value:?}"), format!("{value:#?}")] {
        for marker in markers {
            assert!(
                !shown.contains(marker),
                "{what} prints the secret {marker:?}: {shown}"
            );
        }
    }
}

#[test]
fn config_provider_and_env_never_print_secrets() {
    let markers = &[CLIENT_SECRET];
    let config = Auth0Config::new("tenant.auth0.com", "https://api.example.com")
        .with_client_id("pre-registered")
        .with_client_secret(CLIENT_SECRET);
    assert_redacted("config", &config, markers);
    let provider = Auth0Provider::new(config).expect("provider");
    assert_redacted("provider", &provider, markers);
    assert_redacted("config of the provider", provider.config(), markers);
    assert_redacted("verifier", provider.verifier(), markers);
    let source = EnvSource::from_vars([("MCP_USE_OAUTH_SECRET", CLIENT_SECRET)]);
    assert_redacted("EnvSource", &source, markers);
}
