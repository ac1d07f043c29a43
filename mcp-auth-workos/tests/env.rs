//! `WorkosConfig::from_env` / `with_env` / `workos_provider`: every variable,
//! missing and malformed ones named, explicit values over the environment, `.env`
//! loading. Each test runs in its own process under nextest; the variables are set
//! here and nowhere else.

use mcp_auth_core::{AuthProvider, ConfigError, Mode};
use mcp_auth_workos::{
    WORKOS_API_KEY_VAR, WORKOS_CLIENT_ID_VAR, WORKOS_ENV_VARS, WORKOS_SUBDOMAIN_VAR, WorkosConfig,
    workos_provider,
};

fn set(name: &str, value: &str) {
    // SAFETY: each test is its own process under nextest and sets variables before
    // spawning any thread that reads the environment.
    unsafe { std::env::set_var(name, value) }
}

fn clear_all() {
    for v in WORKOS_ENV_VARS {
        // SAFETY: as in `set`.
        unsafe { std::env::remove_var(v) }
    }
}

/// Moves into an empty temporary directory, so no stray `.env` is loaded.
fn in_empty_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("mcp-auth-workos-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    std::env::set_current_dir(&dir).expect("chdir");
    dir
}

#[test]
fn every_variable_is_read() {
    in_empty_dir("read");
    clear_all();
    set(WORKOS_SUBDOMAIN_VAR, "your-company");
    set(WORKOS_CLIENT_ID_VAR, "client_01KB5EXAMPLE");
    set(WORKOS_API_KEY_VAR, "sk_test_secret123");
    let config = WorkosConfig::from_env().expect("complete environment");
    assert_eq!(config.subdomain, "your-company");
    assert_eq!(config.client_id.as_deref(), Some("client_01KB5EXAMPLE"));
    assert_eq!(
        config.api_key.as_ref().map(|k| k.secret()),
        Some("sk_test_secret123")
    );
    assert!(!format!("{config:?}").contains("sk_test_secret123"));

    let provider = workos_provider().expect("zero-config provider");
    let m = provider.metadata();
    assert_eq!(m.issuer, "https://your-company.authkit.app");
    assert_eq!(m.mode, Mode::Direct);
    assert_eq!(m.client_id.as_deref(), Some("client_01KB5EXAMPLE"));
    assert_eq!(
        provider.verifier().config().audience,
        mcp_auth_core::Audience::exactly("client_01KB5EXAMPLE")
    );
}

#[test]
fn only_the_subdomain_is_required() {
    in_empty_dir("required");
    clear_all();
    set(WORKOS_SUBDOMAIN_VAR, "your-company");
    let config = WorkosConfig::from_env().expect("subdomain is enough");
    assert_eq!(config.client_id, None, "DCR mode");
    assert_eq!(config.api_key, None);
    workos_provider().expect("provider");
}

#[test]
fn missing_and_malformed_variables_are_named() {
    in_empty_dir("missing");
    clear_all();
    set(WORKOS_CLIENT_ID_VAR, "client_01");
    let err = WorkosConfig::from_env().expect_err("no subdomain");
    assert_eq!(
        err,
        ConfigError::MissingVars(vec![WORKOS_SUBDOMAIN_VAR.into()])
    );
    let msg = workos_provider().expect_err("no subdomain").to_string();
    assert!(msg.contains(WORKOS_SUBDOMAIN_VAR), "{msg}");

    for bad in [
        "your company",
        "http://your-company.authkit.app",
        "your-company.authkit.app/x",
    ] {
        set(WORKOS_SUBDOMAIN_VAR, bad);
        let err = WorkosConfig::from_env().expect_err(bad);
        assert!(
            matches!(&err, ConfigError::Invalid { name, .. } if name == WORKOS_SUBDOMAIN_VAR),
            "{bad}: {err:?}"
        );
    }
}

#[test]
fn explicit_values_win_over_the_environment() {
    in_empty_dir("explicit");
    clear_all();
    set(WORKOS_SUBDOMAIN_VAR, "env-company");
    set(WORKOS_CLIENT_ID_VAR, "client_env");
    set(WORKOS_API_KEY_VAR, "sk_env");

    let config = WorkosConfig::default()
        .with_client_id("client_code")
        .with_env()
        .expect("subdomain from env");
    assert_eq!(config.client_id.as_deref(), Some("client_code"));
    assert_eq!(config.subdomain, "env-company");
    assert_eq!(config.api_key.as_ref().map(|k| k.secret()), Some("sk_env"));

    let config = WorkosConfig::new("code-company")
        .with_api_key("sk_code")
        .with_env()
        .expect("client id from env");
    assert_eq!(config.subdomain, "code-company");
    assert_eq!(config.api_key.as_ref().map(|k| k.secret()), Some("sk_code"));
    assert_eq!(config.client_id.as_deref(), Some("client_env"));

    // An AuthKit URL in code stands in for the subdomain.
    clear_all();
    let config = WorkosConfig::default()
        .with_authkit_url("https://auth.example.com")
        .with_env()
        .expect("nothing required");
    assert_eq!(config.subdomain, "");
    assert_eq!(config.issuer().expect("issuer"), "https://auth.example.com");
}

#[test]
fn dotenv_is_loaded_and_the_process_environment_wins() {
    let dir = in_empty_dir("dotenv");
    clear_all();
    std::fs::write(
        dir.join(".env"),
        format!(
            "{WORKOS_SUBDOMAIN_VAR}=dotenv-company\n{WORKOS_CLIENT_ID_VAR}=client_dotenv\n{WORKOS_API_KEY_VAR}=sk_dotenv\n"
        ),
    )
    .expect("write .env");
    set(WORKOS_CLIENT_ID_VAR, "client_process");
    let config = WorkosConfig::from_env().expect("subdomain from .env");
    assert_eq!(config.subdomain, "dotenv-company");
    assert_eq!(config.client_id.as_deref(), Some("client_process"));
    assert_eq!(
        config.api_key.as_ref().map(|k| k.secret()),
        Some("sk_dotenv")
    );
}
