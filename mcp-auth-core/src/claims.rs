//! Reading claims: scopes, string lists, and the default claims -> [`AuthUser`] mapping.

use std::sync::Arc;

use serde_json::Value;

use crate::user::{AuthContext, AuthUser, Claims};

/// A function that maps verified claims to an [`AuthUser`]. Providers hold one;
/// vendors and [`crate::custom::CustomProvider`] users supply their own.
pub type ClaimMapper = Arc<dyn Fn(&Arc<Claims>) -> AuthUser + Send + Sync>;

/// Scopes granted by a token: `scope` as a space-separated string or an array,
/// plus `scp` (string or array). Duplicates are dropped, order is kept.
pub(crate) fn scopes(claims: &Claims) -> Vec<String> {
    let mut out = Vec::new();
    for name in ["scope", "scp"] {
        for s in string_list(claims.get(name)) {
            if !out.contains(&s) {
                out.push(s);
            }
        }
    }
    out
}

/// A claim read as a list of strings: an array of strings, or a string split on
/// whitespace. Anything else (numbers, objects) is ignored.
pub fn string_list(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::String(s)) => s.split_whitespace().map(str::to_owned).collect(),
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}

/// The first of `names` that is present as a string (numbers are stringified, so a
/// numeric `sub` or `id` still yields a user id).
pub fn first_string(claims: &Claims, names: &[&str]) -> Option<String> {
    names.iter().find_map(|n| match claims.get(*n) {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    })
}

/// The OAuth client a token was issued to: `client_id`, else `azp`.
pub(crate) fn client_id(claims: &Claims) -> Option<String> {
    first_string(claims, &["client_id", "azp"])
}

/// The default mapping, used when a provider says nothing else:
/// user_id = `sub` (else `user_id`, `id`); `email`; `name`; username =
/// `preferred_username`; `nickname`; picture = `picture` (else `avatar_url`);
/// roles = `roles`; permissions = `permissions`.
pub fn map_default_user(claims: &Arc<Claims>) -> AuthUser {
    let mut user =
        AuthUser::new(first_string(claims, &["sub", "user_id", "id"]).unwrap_or_default());
    user.email = first_string(claims, &["email"]);
    user.name = first_string(claims, &["name"]);
    user.username = first_string(claims, &["preferred_username", "username"]);
    user.nickname = first_string(claims, &["nickname"]);
    user.picture = first_string(claims, &["picture", "avatar_url"]);
    user.roles = string_list(claims.get("roles"));
    user.permissions = string_list(claims.get("permissions"));
    user.claims = Arc::clone(claims);
    user
}

/// The [`AuthContext`] for verified `claims`: the user from `mapper`, scopes from
/// `scope`/`scp`, client from `client_id`/`azp`, expiry from `exp`.
pub(crate) fn build_context(token: &str, claims: Arc<Claims>, mapper: &ClaimMapper) -> AuthContext {
    let user = mapper(&claims);
    AuthContext::builder(user, token)
        .scopes(scopes(&claims))
        .client_id(client_id(&claims))
        .expires_at(claims.get("exp").and_then(Value::as_u64))
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn claims(v: Value) -> Claims {
        match v {
            Value::Object(m) => m,
            _ => unreachable!("test input is an object"),
        }
    }

    #[test]
    fn scopes_from_string_array_and_scp() {
        let c = claims(json!({"scope": "read write", "scp": ["write", "admin"]}));
        assert_eq!(scopes(&c), ["read", "write", "admin"]);
        let c = claims(json!({"scope": ["a", "b"]}));
        assert_eq!(scopes(&c), ["a", "b"]);
        let c = claims(json!({"scp": "x"}));
        assert_eq!(scopes(&c), ["x"]);
        let c = claims(json!({"scope": 5}));
        assert!(scopes(&c).is_empty());
    }

    #[test]
    fn default_mapping_falls_back() {
        let c = Arc::new(claims(
            json!({"id": 42, "avatar_url": "https://a/p.png", "roles": ["admin"], "permissions": "read:x"}),
        ));
        let u = map_default_user(&c);
        assert_eq!(u.user_id, "42");
        assert_eq!(u.picture.as_deref(), Some("https://a/p.png"));
        assert_eq!(u.roles, ["admin"]);
        assert_eq!(u.permissions, ["read:x"]);
        let c = Arc::new(claims(
            json!({"sub": "s", "user_id": "u", "preferred_username": "al", "email": "a@x"}),
        ));
        let u = map_default_user(&c);
        assert_eq!(u.user_id, "s");
        assert_eq!(u.username.as_deref(), Some("al"));
        assert_eq!(u.email.as_deref(), Some("a@x"));
    }
}
