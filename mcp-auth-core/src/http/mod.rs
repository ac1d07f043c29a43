//! The axum side: the [`AuthLayer`], the [`AuthContext`](crate::AuthContext)
//! extractor, the refusal responses and the discovery routes. Proxy mode's
//! OAuth routes are in [`crate::proxy`].

pub(crate) mod bearer;
pub(crate) mod challenge;
pub(crate) mod cors;
pub(crate) mod discovery;
pub(crate) mod extract;
pub(crate) mod layer;
pub(crate) mod resource;
pub(crate) mod scope_policy;
pub(crate) mod tools_list;

pub use cors::McpCors;
pub use extract::MissingAuthContext;
pub use layer::{AuthLayer, AuthService};
pub use resource::ResourceUrl;
pub use scope_policy::ScopePolicy;
