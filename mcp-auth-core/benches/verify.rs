//! Verification cost, each figure next to its bare baseline measured in the same run:
//! - `verify/<alg>/jsonwebtoken`: bare `jsonwebtoken::decode` with the same key and
//!   the same iss/aud/exp checks; `verify/<alg>/mcp-auth`: `JwtVerifier::verify` with
//!   the token cache off (keys already cached). The ratio is the cost of our rules.
//! - `jwks/hit`: a key-set lookup from a warm `JwksCache`.
//! - `jwks/cold_single_flight_32`: 32 concurrent verifications on a cold cache
//!   (one fetch from a local JWKS server).
//! - `token_cache/hit`: a repeat token answered by the verified-token cache.
//!
//! `cargo bench -p mcp-auth-core --bench verify`

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use jsonwebtoken::{DecodingKey, Validation};
use mcp_auth_core::{
    jwt::Algorithm, jwt::Audience, jwt::HmacSecret, jwt::JwksCache, jwt::JwksConfig,
    jwt::JwtConfig, jwt::JwtVerifier, jwt::KeySource, jwt::TokenCacheConfig,
};
use mcp_auth_testkit::{FakeIdp, TestKey, claims, jwks, sign_hmac};
use serde_json::{Map, Value};

const AUD: &str = "https://mcp.example.com/mcp";
const SECRET: &[u8] = b"a-shared-secret-of-at-least-32-bytes!!";

fn decoding_key(key: &TestKey) -> DecodingKey {
    let jwk = key.jwk();
    let s = |k: &str| jwk[k].as_str().unwrap_or_default().to_owned();
    match jwk["kty"].as_str() {
        Some("RSA") => DecodingKey::from_rsa_components(&s("n"), &s("e")).expect("rsa"),
        Some("EC") => DecodingKey::from_ec_components(&s("x"), &s("y")).expect("ec"),
        _ => DecodingKey::from_ed_components(&s("x")).expect("ed"),
    }
}

fn verifier(issuer: &str, jwks_url: &str, cache: Option<TokenCacheConfig>) -> JwtVerifier {
    let mut config = JwtConfig::new(issuer, Audience::exactly(AUD));
    config.token_cache = cache;
    let jwks = JwksCache::new(jwks_url, JwksConfig::default()).expect("jwks");
    JwtVerifier::new(
        config,
        KeySource::JwksAndSecret(jwks, HmacSecret::new(SECRET)),
    )
    .expect("verifier")
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let keys = [
        TestKey::rsa("rs256", Algorithm::RS256),
        TestKey::rsa("ps256", Algorithm::PS256),
        TestKey::ec_p256("es256"),
        TestKey::ed25519("eddsa"),
    ];
    let idp = rt.block_on(FakeIdp::start(jwks(
        &keys.iter().map(TestKey::jwk).collect::<Vec<_>>(),
    )));
    let issuer = idp.issuer();
    let full = verifier(&issuer, &idp.jwks_url(), None);
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_issuer(&[&issuer]);
    validation.set_audience(&[AUD]);
    validation.set_required_spec_claims(&["exp", "iss", "aud"]);

    let mut group = c.benchmark_group("verify");
    let mut cases: Vec<(&str, String, DecodingKey, Algorithm)> = keys
        .iter()
        .map(|k| {
            let name = match k.alg {
                Algorithm::RS256 => "RS256",
                Algorithm::PS256 => "PS256",
                Algorithm::ES256 => "ES256",
                _ => "EdDSA",
            };
            (
                name,
                k.sign(&claims(&issuer, AUD, "u")),
                decoding_key(k),
                k.alg,
            )
        })
        .collect();
    cases.push((
        "HS256",
        sign_hmac(SECRET, Algorithm::HS256, None, &claims(&issuer, AUD, "u")),
        DecodingKey::from_secret(SECRET),
        Algorithm::HS256,
    ));
    for (name, token, key, alg) in &cases {
        rt.block_on(full.verify(token)).expect("valid");
        let mut v = validation.clone();
        v.algorithms = vec![*alg];
        group.bench_function(format!("{name}/jsonwebtoken"), |b| {
            b.iter(|| {
                jsonwebtoken::decode::<Map<String, Value>>(black_box(token), key, &v)
                    .expect("valid")
            })
        });
        group.bench_function(format!("{name}/mcp-auth"), |b| {
            b.iter(|| futures::executor::block_on(full.verify(black_box(token))).expect("valid"))
        });
    }
    group.finish();

    let jwks_cache = full.jwks().expect("jwks").clone();
    c.bench_function("jwks/hit", |b| {
        b.iter(|| futures::executor::block_on(jwks_cache.keys()).expect("keys"))
    });

    let token = Arc::new(cases[0].1.clone());
    let jwks_url = idp.jwks_url();
    c.bench_function("jwks/cold_single_flight_32", |b| {
        b.to_async(&rt).iter(|| {
            let v = verifier(&issuer, &jwks_url, None);
            let token = Arc::clone(&token);
            async move {
                let tasks: Vec<_> = (0..32)
                    .map(|_| {
                        let v = v.clone();
                        let t = Arc::clone(&token);
                        tokio::spawn(async move { v.verify(&t).await.is_ok() })
                    })
                    .collect();
                for t in tasks {
                    assert!(t.await.expect("task"));
                }
            }
        })
    });

    let cached = verifier(&issuer, &idp.jwks_url(), Some(TokenCacheConfig::default()));
    rt.block_on(cached.verify_context(&token)).expect("valid");
    c.bench_function("token_cache/hit", |b| {
        b.iter(|| {
            futures::executor::block_on(cached.verify_context(black_box(&token))).expect("valid")
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1)).sample_size(50);
    targets = bench
}
criterion_main!(benches);
