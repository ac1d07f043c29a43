//! Keys generated per test and tokens signed with them by `jsonwebtoken`, an
//! implementation independent of the verifier under test.

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

pub(crate) fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Assembles a compact JWS from raw parts (for forged and malformed tokens).
pub fn assemble(header: &Value, claims: &Value, signature: &[u8]) -> String {
    format!(
        "{}.{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes()),
        b64(signature)
    )
}

/// A signing key generated for one test, with its public JWK.
pub struct TestKey {
    /// Key id published in the JWK and put in token headers.
    pub kid: String,
    /// The algorithm this key signs with.
    pub alg: Algorithm,
    encoding: EncodingKey,
    jwk: Value,
}

fn pem(label: &str, der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).expect("base64 is ascii"))
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}

fn alg_name(alg: Algorithm) -> String {
    serde_json::to_value(alg)
        .expect("alg serializes")
        .as_str()
        .expect("alg is a string")
        .to_owned()
}

impl TestKey {
    /// A fresh 2048-bit RSA key for `alg` (RS256/384/512 or PS256/384/512).
    pub fn rsa(kid: &str, alg: Algorithm) -> Self {
        Self::rsa_sized(kid, alg, aws_lc_rs::rsa::KeySize::Rsa2048)
    }

    /// A fresh RSA key of the given size.
    pub fn rsa_sized(kid: &str, alg: Algorithm, size: aws_lc_rs::rsa::KeySize) -> Self {
        let pair = aws_lc_rs::rsa::KeyPair::generate(size).expect("RSA key generation");
        let pkcs8 = pair.as_der().expect("PKCS#8 export");
        let encoding = EncodingKey::from_rsa_pem(pem("PRIVATE KEY", pkcs8.as_ref()).as_bytes())
            .expect("RSA PEM");
        let public = pair.public_key();
        let jwk = json!({
            "kty": "RSA",
            "kid": kid,
            "alg": alg_name(alg),
            "use": "sig",
            "n": b64(public.modulus().big_endian_without_leading_zero()),
            "e": b64(public.exponent().big_endian_without_leading_zero()),
        });
        TestKey {
            kid: kid.to_owned(),
            alg,
            encoding,
            jwk,
        }
    }

    /// A fresh P-256 key (ES256).
    pub fn ec_p256(kid: &str) -> Self {
        Self::ec(
            kid,
            Algorithm::ES256,
            &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            "P-256",
            32,
        )
    }

    /// A fresh P-384 key (ES384).
    pub fn ec_p384(kid: &str) -> Self {
        Self::ec(
            kid,
            Algorithm::ES384,
            &signature::ECDSA_P384_SHA384_FIXED_SIGNING,
            "P-384",
            48,
        )
    }

    fn ec(
        kid: &str,
        alg: Algorithm,
        sig: &'static signature::EcdsaSigningAlgorithm,
        crv: &str,
        size: usize,
    ) -> Self {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(sig, &rng).expect("EC key generation");
        let pair = EcdsaKeyPair::from_pkcs8(sig, pkcs8.as_ref()).expect("EC key parse");
        let point = pair.public_key().as_ref();
        let jwk = json!({
            "kty": "EC",
            "kid": kid,
            "alg": alg_name(alg),
            "use": "sig",
            "crv": crv,
            "x": b64(&point[1..1 + size]),
            "y": b64(&point[1 + size..]),
        });
        TestKey {
            kid: kid.to_owned(),
            alg,
            encoding: EncodingKey::from_ec_der(pkcs8.as_ref()),
            jwk,
        }
    }

    /// A fresh Ed25519 key (EdDSA).
    pub fn ed25519(kid: &str) -> Self {
        let rng = SystemRandom::new();
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).expect("Ed25519 key generation");
        let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).expect("Ed25519 parse");
        let jwk = json!({
            "kty": "OKP",
            "kid": kid,
            "alg": "EdDSA",
            "use": "sig",
            "crv": "Ed25519",
            "x": b64(pair.public_key().as_ref()),
        });
        TestKey {
            kid: kid.to_owned(),
            alg: Algorithm::EdDSA,
            encoding: EncodingKey::from_ed_der(pkcs8.as_ref()),
            jwk,
        }
    }

    /// The public JWK (with `kid`, `alg` and `use`).
    pub fn jwk(&self) -> Value {
        self.jwk.clone()
    }

    /// The public JWK without `alg` (bound by key type and curve only).
    pub fn jwk_without_alg(&self) -> Value {
        let mut jwk = self.jwk.clone();
        if let Some(obj) = jwk.as_object_mut() {
            obj.remove("alg");
        }
        jwk
    }

    /// The standard header for this key: `alg`, `kid`, `typ: JWT`.
    pub fn header(&self) -> Header {
        let mut h = Header::new(self.alg);
        h.kid = Some(self.kid.clone());
        h
    }

    /// Signs `claims` with the standard header.
    pub fn sign(&self, claims: &Value) -> String {
        self.sign_with(self.header(), claims)
    }

    /// Signs `claims` with a caller-built header (its `alg` must be this key's family).
    pub fn sign_with(&self, header: Header, claims: &Value) -> String {
        jsonwebtoken::encode(&header, claims, &self.encoding).expect("signing")
    }
}

/// An HS256/384/512 token signed with `secret`.
pub fn sign_hmac(secret: &[u8], alg: Algorithm, kid: Option<&str>, claims: &Value) -> String {
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_secret(secret)).expect("HMAC signing")
}

/// A JWKS document of the given public keys.
pub fn jwks(keys: &[Value]) -> Value {
    json!({ "keys": keys })
}
