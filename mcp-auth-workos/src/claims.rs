//! WorkOS AuthKit access-token claims -> [`AuthUser`], and typed accessors for the
//! WorkOS extras.

use std::sync::Arc;

use mcp_auth_core::claims::{first_string, map_default_user, string_list};
use mcp_auth_core::{AuthContext, AuthUser, Claims};
use serde_json::Value;

/// Maps the claims of a WorkOS AuthKit access token to an [`AuthUser`]:
///
/// - `user_id` = `sub` (`user_01H…`);
/// - `email`; `name`, else `first_name` + `last_name`; `username` =
///   `preferred_username`; `picture` (else `profile_picture_url`);
/// - `roles` = the organization membership's `role` slug, then the `roles`
///   array, without duplicates; `permissions` = `permissions`.
///
/// The organization (`org_id`), session (`sid`), `entitlements` and
/// `feature_flags` stay in [`AuthUser::claims`]; read them with [`WorkosClaims`].
///
/// ```
/// use std::sync::Arc;
/// let claims = serde_json::json!({
///     "sub": "user_01HXYZ", "first_name": "Ada", "last_name": "Lovelace",
///     "org_id": "org_01HABC", "role": "admin", "permissions": ["widgets:write"],
/// });
/// let claims = Arc::new(claims.as_object().cloned().unwrap_or_default());
/// let user = mcp_auth_workos::map_workos_user(&claims);
/// assert_eq!(user.name.as_deref(), Some("Ada Lovelace"));
/// assert_eq!(user.roles, ["admin"]);
/// ```
pub fn map_workos_user(claims: &Arc<Claims>) -> AuthUser {
    let mut user = map_default_user(claims);
    if user.name.is_none() {
        let parts: Vec<String> = ["first_name", "last_name"]
            .iter()
            .filter_map(|n| first_string(claims, &[*n]))
            .filter(|s| !s.trim().is_empty())
            .collect();
        if !parts.is_empty() {
            user.name = Some(parts.join(" "));
        }
    }
    if user.picture.is_none() {
        user.picture = first_string(claims, &["profile_picture_url"]);
    }
    let array = std::mem::take(&mut user.roles);
    let role = claims
        .get("role")
        .and_then(Value::as_str)
        .filter(|r| !r.is_empty())
        .map(str::to_owned);
    for r in role.into_iter().chain(array) {
        if !user.roles.contains(&r) {
            user.roles.push(r);
        }
    }
    user
}

mod sealed {
    /// Where the claims are; implemented for the core types only.
    pub trait HasClaims {
        fn claims_map(&self) -> &mcp_auth_core::Claims;
    }
}

/// Typed access to the WorkOS-specific claims of an AuthKit token, on
/// [`AuthContext`] and [`AuthUser`].
///
/// ```
/// use mcp_auth_core::AuthUser;
/// use mcp_auth_workos::WorkosClaims as _;
/// let claims = serde_json::json!({"sub": "user_01H", "org_id": "org_01H", "sid": "session_01H"});
/// let user = AuthUser::new("user_01H").with_claims(claims.as_object().cloned().unwrap_or_default());
/// assert_eq!(user.org_id(), Some("org_01H"));
/// assert_eq!(user.session_id(), Some("session_01H"));
/// ```
pub trait WorkosClaims: sealed::HasClaims {
    /// The organization the session is scoped to (`org_id`), if any.
    fn org_id(&self) -> Option<&str> {
        self.claims_map().get("org_id").and_then(Value::as_str)
    }

    /// The AuthKit session id (`sid`), e.g. to revoke the session through the API.
    fn session_id(&self) -> Option<&str> {
        self.claims_map().get("sid").and_then(Value::as_str)
    }

    /// The role slug of the user's membership in [`org_id`](Self::org_id) (`role`).
    fn organization_role(&self) -> Option<&str> {
        self.claims_map().get("role").and_then(Value::as_str)
    }

    /// The organization's entitlements (`entitlements`), empty if none.
    fn entitlements(&self) -> Vec<String> {
        string_list(self.claims_map().get("entitlements"))
    }

    /// Feature flags enabled for the user (`feature_flags`), empty if none.
    fn feature_flags(&self) -> Vec<String> {
        string_list(self.claims_map().get("feature_flags"))
    }
}

impl sealed::HasClaims for AuthUser {
    fn claims_map(&self) -> &Claims {
        &self.claims
    }
}

impl sealed::HasClaims for AuthContext {
    fn claims_map(&self) -> &Claims {
        self.claims()
    }
}

impl WorkosClaims for AuthUser {}
impl WorkosClaims for AuthContext {}
