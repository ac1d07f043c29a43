//! JWT access-token verification: [`JwtVerifier`], its [`JwtConfig`], and the
//! [`JwksCache`] it takes keys from.

pub(crate) mod algorithm;
pub(crate) mod jwks;
pub(crate) mod keyset;
pub(crate) mod rules;
pub(crate) mod token_cache;
pub(crate) mod verifier;

pub use crate::fetch::FetchLimits;
pub use crate::secret::HmacSecret;
pub use algorithm::{Algorithm, AlgorithmSet};
pub use jwks::{JwksCache, JwksConfig};
pub use keyset::KeySet;
pub use rules::JwtRules;
pub use token_cache::TokenCacheConfig;
pub use verifier::{
    Audience, JwtConfig, JwtVerifier, KeySource, MAX_LEEWAY, MAX_TOKEN_BYTES_CEILING,
};
