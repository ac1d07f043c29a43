//! The secret proxy mode signs and seals with: MACs for cookies and browser
//! bindings, AES-256-GCM for upstream tokens kept server-side. Configured for
//! every replica (`MCP_AUTH_STATE_KEY`, base64 of at least 32 random bytes),
//! or else drawn at random when the routes are built (so it does not outlive
//! the process); each use under its own derived key.

use aws_lc_rs::{aead, hmac};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::error::ConfigError;

/// Proxy mode's secret. `Debug` prints nothing of it.
pub(crate) struct StateKey {
    mac: hmac::Key,
    seal: aead::LessSafeKey,
}

impl std::fmt::Debug for StateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        crate::secret::fmt_redacted(f, "StateKey")
    }
}

impl StateKey {
    /// A fresh random key.
    pub(crate) fn random() -> Result<Self, ConfigError> {
        let mut secret = [0u8; 32];
        aws_lc_rs::rand::fill(&mut secret).map_err(|_| {
            ConfigError::invalid("state key", "the system random number generator failed")
        })?;
        Self::from_secret(&secret)
    }

    /// The key for `secret`, with one subkey per use.
    pub(crate) fn from_secret(secret: &[u8]) -> Result<Self, ConfigError> {
        let root = hmac::Key::new(hmac::HMAC_SHA256, secret);
        let derive = |label: &[u8]| hmac::sign(&root, label);
        let mac = hmac::Key::new(hmac::HMAC_SHA256, derive(b"mcp-auth mac v1").as_ref());
        let seal = aead::UnboundKey::new(&aead::AES_256_GCM, derive(b"mcp-auth seal v1").as_ref())
            .map_err(|_| ConfigError::invalid("state key", "cannot derive the sealing key"))?;
        Ok(StateKey {
            mac,
            seal: aead::LessSafeKey::new(seal),
        })
    }

    /// The MAC of `data` under `context` (domain separation), base64url.
    pub(crate) fn mac(&self, context: &str, data: &str) -> String {
        let mut ctx = hmac::Context::with_key(&self.mac);
        ctx.update(context.as_bytes());
        ctx.update(&[0]);
        ctx.update(data.as_bytes());
        URL_SAFE_NO_PAD.encode(ctx.sign().as_ref())
    }

    /// Whether `tag` is the MAC of `data` under `context` (constant time).
    pub(crate) fn verify(&self, context: &str, data: &str, tag: &str) -> bool {
        same(&self.mac(context, data), tag)
    }

    /// `plaintext` encrypted and authenticated, bound to `context`: a random
    /// nonce then the ciphertext, base64url.
    pub(crate) fn seal(&self, context: &str, plaintext: &[u8]) -> Option<String> {
        let mut nonce = [0u8; aead::NONCE_LEN];
        aws_lc_rs::rand::fill(&mut nonce).ok()?;
        let mut data = plaintext.to_vec();
        self.seal
            .seal_in_place_append_tag(
                aead::Nonce::assume_unique_for_key(nonce),
                aead::Aad::from(context.as_bytes()),
                &mut data,
            )
            .ok()?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&data);
        Some(URL_SAFE_NO_PAD.encode(out))
    }

    /// The plaintext of [`seal`](Self::seal), if `sealed` is authentic for `context`.
    pub(crate) fn open(&self, context: &str, sealed: &str) -> Option<Vec<u8>> {
        let bytes = URL_SAFE_NO_PAD.decode(sealed).ok()?;
        if bytes.len() < aead::NONCE_LEN {
            return None;
        }
        let (nonce, data) = bytes.split_at(aead::NONCE_LEN);
        let nonce = aead::Nonce::try_assume_unique_for_key(nonce).ok()?;
        let mut data = data.to_vec();
        let plain = self
            .seal
            .open_in_place(nonce, aead::Aad::from(context.as_bytes()), &mut data)
            .ok()?;
        Some(plain.to_vec())
    }
}

/// The variable holding the state key replicas share.
pub(crate) const STATE_KEY_VAR: &str = "MCP_AUTH_STATE_KEY";
/// The fewest bytes a configured state key may have.
pub(crate) const MIN_STATE_KEY_BYTES: usize = 32;

/// The secret a configured state key encodes: base64 (standard or URL-safe
/// alphabet, padding optional) of at least [`MIN_STATE_KEY_BYTES`] random
/// bytes, such as the output of `openssl rand -base64 32`. The error says what
/// is wrong, never the value.
pub(crate) fn decode_state_key(value: &str) -> Result<Vec<u8>, String> {
    use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
    let trimmed = value.trim().trim_end_matches('=');
    let secret = STANDARD_NO_PAD
        .decode(trimmed)
        .or_else(|_| URL_SAFE_NO_PAD.decode(trimmed))
        .map_err(|_| "is not base64: generate one with `openssl rand -base64 32`".to_owned())?;
    if secret.len() < MIN_STATE_KEY_BYTES {
        return Err(format!(
            "decodes to {} bytes: at least {MIN_STATE_KEY_BYTES} random bytes are needed (`openssl rand -base64 32`)",
            secret.len()
        ));
    }
    let mut seen = [false; 256];
    for byte in &secret {
        seen[usize::from(*byte)] = true;
    }
    // 32 random bytes have about 30 distinct values; fewer than 16 is a
    // repeated pattern, not a random key.
    if seen.iter().filter(|s| **s).count() < 16 {
        return Err(
            "does not look random (too few distinct bytes): generate one with `openssl rand -base64 32`"
                .to_owned(),
        );
    }
    Ok(secret)
}

/// Constant-time equality of two secrets.
pub(crate) fn same(a: &str, b: &str) -> bool {
    aws_lc_rs::constant_time::verify_slices_are_equal(a.as_bytes(), b.as_bytes()).is_ok()
}

/// The store identifier of a secret value (a code, a refresh handle): its
/// SHA-256, so that the store alone never holds a redeemable value.
pub(crate) fn hashed_id(secret: &str) -> String {
    let hash = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, secret.as_bytes());
    URL_SAFE_NO_PAD.encode(hash.as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_prints_nothing_of_the_key() {
        let secret = b"marker-state-key-0123456789abcdef";
        let key = StateKey::from_secret(secret).expect("key");
        for shown in [format!("{key:?}"), format!("{key:#?}")] {
            assert_eq!(shown, "StateKey([redacted])");
        }
    }

    #[test]
    fn configured_state_keys_are_base64_of_32_random_bytes() {
        let random: Vec<u8> = (0u8..32).map(|i| i.wrapping_mul(37) ^ 0x5a).collect();
        let standard = base64::engine::general_purpose::STANDARD.encode(&random);
        assert_eq!(decode_state_key(&standard).as_deref(), Ok(&random[..]));
        assert_eq!(
            decode_state_key(&format!(" {} ", URL_SAFE_NO_PAD.encode(&random))).as_deref(),
            Ok(&random[..])
        );
        let short = base64::engine::general_purpose::STANDARD.encode(&random[..31]);
        assert!(
            decode_state_key(&short)
                .expect_err("short")
                .contains("31 bytes")
        );
        assert!(
            decode_state_key("not base64!")
                .expect_err("not base64")
                .contains("base64")
        );
        let pattern = base64::engine::general_purpose::STANDARD.encode([7u8; 48]);
        assert!(
            decode_state_key(&pattern)
                .expect_err("pattern")
                .contains("random")
        );
    }

    #[test]
    fn macs_are_bound_to_key_and_context() {
        let key = StateKey::from_secret(b"0123456789abcdef0123456789abcdef").expect("key");
        let tag = key.mac("cookie", "data");
        assert!(key.verify("cookie", "data", &tag));
        assert!(!key.verify("binding", "data", &tag));
        let other = StateKey::random().expect("key");
        assert!(!other.verify("cookie", "data", &tag));
    }

    #[test]
    fn sealed_values_open_only_with_their_key_and_context() {
        let key = StateKey::random().expect("key");
        let sealed = key.seal("refresh", b"upstream-token").expect("seal");
        assert!(!sealed.contains("upstream-token"));
        assert_eq!(
            key.open("refresh", &sealed).as_deref(),
            Some(&b"upstream-token"[..])
        );
        assert_eq!(key.open("other", &sealed), None);
        assert_eq!(
            StateKey::random().expect("key").open("refresh", &sealed),
            None
        );
        let mut tampered = sealed.into_bytes();
        let last = tampered.len() - 2;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        assert_eq!(
            key.open("refresh", &String::from_utf8(tampered).expect("ascii")),
            None
        );
    }
}
