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
pub mod store;

pub use extract::MissingAuthContext;
pub use layer::{AuthLayer, AuthService, DEFAULT_PUBLIC_PATHS};
pub use resource::ResourceUrl;
pub use store::{BrokerStore, MemoryStore, StoreError};
