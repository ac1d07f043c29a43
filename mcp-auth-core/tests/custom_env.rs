//! `CustomConfig::from_env`: every variable, missing ones named, `.env` loading.
//! Each test runs in its own process under nextest; the variables are set here
//! and nowhere else.

use mcp_auth_core::{ConfigError, CustomConfig, CustomProvider, Mode};

const VARS: [&str; 8] = [
    "MCP_USE_OAUTH_CUSTOM_ISSUER",
    "MCP_USE_OAUTH_CUSTOM_AUDIENCE",
    "MCP_USE_OAUTH_CUSTOM_JWKS_URL",
    "MCP_USE_OAUTH_CUSTOM_AUTH_ENDPOINT",
    "MCP_USE_OAUTH_CUSTOM_TOKEN_ENDPOINT",
    "MCP_USE_OAUTH_CUSTOM_REGISTRATION_ENDPOINT",
    "MCP_USE_OAUTH_CUSTOM_SCOPES",
    "MCP_USE_OAUTH_CUSTOM_MODE",
];

fn set(name: &str, value: &str) {
    // SAFETY: each test is its own process under nextest and sets variables before
    // spawning any thread that reads the environment.
    unsafe { std::env::set_var(name, value) }
}

fn clear_all() {
    for v in VARS {
        // SAFETY: as in `set`.
        unsafe { std::env::remove_var(v) }
    }
}

/// Runs in an empty temporary directory so no stray `.env` is loaded.
fn in_empty_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("mcp-auth-env-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    std::env::set_current_dir(&dir).expect("chdir");
    dir
}

#[test]
fn every_variable_is_read() {
    in_empty_dir();
    clear_all();
    set("MCP_USE_OAUTH_CUSTOM_ISSUER", "https://auth.example.com");
    set("MCP_USE_OAUTH_CUSTOM_AUDIENCE", "my-api");
    set(
        "MCP_USE_OAUTH_CUSTOM_JWKS_URL",
        "https://auth.example.com/keys",
    );
    set(
        "MCP_USE_OAUTH_CUSTOM_AUTH_ENDPOINT",
        "https://auth.example.com/authorize",
    );
    set(
        "MCP_USE_OAUTH_CUSTOM_TOKEN_ENDPOINT",
        "https://auth.example.com/token",
    );
    set(
        "MCP_USE_OAUTH_CUSTOM_REGISTRATION_ENDPOINT",
        "https://auth.example.com/register",
    );
    set("MCP_USE_OAUTH_CUSTOM_SCOPES", "openid profile  email");
    set("MCP_USE_OAUTH_CUSTOM_MODE", "Proxy");
    let c = CustomConfig::from_env().expect("complete environment");
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
        mcp_auth_core::Audience::exactly("my-api")
    );
}

#[test]
fn missing_and_malformed_variables_are_named() {
    in_empty_dir();
    clear_all();
    let err = CustomConfig::from_env().expect_err("issuer missing");
    assert_eq!(
        err,
        ConfigError::MissingVars(vec!["MCP_USE_OAUTH_CUSTOM_ISSUER".into()])
    );
    assert!(err.to_string().contains("MCP_USE_OAUTH_CUSTOM_ISSUER"));
    set("MCP_USE_OAUTH_CUSTOM_ISSUER", "not a url");
    set("MCP_USE_OAUTH_CUSTOM_JWKS_URL", "ftp://x/keys");
    set("MCP_USE_OAUTH_CUSTOM_MODE", "sideways");
    let msg = CustomConfig::from_env()
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
    clear_all();
    set("MCP_USE_OAUTH_CUSTOM_ISSUER", "https://auth.example.com");
    set("MCP_USE_OAUTH_CUSTOM_MODE", "proxy");
    let msg = CustomProvider::from_env()
        .expect_err("no endpoints")
        .to_string();
    assert!(msg.contains("MCP_USE_OAUTH_CUSTOM_AUTH_ENDPOINT"), "{msg}");
}

#[test]
fn dotenv_is_loaded_and_the_process_environment_wins() {
    let dir = in_empty_dir();
    clear_all();
    std::fs::write(
        dir.join(".env"),
        "MCP_USE_OAUTH_CUSTOM_ISSUER=https://from-dotenv.example.com\nMCP_USE_OAUTH_CUSTOM_AUDIENCE=dotenv-aud\n",
    )
    .expect("write .env");
    set("MCP_USE_OAUTH_CUSTOM_AUDIENCE", "process-aud");
    let c = CustomConfig::from_env().expect("issuer from .env");
    assert_eq!(c.issuer, "https://from-dotenv.example.com");
    assert_eq!(c.audience.as_deref(), Some("process-aud"));
    assert_eq!(c.mode, Mode::Direct, "direct is the default");
}
