//! The JWT verifier on arbitrary input with a fixed key set (RSA, EC and Ed25519
//! keys in a JWKS, and an HMAC secret). Half the inputs are raw token strings;
//! the other half are a header and a payload taken from the input, base64url
//! encoded and HMAC-signed with the fixed secret, so the claim rules behind a
//! valid signature are reached too. Never a panic; only an invalid signature or
//! rule can be a refusal, and keys are never unavailable (they are cached).
#![no_main]

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use libfuzzer_sys::fuzz_target;
use mcp_auth_core::VerifyError;
use mcp_auth_fuzz::{SECRET, runtime, verifier};

fn hmac(alg: u8, input: &[u8]) -> Vec<u8> {
    use aws_lc_rs::hmac;
    let algorithm = match alg % 3 {
        0 => hmac::HMAC_SHA256,
        1 => hmac::HMAC_SHA384,
        _ => hmac::HMAC_SHA512,
    };
    hmac::sign(&hmac::Key::new(algorithm, SECRET), input)
        .as_ref()
        .to_vec()
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let token = if mode & 1 == 0 {
        String::from_utf8_lossy(rest).into_owned()
    } else {
        // [mode][header len][header][payload]: signed with the secret.
        let Some((&hlen, rest)) = rest.split_first() else {
            return;
        };
        let hlen = usize::from(hlen).min(rest.len());
        let (header, payload) = rest.split_at(hlen);
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(payload)
        );
        let signature = hmac(mode >> 1, signing_input.as_bytes());
        format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature))
    };
    match runtime().block_on(verifier().verify(&token)) {
        Ok(_) | Err(VerifyError::Rejected(_)) => {}
        Err(other) => panic!("keys should be cached: {other}"),
    }
});
