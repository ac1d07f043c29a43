//! Every verification rule (spec-checklist items 17-22) against real tokens signed
//! with keys generated here, the keys served by a real local JWKS endpoint. Each
//! test names the rule it guards and fails if that rule is removed.

use std::time::Duration;

use mcp_auth_core::{
    TokenRejection, VerifyError, jwt::Algorithm, jwt::Audience, jwt::HmacSecret, jwt::JwksCache,
    jwt::JwksConfig, jwt::JwtConfig, jwt::JwtVerifier, jwt::KeySource,
};
use mcp_auth_testkit::{FakeIdp, TestKey, assemble, claims, jwks, now, sign_hmac};
use serde_json::{Value, json};

const AUD: &str = "https://mcp.example.com/mcp";

async fn setup(keys: &[&TestKey], tweak: impl FnOnce(&mut JwtConfig)) -> (FakeIdp, JwtVerifier) {
    let idp = FakeIdp::start(jwks(&keys.iter().map(|k| k.jwk()).collect::<Vec<_>>())).await;
    let verifier = verifier_for(&idp, tweak, None);
    (idp, verifier)
}

fn verifier_for(
    idp: &FakeIdp,
    tweak: impl FnOnce(&mut JwtConfig),
    secret: Option<&[u8]>,
) -> JwtVerifier {
    let mut config = JwtConfig::new(idp.issuer(), Audience::exactly(AUD));
    config.token_cache = None; // every verification runs every rule
    tweak(&mut config);
    let cache = JwksCache::new(idp.jwks_url(), JwksConfig::default()).expect("jwks cache");
    let source = match secret {
        Some(s) => KeySource::JwksAndSecret(cache, HmacSecret::new(s)),
        None => KeySource::Jwks(cache),
    };
    JwtVerifier::new(config, source).expect("verifier")
}

fn rejection(result: Result<impl std::fmt::Debug, VerifyError>) -> TokenRejection {
    match result {
        Err(VerifyError::Rejected(r)) => r,
        other => panic!("expected a rejection, got {other:?}"),
    }
}

fn good_claims(idp: &FakeIdp) -> Value {
    claims(&idp.issuer(), AUD, "user-1")
}

#[tokio::test]
async fn every_asymmetric_algorithm_verifies_with_its_key() {
    let keys = vec![
        TestKey::rsa("rs256", Algorithm::RS256),
        TestKey::rsa("rs384", Algorithm::RS384),
        TestKey::rsa("rs512", Algorithm::RS512),
        TestKey::rsa("ps256", Algorithm::PS256),
        TestKey::rsa("ps384", Algorithm::PS384),
        TestKey::rsa("ps512", Algorithm::PS512),
        TestKey::ec_p256("es256"),
        TestKey::ec_p384("es384"),
        TestKey::ed25519("eddsa"),
    ];
    let refs: Vec<&TestKey> = keys.iter().collect();
    let (idp, verifier) = setup(&refs, |_| {}).await;
    for key in &keys {
        let token = key.sign(&good_claims(&idp));
        let ctx = verifier
            .verify_context(&token)
            .await
            .unwrap_or_else(|e| panic!("{:?} refused: {e}", key.alg));
        assert_eq!(ctx.user().user_id, "user-1");
        assert_eq!(ctx.scopes(), ["read", "write"]);
    }
    assert_eq!(idp.jwks_hits(), 1, "one fetch serves every key");
}

#[tokio::test]
async fn rule17_mixed_jwks_binds_each_key_to_its_own_algorithm() {
    let rsa = TestKey::rsa("rsa", Algorithm::RS256);
    let ec = TestKey::ec_p256("ec");
    // Published without `alg`: bound by key type and curve only.
    let idp = FakeIdp::start(jwks(&[rsa.jwk_without_alg(), ec.jwk_without_alg()])).await;
    let verifier = verifier_for(&idp, |_| {}, None);
    verifier
        .verify(&rsa.sign(&good_claims(&idp)))
        .await
        .expect("RS256 with the RSA key");
    verifier
        .verify(&ec.sign(&good_claims(&idp)))
        .await
        .expect("ES256 with the EC key");
    // An RSA key without alg serves the whole RSA family, PS256 included.
    let ps = TestKey::rsa("rsa", Algorithm::PS256);
    let mut h = ps.header();
    h.kid = Some("rsa".into());
    // Signed with a different RSA key under the RSA kid: the PS256 binding exists, the signature is wrong.
    assert_eq!(
        rejection(verifier.verify(&ps.sign_with(h, &good_claims(&idp))).await),
        TokenRejection::BadSignature
    );
    // An ES256 token naming the RSA key's kid: no ES256 key has that kid.
    let mut h = ec.header();
    h.kid = Some("rsa".into());
    let r = rejection(verifier.verify(&ec.sign_with(h, &good_claims(&idp))).await);
    assert!(matches!(r, TokenRejection::UnknownKey { .. }), "{r:?}");
}

#[tokio::test]
async fn rule17_declared_alg_binds_the_key() {
    // The JWK says RS256: a PS256 token under the same kid is refused even though
    // the key could mathematically verify PS256.
    let key = TestKey::rsa("k", Algorithm::RS256);
    let (idp, verifier) = setup(&[&key], |_| {}).await;
    let mut h = key.header();
    h.alg = Algorithm::PS256;
    let r = rejection(verifier.verify(&key.sign_with(h, &good_claims(&idp))).await);
    assert!(matches!(r, TokenRejection::UnknownKey { .. }), "{r:?}");
}

#[tokio::test]
async fn rule17_forged_signature_is_refused() {
    let key = TestKey::rsa("k", Algorithm::RS256);
    let attacker = TestKey::rsa("k", Algorithm::RS256);
    let (idp, verifier) = setup(&[&key], |_| {}).await;
    assert_eq!(
        rejection(verifier.verify(&attacker.sign(&good_claims(&idp))).await),
        TokenRejection::BadSignature
    );
    // A genuine token with its payload swapped.
    let genuine = key.sign(&good_claims(&idp));
    let mut parts: Vec<&str> = genuine.split('.').collect();
    let mut admin = good_claims(&idp);
    admin["sub"] = json!("admin");
    let forged_payload = assemble(&json!({}), &admin, b"")
        .split('.')
        .nth(1)
        .expect("payload")
        .to_owned();
    parts[1] = &forged_payload;
    assert_eq!(
        rejection(verifier.verify(&parts.join(".")).await),
        TokenRejection::BadSignature
    );
    // ECDSA too.
    let ec = TestKey::ec_p256("e");
    let ec_attacker = TestKey::ec_p256("e");
    let (idp2, verifier2) = setup(&[&ec], |_| {}).await;
    assert_eq!(
        rejection(
            verifier2
                .verify(&ec_attacker.sign(&good_claims(&idp2)))
                .await
        ),
        TokenRejection::BadSignature
    );
}

#[tokio::test]
async fn rule17_alg_none_is_refused() {
    let key = TestKey::rsa("k", Algorithm::RS256);
    let (idp, verifier) = setup(&[&key], |_| {}).await;
    for alg in ["none", "None", "NONE", ""] {
        let token = assemble(&json!({"alg": alg, "kid": "k"}), &good_claims(&idp), b"");
        assert_eq!(
            rejection(verifier.verify(&token).await),
            TokenRejection::AlgorithmNotAllowed(alg.into())
        );
    }
    let no_alg = assemble(&json!({"kid": "k"}), &good_claims(&idp), b"sig");
    assert_eq!(
        rejection(verifier.verify(&no_alg).await),
        TokenRejection::MissingClaim("alg")
    );
    assert_eq!(idp.jwks_hits(), 0, "refused before any key lookup");
}

#[tokio::test]
async fn rule17_hs_rs_confusion_is_impossible() {
    let key = TestKey::rsa("k", Algorithm::RS256);
    let (idp, verifier) = setup(&[&key], |_| {}).await;
    // The classic attack: HS256 keyed with the public key material the JWKS publishes.
    let public = key.jwk();
    for secret in [
        public.to_string().into_bytes(),
        public["n"].as_str().unwrap_or_default().as_bytes().to_vec(),
    ] {
        let token = sign_hmac(&secret, Algorithm::HS256, Some("k"), &good_claims(&idp));
        assert_eq!(
            rejection(verifier.verify(&token).await),
            TokenRejection::AlgorithmNotAllowed("HS256".into())
        );
    }
    // A JWKS publishing a symmetric key does not make HS256 possible either.
    let idp2 = FakeIdp::start(jwks(&[
        json!({"kty": "oct", "kid": "sym", "k": "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0"}),
        key.jwk(),
    ]))
    .await;
    let verifier2 = verifier_for(&idp2, |_| {}, None);
    let token = sign_hmac(
        b"secretsecretsecretsecret",
        Algorithm::HS256,
        Some("sym"),
        &good_claims(&idp2),
    );
    assert_eq!(
        rejection(verifier2.verify(&token).await),
        TokenRejection::AlgorithmNotAllowed("HS256".into())
    );
}

#[tokio::test]
async fn rule17_secret_and_jwks_never_cross() {
    let key = TestKey::rsa("k", Algorithm::RS256);
    let secret = b"a-legacy-supabase-jwt-secret-of-32+bytes";
    let idp = FakeIdp::start(jwks(&[key.jwk()])).await;
    let verifier = verifier_for(&idp, |_| {}, Some(secret));
    // HS256 with the secret: accepted.
    verifier
        .verify(&sign_hmac(
            secret,
            Algorithm::HS256,
            None,
            &good_claims(&idp),
        ))
        .await
        .expect("HS256 with secret");
    // HS256 keyed with the RSA public key: the secret does not verify it.
    let token = sign_hmac(
        key.jwk().to_string().as_bytes(),
        Algorithm::HS256,
        Some("k"),
        &good_claims(&idp),
    );
    assert_eq!(
        rejection(verifier.verify(&token).await),
        TokenRejection::BadSignature
    );
    // An RS256 header whose signature is an HMAC with the secret: never checked against the secret.
    let hs = sign_hmac(secret, Algorithm::HS256, Some("k"), &good_claims(&idp));
    let sig = hs.split('.').nth(2).expect("sig");
    let parts: Vec<&str> = hs.split('.').collect();
    let header = assemble(&json!({"alg": "RS256", "kid": "k"}), &json!({}), b"");
    let relabelled = format!(
        "{}.{}.{}",
        header.split('.').next().expect("h"),
        parts[1],
        sig
    );
    assert_eq!(
        rejection(verifier.verify(&relabelled).await),
        TokenRejection::BadSignature
    );
}

#[tokio::test]
async fn rule17_allowlist_decides_not_the_header() {
    let rsa = TestKey::rsa("rsa", Algorithm::RS256);
    let ec = TestKey::ec_p256("ec");
    let (idp, verifier) = setup(&[&rsa, &ec], |c| {
        c.algorithms = Some(vec![Algorithm::RS256])
    })
    .await;
    verifier
        .verify(&rsa.sign(&good_claims(&idp)))
        .await
        .expect("RS256 allowed");
    assert_eq!(
        rejection(verifier.verify(&ec.sign(&good_claims(&idp))).await),
        TokenRejection::AlgorithmNotAllowed("ES256".into())
    );
    // HS256 in the allowlist without a secret is not honoured.
    assert!(
        JwtVerifier::new(
            JwtConfig {
                algorithms: Some(vec![Algorithm::HS256]),
                ..JwtConfig::new(idp.issuer(), Audience::exactly(AUD))
            },
            KeySource::Jwks(JwksCache::new(idp.jwks_url(), JwksConfig::default()).expect("cache")),
        )
        .is_err()
    );
}

#[tokio::test]
async fn rule18_issuer_must_match_exactly() {
    let key = TestKey::ec_p256("k");
    let (idp, verifier) = setup(&[&key], |_| {}).await;
    let issuer = idp.issuer();
    for bad in [
        json!("https://evil.example.com"),
        json!(format!("{issuer}/")),
        json!(issuer.to_uppercase()),
    ] {
        let mut c = good_claims(&idp);
        c["iss"] = bad;
        assert!(matches!(
            rejection(verifier.verify(&key.sign(&c)).await),
            TokenRejection::WrongIssuer { .. }
        ));
    }
    // An array containing the right issuer is not an issuer (jsonwebtoken would accept it).
    let mut c = good_claims(&idp);
    c["iss"] = json!(["https://evil.example.com", issuer]);
    assert!(matches!(
        rejection(verifier.verify(&key.sign(&c)).await),
        TokenRejection::WrongIssuer { .. }
    ));
    let mut c = good_claims(&idp);
    c.as_object_mut().expect("obj").remove("iss");
    assert_eq!(
        rejection(verifier.verify(&key.sign(&c)).await),
        TokenRejection::MissingClaim("iss")
    );
}

#[tokio::test]
async fn rule18_jku_and_x5u_are_never_fetched() {
    let key = TestKey::rsa("k", Algorithm::RS256);
    let attacker = TestKey::rsa("evil", Algorithm::RS256);
    let evil_idp = FakeIdp::start(jwks(&[attacker.jwk()])).await;
    let (idp, verifier) = setup(&[&key], |_| {}).await;
    let mut h = attacker.header();
    h.jku = Some(evil_idp.jwks_url());
    h.x5u = Some(evil_idp.jwks_url());
    let r = rejection(
        verifier
            .verify(&attacker.sign_with(h, &good_claims(&idp)))
            .await,
    );
    assert!(matches!(r, TokenRejection::UnknownKey { .. }), "{r:?}");
    assert_eq!(evil_idp.jwks_hits(), 0, "the token's jku was fetched");
    // An embedded jwk header is not trusted either.
    let mut h = attacker.header();
    h.jwk = serde_json::from_value(attacker.jwk()).ok();
    let r = rejection(
        verifier
            .verify(&attacker.sign_with(h, &good_claims(&idp)))
            .await,
    );
    assert!(matches!(r, TokenRejection::UnknownKey { .. }), "{r:?}");
}

#[tokio::test]
async fn rule19_exp_required_and_enforced_with_leeway() {
    let key = TestKey::rsa("k", Algorithm::RS256);
    let (idp, verifier) = setup(&[&key], |c| c.leeway = Duration::from_secs(60)).await;
    let mut c = good_claims(&idp);
    c["exp"] = json!(now() - 120);
    assert!(matches!(
        rejection(verifier.verify(&key.sign(&c)).await),
        TokenRejection::Expired { .. }
    ));
    c["exp"] = json!(now() - 30);
    verifier
        .verify(&key.sign(&c))
        .await
        .expect("within the 60 s leeway");
    c["exp"] = json!((now() + 100).to_string());
    assert_eq!(
        rejection(verifier.verify(&key.sign(&c)).await),
        TokenRejection::InvalidClaim("exp")
    );
    c.as_object_mut().expect("obj").remove("exp");
    assert_eq!(
        rejection(verifier.verify(&key.sign(&c)).await),
        TokenRejection::MissingClaim("exp")
    );
    // Zero leeway: a token that expired a few seconds ago is refused.
    let (idp0, strict) = setup(&[&key], |c| c.leeway = Duration::ZERO).await;
    let mut c = good_claims(&idp0);
    c["exp"] = json!(now() - 2);
    assert!(matches!(
        rejection(strict.verify(&key.sign(&c)).await),
        TokenRejection::Expired { .. }
    ));
    // Leeway is bounded.
    assert!(
        JwtVerifier::new(
            JwtConfig {
                leeway: Duration::from_secs(3600),
                ..JwtConfig::new(idp.issuer(), Audience::exactly(AUD))
            },
            KeySource::Jwks(JwksCache::new(idp.jwks_url(), JwksConfig::default()).expect("cache")),
        )
        .is_err()
    );
}

#[tokio::test]
async fn rule19_nbf_honoured() {
    let key = TestKey::ed25519("k");
    let (idp, verifier) = setup(&[&key], |_| {}).await;
    let mut c = good_claims(&idp);
    c["nbf"] = json!(now() + 600);
    assert!(matches!(
        rejection(verifier.verify(&key.sign(&c)).await),
        TokenRejection::NotYetValid { .. }
    ));
    c["nbf"] = json!(now() + 30);
    verifier.verify(&key.sign(&c)).await.expect("within leeway");
    c["nbf"] = json!("soon");
    assert_eq!(
        rejection(verifier.verify(&key.sign(&c)).await),
        TokenRejection::InvalidClaim("nbf")
    );
}

#[tokio::test]
async fn rule20_audience_must_contain_this_server() {
    let key = TestKey::rsa("k", Algorithm::RS256);
    let (idp, verifier) = setup(&[&key], |_| {}).await;
    let mut c = good_claims(&idp);
    c["aud"] = json!("https://other-service.example.com");
    assert!(matches!(
        rejection(verifier.verify(&key.sign(&c)).await),
        TokenRejection::WrongAudience { .. }
    ));
    c["aud"] = json!(["https://other-service.example.com", AUD]);
    verifier
        .verify(&key.sign(&c))
        .await
        .expect("array containing ours");
    c["aud"] = json!([]);
    assert!(matches!(
        rejection(verifier.verify(&key.sign(&c)).await),
        TokenRejection::WrongAudience { .. }
    ));
    c["aud"] = json!(5);
    assert_eq!(
        rejection(verifier.verify(&key.sign(&c)).await),
        TokenRejection::InvalidClaim("aud")
    );
    c.as_object_mut().expect("obj").remove("aud");
    assert_eq!(
        rejection(verifier.verify(&key.sign(&c)).await),
        TokenRejection::MissingClaim("aud")
    );
    // azp does not count unless the rule says so.
    c["aud"] = json!("account");
    c["azp"] = json!(AUD);
    assert!(matches!(
        rejection(verifier.verify(&key.sign(&c)).await),
        TokenRejection::WrongAudience { .. }
    ));
    let azp = verifier.with_audience(Audience::OneOfOrAuthorizedParty(vec![AUD.into()]));
    azp.verify(&key.sign(&c)).await.expect("azp names us");
    c["azp"] = json!("another-client");
    assert!(matches!(
        rejection(azp.verify(&key.sign(&c)).await),
        TokenRejection::WrongAudience { .. }
    ));
    // An empty audience configuration is refused at build time.
    assert!(
        JwtVerifier::new(
            JwtConfig::new(idp.issuer(), Audience::OneOf(vec![])),
            KeySource::Jwks(JwksCache::new(idp.jwks_url(), JwksConfig::default()).expect("cache")),
        )
        .is_err()
    );
}

#[tokio::test]
async fn rule21_strict_typ_refuses_id_tokens() {
    let key = TestKey::rsa("k", Algorithm::RS256);
    let (idp, verifier) = setup(&[&key], |c| c.require_access_token_type = true).await;
    for typ in ["at+jwt", "application/at+jwt", "AT+JWT"] {
        let mut h = key.header();
        h.typ = Some(typ.into());
        verifier
            .verify(&key.sign_with(h, &good_claims(&idp)))
            .await
            .unwrap_or_else(|e| panic!("{typ}: {e}"));
    }
    let mut h = key.header();
    h.typ = Some("JWT".into());
    assert_eq!(
        rejection(verifier.verify(&key.sign_with(h, &good_claims(&idp))).await),
        TokenRejection::WrongType(Some("JWT".into()))
    );
    let mut h = key.header();
    h.typ = None;
    assert_eq!(
        rejection(verifier.verify(&key.sign_with(h, &good_claims(&idp))).await),
        TokenRejection::WrongType(None)
    );
    // Off by default.
    let (idp2, lax) = setup(&[&key], |_| {}).await;
    lax.verify(&key.sign(&good_claims(&idp2)))
        .await
        .expect("typ JWT accepted by default");
}

#[tokio::test]
async fn crit_header_is_refused() {
    let key = TestKey::rsa("k", Algorithm::RS256);
    let (idp, verifier) = setup(&[&key], |_| {}).await;
    let mut h = key.header();
    h.crit = Some(vec!["exp".into()]);
    let r = rejection(verifier.verify(&key.sign_with(h, &good_claims(&idp))).await);
    assert!(matches!(r, TokenRejection::CriticalHeader(_)), "{r:?}");
}

#[tokio::test]
async fn unknown_kid_is_refused_after_one_refetch() {
    let key = TestKey::rsa("k", Algorithm::RS256);
    let stranger = TestKey::rsa("stranger", Algorithm::RS256);
    let (idp, verifier) = setup(&[&key], |_| {}).await;
    verifier
        .verify(&key.sign(&good_claims(&idp)))
        .await
        .expect("warm up");
    let r = rejection(verifier.verify(&stranger.sign(&good_claims(&idp))).await);
    assert_eq!(
        r,
        TokenRejection::UnknownKey {
            kid: Some("stranger".into()),
            alg: "RS256".into()
        }
    );
    assert_eq!(
        idp.jwks_hits(),
        2,
        "one warm-up fetch and one refetch for the unknown kid"
    );
}

#[tokio::test]
async fn malformed_tokens_are_refused_without_a_key_fetch() {
    let key = TestKey::rsa("k", Algorithm::RS256);
    let (idp, verifier) = setup(&[&key], |_| {}).await;
    let valid = key.sign(&good_claims(&idp));
    let (h, rest) = valid.split_once('.').expect("dot");
    let cases = [
        String::new(),
        "abc".into(),
        "a.b".into(),
        format!("{valid}.extra"),
        format!("!!!.{rest}"),
        format!("{}.{rest}", URL_SAFE_NO_PAD_ENCODE("not json")),
        format!("{}.{rest}", URL_SAFE_NO_PAD_ENCODE("[1,2]")),
        format!("{h}.%%%.sig"),
        format!(".{rest}"),
    ];
    for token in &cases {
        let r = rejection(verifier.verify(token).await);
        assert!(
            matches!(r, TokenRejection::Malformed(_)),
            "{token:?}: {r:?}"
        );
    }
    // Valid header and signature, payload not JSON: refused after the signature check.
    assert_eq!(idp.jwks_hits(), 0);
}

#[allow(non_snake_case)]
fn URL_SAFE_NO_PAD_ENCODE(s: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
}

#[tokio::test]
async fn oversized_token_is_refused_before_parsing() {
    // The verifier's own limit is its fixed ceiling; a server's (default 8 KiB)
    // is `McpAuthBuilder::max_token_bytes`, applied by the layer (see
    // `mcp_auth_builder::the_layer_refuses_a_token_one_byte_over_the_limit_and_accepts_one_at_it`).
    let key = TestKey::rsa("k", Algorithm::RS256);
    let (idp, verifier) = setup(&[&key], |_| {}).await;
    let mut c = good_claims(&idp);
    c["padding"] = json!("x".repeat(mcp_auth_core::jwt::MAX_TOKEN_BYTES_CEILING));
    let token = key.sign(&c);
    assert!(matches!(
        rejection(verifier.verify(&token).await),
        TokenRejection::TooLarge { max, .. } if max == mcp_auth_core::jwt::MAX_TOKEN_BYTES_CEILING
    ));
    assert_eq!(idp.jwks_hits(), 0);
}

#[tokio::test]
async fn rule22_off_curve_and_unknown_keys_do_not_poison_the_set() {
    let good = TestKey::ec_p256("good");
    let mut off_curve = good.jwk();
    off_curve["kid"] = json!("bad");
    // Flip the last byte of y: the point leaves the curve.
    let y = off_curve["y"].as_str().expect("y").to_owned();
    let mut bytes: Vec<char> = y.chars().collect();
    let last = bytes.len() - 2;
    bytes[last] = if bytes[last] == 'A' { 'B' } else { 'A' };
    off_curve["y"] = json!(bytes.into_iter().collect::<String>());
    let idp = FakeIdp::start(jwks(&[
        json!({"kty": "FOO", "kid": "foo"}),
        json!({"kty": "RSA", "kid": "enc", "use": "enc", "n": "AQAB", "e": "AQAB"}),
        off_curve,
        good.jwk(),
    ]))
    .await;
    let verifier = verifier_for(&idp, |_| {}, None);
    verifier
        .verify(&good.sign(&good_claims(&idp)))
        .await
        .expect("the good key still works");
    let mut h = good.header();
    h.kid = Some("bad".into());
    let r = rejection(
        verifier
            .verify(&good.sign_with(h, &good_claims(&idp)))
            .await,
    );
    assert!(
        matches!(r, TokenRejection::UnknownKey { .. }),
        "the off-curve key must have been skipped: {r:?}"
    );
}

#[tokio::test]
async fn scopes_and_claims_reach_the_context() {
    let key = TestKey::rsa("k", Algorithm::RS256);
    let (idp, verifier) = setup(&[&key], |_| {}).await;
    let mut c = good_claims(&idp);
    c["scope"] = json!(["tools:read", "tools:write"]);
    c["scp"] = json!("admin");
    c["permissions"] = json!(["users:delete"]);
    c["email"] = json!("alice@example.com");
    c["client_id"] = json!("client-9");
    let ctx = verifier.verify_context(&key.sign(&c)).await.expect("valid");
    assert_eq!(ctx.scopes(), ["tools:read", "tools:write", "admin"]);
    assert!(ctx.has_scope("users:delete"), "permissions count as scopes");
    assert_eq!(ctx.user().email.as_deref(), Some("alice@example.com"));
    assert_eq!(ctx.client_id(), Some("client-9"));
    let err = ctx
        .require_all_scopes(&["admin", "billing"])
        .expect_err("billing missing");
    assert_eq!(err.required, ["admin", "billing"]);
    assert!(err.granted.contains(&"users:delete".to_owned()));
    ctx.require_any_scope(&["billing", "admin"])
        .expect("admin present");
}
