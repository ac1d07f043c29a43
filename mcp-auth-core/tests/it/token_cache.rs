//! The verified-token cache: a repeat token skips the signature check, but never
//! past the token's `exp`, never past the maximum age, and never across verifiers
//! with different rules.

use std::time::Duration;

use mcp_auth_core::{
    TokenRejection, VerifyError, jwt::Algorithm, jwt::Audience, jwt::JwksCache, jwt::JwksConfig,
    jwt::JwtConfig, jwt::JwtVerifier, jwt::KeySource, jwt::TokenCacheConfig,
};
use mcp_auth_testkit::{FakeIdp, TestKey, claims, jwks, now};
use serde_json::json;

const AUD: &str = "https://mcp.example.com/mcp";

/// A JWKS cache that refetches quickly, so a withdrawn key is noticed.
fn fast_jwks(idp: &FakeIdp) -> JwksCache {
    let config = JwksConfig {
        ttl: Duration::from_millis(100),
        min_ttl: Duration::from_millis(100),
        unknown_kid_cooldown: Duration::ZERO,
        retry_backoff: Duration::from_millis(100),
        ..JwksConfig::default()
    };
    JwksCache::new(idp.jwks_url(), config).expect("cache")
}

fn verifier(idp: &FakeIdp, cache: Option<TokenCacheConfig>) -> JwtVerifier {
    let mut config = JwtConfig::new(idp.issuer(), Audience::exactly(AUD));
    config.token_cache = cache;
    JwtVerifier::new(config, KeySource::Jwks(fast_jwks(idp))).expect("verifier")
}

fn rejection<T: std::fmt::Debug>(r: Result<T, VerifyError>) -> TokenRejection {
    match r {
        Err(VerifyError::Rejected(r)) => r,
        other => panic!("expected a rejection, got {other:?}"),
    }
}

#[tokio::test]
async fn a_repeat_token_skips_the_signature_check_until_max_age() {
    let key = TestKey::rsa("k", Algorithm::RS256);
    let idp = FakeIdp::start(jwks(&[key.jwk()])).await;
    let cached = verifier(
        &idp,
        Some(TokenCacheConfig {
            max_age: Duration::from_millis(1500),
            ..TokenCacheConfig::default()
        }),
    );
    let uncached = verifier(&idp, None);
    let token = key.sign(&claims(&idp.issuer(), AUD, "u"));
    cached
        .verify_context(&token)
        .await
        .expect("first verification");
    uncached
        .verify_context(&token)
        .await
        .expect("first verification");
    // The key is withdrawn: a full verification now fails, the cached one still passes.
    idp.set_jwks(jwks(&[TestKey::rsa("other", Algorithm::RS256).jwk()]));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let r = rejection(uncached.verify_context(&token).await);
    assert!(matches!(r, TokenRejection::UnknownKey { .. }), "{r:?}");
    cached
        .verify_context(&token)
        .await
        .expect("served from the token cache");
    // Past the maximum age the token is verified again, and refused.
    tokio::time::sleep(Duration::from_millis(1400)).await;
    let r = rejection(cached.verify_context(&token).await);
    assert!(matches!(r, TokenRejection::UnknownKey { .. }), "{r:?}");
}

#[tokio::test]
async fn a_cached_token_is_never_used_past_its_exp() {
    let key = TestKey::ec_p256("k");
    let idp = FakeIdp::start(jwks(&[key.jwk()])).await;
    let mut config = JwtConfig::new(idp.issuer(), Audience::exactly(AUD));
    config.leeway = Duration::ZERO;
    let v = JwtVerifier::new(config, KeySource::Jwks(fast_jwks(&idp))).expect("verifier");
    let mut c = claims(&idp.issuer(), AUD, "u");
    c["exp"] = json!(now() + 2);
    let token = key.sign(&c);
    v.verify_context(&token).await.expect("valid now");
    tokio::time::sleep(Duration::from_millis(2600)).await;
    let r = rejection(v.verify_context(&token).await);
    assert!(matches!(r, TokenRejection::Expired { .. }), "{r:?}");
}

#[tokio::test]
async fn verifiers_with_other_rules_do_not_share_the_cache() {
    let key = TestKey::rsa("k", Algorithm::RS256);
    let idp = FakeIdp::start(jwks(&[key.jwk()])).await;
    let v = verifier(&idp, Some(TokenCacheConfig::default()));
    let token = key.sign(&claims(&idp.issuer(), AUD, "u"));
    v.verify_context(&token).await.expect("valid for AUD");
    let other = v.with_audience(Audience::exactly("https://other.example.com"));
    let r = rejection(other.verify_context(&token).await);
    assert!(matches!(r, TokenRejection::WrongAudience { .. }), "{r:?}");
}
