//! `SupabaseConfig::from_source` / `with_source` and `SupabaseProvider::from_source` (what
//! `from_env` runs over the process environment and `.env`): every variable,
//! missing and malformed ones named, explicit values over the environment, a named
//! `.env` file. The variables are a map each test builds: nothing touches the
//! process environment or the working directory, so plain `cargo test` runs these
//! in parallel.

use mcp_auth_core::{AuthProvider, ConfigError};
use mcp_auth_supabase::{SUPABASE_ENV_VARS, SupabaseConfig, SupabaseJwtSecret, SupabaseProvider};
use mcp_auth_testkit::{DotenvFile, Vars};

const PROJECT_ID: &str = "MCP_USE_OAUTH_SUPABASE_PROJECT_ID";
const URL: &str = "MCP_USE_OAUTH_SUPABASE_URL";
const SECRET: &str = "MCP_USE_OAUTH_SUPABASE_JWT_SECRET";

#[test]
fn the_variable_list_is_exact() {
    assert_eq!(SUPABASE_ENV_VARS, [PROJECT_ID, URL, SECRET]);
}

#[test]
fn project_id_and_secret_are_read() {
    let mut env = Vars::default();
    env.set(PROJECT_ID, "abcdefghijklmnopqrst");
    env.set(SECRET, "legacy-secret-of-at-least-32-bytes-long");
    let c = SupabaseConfig::from_source(&env.source()).expect("complete environment");
    assert_eq!(c.project_id.as_deref(), Some("abcdefghijklmnopqrst"));
    assert_eq!(c.url, None);
    assert_eq!(
        c.jwt_secret.as_ref().map(SupabaseJwtSecret::secret),
        Some("legacy-secret-of-at-least-32-bytes-long")
    );
    assert_eq!(
        c.issuer().expect("issuer"),
        "https://abcdefghijklmnopqrst.supabase.co/auth/v1"
    );
    assert!(
        !format!("{c:?}").contains("legacy-secret-of-at-least-32-bytes-long"),
        "secret printed"
    );
    let p = SupabaseProvider::new(c).expect("provider");
    assert!(
        p.verifier()
            .allowed_algorithms()
            .contains(mcp_auth_core::jwt::Algorithm::HS256)
    );
}

#[test]
fn the_secret_is_optional_and_without_it_hs256_is_not_allowed() {
    let mut env = Vars::default();
    env.set(PROJECT_ID, "abcdefghijklmnopqrst");
    let c = SupabaseConfig::from_source(&env.source()).expect("project id is enough");
    assert_eq!(c.jwt_secret, None);
    let p = SupabaseProvider::new(c).expect("provider");
    let algs = p.verifier().allowed_algorithms();
    assert!(!algs.contains(mcp_auth_core::jwt::Algorithm::HS256));
    assert!(algs.contains(mcp_auth_core::jwt::Algorithm::ES256));
    assert!(algs.contains(mcp_auth_core::jwt::Algorithm::RS256));
}

#[test]
fn the_url_replaces_the_project_id() {
    let mut env = Vars::default();
    env.set(URL, "http://127.0.0.1:54321/");
    let c = SupabaseConfig::from_source(&env.source()).expect("URL is enough");
    assert_eq!(
        c.issuer().expect("issuer"),
        "http://127.0.0.1:54321/auth/v1"
    );
    // Both set: the full URL wins.
    env.set(PROJECT_ID, "abcdefghijklmnopqrst");
    env.set(URL, "https://auth.example.com");
    let c = SupabaseConfig::from_source(&env.source()).expect("both");
    assert_eq!(
        c.issuer().expect("issuer"),
        "https://auth.example.com/auth/v1"
    );
}

#[test]
fn missing_project_names_both_ways_to_give_it() {
    let mut env = Vars::default();
    let err = SupabaseConfig::from_source(&env.source()).expect_err("nothing set");
    assert!(matches!(err, ConfigError::MissingVars(_)), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains(PROJECT_ID), "{msg}");
    assert!(msg.contains(URL), "{msg}");
    // A secret alone is not a project.
    env.set(SECRET, "s");
    let msg = SupabaseProvider::from_source(&env.source())
        .expect_err("no project")
        .to_string();
    assert!(msg.contains(PROJECT_ID), "{msg}");
}

#[test]
fn malformed_variables_are_named() {
    let mut env = Vars::default();
    env.set(PROJECT_ID, "https://abc.supabase.co");
    let msg = SupabaseConfig::from_source(&env.source())
        .expect_err("a URL is no project id")
        .to_string();
    assert!(msg.contains(PROJECT_ID), "{msg}");
    env.clear();
    env.set(URL, "abc.supabase.co");
    let err = SupabaseConfig::from_source(&env.source()).expect_err("no scheme");
    let msg = err.to_string();
    assert!(msg.contains(URL), "{msg}");
    assert!(
        !matches!(err, ConfigError::MissingVars(_)),
        "a malformed URL is not missing: {err:?}"
    );
}

#[test]
fn explicit_values_win_over_the_environment() {
    let mut env = Vars::default();
    env.set(PROJECT_ID, "fromenvfromenvfromen");
    env.set(URL, "https://env.example.com");
    env.set(SECRET, "env-secret");
    let mut explicit = SupabaseConfig::for_project("explicitexplicitexpl");
    explicit.jwt_secret = Some(SupabaseJwtSecret::new("explicit-secret"));
    let c = explicit
        .with_source(&env.source())
        .expect("nothing missing");
    assert_eq!(
        c.issuer().expect("issuer"),
        "https://explicitexplicitexpl.supabase.co/auth/v1"
    );
    assert_eq!(
        c.jwt_secret.as_ref().map(SupabaseJwtSecret::secret),
        Some("explicit-secret")
    );
    // An explicit URL wins too, and unset fields are still filled.
    let c = SupabaseConfig::for_url("https://explicit.example.com")
        .with_source(&env.source())
        .expect("nothing missing");
    assert_eq!(
        c.issuer().expect("issuer"),
        "https://explicit.example.com/auth/v1"
    );
    assert_eq!(c.project_id, None);
    assert_eq!(
        c.jwt_secret.as_ref().map(SupabaseJwtSecret::secret),
        Some("env-secret")
    );
}

#[test]
fn explicit_values_are_not_checked_against_a_broken_environment() {
    let mut env = Vars::default();
    env.set(PROJECT_ID, "not a project id");
    env.set(URL, "ftp://broken");
    let c = SupabaseConfig::for_project("explicitexplicitexpl")
        .with_source(&env.source())
        .expect("the environment is not read for explicit values");
    assert_eq!(c.project_id.as_deref(), Some("explicitexplicitexpl"));
}

#[test]
fn a_named_dotenv_file_is_read_and_set_variables_win() {
    let mut env = Vars::default();
    let path = DotenvFile::new(format!(
        "{PROJECT_ID}=dotenvdotenvdotenvdo\n{SECRET}=dotenv-secret-of-at-least-32-bytes-long\n"
    ));
    env.set(SECRET, "process-secret-of-at-least-32-bytes-long");
    let p = SupabaseProvider::from_source(
        &env.source()
            .with_dotenv_file(&path)
            .expect("read the .env file"),
    )
    .expect("project from .env");
    assert_eq!(
        p.metadata().issuer,
        "https://dotenvdotenvdotenvdo.supabase.co/auth/v1"
    );
    assert_eq!(
        p.config()
            .jwt_secret
            .as_ref()
            .map(SupabaseJwtSecret::secret),
        Some("process-secret-of-at-least-32-bytes-long")
    );
}

#[test]
fn a_jwt_secret_shorter_than_32_bytes_is_refused_naming_the_variable() {
    let mut env = Vars::default();
    env.set(PROJECT_ID, "abcdefghijklmnopqrst");
    env.set(SECRET, &"s".repeat(31));
    let msg = SupabaseProvider::from_source(&env.source())
        .expect_err("31 bytes")
        .to_string();
    assert!(msg.contains(SECRET) && msg.contains("32"), "{msg}");
    env.set(SECRET, &"s".repeat(32));
    SupabaseProvider::from_source(&env.source()).expect("32 bytes");
}

#[test]
fn a_project_url_on_plain_http_only_for_loopback_hosts() {
    let mut env = Vars::default();
    env.set(URL, "http://supabase.example.com");
    let err = SupabaseConfig::from_source(&env.source()).expect_err("plain http elsewhere");
    assert!(
        matches!(&err, ConfigError::Invalid { name, reason } if name == URL && reason.contains("https")),
        "{err:?}"
    );
    let err = SupabaseProvider::new(SupabaseConfig::for_url("http://supabase.example.com"))
        .expect_err("explicit plain http elsewhere");
    assert!(err.to_string().contains("https"), "{err}");
}
