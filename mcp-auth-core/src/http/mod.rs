//! The axum side: the [`AuthLayer`], the [`AuthContext`](crate::AuthContext)
//! extractor, the refusal responses, the discovery routes, and in proxy mode
//! the OAuth routes (pass-through, or the callback broker with its
//! [`BrokerStore`]).

pub(crate) mod bearer;
pub(crate) mod broker;
pub(crate) mod challenge;
pub(crate) mod discovery;
pub mod extract;
pub mod layer;
pub(crate) mod proxy;
pub(crate) mod relay;
pub mod resource;
pub mod scope_policy;
pub mod store;
pub(crate) mod tools_list;

pub use extract::MissingAuthContext;
pub use layer::{AuthLayer, AuthService, DEFAULT_MAX_BODY_BYTES, DEFAULT_PUBLIC_PATHS};
pub use resource::ResourceUrl;
pub use scope_policy::ScopePolicy;
pub use store::{BrokerStore, MemoryStore, StoreError};
