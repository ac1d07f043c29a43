//! Who is calling: [`AuthUser`], the per-request [`AuthContext`], and the scope checks.

use std::fmt;
use std::sync::Arc;

use serde::Serialize;
use serde_json::{Map, Value};

/// The raw claims of a verified token (or whatever a custom verifier put there).
pub type Claims = Map<String, Value>;

/// The authenticated user, mapped from the token's claims.
///
/// Which claim feeds which field is the provider's business (see
/// [`crate::claims::map_default_user`] for the default); the raw claims stay
/// reachable through [`AuthUser::claims`].
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[non_exhaustive]
pub struct AuthUser {
    /// Stable user identifier (`sub` by default).
    pub user_id: String,
    /// E-mail address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Full display name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Login name (`preferred_username`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Nickname.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nickname: Option<String>,
    /// Avatar URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub picture: Option<String>,
    /// Roles granted to the user.
    pub roles: Vec<String>,
    /// Fine-grained permissions granted to the user.
    pub permissions: Vec<String>,
    /// Every claim of the token, including vendor extras.
    pub claims: Arc<Claims>,
}

impl AuthUser {
    /// A user with only an id; add the rest with the `with_*` methods.
    ///
    /// ```
    /// use mcp_auth_core::AuthUser;
    /// let alice = AuthUser::new("alice").with_email("alice@example.com");
    /// assert_eq!(alice.email.as_deref(), Some("alice@example.com"));
    /// ```
    pub fn new(user_id: impl Into<String>) -> Self {
        AuthUser {
            user_id: user_id.into(),
            ..Default::default()
        }
    }

    /// Sets the e-mail address.
    pub fn with_email(mut self, email: impl Into<String>) -> Self {
        self.email = Some(email.into());
        self
    }

    /// Sets the display name.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Sets the username.
    pub fn with_username(mut self, username: impl Into<String>) -> Self {
        self.username = Some(username.into());
        self
    }

    /// Sets the roles.
    pub fn with_roles<I: IntoIterator<Item = S>, S: Into<String>>(mut self, roles: I) -> Self {
        self.roles = roles.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the permissions.
    pub fn with_permissions<I: IntoIterator<Item = S>, S: Into<String>>(
        mut self,
        perms: I,
    ) -> Self {
        self.permissions = perms.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the raw claims.
    pub fn with_claims(mut self, claims: Claims) -> Self {
        self.claims = Arc::new(claims);
        self
    }

    /// A claim by name, from the raw claims.
    pub fn claim(&self, name: &str) -> Option<&Value> {
        self.claims.get(name)
    }

    /// A string claim by name.
    pub fn claim_str(&self, name: &str) -> Option<&str> {
        self.claims.get(name).and_then(Value::as_str)
    }
}

/// A bearer token as presented by the client. `Debug` and `Display` never print it.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessToken(Arc<str>);

impl AccessToken {
    /// Wraps a token string.
    pub fn new(token: impl Into<Arc<str>>) -> Self {
        AccessToken(token.into())
    }

    /// The token itself, e.g. to call another API *as the user* where the token's
    /// audience allows it. Never forward it to a service it was not issued for.
    pub fn secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AccessToken([redacted; {} bytes])", self.0.len())
    }
}

/// Everything known about the authenticated request: the user, the token, its
/// scopes and permissions, and the raw claims.
///
/// The auth layer puts one in the request extensions; read it with the axum
/// extractor (`AuthContext` as a handler argument) or, inside an rmcp tool, with
/// `mcp_auth::rmcp::auth_context`. Cloning is cheap (one reference count).
#[derive(Clone)]
pub struct AuthContext(Arc<ContextInner>);

struct ContextInner {
    user: AuthUser,
    token: AccessToken,
    scopes: Vec<String>,
    client_id: Option<String>,
    expires_at: Option<u64>,
}

impl fmt::Debug for AuthContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthContext")
            .field("user_id", &self.0.user.user_id)
            .field("scopes", &self.0.scopes)
            .field("permissions", &self.0.user.permissions)
            .field("client_id", &self.0.client_id)
            .field("expires_at", &self.0.expires_at)
            .field("token", &self.0.token)
            .finish()
    }
}

/// Builds an [`AuthContext`]; used by verifiers.
#[derive(Debug)]
pub struct AuthContextBuilder {
    user: AuthUser,
    token: AccessToken,
    scopes: Vec<String>,
    client_id: Option<String>,
    expires_at: Option<u64>,
}

impl AuthContextBuilder {
    /// Sets the granted OAuth scopes.
    pub fn scopes<I: IntoIterator<Item = S>, S: Into<String>>(mut self, scopes: I) -> Self {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the OAuth client the token was issued to.
    pub fn client_id(mut self, client_id: Option<String>) -> Self {
        self.client_id = client_id;
        self
    }

    /// Sets the expiry (seconds since the Unix epoch).
    pub fn expires_at(mut self, expires_at: Option<u64>) -> Self {
        self.expires_at = expires_at;
        self
    }

    /// Finishes the context.
    pub fn build(self) -> AuthContext {
        AuthContext(Arc::new(ContextInner {
            user: self.user,
            token: self.token,
            scopes: self.scopes,
            client_id: self.client_id,
            expires_at: self.expires_at,
        }))
    }
}

impl AuthContext {
    /// Starts a context for `user`, authenticated by `token`.
    ///
    /// ```
    /// use mcp_auth_core::{AuthContext, AuthUser};
    /// let ctx = AuthContext::builder(AuthUser::new("alice"), "sk-abc123")
    ///     .scopes(["read", "write"])
    ///     .build();
    /// assert!(ctx.has_scope("write"));
    /// ```
    pub fn builder(user: AuthUser, token: impl Into<Arc<str>>) -> AuthContextBuilder {
        AuthContextBuilder {
            user,
            token: AccessToken::new(token),
            scopes: Vec::new(),
            client_id: None,
            expires_at: None,
        }
    }

    /// The authenticated user.
    pub fn user(&self) -> &AuthUser {
        &self.0.user
    }

    /// The bearer token the request carried.
    pub fn access_token(&self) -> &AccessToken {
        &self.0.token
    }

    /// OAuth scopes granted by the token.
    pub fn scopes(&self) -> &[String] {
        &self.0.scopes
    }

    /// Permissions granted to the user (e.g. Auth0 RBAC `permissions`).
    pub fn permissions(&self) -> &[String] {
        &self.0.user.permissions
    }

    /// Every claim of the token.
    pub fn claims(&self) -> &Claims {
        &self.0.user.claims
    }

    /// The OAuth client the token was issued to (`client_id` or `azp`), if known.
    pub fn client_id(&self) -> Option<&str> {
        self.0.client_id.as_deref()
    }

    /// When the token expires (seconds since the Unix epoch), if it says.
    pub fn expires_at(&self) -> Option<u64> {
        self.0.expires_at
    }

    /// Whether `scope` is granted, as an OAuth scope or as a permission.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.0.scopes.iter().any(|s| s == scope)
            || self.0.user.permissions.iter().any(|p| p == scope)
    }

    /// Whether at least one of `scopes` is granted.
    pub fn has_any_scope<S: AsRef<str>>(&self, scopes: &[S]) -> bool {
        scopes.iter().any(|s| self.has_scope(s.as_ref()))
    }

    /// Whether every one of `scopes` is granted.
    pub fn has_all_scopes<S: AsRef<str>>(&self, scopes: &[S]) -> bool {
        scopes.iter().all(|s| self.has_scope(s.as_ref()))
    }

    /// Fails with [`InsufficientScope`] (a 403 `insufficient_scope` response, or an
    /// rmcp error inside a tool) unless `scope` is granted.
    pub fn require_scope(&self, scope: &str) -> Result<(), InsufficientScope> {
        self.require_all_scopes(&[scope])
    }

    /// Fails unless every one of `scopes` is granted.
    pub fn require_all_scopes<S: AsRef<str>>(&self, scopes: &[S]) -> Result<(), InsufficientScope> {
        if self.has_all_scopes(scopes) {
            Ok(())
        } else {
            Err(self.insufficient(scopes))
        }
    }

    /// Fails unless at least one of `scopes` is granted.
    pub fn require_any_scope<S: AsRef<str>>(&self, scopes: &[S]) -> Result<(), InsufficientScope> {
        if self.has_any_scope(scopes) {
            Ok(())
        } else {
            Err(self.insufficient(scopes))
        }
    }

    fn insufficient<S: AsRef<str>>(&self, required: &[S]) -> InsufficientScope {
        let mut granted: Vec<String> = self.0.scopes.clone();
        for p in &self.0.user.permissions {
            if !granted.contains(p) {
                granted.push(p.clone());
            }
        }
        InsufficientScope {
            required: required.iter().map(|s| s.as_ref().to_owned()).collect(),
            granted,
        }
    }
}

/// A scope check failed. As an axum response it is a 403 with
/// `WWW-Authenticate: Bearer error="insufficient_scope", scope="…"` and a JSON body
/// naming the required and the granted scopes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("insufficient scope: requires {}, token grants {}", fmt_scopes(.required), fmt_scopes(.granted))]
pub struct InsufficientScope {
    /// The scopes the operation needs.
    pub required: Vec<String>,
    /// The scopes and permissions the token grants.
    pub granted: Vec<String>,
}

fn fmt_scopes(s: &[String]) -> String {
    if s.is_empty() {
        "nothing".to_owned()
    } else {
        format!("[{}]", s.join(" "))
    }
}
