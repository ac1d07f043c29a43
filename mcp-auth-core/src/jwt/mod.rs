//! JWT access-token verification: [`JwtVerifier`], its [`JwtConfig`], and the
//! [`JwksCache`] it takes keys from.

pub mod algorithm;
pub mod jwks;
pub mod keyset;
pub mod token_cache;
pub mod verifier;

pub use algorithm::{Algorithm, AlgorithmSet};
pub use jwks::{JwksCache, JwksConfig};
pub use keyset::KeySet;
pub use token_cache::TokenCacheConfig;
pub use verifier::{
    Audience, JwtConfig, JwtVerifier, KeySource, MAX_LEEWAY, MAX_TOKEN_BYTES_CEILING,
};
