//! `Auth0Config::from_env` / `with_env` / `auth0_provider`: every variable, missing
//! and malformed ones named, explicit values over the environment, `.env` loading.
//! Each test runs in its own process under nextest; the variables are set here
//! and nowhere else.

use mcp_auth_auth0::{
    AUTH0_AUDIENCE_VAR, AUTH0_DOMAIN_VAR, AUTH0_ENV_VARS, Auth0Config, auth0_provider,
};
use mcp_auth_core::{AuthProvider, ConfigError, Mode};

fn set(name: &str, value: &str) {
    // SAFETY: each test is its own process under nextest and sets variables before
    // spawning any thread that reads the environment.
    unsafe { std::env::set_var(name, value) }
}

fn clear_all() {
    for v in AUTH0_ENV_VARS {
        // SAFETY: as in `set`.
        unsafe { std::env::remove_var(v) }
    }
}

/// Moves into an empty temporary directory, so no stray `.env` is loaded.
fn in_empty_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("mcp-auth-auth0-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    std::env::set_current_dir(&dir).expect("chdir");
    dir
}

#[test]
fn both_variables_are_read() {
    in_empty_dir("read");
    clear_all();
    set(AUTH0_DOMAIN_VAR, "your-tenant.auth0.com");
    set(AUTH0_AUDIENCE_VAR, "https://api.example.com");
    let config = Auth0Config::from_env().expect("complete environment");
    assert_eq!(config.domain, "your-tenant.auth0.com");
    assert_eq!(config.audience, "https://api.example.com");
    assert_eq!(
        config.issuer().expect("issuer"),
        "https://your-tenant.auth0.com/"
    );

    // The headline call: the same, as a provider.
    let provider = auth0_provider().expect("zero-config provider");
    let m = provider.metadata();
    assert_eq!(m.issuer, "https://your-tenant.auth0.com/");
    assert_eq!(m.mode, Mode::Proxy);
    assert_eq!(
        m.jwks_uri.as_deref(),
        Some("https://your-tenant.auth0.com/.well-known/jwks.json")
    );
    assert_eq!(
        m.extra_authorize_params,
        [("audience".to_owned(), "https://api.example.com".to_owned())]
    );
}

#[test]
fn domain_given_as_a_url_is_accepted() {
    in_empty_dir("url");
    clear_all();
    set(AUTH0_DOMAIN_VAR, "https://your-tenant.auth0.com/");
    set(AUTH0_AUDIENCE_VAR, "my-api");
    let provider = auth0_provider().expect("provider");
    assert_eq!(provider.issuer(), "https://your-tenant.auth0.com/");
}

#[test]
fn missing_variables_are_named() {
    in_empty_dir("missing");
    clear_all();
    let err = Auth0Config::from_env().expect_err("nothing set");
    assert_eq!(
        err,
        ConfigError::MissingVars(vec![AUTH0_DOMAIN_VAR.into(), AUTH0_AUDIENCE_VAR.into()])
    );
    let msg = auth0_provider().expect_err("nothing set").to_string();
    assert!(
        msg.contains(AUTH0_DOMAIN_VAR) && msg.contains(AUTH0_AUDIENCE_VAR),
        "{msg}"
    );

    set(AUTH0_DOMAIN_VAR, "your-tenant.auth0.com");
    let err = Auth0Config::from_env().expect_err("audience missing");
    assert_eq!(
        err,
        ConfigError::MissingVars(vec![AUTH0_AUDIENCE_VAR.into()])
    );

    // Empty counts as missing.
    set(AUTH0_AUDIENCE_VAR, "  ");
    let err = Auth0Config::from_env().expect_err("audience empty");
    assert_eq!(
        err,
        ConfigError::MissingVars(vec![AUTH0_AUDIENCE_VAR.into()])
    );
}

#[test]
fn malformed_domain_is_named_with_the_missing_audience() {
    in_empty_dir("malformed");
    clear_all();
    set(AUTH0_DOMAIN_VAR, "http://your-tenant.auth0.com");
    let err = Auth0Config::from_env().expect_err("two problems");
    let msg = err.to_string();
    assert!(
        matches!(err, ConfigError::Several(ref e) if e.len() == 2),
        "{err:?}"
    );
    assert!(msg.contains(AUTH0_DOMAIN_VAR), "{msg}");
    assert!(msg.contains("https"), "{msg}");
    assert!(msg.contains(AUTH0_AUDIENCE_VAR), "{msg}");

    set(AUTH0_DOMAIN_VAR, "your-tenant.auth0.com/some/path");
    set(AUTH0_AUDIENCE_VAR, "my-api");
    let err = Auth0Config::from_env().expect_err("path in domain");
    assert!(
        matches!(&err, ConfigError::Invalid { name, .. } if name == AUTH0_DOMAIN_VAR),
        "{err:?}"
    );
}

#[test]
fn explicit_values_win_over_the_environment() {
    in_empty_dir("explicit");
    clear_all();
    set(AUTH0_DOMAIN_VAR, "env-tenant.auth0.com");
    set(AUTH0_AUDIENCE_VAR, "env-api");

    // Audience in code, domain from the environment.
    let mut config = Auth0Config::default();
    config.audience = "code-api".into();
    let config = config.with_env().expect("domain from env");
    assert_eq!(config.audience, "code-api");
    assert_eq!(config.domain, "env-tenant.auth0.com");

    // Both in code: the environment is not consulted at all.
    let config = Auth0Config::new("code-tenant.auth0.com", "code-api")
        .with_env()
        .expect("nothing to fill");
    assert_eq!(config.domain, "code-tenant.auth0.com");
    assert_eq!(config.audience, "code-api");

    // A base URL in code stands in for the domain.
    let config = Auth0Config::default()
        .with_base_url("http://127.0.0.1:9")
        .with_env()
        .expect("audience from env");
    assert_eq!(config.domain, "", "domain not needed");
    assert_eq!(config.audience, "env-api");
    assert_eq!(config.issuer().expect("issuer"), "http://127.0.0.1:9/");

    // Explicit values need no environment at all.
    clear_all();
    let config = Auth0Config::new("code-tenant.auth0.com", "code-api")
        .with_env()
        .expect("nothing needed");
    assert_eq!(config.audience, "code-api");
    // ... and only what is still missing is named.
    let mut partial = Auth0Config::default();
    partial.domain = "code-tenant.auth0.com".into();
    assert_eq!(
        partial.with_env().expect_err("audience missing"),
        ConfigError::MissingVars(vec![AUTH0_AUDIENCE_VAR.into()])
    );
}

#[test]
fn dotenv_is_loaded_and_the_process_environment_wins() {
    let dir = in_empty_dir("dotenv");
    clear_all();
    std::fs::write(
        dir.join(".env"),
        format!(
            "# Auth0 settings\n{AUTH0_DOMAIN_VAR}=dotenv-tenant.auth0.com\n{AUTH0_AUDIENCE_VAR}=dotenv-api\n"
        ),
    )
    .expect("write .env");
    set(AUTH0_AUDIENCE_VAR, "process-api");
    let config = Auth0Config::from_env().expect("domain from .env");
    assert_eq!(config.domain, "dotenv-tenant.auth0.com");
    assert_eq!(config.audience, "process-api");
}
