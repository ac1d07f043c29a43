//! Auth0 access-token claims -> [`AuthUser`].

use std::sync::Arc;

use mcp_auth_core::claims::{map_default_user, string_list};
use mcp_auth_core::{AuthUser, Claims};

/// Maps the claims of an Auth0 access token to an [`AuthUser`]:
///
/// - `user_id` = `sub` (e.g. `auth0|64f…`, `google-oauth2|1071…`);
/// - `email`, `name`, `nickname`, `picture` (present when your tenant adds them);
/// - `permissions` = the `permissions` array (RBAC with "Add Permissions in the
///   Access Token" on);
/// - `roles` = the namespaced `roles_claim` (e.g. `https://example.com/roles`),
///   then a plain `roles` claim, without duplicates.
///
/// Every claim, including vendor extras such as `azp`, `org_id` or `gty`, stays in
/// [`AuthUser::claims`].
///
/// ```
/// use std::sync::Arc;
/// let claims = serde_json::json!({
///     "sub": "auth0|123",
///     "permissions": ["read:reports"],
///     "https://example.com/roles": ["admin"],
/// });
/// let claims = Arc::new(claims.as_object().cloned().unwrap_or_default());
/// let user = mcp_auth_auth0::map_auth0_user(&claims, Some("https://example.com/roles"));
/// assert_eq!(user.user_id, "auth0|123");
/// assert_eq!(user.roles, ["admin"]);
/// assert_eq!(user.permissions, ["read:reports"]);
/// ```
pub fn map_auth0_user(claims: &Arc<Claims>, roles_claim: Option<&str>) -> AuthUser {
    let mut user = map_default_user(claims);
    let plain = std::mem::take(&mut user.roles);
    let namespaced = roles_claim
        .map(|name| string_list(claims.get(name)))
        .unwrap_or_default();
    for role in namespaced.into_iter().chain(plain) {
        if !user.roles.contains(&role) {
            user.roles.push(role);
        }
    }
    user
}
