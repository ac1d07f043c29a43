//! Reading `MCP_USE_OAUTH_*` settings from the environment (and `.env`).
//!
//! Settings are read through an [`EnvSource`]: the process environment plus the
//! `.env` file found from the working directory upward ([`EnvSource::process`],
//! what every `from_env` uses), or variables you supply ([`EnvSource::from_vars`]),
//! optionally over a `.env` file you name ([`EnvSource::with_dotenv_file`]). Tests
//! and embedders pass a source to `from_source`, so nothing has to change the
//! process environment or the working directory.
//!
//! An [`EnvReader`] collects every missing or malformed variable before failing,
//! so one error names them all.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::error::ConfigError;

/// Loads `.env` from the current directory or its parents into the process
/// environment, if there is one. Variables already set in the process environment
/// win. A `.env` that exists but cannot be parsed is reported with a warning, not
/// ignored silently.
///
/// The `from_env` constructors of this workspace do not need it (they read `.env`
/// through [`EnvSource::process`] without changing the process environment); call
/// it for settings read elsewhere, such as `RUST_LOG`.
pub fn load_dotenv() {
    match dotenvy::dotenv() {
        Ok(path) => tracing::debug!(path = %path.display(), "loaded .env"),
        Err(e) if e.not_found() => {}
        Err(e) => tracing::warn!(error = %e, ".env could not be read"),
    }
}

/// Where settings come from. Lookups go, in order: variables set on the source
/// ([`with_var`](Self::with_var), [`from_vars`](Self::from_vars)), then the process
/// environment (for [`process`](Self::process) sources), then the `.env` file.
/// An empty value counts as unset.
///
/// ```
/// use mcp_auth_core::env::{EnvReader, EnvSource};
/// let source = EnvSource::from_vars([("MCP_USE_OAUTH_CUSTOM_ISSUER", "https://auth.example.com")]);
/// let mut env = EnvReader::with_source(&source);
/// assert_eq!(
///     env.required_url("MCP_USE_OAUTH_CUSTOM_ISSUER").as_deref(),
///     Some("https://auth.example.com")
/// );
/// assert!(env.finish().is_ok());
/// ```
///
/// `Debug` prints variable names only, never values (a source may hold secrets).
#[derive(Clone, Default)]
pub struct EnvSource {
    /// Variables set on the source; they win over everything else.
    vars: BTreeMap<String, String>,
    /// Whether the process environment is consulted.
    process: bool,
    /// Variables of a `.env` file; the process environment wins over them.
    dotenv: BTreeMap<String, String>,
    /// The `.env` file read, if any.
    dotenv_path: Option<PathBuf>,
}

/// A source over the process environment alone (no `.env`), for [`EnvReader::new`].
static PROCESS_ONLY: EnvSource = EnvSource {
    vars: BTreeMap::new(),
    process: true,
    dotenv: BTreeMap::new(),
    dotenv_path: None,
};

impl std::fmt::Debug for EnvSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnvSource")
            .field("vars", &self.vars.keys().collect::<Vec<_>>())
            .field("process", &self.process)
            .field("dotenv", &self.dotenv.keys().collect::<Vec<_>>())
            .field("dotenv_path", &self.dotenv_path)
            .finish()
    }
}

/// A value read from a source.
enum Lookup {
    /// Set (possibly empty).
    Value(String),
    /// Set in the process environment but not valid UTF-8.
    NotUnicode,
    /// Not set anywhere.
    Unset,
}

impl EnvSource {
    /// The process environment, over the `.env` file found in the working directory
    /// or its parents (if any). The file is read, not loaded: the process
    /// environment is left unchanged, and variables set there win over the file. A
    /// `.env` that exists but cannot be read or parsed is logged with a warning and
    /// skipped.
    pub fn process() -> Self {
        let mut source = EnvSource {
            process: true,
            ..EnvSource::default()
        };
        if let Some(path) = find_dotenv() {
            match read_dotenv(&path) {
                Ok(vars) => {
                    tracing::debug!(path = %path.display(), "read .env");
                    source.dotenv = vars;
                    source.dotenv_path = Some(path);
                }
                Err(error) => tracing::warn!(%error, ".env could not be read"),
            }
        }
        source
    }

    /// The process environment alone: no `.env` file is read.
    pub fn process_only() -> Self {
        PROCESS_ONLY.clone()
    }

    /// Exactly these variables: neither the process environment nor any `.env`
    /// file is consulted.
    pub fn from_vars<K, V>(vars: impl IntoIterator<Item = (K, V)>) -> Self
    where
        K: Into<String>,
        V: Into<String>,
    {
        EnvSource {
            vars: vars
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
            ..EnvSource::default()
        }
    }

    /// No variables at all.
    pub fn empty() -> Self {
        EnvSource::default()
    }

    /// Sets `name` to `value`, over whatever else the source holds.
    pub fn with_var(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.vars.insert(name.into(), value.into());
        self
    }

    /// Reads the `.env`-format file at `path` (replacing any `.env` read before):
    /// its variables apply where the source has no other value. A file that cannot
    /// be read or parsed is an error naming it.
    pub fn with_dotenv_file(mut self, path: impl AsRef<Path>) -> Result<Self, ConfigError> {
        let path = path.as_ref();
        self.dotenv = read_dotenv(path)?;
        self.dotenv_path = Some(path.to_owned());
        Ok(self)
    }

    /// The `.env` file this source read, if any.
    pub fn dotenv_path(&self) -> Option<&Path> {
        self.dotenv_path.as_deref()
    }

    fn lookup(&self, name: &str) -> Lookup {
        if let Some(v) = self.vars.get(name) {
            return Lookup::Value(v.clone());
        }
        if self.process {
            match std::env::var(name) {
                Ok(v) => return Lookup::Value(v),
                Err(std::env::VarError::NotUnicode(_)) => return Lookup::NotUnicode,
                Err(std::env::VarError::NotPresent) => {}
            }
        }
        match self.dotenv.get(name) {
            Some(v) => Lookup::Value(v.clone()),
            None => Lookup::Unset,
        }
    }

    /// Whether `name` is set to a non-empty value (valid UTF-8 or not).
    pub fn is_set(&self, name: &str) -> bool {
        match self.lookup(name) {
            Lookup::Value(v) => !v.trim().is_empty(),
            Lookup::NotUnicode => true,
            Lookup::Unset => false,
        }
    }
}

/// The `.env` in the working directory or the nearest parent that has one.
fn find_dotenv() -> Option<PathBuf> {
    find_dotenv_from(&std::env::current_dir().ok()?)
}

/// The `.env` in `dir` or the nearest parent that has one.
fn find_dotenv_from(dir: &Path) -> Option<PathBuf> {
    dir.ancestors()
        .map(|dir| dir.join(".env"))
        .find(|candidate| candidate.is_file())
}

/// Every variable of the `.env`-format file at `path`.
fn read_dotenv(path: &Path) -> Result<BTreeMap<String, String>, ConfigError> {
    let name = path.display().to_string();
    let iter = dotenvy::from_path_iter(path)
        .map_err(|e| ConfigError::invalid(&name, format!("cannot be read: {e}")))?;
    iter.map(|item| item.map_err(|e| ConfigError::invalid(&name, format!("cannot be parsed: {e}"))))
        .collect()
}

/// Whether `url`'s host is a loopback host: `localhost` (or a name under
/// `.localhost`), an address in `127.0.0.0/8`, or `::1`.
pub(crate) fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => {
            let d = d.trim_end_matches('.').to_ascii_lowercase();
            d == "localhost" || d.ends_with(".localhost")
        }
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// Checks that `value` is an absolute `https` URL, or an `http` URL whose host is a
/// loopback host (a local test server): key material, discovery documents and this
/// server's own public URL must not travel in clear text (MCP authorization:
/// every authorization-server endpoint is https). The error says what is wrong
/// with the value; callers prefix the variable or setting name.
pub fn check_secure_url(value: &str) -> Result<url::Url, String> {
    let url = url::Url::parse(value).map_err(|e| format!("{value:?} is not a URL: {e}"))?;
    match url.scheme() {
        "https" => Ok(url),
        "http" if is_loopback(&url) => Ok(url),
        "http" => Err(format!(
            "{value:?} must use https (plain http is only accepted for loopback hosts such as localhost or 127.0.0.1)"
        )),
        _ => Err(format!("{value:?} is not an http(s) URL")),
    }
}

/// Reads variables from an [`EnvSource`] and remembers which are missing or
/// malformed.
///
/// ```
/// use mcp_auth_core::env::{EnvReader, EnvSource};
/// let source = EnvSource::empty();
/// let mut env = EnvReader::with_source(&source);
/// let issuer = env.required("MCP_AUTH_DOC_EXAMPLE_ISSUER");
/// let err = env.finish().unwrap_err();
/// assert!(err.to_string().contains("MCP_AUTH_DOC_EXAMPLE_ISSUER"));
/// ```
#[derive(Debug)]
pub struct EnvReader<'a> {
    source: &'a EnvSource,
    missing: Vec<String>,
    invalid: Vec<ConfigError>,
}

impl Default for EnvReader<'static> {
    fn default() -> Self {
        Self::new()
    }
}

impl EnvReader<'static> {
    /// A reader over the process environment alone (call [`load_dotenv`] first for
    /// `.env`, or use [`EnvReader::with_source`] with [`EnvSource::process`]).
    pub fn new() -> Self {
        EnvReader::with_source(&PROCESS_ONLY)
    }
}

impl<'a> EnvReader<'a> {
    /// A reader over `source`.
    pub fn with_source(source: &'a EnvSource) -> Self {
        EnvReader {
            source,
            missing: Vec::new(),
            invalid: Vec::new(),
        }
    }

    /// The source this reader reads.
    pub fn source(&self) -> &'a EnvSource {
        self.source
    }

    /// Whether `name` is set to a non-empty value.
    pub fn is_set(&self, name: &str) -> bool {
        self.source.is_set(name)
    }

    /// A non-empty variable (trimmed), or `None` if unset or empty.
    pub fn optional(&mut self, name: &str) -> Option<String> {
        match self.source.lookup(name) {
            Lookup::Value(v) if !v.trim().is_empty() => Some(v.trim().to_owned()),
            Lookup::Value(_) | Lookup::Unset => None,
            Lookup::NotUnicode => {
                self.invalid
                    .push(ConfigError::invalid(name, "is not valid UTF-8"));
                None
            }
        }
    }

    /// A variable that must be set; if it is not, it is recorded as missing.
    pub fn required(&mut self, name: &str) -> Option<String> {
        let v = self.optional(name);
        if v.is_none()
            && !self
                .invalid
                .iter()
                .any(|e| matches!(e, ConfigError::Invalid { name: n, .. } if n == name))
        {
            self.missing.push(name.to_owned());
        }
        v
    }

    /// An optional variable that must be an `https` URL when set (`http` only for
    /// loopback hosts, see [`check_secure_url`]).
    pub fn optional_url(&mut self, name: &str) -> Option<String> {
        let v = self.optional(name)?;
        match check_secure_url(&v) {
            Ok(_) => Some(v),
            Err(reason) => {
                self.invalid.push(ConfigError::invalid(name, reason));
                None
            }
        }
    }

    /// A required variable that must be an `https` URL (`http` only for loopback
    /// hosts).
    pub fn required_url(&mut self, name: &str) -> Option<String> {
        if !self.is_set(name) {
            self.missing.push(name.to_owned());
            return None;
        }
        self.optional_url(name)
    }

    /// At least one of `names` must be set (as with Supabase's project id or
    /// project URL); the caller then reads them in its own order of preference.
    /// When none is set, records one missing entry naming them all,
    /// `FIRST (or SECOND)`, and returns `false`.
    ///
    /// ```
    /// use mcp_auth_core::ConfigError;
    /// use mcp_auth_core::env::{EnvReader, EnvSource};
    /// let source = EnvSource::empty();
    /// let mut env = EnvReader::with_source(&source);
    /// assert!(!env.require_one_of(&["PROJECT_ID", "PROJECT_URL"]));
    /// assert_eq!(env.finish(), Err(ConfigError::MissingVars(vec!["PROJECT_ID (or PROJECT_URL)".into()])));
    /// ```
    pub fn require_one_of(&mut self, names: &[&str]) -> bool {
        if names.iter().any(|name| self.is_set(name)) {
            return true;
        }
        if let Some((first, rest)) = names.split_first() {
            let entry = if rest.is_empty() {
                (*first).to_owned()
            } else {
                format!("{first} (or {})", rest.join(" or "))
            };
            self.missing.push(entry);
        }
        false
    }

    /// Records a malformed value found by the caller.
    pub fn invalid(&mut self, name: &str, reason: impl Into<String>) {
        self.invalid.push(ConfigError::invalid(name, reason));
    }

    /// `Ok` if nothing was missing or malformed; otherwise one error naming each problem.
    pub fn finish(self) -> Result<(), ConfigError> {
        let mut errors = Vec::new();
        if !self.missing.is_empty() {
            errors.push(ConfigError::MissingVars(self.missing));
        }
        errors.extend(self.invalid);
        match errors.len() {
            0 => Ok(()),
            1 => Err(errors.remove(0)),
            _ => Err(ConfigError::Several(errors)),
        }
    }
}

/// Splits a space- or comma-separated list (as in `MCP_USE_OAUTH_CUSTOM_SCOPES`).
pub fn split_list(value: &str) -> Vec<String> {
    value
        .split([' ', ','])
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The base URL (`https://host[:port]`, no trailing slash) named by a configured
/// domain: a bare host (`tenant.auth0.com`) or an `https://` URL without a path.
/// Plain `http://` is accepted only for loopback hosts (a local test server). The
/// error says what is wrong with the value; callers prefix the variable name.
pub fn domain_base_url(value: &str) -> Result<String, String> {
    let trimmed = value.trim().trim_end_matches('/');
    if trimmed.is_empty() {
        return Err("is empty".into());
    }
    let with_scheme = if trimmed.contains("://") {
        trimmed.to_owned()
    } else {
        format!("https://{trimmed}")
    };
    let url =
        url::Url::parse(&with_scheme).map_err(|e| format!("{value:?} is not a domain: {e}"))?;
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("{value:?} names no host"));
    }
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        return Err(format!(
            "{value:?} must be a host name (optionally with https://), without a path"
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!("{value:?} must not carry credentials"));
    }
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) => {}
        "http" => {
            return Err(format!(
                "{value:?} must use https (plain http is only accepted for loopback hosts such as localhost or 127.0.0.1)"
            ));
        }
        other => return Err(format!("{value:?} has the unsupported scheme {other:?}")),
    }
    Ok(url.origin().ascii_serialization())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_of_keeps_every_problem() {
        let source = EnvSource::empty();
        let mut env = EnvReader::with_source(&source);
        assert!(!env.require_one_of(&["P", "Q"]));
        env.invalid("X", "bad");
        assert_eq!(
            env.finish().err(),
            Some(ConfigError::Several(vec![
                ConfigError::MissingVars(vec!["P (or Q)".into()]),
                ConfigError::invalid("X", "bad")
            ]))
        );
        let source = EnvSource::from_vars([("Q", "set")]);
        let mut env = EnvReader::with_source(&source);
        assert!(env.require_one_of(&["P", "Q"]));
        assert_eq!(env.finish(), Ok(()));
    }

    /// A fresh directory of this test's own under the system temp directory.
    fn temp_dir(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("mcp-auth-core-env-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        dir
    }

    #[test]
    fn set_variables_win_over_the_dotenv_file_and_empty_is_unset() {
        let dir = temp_dir("precedence");
        let path = dir.join("settings.env");
        std::fs::write(&path, "A=from-file\nB=from-file\nC=\n").expect("write");
        let source = EnvSource::from_vars([("A", "set")])
            .with_dotenv_file(&path)
            .expect("read");
        let mut env = EnvReader::with_source(&source);
        assert_eq!(env.optional("A").as_deref(), Some("set"));
        assert_eq!(env.optional("B").as_deref(), Some("from-file"));
        assert_eq!(env.optional("C"), None);
        assert!(!env.is_set("C"));
        assert_eq!(env.required("D"), None);
        assert_eq!(
            env.finish(),
            Err(ConfigError::MissingVars(vec!["D".into()]))
        );
    }

    #[test]
    fn a_map_source_never_reads_the_process_environment() {
        // PATH is set for every test process; a map source must not see it.
        assert!(EnvSource::process_only().is_set("PATH"));
        assert!(!EnvSource::empty().is_set("PATH"));
        assert!(!EnvSource::from_vars([("X", "1")]).is_set("PATH"));
    }

    #[test]
    fn the_dotenv_file_is_found_in_a_parent_directory() {
        let dir = temp_dir("find");
        let nested = dir.join("a").join("b");
        std::fs::create_dir_all(&nested).expect("nested");
        std::fs::write(dir.join(".env"), "X=1\n").expect("write");
        assert_eq!(find_dotenv_from(&nested), Some(dir.join(".env")));
    }

    #[test]
    fn debug_prints_names_not_values() {
        let source = EnvSource::from_vars([("MCP_USE_OAUTH_SUPABASE_JWT_SECRET", "hunter2")]);
        let debug = format!("{source:?}");
        assert!(
            debug.contains("MCP_USE_OAUTH_SUPABASE_JWT_SECRET"),
            "{debug}"
        );
        assert!(!debug.contains("hunter2"), "{debug}");
    }

    #[test]
    fn http_urls_only_for_loopback_hosts() {
        for ok in [
            "https://auth.example.com",
            "http://localhost:8080/x",
            "http://127.0.0.1:9/",
            "http://127.1.2.3/",
            "http://[::1]:80/",
            "http://dev.localhost/",
        ] {
            assert!(check_secure_url(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://auth.example.com",
            "http://10.0.0.1/",
            "http://localhost.example.com/",
            "http://[::2]/",
            "ftp://localhost/",
            "not a url",
        ] {
            assert!(check_secure_url(bad).is_err(), "{bad}");
        }
        let source = EnvSource::from_vars([("U", "http://auth.example.com")]);
        let mut env = EnvReader::with_source(&source);
        assert_eq!(env.optional_url("U"), None);
        let err = env.finish().expect_err("http refused").to_string();
        assert!(err.contains('U') && err.contains("https"), "{err}");
    }

    #[test]
    fn domains_become_base_urls() {
        assert_eq!(
            domain_base_url("tenant.auth0.com").as_deref(),
            Ok("https://tenant.auth0.com")
        );
        assert_eq!(
            domain_base_url(" https://Tenant.EU.auth0.com/ ").as_deref(),
            Ok("https://tenant.eu.auth0.com")
        );
        assert_eq!(
            domain_base_url("login.example.com:8443").as_deref(),
            Ok("https://login.example.com:8443")
        );
        assert_eq!(
            domain_base_url("http://127.0.0.1:4000").as_deref(),
            Ok("http://127.0.0.1:4000")
        );
        for bad in [
            "",
            "http://tenant.auth0.com",
            "https://t.auth0.com/path",
            "ftp://x",
            "https://u:p@x.com",
        ] {
            assert!(domain_base_url(bad).is_err(), "{bad:?}");
        }
    }
}
