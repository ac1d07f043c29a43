//! Who is calling: [`AuthUser`], the per-request [`AuthContext`], and the scope checks.

use std::collections::{BTreeSet, HashMap};
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

crate::secret_type! {
    /// A bearer token as presented by the client. `Debug` never prints it (and
    /// there is no `Display`).
    pub struct AccessToken(String);
}

/// Everything known about the authenticated request: the user, the token, its
/// scopes and permissions, and the raw claims.
///
/// The auth layer puts one in the request extensions; read it with the axum
/// extractor (`AuthContext` as a handler argument) or, inside an rmcp tool, with
/// `mcp_auth::rmcp::auth_context`. Cloning is cheap (one reference count).
#[derive(Clone)]
pub struct AuthContext(Arc<ContextInner>, Option<Arc<ScopeHierarchy>>);

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
            .field("scope_hierarchy", &self.1)
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
    hierarchy: Option<Arc<ScopeHierarchy>>,
}

impl AuthContextBuilder {
    /// Sets the scope hierarchy the scope checks apply (see
    /// [`AuthContext::with_scope_hierarchy`]).
    pub fn scope_hierarchy(mut self, hierarchy: ScopeHierarchy) -> Self {
        self.hierarchy = (!hierarchy.is_empty()).then(|| Arc::new(hierarchy));
        self
    }

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
        AuthContext(
            Arc::new(ContextInner {
                user: self.user,
                token: self.token,
                scopes: self.scopes,
                client_id: self.client_id,
                expires_at: self.expires_at,
            }),
            self.hierarchy,
        )
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
    pub fn builder(user: AuthUser, token: impl Into<String>) -> AuthContextBuilder {
        AuthContextBuilder {
            user,
            token: AccessToken::new(token),
            scopes: Vec::new(),
            client_id: None,
            expires_at: None,
            hierarchy: None,
        }
    }

    /// The same context, with its scope checks applying `hierarchy`: a granted
    /// scope then also covers every scope it implies. The auth layer calls it with
    /// the hierarchy configured on [`crate::McpAuthBuilder::scope_hierarchy`], so the
    /// checks inside tools and handlers agree with the layer's. Cheap: the rest of
    /// the context is shared, not copied.
    ///
    /// ```
    /// use mcp_auth_core::{AuthContext, AuthUser, ScopeHierarchy};
    /// let ctx = AuthContext::builder(AuthUser::new("alice"), "t")
    ///     .scopes(["mcp:admin"])
    ///     .build()
    ///     .with_scope_hierarchy(ScopeHierarchy::chain(["mcp:admin", "mcp:write", "mcp:read"]));
    /// assert!(ctx.has_scope("mcp:read"));
    /// ```
    pub fn with_scope_hierarchy(self, hierarchy: impl Into<Arc<ScopeHierarchy>>) -> Self {
        let hierarchy = hierarchy.into();
        AuthContext(self.0, (!hierarchy.is_empty()).then_some(hierarchy))
    }

    /// The scope hierarchy the checks apply, if any.
    pub fn scope_hierarchy(&self) -> Option<&ScopeHierarchy> {
        self.1.as_deref()
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

    /// Whether `scope` is granted, as an OAuth scope or as a permission, directly
    /// or through a broader scope that implies it (see [`ScopeHierarchy`]).
    pub fn has_scope(&self, scope: &str) -> bool {
        let covers = |granted: &String| match &self.1 {
            Some(h) => h.covers(granted, scope),
            None => granted == scope,
        };
        self.0.scopes.iter().any(covers) || self.0.user.permissions.iter().any(covers)
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

    /// Fails unless at least one of `scopes` is granted. The error asks for one
    /// acceptable scope, not all of them: the narrowest alternative (one no other
    /// alternative is implied by), so a client stepping up asks for the least.
    ///
    /// ```
    /// use mcp_auth_core::{AuthContext, AuthUser, ScopeHierarchy};
    /// let ctx = AuthContext::builder(AuthUser::new("bob"), "t")
    ///     .scopes(["profile"])
    ///     .scope_hierarchy(ScopeHierarchy::chain(["mcp:admin", "mcp:read"]))
    ///     .build();
    /// let err = ctx.require_any_scope(&["mcp:admin", "mcp:read"]).unwrap_err();
    /// assert_eq!(err.required, ["mcp:read"]);
    /// ```
    pub fn require_any_scope<S: AsRef<str>>(&self, scopes: &[S]) -> Result<(), InsufficientScope> {
        if self.has_any_scope(scopes) {
            return Ok(());
        }
        let narrowest = scopes.iter().map(AsRef::as_ref).find(|candidate| {
            !scopes.iter().map(AsRef::as_ref).any(|other| {
                other != *candidate && self.1.as_ref().is_some_and(|h| h.covers(candidate, other))
            })
        });
        match narrowest.or_else(|| scopes.first().map(AsRef::as_ref)) {
            Some(one) => Err(self.insufficient(&[one])),
            // Any of nothing: nothing can satisfy it.
            None => Err(self.insufficient::<&str>(&[])),
        }
    }

    /// The scopes and permissions granted, each once.
    fn granted(&self) -> Vec<String> {
        let mut granted: Vec<String> = self.0.scopes.clone();
        for p in &self.0.user.permissions {
            if !granted.contains(p) {
                granted.push(p.clone());
            }
        }
        granted
    }

    /// The error for an operation that needs every one of `required`.
    pub(crate) fn insufficient<S: AsRef<str>>(&self, required: &[S]) -> InsufficientScope {
        let mut required_owned: Vec<String> = Vec::with_capacity(required.len());
        for s in required {
            if !required_owned.iter().any(|r| r == s.as_ref()) {
                required_owned.push(s.as_ref().to_owned());
            }
        }
        let missing = required_owned
            .iter()
            .filter(|s| !self.has_scope(s))
            .cloned()
            .collect();
        InsufficientScope {
            required: required_owned,
            missing,
            granted: self.granted(),
        }
    }
}

/// Which scopes imply which: a token granted a broader scope holds every
/// narrower scope it implies, transitively (MCP 2026-07-28: servers account for
/// scope hierarchies). Configure it once with [`crate::McpAuthBuilder::scope_hierarchy`];
/// every scope check then applies it: the layer's `required_scopes`, the
/// [`ScopePolicy`](crate::ScopePolicy), and [`AuthContext::has_scope`] and the
/// `require_*` helpers inside tools and handlers.
///
/// ```
/// use mcp_auth_core::ScopeHierarchy;
/// let h = ScopeHierarchy::chain(["mcp:admin", "mcp:write", "mcp:read"])
///     .implies("files:admin", ["files:read"]);
/// assert!(h.covers("mcp:admin", "mcp:read"));
/// assert!(h.covers("mcp:read", "mcp:read"));
/// assert!(!h.covers("mcp:read", "mcp:write"));
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ScopeHierarchy {
    /// Direct implications, as configured.
    direct: HashMap<String, Vec<String>>,
    /// Every scope each broader scope implies, transitively.
    closure: HashMap<String, BTreeSet<String>>,
}

/// The implications as configured (the closure is derived from them).
impl fmt::Debug for ScopeHierarchy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ScopeHierarchy").field(&self.direct).finish()
    }
}

impl ScopeHierarchy {
    /// No implications: scopes match exactly.
    pub fn new() -> Self {
        Self::default()
    }

    /// A chain from broadest to narrowest: each scope implies the next (and so all
    /// that follow), e.g. `["mcp:admin", "mcp:write", "mcp:read"]`.
    pub fn chain<I: IntoIterator<Item = S>, S: Into<String>>(scopes: I) -> Self {
        let scopes: Vec<String> = scopes.into_iter().map(Into::into).collect();
        scopes.windows(2).fold(Self::new(), |h, pair| {
            h.implies(pair[0].clone(), [pair[1].clone()])
        })
    }

    /// `broader` implies each of `narrower` (and whatever those imply).
    pub fn implies<I: IntoIterator<Item = S>, S: Into<String>>(
        mut self,
        broader: impl Into<String>,
        narrower: I,
    ) -> Self {
        let entry = self.direct.entry(broader.into()).or_default();
        for n in narrower {
            let n = n.into();
            if !entry.contains(&n) {
                entry.push(n);
            }
        }
        self.closure = self
            .direct
            .keys()
            .map(|root| (root.clone(), self.reachable(root)))
            .collect();
        self
    }

    fn reachable(&self, root: &str) -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut todo: Vec<&str> = vec![root];
        while let Some(scope) = todo.pop() {
            for n in self.direct.get(scope).into_iter().flatten() {
                if n != root && seen.insert(n.clone()) {
                    todo.push(n);
                }
            }
        }
        seen
    }

    /// Whether a token granted `granted` holds `needed`: the same scope, or one
    /// `granted` implies.
    pub fn covers(&self, granted: &str, needed: &str) -> bool {
        granted == needed
            || self
                .closure
                .get(granted)
                .is_some_and(|implied| implied.contains(needed))
    }

    /// Whether no implication is configured.
    pub fn is_empty(&self) -> bool {
        self.direct.is_empty()
    }
}

/// A scope check failed. As an axum response it is a 403 with
/// `WWW-Authenticate: Bearer error="insufficient_scope", scope="…"` and a JSON body
/// naming the required and the granted scopes; behind the auth layer the
/// challenge also carries `resource_metadata`. Inside an rmcp tool it becomes a
/// JSON-RPC error (feature `rmcp`), which clients do not step up on: declare the
/// scopes in a [`ScopePolicy`](crate::ScopePolicy) for that.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("insufficient scope: missing {}; requires {}, token grants {}", fmt_scopes(.missing), fmt_scopes(.required), fmt_scopes(.granted))]
pub struct InsufficientScope {
    /// The scopes the operation needs (one acceptable set, all of it): what a
    /// client re-authorizing should ask for.
    pub required: Vec<String>,
    /// The scopes of `required` the token does not hold.
    pub missing: Vec<String>,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(scopes: &[&str], hierarchy: ScopeHierarchy) -> AuthContext {
        AuthContext::builder(AuthUser::new("u"), "t")
            .scopes(scopes.iter().copied())
            .build()
            .with_scope_hierarchy(hierarchy)
    }

    #[test]
    fn hierarchy_is_transitive_and_one_way() {
        let h = ScopeHierarchy::chain(["mcp:admin", "mcp:write", "mcp:read"]);
        assert!(h.covers("mcp:admin", "mcp:read"));
        assert!(h.covers("mcp:write", "mcp:read"));
        assert!(!h.covers("mcp:read", "mcp:write"));
        assert!(!h.covers("mcp:admin", "other"));
        let c = ctx(&["mcp:write"], h);
        assert!(c.has_all_scopes(&["mcp:read", "mcp:write"]));
        assert!(!c.has_scope("mcp:admin"));
    }

    #[test]
    fn a_cycle_does_not_loop() {
        let h = ScopeHierarchy::new()
            .implies("a", ["b"])
            .implies("b", ["a"]);
        assert!(h.covers("a", "b") && h.covers("b", "a"));
    }

    #[test]
    fn without_hierarchy_scopes_match_exactly() {
        let c = ctx(&["mcp:admin"], ScopeHierarchy::new());
        assert!(!c.has_scope("mcp:read"));
        assert!(c.scope_hierarchy().is_none());
    }

    #[test]
    fn insufficient_names_what_is_missing() {
        let c = ctx(&["mcp:read"], ScopeHierarchy::new());
        let e = c
            .require_all_scopes(&["mcp:read", "admin"])
            .expect_err("admin missing");
        assert_eq!(e.required, ["mcp:read", "admin"]);
        assert_eq!(e.missing, ["admin"]);
        assert!(e.to_string().contains("missing [admin]"), "{e}");
    }

    #[test]
    fn any_of_asks_for_the_narrowest_alternative() {
        let h = ScopeHierarchy::chain(["mcp:admin", "mcp:write", "mcp:read"]);
        let c = ctx(&["profile"], h);
        let e = c
            .require_any_scope(&["mcp:admin", "mcp:write", "mcp:read"])
            .expect_err("none held");
        assert_eq!(e.required, ["mcp:read"]);
        // Unrelated alternatives: the first.
        let e = c.require_any_scope(&["x", "y"]).expect_err("none held");
        assert_eq!(e.required, ["x"]);
    }
}
