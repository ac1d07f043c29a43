//! `Auth0Config::from_source` / `with_source` and `Auth0Provider::from_source` (what
//! `from_env` runs over the process environment and `.env`): every variable,
//! missing and malformed ones named, explicit values over the environment, a named
//! `.env` file. The variables are a map each test builds: nothing touches the
//! process environment or the working directory, so plain `cargo test` runs these
//! in parallel.

use mcp_auth_auth0::{AUTH0_AUDIENCE_VAR, AUTH0_DOMAIN_VAR, Auth0Config, Auth0Provider};
use mcp_auth_core::{AuthProvider, ConfigError, Mode};
use mcp_auth_testkit::{DotenvFile, Vars};

#[test]
fn both_variables_are_read() {
    let mut env = Vars::default();
    env.set(AUTH0_DOMAIN_VAR, "your-tenant.auth0.com");
    env.set(AUTH0_AUDIENCE_VAR, "https://api.example.com");
    let config = Auth0Config::from_source(&env.source()).expect("complete environment");
    assert_eq!(config.domain, "your-tenant.auth0.com");
    assert_eq!(config.audience, "https://api.example.com");
    assert_eq!(
        config.issuer().expect("issuer"),
        "https://your-tenant.auth0.com/"
    );

    // The headline call: the same, as a provider.
    let provider = Auth0Provider::from_source(&env.source()).expect("zero-config provider");
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
    let mut env = Vars::default();
    env.set(AUTH0_DOMAIN_VAR, "https://your-tenant.auth0.com/");
    env.set(AUTH0_AUDIENCE_VAR, "my-api");
    let provider = Auth0Provider::from_source(&env.source()).expect("provider");
    assert_eq!(provider.issuer(), "https://your-tenant.auth0.com/");
}

#[test]
fn missing_variables_are_named() {
    let mut env = Vars::default();
    let err = Auth0Config::from_source(&env.source()).expect_err("nothing set");
    assert_eq!(
        err,
        ConfigError::MissingVars(vec![AUTH0_DOMAIN_VAR.into(), AUTH0_AUDIENCE_VAR.into()])
    );
    let msg = Auth0Provider::from_source(&env.source())
        .expect_err("nothing set")
        .to_string();
    assert!(
        msg.contains(AUTH0_DOMAIN_VAR) && msg.contains(AUTH0_AUDIENCE_VAR),
        "{msg}"
    );

    env.set(AUTH0_DOMAIN_VAR, "your-tenant.auth0.com");
    let err = Auth0Config::from_source(&env.source()).expect_err("audience missing");
    assert_eq!(
        err,
        ConfigError::MissingVars(vec![AUTH0_AUDIENCE_VAR.into()])
    );

    // Empty counts as missing.
    env.set(AUTH0_AUDIENCE_VAR, "  ");
    let err = Auth0Config::from_source(&env.source()).expect_err("audience empty");
    assert_eq!(
        err,
        ConfigError::MissingVars(vec![AUTH0_AUDIENCE_VAR.into()])
    );
}

#[test]
fn malformed_domain_is_named_with_the_missing_audience() {
    let mut env = Vars::default();
    env.set(AUTH0_DOMAIN_VAR, "http://your-tenant.auth0.com");
    let err = Auth0Config::from_source(&env.source()).expect_err("two problems");
    let msg = err.to_string();
    assert!(
        matches!(err, ConfigError::Several(ref e) if e.len() == 2),
        "{err:?}"
    );
    assert!(msg.contains(AUTH0_DOMAIN_VAR), "{msg}");
    assert!(msg.contains("https"), "{msg}");
    assert!(msg.contains(AUTH0_AUDIENCE_VAR), "{msg}");

    env.set(AUTH0_DOMAIN_VAR, "your-tenant.auth0.com/some/path");
    env.set(AUTH0_AUDIENCE_VAR, "my-api");
    let err = Auth0Config::from_source(&env.source()).expect_err("path in domain");
    assert!(
        matches!(&err, ConfigError::Invalid { name, .. } if name == AUTH0_DOMAIN_VAR),
        "{err:?}"
    );
}

#[test]
fn explicit_values_win_over_the_environment() {
    let mut env = Vars::default();
    env.set(AUTH0_DOMAIN_VAR, "env-tenant.auth0.com");
    env.set(AUTH0_AUDIENCE_VAR, "env-api");

    // Audience in code, domain from the environment.
    let mut config = Auth0Config::default();
    config.audience = "code-api".into();
    let config = config.with_source(&env.source()).expect("domain from env");
    assert_eq!(config.audience, "code-api");
    assert_eq!(config.domain, "env-tenant.auth0.com");

    // Both in code: the environment is not consulted at all.
    let config = Auth0Config::new("code-tenant.auth0.com", "code-api")
        .with_source(&env.source())
        .expect("nothing to fill");
    assert_eq!(config.domain, "code-tenant.auth0.com");
    assert_eq!(config.audience, "code-api");

    // A base URL in code stands in for the domain.
    let config = Auth0Config::default()
        .with_base_url("http://127.0.0.1:9")
        .with_source(&env.source())
        .expect("audience from env");
    assert_eq!(config.domain, "", "domain not needed");
    assert_eq!(config.audience, "env-api");
    assert_eq!(config.issuer().expect("issuer"), "http://127.0.0.1:9/");

    // Explicit values need no environment at all.
    env.clear();
    let config = Auth0Config::new("code-tenant.auth0.com", "code-api")
        .with_source(&env.source())
        .expect("nothing needed");
    assert_eq!(config.audience, "code-api");
    // ... and only what is still missing is named.
    let mut partial = Auth0Config::default();
    partial.domain = "code-tenant.auth0.com".into();
    assert_eq!(
        partial
            .with_source(&env.source())
            .expect_err("audience missing"),
        ConfigError::MissingVars(vec![AUTH0_AUDIENCE_VAR.into()])
    );
}

#[test]
fn a_named_dotenv_file_is_read_and_set_variables_win() {
    let mut env = Vars::default();
    let path = DotenvFile::new(format!(
        "# Auth0 settings\n{AUTH0_DOMAIN_VAR}=dotenv-tenant.auth0.com\n{AUTH0_AUDIENCE_VAR}=dotenv-api\n"
    ));
    env.set(AUTH0_AUDIENCE_VAR, "process-api");
    let config = Auth0Config::from_source(
        &env.source()
            .with_dotenv_file(&path)
            .expect("read the .env file"),
    )
    .expect("domain from .env");
    assert_eq!(config.domain, "dotenv-tenant.auth0.com");
    assert_eq!(config.audience, "process-api");
}
