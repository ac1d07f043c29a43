//! Keycloak access-token claims: the mapping into [`AuthUser`] and typed accessors.

use std::sync::Arc;

use mcp_auth_core::claims::{first_string, map_default_user, string_list};
use mcp_auth_core::{AuthContext, AuthUser, Claims};
use serde_json::Value;

/// Maps the claims of a Keycloak access token into an [`AuthUser`]:
///
/// - `user_id` = `sub`; `username` = `preferred_username`; `email` = `email`;
/// - `name` = `name`, else `given_name` and `family_name` joined by a space;
/// - `roles` = the realm roles (`realm_access.roles`), followed by the roles of
///   `client_id` in that client (`resource_access.{client_id}.roles`) that are not
///   already there. Without a client id, only realm roles.
///
/// `given_name`, `family_name`, `azp`, `sid` and the roles of other clients stay
/// in the claims; read them with [`KeycloakClaims`].
pub fn map_keycloak_user(claims: &Arc<Claims>, client_id: Option<&str>) -> AuthUser {
    let mut user = map_default_user(claims);
    user.username = first_string(claims, &["preferred_username"]);
    if user.name.is_none() {
        let parts: Vec<String> = ["given_name", "family_name"]
            .iter()
            .filter_map(|n| first_string(claims, &[n]))
            .filter(|s| !s.is_empty())
            .collect();
        if !parts.is_empty() {
            user.name = Some(parts.join(" "));
        }
    }
    let mut roles = claims.realm_roles();
    if let Some(client) = client_id {
        for role in claims.client_roles(client) {
            if !roles.contains(&role) {
                roles.push(role);
            }
        }
    }
    user.roles = roles;
    user
}

/// Typed access to the Keycloak-specific claims, on [`AuthContext`],
/// [`AuthUser`] and the raw [`Claims`].
///
/// ```
/// use mcp_auth_core::AuthUser;
/// use mcp_auth_keycloak::KeycloakClaims;
/// let claims = serde_json::json!({
///     "azp": "mcp-server",
///     "realm_access": {"roles": ["offline_access", "admin"]},
///     "resource_access": {"mcp-server": {"roles": ["tools:write"]}, "account": {"roles": ["view-profile"]}}
/// });
/// let user = AuthUser::new("f1").with_claims(claims.as_object().cloned().unwrap_or_default());
/// assert_eq!(user.realm_roles(), ["offline_access", "admin"]);
/// assert_eq!(user.client_roles("account"), ["view-profile"]);
/// assert!(user.has_client_role("mcp-server", "tools:write"));
/// assert_eq!(user.authorized_party(), Some("mcp-server"));
/// ```
pub trait KeycloakClaims {
    /// The claims the accessors read.
    fn keycloak_claim_map(&self) -> &Claims;

    /// `realm_access.roles`: the user's roles in the realm.
    fn realm_roles(&self) -> Vec<String> {
        string_list(
            self.keycloak_claim_map()
                .get("realm_access")
                .and_then(|r| r.get("roles")),
        )
    }

    /// `resource_access.{client}.roles`: the user's roles in one client.
    fn client_roles(&self, client: &str) -> Vec<String> {
        string_list(
            self.keycloak_claim_map()
                .get("resource_access")
                .and_then(|r| r.get(client))
                .and_then(|c| c.get("roles")),
        )
    }

    /// Whether the user holds `role` in the realm.
    fn has_realm_role(&self, role: &str) -> bool {
        self.realm_roles().iter().any(|r| r == role)
    }

    /// Whether the user holds `role` in `client`.
    fn has_client_role(&self, client: &str, role: &str) -> bool {
        self.client_roles(client).iter().any(|r| r == role)
    }

    /// `azp`: the client the token was issued to.
    fn authorized_party(&self) -> Option<&str> {
        self.keycloak_claim_map().get("azp").and_then(Value::as_str)
    }

    /// `given_name`.
    fn given_name(&self) -> Option<&str> {
        self.keycloak_claim_map()
            .get("given_name")
            .and_then(Value::as_str)
    }

    /// `family_name`.
    fn family_name(&self) -> Option<&str> {
        self.keycloak_claim_map()
            .get("family_name")
            .and_then(Value::as_str)
    }

    /// `sid`: the Keycloak user session the token belongs to.
    fn keycloak_session_id(&self) -> Option<&str> {
        self.keycloak_claim_map().get("sid").and_then(Value::as_str)
    }
}

impl KeycloakClaims for Claims {
    fn keycloak_claim_map(&self) -> &Claims {
        self
    }
}

impl KeycloakClaims for AuthUser {
    fn keycloak_claim_map(&self) -> &Claims {
        &self.claims
    }
}

impl KeycloakClaims for AuthContext {
    fn keycloak_claim_map(&self) -> &Claims {
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
    fn name_from_parts_and_roles_deduplicated() {
        let c = arc(json!({
            "sub": "s", "given_name": "Ada", "family_name": "Lovelace",
            "realm_access": {"roles": ["admin", "user"]},
            "resource_access": {"app": {"roles": ["admin", "editor"]}, "other": {"roles": ["root"]}}
        }));
        let u = map_keycloak_user(&c, Some("app"));
        assert_eq!(u.name.as_deref(), Some("Ada Lovelace"));
        assert_eq!(u.roles, ["admin", "user", "editor"]);
        assert_eq!(map_keycloak_user(&c, None).roles, ["admin", "user"]);
        assert_eq!(
            map_keycloak_user(&c, Some("missing")).roles,
            ["admin", "user"]
        );
    }

    #[test]
    fn malformed_role_claims_are_ignored() {
        let c = arc(json!({"sub": "s", "realm_access": "admin", "resource_access": {"app": []}}));
        let u = map_keycloak_user(&c, Some("app"));
        assert!(u.roles.is_empty());
        assert_eq!(u.name, None);
    }
}
