//! Random identifiers (codes, states, client ids, CSRF tokens) for every
//! authorization server of this crate.

use base64::Engine as _;

/// A fresh random identifier: `bytes` random bytes, base64url.
///
/// If the system's random number generator fails (never on supported platforms,
/// and nothing a request can cause), the process aborts: continuing would hand
/// out predictable codes, states and client ids.
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    if aws_lc_rs::rand::fill(&mut buf).is_err() {
        tracing::error!(
            "system random number generator failed; aborting rather than issuing predictable secrets"
        );
        std::process::abort();
    }
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&buf)
}
