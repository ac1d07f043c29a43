//! Settings for tests, read through an [`EnvSource`]: no test touches the
//! process environment or the working directory, so tests run in parallel
//! (plain `cargo test` runs a binary's tests as threads of one process).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use mcp_auth_core::env::EnvSource;

/// The variables a test sets.
#[derive(Debug, Default)]
pub struct Vars(BTreeMap<String, String>);

impl Vars {
    /// Sets `name` to `value`.
    pub fn set(&mut self, name: &str, value: &str) {
        self.0.insert(name.to_owned(), value.to_owned());
    }

    /// Forgets every variable.
    pub fn clear(&mut self) {
        self.0.clear();
    }

    /// The source a `from_source` call reads.
    pub fn source(&self) -> EnvSource {
        EnvSource::from_vars(self.0.clone())
    }
}

/// A `.env`-format file of a test's own, removed when dropped.
#[derive(Debug)]
pub struct DotenvFile(PathBuf);

impl DotenvFile {
    /// Writes `contents` to a file no other test (thread or process) uses.
    pub fn new(contents: impl AsRef<[u8]>) -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "mcp-auth-test-{}-{}.env",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::write(&path, contents).expect("write the .env file");
        DotenvFile(path)
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl AsRef<Path> for DotenvFile {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl Drop for DotenvFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}
