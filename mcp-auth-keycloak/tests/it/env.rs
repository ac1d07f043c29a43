//! `KeycloakConfig::from_source` / `with_source` and `KeycloakProvider::from_source` (what
//! `from_env` runs over the process environment and `.env`): every variable,
//! missing and malformed ones named, explicit values over the environment, a named
//! `.env` file. The variables are a map each test builds: nothing touches the
//! process environment or the working directory, so plain `cargo test` runs these
//! in parallel.

use mcp_auth_core::{AuthProvider, ConfigError};
use mcp_auth_keycloak::{KEYCLOAK_ENV_VARS, KeycloakConfig, KeycloakProvider};
use mcp_auth_testkit::{DotenvFile, Vars};

const SERVER_URL: &str = "MCP_USE_OAUTH_KEYCLOAK_SERVER_URL";
const REALM: &str = "MCP_USE_OAUTH_KEYCLOAK_REALM";
const CLIENT_ID: &str = "MCP_USE_OAUTH_KEYCLOAK_CLIENT_ID";
const CLIENT_SECRET: &str = "MCP_USE_OAUTH_KEYCLOAK_CLIENT_SECRET";

#[test]
fn the_variable_list_is_exact() {
    assert_eq!(
        KEYCLOAK_ENV_VARS,
        [SERVER_URL, REALM, CLIENT_ID, CLIENT_SECRET]
    );
}

#[test]
fn every_variable_is_read() {
    let mut env = Vars::default();
    env.set(SERVER_URL, "https://sso.example.com/");
    env.set(REALM, "acme");
    env.set(CLIENT_ID, "mcp-server");
    env.set(CLIENT_SECRET, "s3cr3t-value");
    let c = KeycloakConfig::from_source(&env.source()).expect("complete environment");
    assert_eq!(c.server_url, "https://sso.example.com/");
    assert_eq!(c.realm, "acme");
    assert_eq!(c.client_id.as_deref(), Some("mcp-server"));
    assert_eq!(
        c.client_secret.as_ref().map(|s| s.secret()),
        Some("s3cr3t-value")
    );
    assert!(!format!("{c:?}").contains("s3cr3t-value"), "secret printed");
    assert_eq!(
        c.issuer().expect("issuer"),
        "https://sso.example.com/realms/acme"
    );
    let p = KeycloakProvider::new(c).expect("provider");
    let m = p.metadata();
    assert_eq!(m.client_id.as_deref(), Some("mcp-server"));
    assert_eq!(
        m.client_secret.as_ref().map(|s| s.secret()),
        Some("s3cr3t-value")
    );
    assert_eq!(
        p.verifier().config().audience,
        mcp_auth_core::jwt::Audience::OneOfOrAuthorizedParty(vec!["mcp-server".into()])
    );
}

#[test]
fn the_client_is_optional() {
    let mut env = Vars::default();
    env.set(SERVER_URL, "https://sso.example.com");
    env.set(REALM, "acme");
    let c = KeycloakConfig::from_source(&env.source()).expect("server and realm are enough");
    assert_eq!(c.client_id, None);
    assert_eq!(c.client_secret, None);
    let p = KeycloakProvider::new(c).expect("provider");
    assert_eq!(p.metadata().client_id, None);
}

#[test]
fn missing_variables_are_all_named() {
    let mut env = Vars::default();
    let err = KeycloakConfig::from_source(&env.source()).expect_err("nothing set");
    assert_eq!(
        err,
        ConfigError::MissingVars(vec![SERVER_URL.into(), REALM.into()])
    );
    env.set(CLIENT_ID, "mcp-server");
    env.set(REALM, "acme");
    let msg = KeycloakProvider::from_source(&env.source())
        .expect_err("no server")
        .to_string();
    assert!(msg.contains(SERVER_URL), "{msg}");
    assert!(!msg.contains(REALM), "{msg}");
}

#[test]
fn malformed_variables_are_all_named() {
    let mut env = Vars::default();
    env.set(SERVER_URL, "sso.example.com");
    env.set(REALM, "https://sso.example.com/realms/acme");
    let msg = KeycloakConfig::from_source(&env.source())
        .expect_err("both malformed")
        .to_string();
    assert!(msg.contains(SERVER_URL), "{msg}");
    assert!(msg.contains(REALM), "{msg}");
    assert!(!msg.contains("missing"), "malformed is not missing: {msg}");
}

#[test]
fn a_secret_without_a_client_is_named() {
    let mut env = Vars::default();
    env.set(SERVER_URL, "https://sso.example.com");
    env.set(REALM, "acme");
    env.set(CLIENT_SECRET, "orphan");
    let msg = KeycloakConfig::from_source(&env.source())
        .expect_err("secret without client")
        .to_string();
    assert!(msg.contains(CLIENT_SECRET), "{msg}");
    assert!(msg.contains(CLIENT_ID), "{msg}");
    assert!(
        !msg.contains("orphan"),
        "the secret itself is never shown: {msg}"
    );
}

#[test]
fn explicit_values_win_over_the_environment() {
    let mut env = Vars::default();
    env.set(SERVER_URL, "https://env.example.com");
    env.set(REALM, "env-realm");
    env.set(CLIENT_ID, "env-client");
    env.set(CLIENT_SECRET, "env-secret");
    let c = KeycloakConfig::new("https://explicit.example.com", "explicit-realm")
        .with_client_id("explicit-client")
        .with_source(&env.source())
        .expect("nothing missing");
    assert_eq!(
        c.issuer().expect("issuer"),
        "https://explicit.example.com/realms/explicit-realm"
    );
    assert_eq!(c.client_id.as_deref(), Some("explicit-client"));
    // Unset fields are filled from the environment.
    assert_eq!(
        c.client_secret.as_ref().map(|s| s.secret()),
        Some("env-secret")
    );

    // Only the realm explicit: the server comes from the environment.
    let mut partial = KeycloakConfig::default();
    partial.realm = "explicit-realm".into();
    let c = partial.with_source(&env.source()).expect("server from env");
    assert_eq!(
        c.issuer().expect("issuer"),
        "https://env.example.com/realms/explicit-realm"
    );
}

#[test]
fn explicit_values_are_not_checked_against_a_broken_environment() {
    let mut env = Vars::default();
    env.set(SERVER_URL, "not a url");
    env.set(REALM, "a/b");
    let c = KeycloakConfig::new("https://explicit.example.com", "acme")
        .with_source(&env.source())
        .expect("the environment is not read for explicit values");
    assert_eq!(c.realm, "acme");
}

#[test]
fn a_named_dotenv_file_is_read_and_set_variables_win() {
    let mut env = Vars::default();
    let path = DotenvFile::new(format!(
        "{SERVER_URL}=https://dotenv.example.com\n{REALM}=dotenv-realm\n{CLIENT_ID}=dotenv-client\n"
    ));
    env.set(CLIENT_ID, "process-client");
    let p = KeycloakProvider::from_source(
        &env.source()
            .with_dotenv_file(&path)
            .expect("read the .env file"),
    )
    .expect("server and realm from .env");
    assert_eq!(
        p.metadata().issuer,
        "https://dotenv.example.com/realms/dotenv-realm"
    );
    assert_eq!(p.config().client_id.as_deref(), Some("process-client"));
}

#[test]
fn a_server_url_on_plain_http_only_for_loopback_hosts() {
    let mut env = Vars::default();
    env.set(SERVER_URL, "http://sso.example.com");
    env.set(REALM, "acme");
    let err = KeycloakConfig::from_source(&env.source()).expect_err("plain http elsewhere");
    assert!(
        matches!(&err, ConfigError::Invalid { name, reason } if name == SERVER_URL && reason.contains("https")),
        "{err:?}"
    );
    let err = KeycloakProvider::new(KeycloakConfig::new("http://sso.example.com", "acme"))
        .expect_err("explicit plain http elsewhere");
    assert!(err.to_string().contains("https"), "{err}");
    env.set(SERVER_URL, "http://127.0.0.1:8080");
    KeycloakConfig::from_source(&env.source()).expect("loopback");
}
