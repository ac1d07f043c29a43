//! No secret appears in the `Debug` output (`{:?}` or `{:#?}`) of this preset's
//! config or provider, nor of the environment it was read from. Removing any
//! redaction makes this fail.

use mcp_auth_core::env::EnvSource;
use mcp_auth_supabase::{SupabaseConfig, SupabaseJwtSecret, SupabaseProvider};
use mcp_auth_testkit::assert_debug_redacted;

const CLIENT_SECRET: &str = "marker-client-secret-5f1c";
const JWT_SECRET: &str = "marker-jwt-secret-0123456789abcdef0123456789";

#[test]
fn config_provider_and_env_never_print_secrets() {
    let markers = &[CLIENT_SECRET, JWT_SECRET];
    let config = {
        let mut config = SupabaseConfig::for_project("abcdefghijklmnopqrst")
            .with_client_id("pre-registered")
            .with_client_secret(CLIENT_SECRET);
        config.jwt_secret = Some(SupabaseJwtSecret::new(JWT_SECRET));
        config
    };
    assert_debug_redacted("config", &config, markers);
    let provider = SupabaseProvider::new(config).expect("provider");
    assert_debug_redacted("provider", &provider, markers);
    assert_debug_redacted("config of the provider", provider.config(), markers);
    assert_debug_redacted("verifier", provider.verifier(), markers);
    let source = EnvSource::from_vars([
        ("MCP_USE_OAUTH_SECRET", CLIENT_SECRET),
        ("MCP_USE_OAUTH_SUPABASE_JWT_SECRET", JWT_SECRET),
    ]);
    assert_debug_redacted("EnvSource", &source, markers);
}
