//! Supabase access-token claims: the mapping into [`AuthUser`] and typed accessors.

use std::sync::Arc;

use mcp_auth_core::claims::{first_string, map_default_user, string_list};
use mcp_auth_core::{AuthContext, AuthUser, Claims};
use serde_json::{Map, Value};

/// Maps the claims of a Supabase access token into an [`AuthUser`]:
///
/// - `user_id` = `sub`; `email` = `email`;
/// - `name` = `user_metadata.name`, else `user_metadata.full_name`, else `name`;
/// - `picture` = `user_metadata.avatar_url`, else `user_metadata.picture`, else `picture`;
/// - `roles` = `role` (the Postgres role, usually `authenticated`), followed by
///   `app_metadata.roles` when the project keeps roles there (`app_metadata` is
///   writable only with the service-role key, unlike `user_metadata`);
/// - `permissions` = `permissions` (set by a custom access-token hook, if any).
///
/// `phone`, `aal`, `amr`, `session_id`, `is_anonymous` and `app_metadata.provider`
/// stay in the claims; read them with [`SupabaseClaims`].
pub fn map_supabase_user(claims: &Arc<Claims>) -> AuthUser {
    let mut user = map_default_user(claims);
    let meta = claims.get("user_metadata").and_then(Value::as_object);
    let from_meta = |names: &[&str]| meta.and_then(|m| first_string(m, names));
    if let Some(name) = from_meta(&["name", "full_name"]) {
        user.name = Some(name);
    }
    if let Some(picture) = from_meta(&["avatar_url", "picture"]) {
        user.picture = Some(picture);
    }
    let mut roles = string_list(claims.get("role"));
    let app_roles = claims
        .get("app_metadata")
        .and_then(Value::as_object)
        .map(|m| string_list(m.get("roles")))
        .unwrap_or_default();
    for role in app_roles {
        if !roles.contains(&role) {
            roles.push(role);
        }
    }
    user.roles = roles;
    user
}

/// Typed access to the Supabase-specific claims, on [`AuthContext`], [`AuthUser`]
/// and the raw [`Claims`].
///
/// ```
/// use mcp_auth_core::AuthUser;
/// use mcp_auth_supabase::SupabaseClaims;
/// let claims = serde_json::json!({
///     "sub": "8d5c…", "aal": "aal2", "session_id": "s-1",
///     "amr": [{"method": "password", "timestamp": 1700000000}, {"method": "totp", "timestamp": 1700000100}],
///     "app_metadata": {"provider": "github"}
/// });
/// let user = AuthUser::new("8d5c…").with_claims(claims.as_object().cloned().unwrap_or_default());
/// assert_eq!(user.aal(), Some("aal2"));
/// assert!(user.is_aal2());
/// assert_eq!(user.amr(), ["password", "totp"]);
/// assert_eq!(user.session_id(), Some("s-1"));
/// assert_eq!(user.sign_in_provider(), Some("github"));
/// ```
pub trait SupabaseClaims {
    /// The claims the accessors read.
    fn supabase_claim_map(&self) -> &Claims;

    /// `aal`: the authenticator assurance level, `aal1` (one factor) or `aal2` (MFA).
    fn aal(&self) -> Option<&str> {
        self.supabase_claim_map().get("aal").and_then(Value::as_str)
    }

    /// Whether the session passed multi-factor authentication (`aal` is `aal2`).
    fn is_aal2(&self) -> bool {
        self.aal() == Some("aal2")
    }

    /// `amr`: the authentication methods of the session (`password`, `otp`,
    /// `oauth`, `totp`, …), oldest first. Supabase sends objects with a `method`;
    /// plain strings (RFC 8176) are read too.
    fn amr(&self) -> Vec<String> {
        match self.supabase_claim_map().get("amr") {
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(|item| match item {
                    Value::String(s) => Some(s.clone()),
                    Value::Object(o) => o.get("method").and_then(Value::as_str).map(str::to_owned),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        }
    }

    /// `session_id`: the Supabase Auth session the token belongs to.
    fn session_id(&self) -> Option<&str> {
        self.supabase_claim_map()
            .get("session_id")
            .and_then(Value::as_str)
    }

    /// `phone`: the user's phone number (empty strings are treated as absent).
    fn phone(&self) -> Option<&str> {
        self.supabase_claim_map()
            .get("phone")
            .and_then(Value::as_str)
            .filter(|p| !p.is_empty())
    }

    /// `role`: the Postgres role the token acts as (`authenticated`, `anon`, …).
    fn supabase_role(&self) -> Option<&str> {
        self.supabase_claim_map()
            .get("role")
            .and_then(Value::as_str)
    }

    /// `is_anonymous`: whether the user signed in anonymously.
    fn is_anonymous(&self) -> bool {
        self.supabase_claim_map()
            .get("is_anonymous")
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }

    /// `app_metadata.provider`: how the user first signed up (`email`, `google`, `github`, …).
    fn sign_in_provider(&self) -> Option<&str> {
        self.app_metadata()
            .and_then(|m| m.get("provider"))
            .and_then(Value::as_str)
    }

    /// `user_metadata`: profile data the user can edit themselves. Display only;
    /// never base an authorization decision on it.
    fn user_metadata(&self) -> Option<&Map<String, Value>> {
        self.supabase_claim_map()
            .get("user_metadata")
            .and_then(Value::as_object)
    }

    /// `app_metadata`: data only the service-role key can write (provider, roles, …).
    fn app_metadata(&self) -> Option<&Map<String, Value>> {
        self.supabase_claim_map()
            .get("app_metadata")
            .and_then(Value::as_object)
    }
}

impl SupabaseClaims for Claims {
    fn supabase_claim_map(&self) -> &Claims {
        self
    }
}

impl SupabaseClaims for AuthUser {
    fn supabase_claim_map(&self) -> &Claims {
        &self.claims
    }
}

impl SupabaseClaims for AuthContext {
    fn supabase_claim_map(&self) -> &Claims {
        self.claims()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn arc(v: Value) -> Arc<Claims> {
        Arc::new(v.as_object().cloned().unwrap_or_default())
    }

    #[test]
    fn metadata_fallbacks() {
        let u = map_supabase_user(&arc(json!({
            "sub": "u1", "role": "authenticated",
            "user_metadata": {"full_name": "Ada L", "picture": "https://p/x.png"},
            "app_metadata": {"roles": ["admin", "authenticated"]}
        })));
        assert_eq!(u.name.as_deref(), Some("Ada L"));
        assert_eq!(u.picture.as_deref(), Some("https://p/x.png"));
        assert_eq!(u.roles, ["authenticated", "admin"]);
        let u = map_supabase_user(&arc(json!({"sub": "u2", "user_metadata": "junk"})));
        assert!(u.roles.is_empty());
        assert_eq!(u.name, None);
    }

    #[test]
    fn amr_as_strings() {
        let c = arc(json!({"amr": ["pwd", 3, {"method": "otp"}, {"x": 1}]}));
        assert_eq!(c.amr(), ["pwd", "otp"]);
        assert!(!c.is_anonymous());
        assert_eq!(arc(json!({"phone": ""})).phone(), None);
    }
}
