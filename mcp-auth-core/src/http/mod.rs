//! The axum side: the [`AuthLayer`], the [`AuthContext`](crate::AuthContext)
//! extractor, the refusal responses and the discovery routes. Proxy mode's
//! OAuth routes are in [`crate::proxy`].

pub(crate) mod bearer;
pub(crate) mod challenge;
pub mod cors;
pub(crate) mod discovery;
pub mod extract;
pub mod layer;
pub mod resource;
pub mod scope_policy;
pub(crate) mod tools_list;

pub use cors::McpCors;
pub use extract::MissingAuthContext;
pub use layer::{AuthLayer, AuthService, DEFAULT_MAX_BODY_BYTES, DEFAULT_PUBLIC_PATHS};
pub use resource::ResourceUrl;
pub use scope_policy::ScopePolicy;
