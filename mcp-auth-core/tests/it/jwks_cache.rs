//! JwksCache behaviour against a real local JWKS endpoint: single flight,
//! rotation, the unknown-kid cool-down, serving the last good set through
//! outages and bad answers, and 503 when nothing was ever fetched.

use std::sync::Arc;
use std::time::Duration;

use mcp_auth_core::{
    FetchError, TokenRejection, VerifyError, jwt::Algorithm, jwt::Audience, jwt::FetchLimits,
    jwt::JwksCache, jwt::JwksConfig, jwt::JwtConfig, jwt::JwtVerifier, jwt::KeySource,
};
use mcp_auth_testkit::{Behavior, FakeIdp, TestKey, claims, jwks, unreachable_url};

const AUD: &str = "https://mcp.example.com/mcp";

/// A verifier without the verified-token cache: these tests watch key fetches.
fn verifier(issuer: &str, cache: JwksCache) -> JwtVerifier {
    let mut config = JwtConfig::new(issuer, Audience::exactly(AUD));
    config.token_cache = None;
    JwtVerifier::new(config, KeySource::Jwks(cache)).expect("verifier")
}

fn short_ttl() -> JwksConfig {
    JwksConfig {
        ttl: Duration::from_millis(200),
        min_ttl: Duration::from_millis(200),
        retry_backoff: Duration::from_millis(300),
        ..JwksConfig::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cold_cache_under_200_concurrent_requests_fetches_once() {
    let key = TestKey::rsa("k", Algorithm::RS256);
    let idp = FakeIdp::start(jwks(&[key.jwk()])).await;
    // A slow IdP widens the window in which every request misses.
    idp.set_behavior(Behavior::Delay(Duration::from_millis(300)));
    let v = verifier(
        &idp.issuer(),
        JwksCache::new(idp.jwks_url(), JwksConfig::default()).expect("cache"),
    );
    let token = Arc::new(key.sign(&claims(&idp.issuer(), AUD, "u")));
    let tasks: Vec<_> = (0..200)
        .map(|_| {
            let v = v.clone();
            let token = Arc::clone(&token);
            tokio::spawn(async move { v.verify(&token).await })
        })
        .collect();
    for t in tasks {
        t.await.expect("task").expect("valid token");
    }
    assert_eq!(idp.jwks_hits(), 1);
}

#[tokio::test]
async fn rotation_new_kid_verifies_after_exactly_one_refetch() {
    let old = TestKey::rsa("2025", Algorithm::RS256);
    let new = TestKey::ec_p256("2026");
    let idp = FakeIdp::start(jwks(&[old.jwk()])).await;
    let v = verifier(
        &idp.issuer(),
        JwksCache::new(idp.jwks_url(), JwksConfig::default()).expect("cache"),
    );
    v.verify(&old.sign(&claims(&idp.issuer(), AUD, "u")))
        .await
        .expect("old key");
    assert_eq!(idp.jwks_hits(), 1);
    idp.set_jwks(jwks(&[old.jwk(), new.jwk()]));
    v.verify(&new.sign(&claims(&idp.issuer(), AUD, "u")))
        .await
        .expect("new key after refetch");
    assert_eq!(idp.jwks_hits(), 2);
    for _ in 0..10 {
        v.verify(&new.sign(&claims(&idp.issuer(), AUD, "u")))
            .await
            .expect("cached");
    }
    assert_eq!(idp.jwks_hits(), 2, "no fetch once the new key is cached");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_random_kids_inside_the_cooldown_causes_at_most_one_refetch() {
    let key = TestKey::rsa("k", Algorithm::RS256);
    let idp = FakeIdp::start(jwks(&[key.jwk()])).await;
    let v = verifier(
        &idp.issuer(),
        JwksCache::new(idp.jwks_url(), JwksConfig::default()).expect("cache"),
    );
    v.verify(&key.sign(&claims(&idp.issuer(), AUD, "u")))
        .await
        .expect("warm up");
    let warm = idp.jwks_hits();
    let tokens: Vec<String> = (0..1000)
        .map(|i| {
            let mut h = key.header();
            h.kid = Some(format!("random-{i}-{}", i * 7919));
            key.sign_with(h, &claims(&idp.issuer(), AUD, "u"))
        })
        .collect();
    let tasks: Vec<_> = tokens
        .into_iter()
        .map(|t| {
            let v = v.clone();
            tokio::spawn(async move { v.verify(&t).await })
        })
        .collect();
    for t in tasks {
        match t.await.expect("task") {
            Err(VerifyError::Rejected(TokenRejection::UnknownKey { .. })) => {}
            other => panic!("expected UnknownKey, got {other:?}"),
        }
    }
    assert!(
        idp.jwks_hits() - warm <= 1,
        "{} refetches",
        idp.jwks_hits() - warm
    );
    // The genuine key still works, from the cache.
    v.verify(&key.sign(&claims(&idp.issuer(), AUD, "u")))
        .await
        .expect("still valid");
}

#[tokio::test]
async fn idp_stopped_after_warm_up_valid_tokens_still_pass() {
    let key = TestKey::rsa("k", Algorithm::RS256);
    let mut idp = FakeIdp::start(jwks(&[key.jwk()])).await;
    let cache = JwksCache::new(idp.jwks_url(), short_ttl()).expect("cache");
    let v = verifier(&idp.issuer(), cache.clone());
    let issuer = idp.issuer();
    v.verify(&key.sign(&claims(&issuer, AUD, "u")))
        .await
        .expect("warm up");
    idp.stop().await;
    // Past the TTL: the refetch fails (connection refused) and the last good set serves.
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(350)).await;
        v.verify(&key.sign(&claims(&issuer, AUD, "u")))
            .await
            .expect("served from the last good set");
    }
    assert!(
        cache.fetch_count() >= 2,
        "a refetch was attempted while the IdP was down"
    );
}

#[tokio::test]
async fn garbage_500_and_huge_bodies_give_clear_errors_and_cached_keys_keep_serving() {
    let key = TestKey::ec_p256("k");
    let idp = FakeIdp::start(jwks(&[key.jwk()])).await;
    let config = JwksConfig {
        fetch: FetchLimits {
            max_body_bytes: 16 * 1024,
            ..FetchLimits::default()
        },
        ..short_ttl()
    };
    let cache = JwksCache::new(idp.jwks_url(), config).expect("cache");
    let v = verifier(&idp.issuer(), cache.clone());
    v.verify(&key.sign(&claims(&idp.issuer(), AUD, "u")))
        .await
        .expect("warm up");
    for behavior in [
        Behavior::Garbage,
        Behavior::Status(500),
        Behavior::Huge(64 * 1024),
    ] {
        idp.set_behavior(behavior.clone());
        let before = idp.jwks_hits();
        tokio::time::sleep(Duration::from_millis(700)).await; // past TTL and back-off
        v.verify(&key.sign(&claims(&idp.issuer(), AUD, "u")))
            .await
            .unwrap_or_else(|e| panic!("{behavior:?}: {e}"));
        assert!(
            idp.jwks_hits() > before,
            "{behavior:?}: a refetch was attempted"
        );
    }
    // The same bad answers with an empty cache: each error names its cause.
    for (behavior, expect) in [
        (Behavior::Garbage, "did not return a valid JWKS"),
        (Behavior::Status(500), "answered HTTP 500"),
        (Behavior::Huge(64 * 1024), "more than 16384 bytes"),
    ] {
        idp.set_behavior(behavior.clone());
        let cold = verifier(
            &idp.issuer(),
            JwksCache::new(idp.jwks_url(), config).expect("cache"),
        );
        match cold
            .verify(&key.sign(&claims(&idp.issuer(), AUD, "u")))
            .await
        {
            Err(VerifyError::KeysUnavailable { source, .. }) => {
                assert!(
                    source.to_string().contains(expect),
                    "{behavior:?}: {source}"
                );
            }
            other => panic!("{behavior:?}: expected KeysUnavailable, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn never_reachable_idp_gives_keys_unavailable_and_backs_off() {
    let key = TestKey::rsa("k", Algorithm::RS256);
    let url = unreachable_url("/jwks.json").await;
    let cache = JwksCache::new(url, JwksConfig::default()).expect("cache");
    let v = verifier("https://issuer.example.com", cache.clone());
    let token = key.sign(&claims("https://issuer.example.com", AUD, "u"));
    for _ in 0..5 {
        match v.verify(&token).await {
            Err(VerifyError::KeysUnavailable {
                source,
                retry_after,
            }) => {
                assert_eq!(retry_after, Duration::from_secs(30));
                assert!(
                    matches!(*source, FetchError::Http { .. } | FetchError::BackingOff(_)),
                    "{source}"
                );
            }
            other => panic!("expected KeysUnavailable, got {other:?}"),
        }
    }
    assert_eq!(
        cache.fetch_count(),
        1,
        "failures back off instead of refetching per request"
    );
}

#[tokio::test]
async fn cache_control_max_age_is_honoured_within_bounds() {
    let key = TestKey::rsa("k", Algorithm::RS256);
    let idp = FakeIdp::start(jwks(&[key.jwk()])).await;
    idp.set_cache_control(Some("public, max-age=1"));
    let config = JwksConfig {
        min_ttl: Duration::from_secs(1),
        ..JwksConfig::default()
    };
    let v = verifier(
        &idp.issuer(),
        JwksCache::new(idp.jwks_url(), config).expect("cache"),
    );
    let token = key.sign(&claims(&idp.issuer(), AUD, "u"));
    v.verify(&token).await.expect("first");
    v.verify(&token).await.expect("cached");
    assert_eq!(idp.jwks_hits(), 1);
    tokio::time::sleep(Duration::from_millis(1300)).await;
    v.verify(&token).await.expect("refetched");
    assert_eq!(
        idp.jwks_hits(),
        2,
        "max-age=1 expired the set after a second, not after the 10 min default"
    );
    // A max-age below the floor is raised to it.
    idp.set_cache_control(Some("max-age=0"));
    let floor = JwksConfig {
        min_ttl: Duration::from_secs(30),
        ..JwksConfig::default()
    };
    let v2 = verifier(
        &idp.issuer(),
        JwksCache::new(idp.jwks_url(), floor).expect("cache"),
    );
    v2.verify(&token).await.expect("first");
    tokio::time::sleep(Duration::from_millis(300)).await;
    v2.verify(&token).await.expect("cached despite max-age=0");
    assert_eq!(idp.jwks_hits(), 3);
}

#[tokio::test]
async fn discovery_finds_jwks_uri_and_checks_the_issuer() {
    let key = TestKey::rsa("k", Algorithm::RS256);
    let idp = FakeIdp::start(jwks(&[key.jwk()])).await;
    let v = verifier(
        &idp.issuer(),
        JwksCache::from_issuer(idp.issuer(), JwksConfig::default()).expect("cache"),
    );
    v.verify(&key.sign(&claims(&idp.issuer(), AUD, "u")))
        .await
        .expect("keys via discovery");
    assert_eq!(idp.discovery_hits(), 1);
    assert_eq!(idp.jwks_hits(), 1);
    // A discovery document naming another issuer is refused.
    idp.set_discovery_issuer(Some("https://impostor.example.com"));
    let v = verifier(
        &idp.issuer(),
        JwksCache::from_issuer(idp.issuer(), JwksConfig::default()).expect("cache"),
    );
    match v.verify(&key.sign(&claims(&idp.issuer(), AUD, "u"))).await {
        Err(VerifyError::KeysUnavailable { source, .. }) => {
            assert!(
                matches!(*source, FetchError::IssuerMismatch { .. }),
                "{source}"
            );
        }
        other => panic!("expected an issuer mismatch, got {other:?}"),
    }
}

#[tokio::test]
async fn a_hanging_idp_hits_the_request_timeout_instead_of_hanging_the_request() {
    let key = TestKey::rsa("k", Algorithm::RS256);
    let idp = FakeIdp::start(jwks(&[key.jwk()])).await;
    idp.set_behavior(Behavior::Delay(Duration::from_secs(30)));
    let config = JwksConfig {
        fetch: FetchLimits {
            request_timeout: Duration::from_millis(300),
            ..FetchLimits::default()
        },
        ..JwksConfig::default()
    };
    let v = verifier(
        &idp.issuer(),
        JwksCache::new(idp.jwks_url(), config).expect("cache"),
    );
    let token = key.sign(&claims(&idp.issuer(), AUD, "u"));
    let started = std::time::Instant::now();
    let outcome = tokio::time::timeout(Duration::from_secs(5), v.verify(&token))
        .await
        .expect("bounded by the request timeout");
    assert!(
        matches!(outcome, Err(VerifyError::KeysUnavailable { .. })),
        "{outcome:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "took {:?}",
        started.elapsed()
    );
}
