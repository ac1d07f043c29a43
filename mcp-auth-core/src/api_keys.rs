//! Static API keys: the simplest bearer verifier.

use std::collections::HashMap;

use aws_lc_rs::digest;

use crate::error::{TokenRejection, VerifyError};
use crate::provider::TokenVerifier;
use crate::user::{AuthContext, AuthUser};

/// A fixed table of API keys, each mapped to a user and scopes.
///
/// Keys are stored and looked up by their SHA-256 digest, so neither the table in
/// memory nor the lookup time reveals a key's prefix.
///
/// ```
/// use mcp_auth_core::{AuthUser, StaticApiKeys};
/// let keys = StaticApiKeys::new()
///     .key("sk-abc123", AuthUser::new("alice").with_email("alice@example.com"))
///     .key_with_scopes("sk-def456", AuthUser::new("bob"), ["read", "admin"]);
/// assert_eq!(keys.len(), 2);
/// ```
#[derive(Default)]
pub struct StaticApiKeys {
    keys: HashMap<[u8; 32], (AuthUser, Vec<String>)>,
}

impl std::fmt::Debug for StaticApiKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "StaticApiKeys({} keys)", self.keys.len())
    }
}

fn digest_of(key: &str) -> [u8; 32] {
    let d = digest::digest(&digest::SHA256, key.as_bytes());
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

impl StaticApiKeys {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a key for `user`, with no scopes.
    pub fn key(self, key: impl AsRef<str>, user: AuthUser) -> Self {
        self.key_with_scopes(key, user, std::iter::empty::<String>())
    }

    /// Adds a key for `user` granting `scopes`.
    pub fn key_with_scopes<I, S>(mut self, key: impl AsRef<str>, user: AuthUser, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.keys.insert(
            digest_of(key.as_ref()),
            (user, scopes.into_iter().map(Into::into).collect()),
        );
        self
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

impl TokenVerifier for StaticApiKeys {
    async fn verify_token(&self, token: &str) -> Result<AuthContext, VerifyError> {
        match self.keys.get(&digest_of(token)) {
            Some((user, scopes)) => Ok(AuthContext::builder(user.clone(), token)
                .scopes(scopes.iter().cloned())
                .build()),
            None => Err(TokenRejection::UnknownApiKey.into()),
        }
    }
}
