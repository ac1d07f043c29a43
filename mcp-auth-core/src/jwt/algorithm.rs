//! Algorithms: names, families, the allowlist, and the aws-lc-rs primitive for each.

use aws_lc_rs::signature::{self, VerificationAlgorithm};
pub use jsonwebtoken::Algorithm;

/// Every algorithm the verifier knows, in a fixed order (the bit index of [`AlgorithmSet`]).
pub(crate) const ALL: [Algorithm; 12] = [
    Algorithm::HS256,
    Algorithm::HS384,
    Algorithm::HS512,
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

/// The RSA algorithms (a JWK of kty RSA without `alg` is bound to these).
pub(crate) const RSA: [Algorithm; 6] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
];

/// The HMAC algorithms, only ever used with a configured shared secret.
pub(crate) const HMAC: [Algorithm; 3] = [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512];

fn index(alg: Algorithm) -> u32 {
    ALL.iter().position(|a| *a == alg).map_or(31, |i| i as u32)
}

/// Parses a JOSE `alg` name. Unknown names (including `none`) give `None`.
pub(crate) fn parse(name: &str) -> Option<Algorithm> {
    ALL.iter().copied().find(|a| name_of(*a) == name)
}

/// The JOSE name of an algorithm.
pub(crate) fn name_of(alg: Algorithm) -> &'static str {
    match alg {
        Algorithm::HS256 => "HS256",
        Algorithm::HS384 => "HS384",
        Algorithm::HS512 => "HS512",
        Algorithm::RS256 => "RS256",
        Algorithm::RS384 => "RS384",
        Algorithm::RS512 => "RS512",
        Algorithm::PS256 => "PS256",
        Algorithm::PS384 => "PS384",
        Algorithm::PS512 => "PS512",
        Algorithm::ES256 => "ES256",
        Algorithm::ES384 => "ES384",
        Algorithm::EdDSA => "EdDSA",
        _ => "unsupported",
    }
}

/// Whether `alg` is an HMAC (shared-secret) algorithm.
pub(crate) fn is_hmac(alg: Algorithm) -> bool {
    HMAC.contains(&alg)
}

/// The aws-lc-rs verification primitive for an asymmetric algorithm.
pub(crate) fn public_key_algorithm(alg: Algorithm) -> Option<&'static dyn VerificationAlgorithm> {
    if let Some(rsa) = rsa_parameters(alg) {
        return Some(rsa);
    }
    Some(match alg {
        Algorithm::ES256 => &signature::ECDSA_P256_SHA256_FIXED,
        Algorithm::ES384 => &signature::ECDSA_P384_SHA384_FIXED,
        Algorithm::EdDSA => &signature::ED25519,
        _ => return None,
    })
}

/// The RSA parameters for an RSA algorithm.
pub(crate) fn rsa_parameters(alg: Algorithm) -> Option<&'static signature::RsaParameters> {
    Some(match alg {
        Algorithm::RS256 => &signature::RSA_PKCS1_2048_8192_SHA256,
        Algorithm::RS384 => &signature::RSA_PKCS1_2048_8192_SHA384,
        Algorithm::RS512 => &signature::RSA_PKCS1_2048_8192_SHA512,
        Algorithm::PS256 => &signature::RSA_PSS_2048_8192_SHA256,
        Algorithm::PS384 => &signature::RSA_PSS_2048_8192_SHA384,
        Algorithm::PS512 => &signature::RSA_PSS_2048_8192_SHA512,
        _ => return None,
    })
}

/// A set of algorithms, as a bit mask. Copy and cheap to test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AlgorithmSet(u32);

impl AlgorithmSet {
    /// The empty set.
    pub const fn empty() -> Self {
        AlgorithmSet(0)
    }

    /// Every asymmetric algorithm: RS*, PS*, ES256, ES384, EdDSA.
    pub fn asymmetric() -> Self {
        ALL.iter().copied().filter(|a| !is_hmac(*a)).collect()
    }

    /// HS256, HS384 and HS512.
    pub fn hmac() -> Self {
        HMAC.iter().copied().collect()
    }

    /// Whether `alg` is in the set.
    pub fn contains(self, alg: Algorithm) -> bool {
        self.0 & (1 << index(alg)) != 0
    }

    /// Adds `alg`.
    pub fn insert(&mut self, alg: Algorithm) {
        self.0 |= 1 << index(alg);
    }

    /// The union.
    pub fn union(self, other: Self) -> Self {
        AlgorithmSet(self.0 | other.0)
    }

    /// The intersection.
    pub fn intersection(self, other: Self) -> Self {
        AlgorithmSet(self.0 & other.0)
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The algorithms in the set.
    pub fn iter(self) -> impl Iterator<Item = Algorithm> {
        ALL.into_iter().filter(move |a| self.contains(*a))
    }
}

impl FromIterator<Algorithm> for AlgorithmSet {
    fn from_iter<I: IntoIterator<Item = Algorithm>>(iter: I) -> Self {
        let mut set = AlgorithmSet::empty();
        for a in iter {
            set.insert(a);
        }
        set
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_none_is_unknown() {
        for a in ALL {
            assert_eq!(parse(name_of(a)), Some(a));
        }
        assert_eq!(parse("none"), None);
        assert_eq!(parse("None"), None);
        assert_eq!(parse("hs256"), None);
    }

    #[test]
    fn set_operations() {
        let asym = AlgorithmSet::asymmetric();
        assert!(asym.contains(Algorithm::RS256) && asym.contains(Algorithm::EdDSA));
        assert!(!asym.contains(Algorithm::HS256));
        assert!(asym.intersection(AlgorithmSet::hmac()).is_empty());
        assert_eq!(asym.union(AlgorithmSet::hmac()).iter().count(), 12);
    }
}
