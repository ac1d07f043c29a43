//! Where keys come from (issue 14, item 3): issuer, discovery and JWKS URLs on
//! https (plain http only for loopback hosts), no redirect from https to plain
//! http, HMAC secrets at least as long as their hash (RFC 7518 §3.2), and a
//! resource URL on https (spec-checklist item 16b). Tokens are real, signed with
//! keys generated here.

use axum::Router;
use axum::http::{StatusCode, header::LOCATION};
use axum::response::IntoResponse;
use axum::routing::get;
use mcp_auth_core::{
    ConfigError, CustomConfig, CustomProvider, FetchError, McpAuth, TokenRejection, VerifyError,
    jwt::Algorithm, jwt::Audience, jwt::HmacSecret, jwt::JwksCache, jwt::JwksConfig,
    jwt::JwtConfig, jwt::JwtVerifier, jwt::KeySource,
};
use mcp_auth_testkit::{FakeIdp, TestKey, claims, jwks, serve_with, sign_hmac};
use serde_json::json;

const AUD: &str = "https://mcp.example.com/mcp";

fn verifier(issuer: &str, keys: KeySource) -> Result<JwtVerifier, ConfigError> {
    let mut config = JwtConfig::new(issuer, Audience::exactly(AUD));
    config.token_cache = None;
    JwtVerifier::new(config, keys)
}

fn keys_unavailable(result: Result<impl std::fmt::Debug, VerifyError>) -> String {
    match result {
        Err(VerifyError::KeysUnavailable { source, .. }) => source.to_string(),
        other => panic!("expected keys to be unavailable, got {other:?}"),
    }
}

#[test]
fn rule18_plain_http_issuer_and_jwks_urls_only_for_loopback_hosts() {
    let config = JwksConfig::default;
    for bad in ["http://idp.example.com/jwks", "http://10.1.2.3/jwks"] {
        let err = JwksCache::new(bad, config()).expect_err(bad);
        assert!(
            matches!(&err, ConfigError::Invalid { name, reason } if name == "JWKS URL" && reason.contains("https")),
            "{err:?}"
        );
        let err = JwksCache::from_issuer(bad, config()).expect_err(bad);
        assert!(
            matches!(&err, ConfigError::Invalid { name, .. } if name == "issuer"),
            "{err:?}"
        );
    }
    for ok in [
        "https://idp.example.com/jwks",
        "http://127.0.0.1:9/jwks",
        "http://localhost:9/jwks",
        "http://[::1]:9/jwks",
    ] {
        JwksCache::new(ok, config()).expect(ok);
        JwksCache::from_issuer(ok, config()).expect(ok);
    }
}

#[test]
fn custom_provider_urls_on_plain_http_elsewhere_name_their_variable() {
    let mut config = CustomConfig::new("http://auth.example.com");
    config.audience = Some("api".into());
    config.jwks_url = Some("https://auth.example.com/jwks".into());
    let err = CustomProvider::new(config.clone())
        .expect_err("http issuer")
        .to_string();
    assert!(err.contains("MCP_USE_OAUTH_CUSTOM_ISSUER"), "{err}");
    assert!(err.contains("https"), "{err}");

    config.issuer = "https://auth.example.com".into();
    config.token_endpoint = Some("http://auth.example.com/token".into());
    let err = CustomProvider::new(config.clone())
        .expect_err("http token endpoint")
        .to_string();
    assert!(err.contains("MCP_USE_OAUTH_CUSTOM_TOKEN_ENDPOINT"), "{err}");

    config.token_endpoint = Some("https://auth.example.com/token".into());
    CustomProvider::new(config).expect("all https");
}

#[tokio::test]
async fn a_discovery_document_naming_a_plain_http_jwks_uri_is_refused() {
    let key = TestKey::rsa("k", Algorithm::RS256);
    let (_, issuer) = serve_with(|base| {
        let doc = json!({"issuer": base, "jwks_uri": "http://idp.example.com/jwks"});
        Router::new().route(
            "/.well-known/openid-configuration",
            get(move || async move { axum::Json(doc) }),
        )
    })
    .await;
    let cache = JwksCache::from_issuer(issuer.clone(), JwksConfig::default()).expect("cache");
    let v = verifier(&issuer, KeySource::Jwks(cache)).expect("verifier");
    let reason = keys_unavailable(v.verify(&key.sign(&claims(&issuer, AUD, "u"))).await);
    assert!(
        reason.contains("jwks_uri") && reason.contains("https"),
        "{reason}"
    );
}

#[tokio::test]
async fn a_redirect_to_plain_http_on_another_host_is_not_followed() {
    let key = TestKey::rsa("k", Algorithm::RS256);
    let idp = FakeIdp::start(jwks(&[key.jwk()])).await;
    let real_jwks = idp.jwks_url();
    let (_, base) = serve_with(move |_| {
        Router::new()
            .route(
                "/elsewhere",
                get(|| async {
                    (StatusCode::FOUND, [(LOCATION, "http://idp.example.com/jwks")]).into_response()
                }),
            )
            .route(
                "/local",
                get(move || async move {
                    (StatusCode::FOUND, [(LOCATION, real_jwks)]).into_response()
                }),
            )
    })
    .await;
    let token = key.sign(&claims(&idp.issuer(), AUD, "u"));

    let cache = JwksCache::new(format!("{base}/elsewhere"), JwksConfig::default()).expect("cache");
    let v = verifier(&idp.issuer(), KeySource::Jwks(cache)).expect("verifier");
    let reason = keys_unavailable(v.verify(&token).await);
    assert!(reason.contains("request to"), "{reason}");
    assert_eq!(idp.jwks_hits(), 0);

    // From loopback to loopback, plain http is followed.
    let cache = JwksCache::new(format!("{base}/local"), JwksConfig::default()).expect("cache");
    let v = verifier(&idp.issuer(), KeySource::Jwks(cache)).expect("verifier");
    v.verify(&token)
        .await
        .expect("keys through a local redirect");
    assert_eq!(idp.jwks_hits(), 1);
}

#[test]
fn an_hmac_secret_shorter_than_32_bytes_is_refused() {
    for len in [1, 16, 31] {
        let err = verifier(
            "https://idp.example.com",
            KeySource::Secret(HmacSecret::new(vec![b'k'; len])),
        )
        .expect_err("short secret");
        let msg = err.to_string();
        assert!(msg.contains("HMAC secret") && msg.contains("32"), "{msg}");
    }
}

#[tokio::test]
async fn each_hmac_algorithm_needs_a_secret_as_long_as_its_hash() {
    let issuer = "https://idp.example.com";
    let c = claims(issuer, AUD, "u");
    // 40 bytes: HS256 only; HS384 and HS512 are not offered.
    let secret = [b's'; 40];
    let v = verifier(issuer, KeySource::Secret(HmacSecret::new(secret))).expect("verifier");
    v.verify(&sign_hmac(&secret, Algorithm::HS256, None, &c))
        .await
        .expect("HS256 with a 40-byte secret");
    for alg in [Algorithm::HS384, Algorithm::HS512] {
        match v.verify(&sign_hmac(&secret, alg, None, &c)).await {
            Err(VerifyError::Rejected(TokenRejection::AlgorithmNotAllowed(_))) => {}
            other => panic!("{alg:?} with a 40-byte secret: {other:?}"),
        }
    }
    // Asking for HS512 explicitly with a 48-byte secret is a configuration error.
    let mut config = JwtConfig::new(issuer, Audience::exactly(AUD));
    config.algorithms = Some(vec![Algorithm::HS256, Algorithm::HS512]);
    let err = JwtVerifier::new(
        config.clone(),
        KeySource::Secret(HmacSecret::new([b's'; 48])),
    )
    .expect_err("HS512 needs 64 bytes")
    .to_string();
    assert!(err.contains("HS512") && err.contains("64"), "{err}");
    // 64 bytes serve every HMAC algorithm.
    let secret = [b's'; 64];
    config.token_cache = None;
    let v = JwtVerifier::new(config, KeySource::Secret(HmacSecret::new(secret))).expect("64 bytes");
    v.verify(&sign_hmac(&secret, Algorithm::HS512, None, &c))
        .await
        .expect("HS512 with a 64-byte secret");
}

#[test]
fn rule16b_a_resource_url_on_plain_http_only_for_loopback_hosts() {
    let provider = || {
        let mut config = CustomConfig::new("https://auth.example.com");
        config.jwks_url = Some("https://auth.example.com/jwks".into());
        CustomProvider::new(config).expect("provider")
    };
    let err = McpAuth::builder(provider())
        .resource_url("http://mcp.example.com/mcp")
        .build()
        .expect_err("plain http elsewhere")
        .to_string();
    assert!(err.contains("https"), "{err}");
    McpAuth::builder(provider())
        .resource_url("http://127.0.0.1:3000/mcp")
        .build()
        .expect("loopback");
    McpAuth::builder(provider())
        .resource_url("https://mcp.example.com/mcp")
        .build()
        .expect("https");
}

#[test]
fn fetch_errors_name_an_insecure_url() {
    // The variant a refused URL surfaces as, should one reach the fetcher.
    let e = FetchError::InsecureUrl {
        url: "http://idp.example.com/jwks".into(),
        reason: "must use https".into(),
    };
    assert!(e.to_string().contains("http://idp.example.com/jwks"));
}
