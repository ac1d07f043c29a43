//! `CustomConfig::from_source` (what `from_env` runs over the process environment
//! and `.env`): every variable, missing ones named, a named `.env` file. The
//! variables are a map each test builds: nothing touches the process environment
//! or the working directory, so plain `cargo test` runs these in parallel.

use mcp_auth_core::env::EnvSource;
use mcp_auth_core::{ConfigError, CustomConfig, CustomProvider, Mode};
use mcp_auth_testkit::Vars;

#[test]
fn every_variable_is_read() {
    let mut env = Vars::default();
    env.set("MCP_USE_OAUTH_CUSTOM_ISSUER", "https://auth.example.com");
    env.set("MCP_USE_OAUTH_CUSTOM_AUDIENCE", "my-api");
    env.set(
        "MCP_USE_OAUTH_CUSTOM_JWKS_URL",
        "https://auth.example.com/keys",
    );
    env.set(
        "MCP_USE_OAUTH_CUSTOM_AUTH_ENDPOINT",
        "https://auth.example.com/authorize",
    );
    env.set(
        "MCP_USE_OAUTH_CUSTOM_TOKEN_ENDPOINT",
        "https://auth.example.com/token",
    );
    env.set(
        "MCP_USE_OAUTH_CUSTOM_REGISTRATION_ENDPOINT",
        "https://auth.example.com/register",
    );
    env.set("MCP_USE_OAUTH_CUSTOM_SCOPES", "openid profile  email");
    env.set("MCP_USE_OAUTH_CUSTOM_MODE", "Proxy");
    let c = CustomConfig::from_source(&env.source()).expect("complete environment");
    assert_eq!(c.issuer, "https://auth.example.com");
    assert_eq!(c.audience.as_deref(), Some("my-api"));
    assert_eq!(c.jwks_url.as_deref(), Some("https://auth.example.com/keys"));
    assert_eq!(
        c.authorization_endpoint.as_deref(),
        Some("https://auth.example.com/authorize")
    );
    assert_eq!(
        c.token_endpoint.as_deref(),
        Some("https://auth.example.com/token")
    );
    assert_eq!(
        c.registration_endpoint.as_deref(),
        Some("https://auth.example.com/register")
    );
    assert_eq!(c.scopes_supported, ["openid", "profile", "email"]);
    assert_eq!(c.mode, Mode::Proxy);
    let p = CustomProvider::new(c).expect("provider");
    let v = p.jwt_verifier().expect("JWT verification");
    assert_eq!(
        v.config().audience,
        mcp_auth_core::jwt::Audience::exactly("my-api")
    );
}

#[test]
fn missing_and_malformed_variables_are_named() {
    let mut env = Vars::default();
    let err = CustomConfig::from_source(&env.source()).expect_err("issuer missing");
    assert_eq!(
        err,
        ConfigError::MissingVars(vec!["MCP_USE_OAUTH_CUSTOM_ISSUER".into()])
    );
    assert!(err.to_string().contains("MCP_USE_OAUTH_CUSTOM_ISSUER"));
    env.set("MCP_USE_OAUTH_CUSTOM_ISSUER", "not a url");
    env.set("MCP_USE_OAUTH_CUSTOM_JWKS_URL", "ftp://x/keys");
    env.set("MCP_USE_OAUTH_CUSTOM_MODE", "sideways");
    let msg = CustomConfig::from_source(&env.source())
        .expect_err("three problems")
        .to_string();
    for name in [
        "MCP_USE_OAUTH_CUSTOM_ISSUER",
        "MCP_USE_OAUTH_CUSTOM_JWKS_URL",
        "MCP_USE_OAUTH_CUSTOM_MODE",
    ] {
        assert!(msg.contains(name), "{name} not named in: {msg}");
    }
    // Proxy mode without upstream endpoints names the variables it needs.
    env.clear();
    env.set("MCP_USE_OAUTH_CUSTOM_ISSUER", "https://auth.example.com");
    env.set("MCP_USE_OAUTH_CUSTOM_MODE", "proxy");
    let msg = CustomProvider::from_source(&env.source())
        .expect_err("no endpoints")
        .to_string();
    assert!(msg.contains("MCP_USE_OAUTH_CUSTOM_AUTH_ENDPOINT"), "{msg}");
}

#[test]
fn a_named_dotenv_file_is_read_and_set_variables_win() {
    let path = std::env::temp_dir().join(format!(
        "mcp-auth-core-custom-env-test-{}.env",
        std::process::id()
    ));
    std::fs::write(
        &path,
        "MCP_USE_OAUTH_CUSTOM_ISSUER=https://from-dotenv.example.com\nMCP_USE_OAUTH_CUSTOM_AUDIENCE=dotenv-aud\n",
    )
    .expect("write .env");
    let source = EnvSource::from_vars([("MCP_USE_OAUTH_CUSTOM_AUDIENCE", "set-aud")])
        .with_dotenv_file(&path)
        .expect("read the .env file");
    assert_eq!(source.dotenv_path(), Some(path.as_path()));
    let c = CustomConfig::from_source(&source).expect("issuer from .env");
    assert_eq!(c.issuer, "https://from-dotenv.example.com");
    assert_eq!(c.audience.as_deref(), Some("set-aud"));
    assert_eq!(c.mode, Mode::Direct, "direct is the default");
}

#[test]
fn an_unreadable_dotenv_file_is_named() {
    let path = std::env::temp_dir().join(format!(
        "mcp-auth-core-custom-env-test-missing-{}.env",
        std::process::id()
    ));
    let err = EnvSource::empty()
        .with_dotenv_file(&path)
        .expect_err("no such file");
    assert!(
        err.to_string().contains(&path.display().to_string()),
        "{err}"
    );
}

#[test]
fn urls_on_plain_http_are_refused_naming_the_variable_except_for_loopback() {
    let mut env = Vars::default();
    env.set("MCP_USE_OAUTH_CUSTOM_ISSUER", "http://auth.example.com");
    env.set(
        "MCP_USE_OAUTH_CUSTOM_JWKS_URL",
        "http://auth.example.com/keys",
    );
    let msg = CustomConfig::from_source(&env.source())
        .expect_err("plain http elsewhere")
        .to_string();
    for name in [
        "MCP_USE_OAUTH_CUSTOM_ISSUER",
        "MCP_USE_OAUTH_CUSTOM_JWKS_URL",
    ] {
        assert!(msg.contains(name), "{name} not named in: {msg}");
    }
    assert!(msg.contains("https"), "{msg}");
    env.set("MCP_USE_OAUTH_CUSTOM_ISSUER", "http://127.0.0.1:4000");
    env.set(
        "MCP_USE_OAUTH_CUSTOM_JWKS_URL",
        "http://localhost:4000/keys",
    );
    CustomConfig::from_source(&env.source()).expect("loopback");
}

#[test]
fn a_pre_registered_client_is_read_and_a_lone_secret_is_named() {
    let mut env = Vars::default();
    env.set("MCP_USE_OAUTH_CUSTOM_ISSUER", "https://auth.example.com");
    env.set("MCP_USE_OAUTH_CUSTOM_CLIENT_ID", "mcp-server");
    env.set("MCP_USE_OAUTH_CUSTOM_CLIENT_SECRET", "the-secret");
    let config = mcp_auth_core::CustomConfig::from_source(&env.source()).expect("config");
    assert_eq!(config.client_id.as_deref(), Some("mcp-server"));
    assert_eq!(
        config.client_secret.as_ref().map(|s| s.secret()),
        Some("the-secret")
    );
    assert!(
        !format!("{config:?}").contains("the-secret"),
        "never printed"
    );
    env.clear();
    env.set("MCP_USE_OAUTH_CUSTOM_ISSUER", "https://auth.example.com");
    env.set("MCP_USE_OAUTH_CUSTOM_CLIENT_SECRET", "the-secret");
    let err = mcp_auth_core::CustomConfig::from_source(&env.source()).expect_err("lone secret");
    assert!(
        err.to_string()
            .contains("MCP_USE_OAUTH_CUSTOM_CLIENT_SECRET"),
        "{err}"
    );
}
