//! `WorkosConfig::from_source` / `with_source` and `WorkosProvider::from_source` (what
//! `from_env` runs over the process environment and `.env`): every variable,
//! missing and malformed ones named, explicit values over the environment, a named
//! `.env` file. The variables are a map each test builds: nothing touches the
//! process environment or the working directory, so plain `cargo test` runs these
//! in parallel.

use mcp_auth_core::{AuthProvider, ConfigError, Mode};
use mcp_auth_testkit::{DotenvFile, Vars};
use mcp_auth_workos::{
    WORKOS_API_KEY_VAR, WORKOS_CLIENT_ID_VAR, WORKOS_SUBDOMAIN_VAR, WorkosConfig, WorkosProvider,
};

#[test]
fn every_variable_is_read() {
    let mut env = Vars::default();
    env.set(WORKOS_SUBDOMAIN_VAR, "your-company");
    env.set(WORKOS_CLIENT_ID_VAR, "client_01KB5EXAMPLE");
    env.set(WORKOS_API_KEY_VAR, "sk_test_secret123");
    let config = WorkosConfig::from_source(&env.source()).expect("complete environment");
    assert_eq!(config.subdomain, "your-company");
    assert_eq!(config.client_id.as_deref(), Some("client_01KB5EXAMPLE"));
    assert_eq!(
        config.api_key.as_ref().map(|k| k.secret()),
        Some("sk_test_secret123")
    );
    assert!(!format!("{config:?}").contains("sk_test_secret123"));

    let provider = WorkosProvider::from_source(&env.source()).expect("zero-config provider");
    let m = provider.metadata();
    assert_eq!(m.issuer, "https://your-company.authkit.app");
    assert_eq!(m.mode, Mode::Direct);
    assert_eq!(m.client_id.as_deref(), Some("client_01KB5EXAMPLE"));
    assert_eq!(
        provider.verifier().config().audience,
        mcp_auth_core::jwt::Audience::exactly("client_01KB5EXAMPLE")
    );
}

#[test]
fn only_the_subdomain_is_required() {
    let mut env = Vars::default();
    env.set(WORKOS_SUBDOMAIN_VAR, "your-company");
    let config = WorkosConfig::from_source(&env.source()).expect("subdomain is enough");
    assert_eq!(config.client_id, None, "DCR mode");
    assert_eq!(config.api_key, None);
    WorkosProvider::from_source(&env.source()).expect("provider");
}

#[test]
fn missing_and_malformed_variables_are_named() {
    let mut env = Vars::default();
    env.set(WORKOS_CLIENT_ID_VAR, "client_01");
    let err = WorkosConfig::from_source(&env.source()).expect_err("no subdomain");
    assert_eq!(
        err,
        ConfigError::MissingVars(vec![WORKOS_SUBDOMAIN_VAR.into()])
    );
    let msg = WorkosProvider::from_source(&env.source())
        .expect_err("no subdomain")
        .to_string();
    assert!(msg.contains(WORKOS_SUBDOMAIN_VAR), "{msg}");

    for bad in [
        "your company",
        "http://your-company.authkit.app",
        "your-company.authkit.app/x",
    ] {
        env.set(WORKOS_SUBDOMAIN_VAR, bad);
        let err = WorkosConfig::from_source(&env.source()).expect_err(bad);
        assert!(
            matches!(&err, ConfigError::Invalid { name, .. } if name == WORKOS_SUBDOMAIN_VAR),
            "{bad}: {err:?}"
        );
    }
}

#[test]
fn explicit_values_win_over_the_environment() {
    let mut env = Vars::default();
    env.set(WORKOS_SUBDOMAIN_VAR, "env-company");
    env.set(WORKOS_CLIENT_ID_VAR, "client_env");
    env.set(WORKOS_API_KEY_VAR, "sk_env");

    let config = WorkosConfig::default()
        .with_client_id("client_code")
        .with_source(&env.source())
        .expect("subdomain from env");
    assert_eq!(config.client_id.as_deref(), Some("client_code"));
    assert_eq!(config.subdomain, "env-company");
    assert_eq!(config.api_key.as_ref().map(|k| k.secret()), Some("sk_env"));

    let config = WorkosConfig::new("code-company")
        .with_api_key("sk_code")
        .with_source(&env.source())
        .expect("client id from env");
    assert_eq!(config.subdomain, "code-company");
    assert_eq!(config.api_key.as_ref().map(|k| k.secret()), Some("sk_code"));
    assert_eq!(config.client_id.as_deref(), Some("client_env"));

    // An AuthKit URL in code stands in for the subdomain.
    env.clear();
    let config = WorkosConfig::default()
        .with_authkit_url("https://auth.example.com")
        .with_source(&env.source())
        .expect("nothing required");
    assert_eq!(config.subdomain, "");
    assert_eq!(config.issuer().expect("issuer"), "https://auth.example.com");
}

#[test]
fn a_named_dotenv_file_is_read_and_set_variables_win() {
    let mut env = Vars::default();
    let path = DotenvFile::new(format!(
        "{WORKOS_SUBDOMAIN_VAR}=dotenv-company\n{WORKOS_CLIENT_ID_VAR}=client_dotenv\n{WORKOS_API_KEY_VAR}=sk_dotenv\n"
    ));
    env.set(WORKOS_CLIENT_ID_VAR, "client_process");
    let config = WorkosConfig::from_source(
        &env.source()
            .with_dotenv_file(&path)
            .expect("read the .env file"),
    )
    .expect("subdomain from .env");
    assert_eq!(config.subdomain, "dotenv-company");
    assert_eq!(config.client_id.as_deref(), Some("client_process"));
    assert_eq!(
        config.api_key.as_ref().map(|k| k.secret()),
        Some("sk_dotenv")
    );
}
