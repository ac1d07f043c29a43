//! `KeycloakConfig::from_env` / `with_env`: every variable, missing and malformed
//! ones named, explicit values over the environment, `.env` loading. Each test runs
//! in its own process under nextest; the variables are set here and nowhere else.

use mcp_auth_core::{AuthProvider, ConfigError};
use mcp_auth_keycloak::{KEYCLOAK_ENV_VARS, KeycloakConfig, KeycloakProvider, keycloak_provider};

const SERVER_URL: &str = "MCP_USE_OAUTH_KEYCLOAK_SERVER_URL";
const REALM: &str = "MCP_USE_OAUTH_KEYCLOAK_REALM";
const CLIENT_ID: &str = "MCP_USE_OAUTH_KEYCLOAK_CLIENT_ID";
const CLIENT_SECRET: &str = "MCP_USE_OAUTH_KEYCLOAK_CLIENT_SECRET";

fn set(name: &str, value: &str) {
    // SAFETY: each test is its own process under nextest and sets variables before
    // spawning any thread that reads the environment.
    unsafe { std::env::set_var(name, value) }
}

/// An empty temporary directory as the working directory (no stray `.env`), and
/// none of the preset's variables set.
fn clean() -> std::path::PathBuf {
    for v in KEYCLOAK_ENV_VARS {
        // SAFETY: as in `set`.
        unsafe { std::env::remove_var(v) }
    }
    let dir = std::env::temp_dir().join(format!("mcp-auth-keycloak-env-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    std::env::set_current_dir(&dir).expect("chdir");
    dir
}

#[test]
fn the_variable_list_is_exact() {
    assert_eq!(
        KEYCLOAK_ENV_VARS,
        [SERVER_URL, REALM, CLIENT_ID, CLIENT_SECRET]
    );
}

#[test]
fn every_variable_is_read() {
    clean();
    set(SERVER_URL, "https://sso.example.com/");
    set(REALM, "acme");
    set(CLIENT_ID, "mcp-server");
    set(CLIENT_SECRET, "s3cr3t-value");
    let c = KeycloakConfig::from_env().expect("complete environment");
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
        mcp_auth_core::Audience::OneOfOrAuthorizedParty(vec!["mcp-server".into()])
    );
}

#[test]
fn the_client_is_optional() {
    clean();
    set(SERVER_URL, "https://sso.example.com");
    set(REALM, "acme");
    let c = KeycloakConfig::from_env().expect("server and realm are enough");
    assert_eq!(c.client_id, None);
    assert_eq!(c.client_secret, None);
    let p = KeycloakProvider::new(c).expect("provider");
    assert_eq!(p.metadata().client_id, None);
}

#[test]
fn missing_variables_are_all_named() {
    clean();
    let err = KeycloakConfig::from_env().expect_err("nothing set");
    assert_eq!(
        err,
        ConfigError::MissingVars(vec![SERVER_URL.into(), REALM.into()])
    );
    set(CLIENT_ID, "mcp-server");
    set(REALM, "acme");
    let msg = keycloak_provider().expect_err("no server").to_string();
    assert!(msg.contains(SERVER_URL), "{msg}");
    assert!(!msg.contains(REALM), "{msg}");
}

#[test]
fn malformed_variables_are_all_named() {
    clean();
    set(SERVER_URL, "sso.example.com");
    set(REALM, "https://sso.example.com/realms/acme");
    let msg = KeycloakConfig::from_env()
        .expect_err("both malformed")
        .to_string();
    assert!(msg.contains(SERVER_URL), "{msg}");
    assert!(msg.contains(REALM), "{msg}");
    assert!(!msg.contains("missing"), "malformed is not missing: {msg}");
}

#[test]
fn a_secret_without_a_client_is_named() {
    clean();
    set(SERVER_URL, "https://sso.example.com");
    set(REALM, "acme");
    set(CLIENT_SECRET, "orphan");
    let msg = KeycloakConfig::from_env()
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
    clean();
    set(SERVER_URL, "https://env.example.com");
    set(REALM, "env-realm");
    set(CLIENT_ID, "env-client");
    set(CLIENT_SECRET, "env-secret");
    let c = KeycloakConfig::new("https://explicit.example.com", "explicit-realm")
        .client_id("explicit-client")
        .with_env()
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
    let c = partial.with_env().expect("server from env");
    assert_eq!(
        c.issuer().expect("issuer"),
        "https://env.example.com/realms/explicit-realm"
    );
}

#[test]
fn explicit_values_are_not_checked_against_a_broken_environment() {
    clean();
    set(SERVER_URL, "not a url");
    set(REALM, "a/b");
    let c = KeycloakConfig::new("https://explicit.example.com", "acme")
        .with_env()
        .expect("the environment is not read for explicit values");
    assert_eq!(c.realm, "acme");
}

#[test]
fn dotenv_is_loaded_and_the_process_environment_wins() {
    let dir = clean();
    std::fs::write(
        dir.join(".env"),
        format!("{SERVER_URL}=https://dotenv.example.com\n{REALM}=dotenv-realm\n{CLIENT_ID}=dotenv-client\n"),
    )
    .expect("write .env");
    set(CLIENT_ID, "process-client");
    let p = keycloak_provider().expect("server and realm from .env");
    assert_eq!(
        p.metadata().issuer,
        "https://dotenv.example.com/realms/dotenv-realm"
    );
    assert_eq!(p.config().client_id.as_deref(), Some("process-client"));
}
