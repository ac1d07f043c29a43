//! `SupabaseConfig::from_env` / `with_env`: every variable, missing and malformed
//! ones named, explicit values over the environment, `.env` loading. Each test runs
//! in its own process under nextest; the variables are set here and nowhere else.

use mcp_auth_core::{AuthProvider, ConfigError};
use mcp_auth_supabase::{
    SUPABASE_ENV_VARS, SupabaseConfig, SupabaseJwtSecret, SupabaseProvider, supabase_provider,
};

const PROJECT_ID: &str = "MCP_USE_OAUTH_SUPABASE_PROJECT_ID";
const URL: &str = "MCP_USE_OAUTH_SUPABASE_URL";
const SECRET: &str = "MCP_USE_OAUTH_SUPABASE_JWT_SECRET";

fn set(name: &str, value: &str) {
    // SAFETY: each test is its own process under nextest and sets variables before
    // spawning any thread that reads the environment.
    unsafe { std::env::set_var(name, value) }
}

/// An empty temporary directory as the working directory (no stray `.env`), and
/// none of the preset's variables set.
fn clean() -> std::path::PathBuf {
    for v in SUPABASE_ENV_VARS {
        // SAFETY: as in `set`.
        unsafe { std::env::remove_var(v) }
    }
    let dir = std::env::temp_dir().join(format!("mcp-auth-supabase-env-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    std::env::set_current_dir(&dir).expect("chdir");
    dir
}

#[test]
fn the_variable_list_is_exact() {
    assert_eq!(SUPABASE_ENV_VARS, [PROJECT_ID, URL, SECRET]);
}

#[test]
fn project_id_and_secret_are_read() {
    clean();
    set(PROJECT_ID, "abcdefghijklmnopqrst");
    set(SECRET, "legacy-secret");
    let c = SupabaseConfig::from_env().expect("complete environment");
    assert_eq!(c.project_id.as_deref(), Some("abcdefghijklmnopqrst"));
    assert_eq!(c.url, None);
    assert_eq!(
        c.jwt_secret.as_ref().map(SupabaseJwtSecret::secret),
        Some("legacy-secret")
    );
    assert_eq!(
        c.issuer().expect("issuer"),
        "https://abcdefghijklmnopqrst.supabase.co/auth/v1"
    );
    assert!(
        !format!("{c:?}").contains("legacy-secret"),
        "secret printed"
    );
    let p = SupabaseProvider::new(c).expect("provider");
    assert!(
        p.verifier()
            .allowed_algorithms()
            .contains(mcp_auth_core::Algorithm::HS256)
    );
}

#[test]
fn the_secret_is_optional_and_without_it_hs256_is_not_allowed() {
    clean();
    set(PROJECT_ID, "abcdefghijklmnopqrst");
    let c = SupabaseConfig::from_env().expect("project id is enough");
    assert_eq!(c.jwt_secret, None);
    let p = SupabaseProvider::new(c).expect("provider");
    let algs = p.verifier().allowed_algorithms();
    assert!(!algs.contains(mcp_auth_core::Algorithm::HS256));
    assert!(algs.contains(mcp_auth_core::Algorithm::ES256));
    assert!(algs.contains(mcp_auth_core::Algorithm::RS256));
}

#[test]
fn the_url_replaces_the_project_id() {
    clean();
    set(URL, "http://127.0.0.1:54321/");
    let c = SupabaseConfig::from_env().expect("URL is enough");
    assert_eq!(
        c.issuer().expect("issuer"),
        "http://127.0.0.1:54321/auth/v1"
    );
    // Both set: the full URL wins.
    set(PROJECT_ID, "abcdefghijklmnopqrst");
    set(URL, "https://auth.example.com");
    let c = SupabaseConfig::from_env().expect("both");
    assert_eq!(
        c.issuer().expect("issuer"),
        "https://auth.example.com/auth/v1"
    );
}

#[test]
fn missing_project_names_both_ways_to_give_it() {
    clean();
    let err = SupabaseConfig::from_env().expect_err("nothing set");
    assert!(matches!(err, ConfigError::MissingVars(_)), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains(PROJECT_ID), "{msg}");
    assert!(msg.contains(URL), "{msg}");
    // A secret alone is not a project.
    set(SECRET, "s");
    let msg = supabase_provider().expect_err("no project").to_string();
    assert!(msg.contains(PROJECT_ID), "{msg}");
}

#[test]
fn malformed_variables_are_named() {
    clean();
    set(PROJECT_ID, "https://abc.supabase.co");
    let msg = SupabaseConfig::from_env()
        .expect_err("a URL is no project id")
        .to_string();
    assert!(msg.contains(PROJECT_ID), "{msg}");
    clean();
    set(URL, "abc.supabase.co");
    let err = SupabaseConfig::from_env().expect_err("no scheme");
    let msg = err.to_string();
    assert!(msg.contains(URL), "{msg}");
    assert!(
        !matches!(err, ConfigError::MissingVars(_)),
        "a malformed URL is not missing: {err:?}"
    );
}

#[test]
fn explicit_values_win_over_the_environment() {
    clean();
    set(PROJECT_ID, "fromenvfromenvfromen");
    set(URL, "https://env.example.com");
    set(SECRET, "env-secret");
    let mut explicit = SupabaseConfig::for_project("explicitexplicitexpl");
    explicit.jwt_secret = Some(SupabaseJwtSecret::new("explicit-secret"));
    let c = explicit.with_env().expect("nothing missing");
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
        .with_env()
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
    clean();
    set(PROJECT_ID, "not a project id");
    set(URL, "ftp://broken");
    let c = SupabaseConfig::for_project("explicitexplicitexpl")
        .with_env()
        .expect("the environment is not read for explicit values");
    assert_eq!(c.project_id.as_deref(), Some("explicitexplicitexpl"));
}

#[test]
fn dotenv_is_loaded_and_the_process_environment_wins() {
    let dir = clean();
    std::fs::write(
        dir.join(".env"),
        format!("{PROJECT_ID}=dotenvdotenvdotenvdo\n{SECRET}=dotenv-secret\n"),
    )
    .expect("write .env");
    set(SECRET, "process-secret");
    let p = supabase_provider().expect("project from .env");
    assert_eq!(
        p.metadata().issuer,
        "https://dotenvdotenvdotenvdo.supabase.co/auth/v1"
    );
    assert_eq!(
        p.config()
            .jwt_secret
            .as_ref()
            .map(SupabaseJwtSecret::secret),
        Some("process-secret")
    );
}
