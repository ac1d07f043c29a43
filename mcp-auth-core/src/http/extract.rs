//! [`AuthContext`] as an axum extractor.

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::response::{IntoResponse, Response};
use http::request::Parts;

use super::challenge::{Challenges, Refusal};
use crate::user::AuthContext;

/// The rejection of the [`AuthContext`] extractor: the route is not behind the
/// auth layer, so there is no authenticated user. Answers 401 and logs an error,
/// since this is a wiring mistake rather than a client's.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("no AuthContext in the request: is this route behind McpAuth::layer()?")]
pub struct MissingAuthContext;

impl IntoResponse for MissingAuthContext {
    fn into_response(self) -> Response {
        tracing::error!("{self}");
        Challenges::new(None, &[]).respond(Refusal::MissingToken)
    }
}

/// Extracts the authenticated caller in an axum handler behind [`crate::McpAuth::layer`].
///
/// ```
/// use mcp_auth_core::{AuthContext, InsufficientScope};
/// async fn admin(who: AuthContext) -> Result<String, InsufficientScope> {
///     who.require_scope("admin")?;
///     Ok(format!("hello {}", who.user().user_id))
/// }
/// # let _ = axum::Router::<()>::new().route("/admin", axum::routing::get(admin));
/// ```
impl<S: Send + Sync> FromRequestParts<S> for AuthContext {
    type Rejection = MissingAuthContext;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<AuthContext>()
            .cloned()
            .ok_or(MissingAuthContext)
    }
}

/// `Option<AuthContext>`: `None` on routes outside the auth layer (or public paths).
impl<S: Send + Sync> OptionalFromRequestParts<S> for AuthContext {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        Ok(parts.extensions.get::<AuthContext>().cloned())
    }
}
