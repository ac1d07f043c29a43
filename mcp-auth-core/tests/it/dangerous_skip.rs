//! The `dangerous-skip-verification` feature: signatures are not checked, every
//! other rule still is. Without the feature the method does not exist (checked by
//! the compile: this file only builds with it).
#![cfg(feature = "dangerous-skip-verification")]

use mcp_auth_core::{
    jwt::Algorithm, jwt::Audience, jwt::JwksCache, jwt::JwksConfig, jwt::JwtConfig,
    jwt::JwtVerifier, jwt::KeySource,
};
use mcp_auth_testkit::{TestKey, claims, now, unreachable_url};
use serde_json::json;

#[tokio::test]
async fn skips_the_signature_but_not_the_claims() {
    let key = TestKey::rsa("k", Algorithm::RS256);
    let jwks =
        JwksCache::new(unreachable_url("/jwks.json").await, JwksConfig::default()).expect("cache");
    let strict = JwtVerifier::new(
        JwtConfig::new("https://issuer.example.com", Audience::exactly("aud")),
        KeySource::Jwks(jwks),
    )
    .expect("verifier");
    let lax = strict.dangerously_skip_signature_verification();
    let forged = TestKey::rsa("k", Algorithm::RS256).sign(&claims(
        "https://issuer.example.com",
        "aud",
        "mallory",
    ));
    assert!(strict.verify(&forged).await.is_err());
    let ctx = lax
        .verify_context(&forged)
        .await
        .expect("signature not checked, keys never fetched");
    assert_eq!(ctx.user().user_id, "mallory");
    let mut expired = claims("https://issuer.example.com", "aud", "u");
    expired["exp"] = json!(now() - 3600);
    assert!(
        lax.verify(&key.sign(&expired)).await.is_err(),
        "exp still enforced"
    );
    assert!(
        lax.verify(&key.sign(&claims("https://other", "aud", "u")))
            .await
            .is_err(),
        "iss still enforced"
    );
}
