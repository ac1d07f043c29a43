//! Supabase tokens against a local fake project over real HTTP: ES256/RS256 through
//! the project's JWKS, legacy HS256 only with the secret and never mixed with the
//! asymmetric keys, the audience rules, and the claim mapping.

use crate::common;

use common::{SECRET, legacy_token, start_project, user_claims};
use mcp_auth_core::{
    AuthContext, ConfigError, TokenRejection, TokenVerifier, VerifyError, jwt::Algorithm,
};
use mcp_auth_supabase::{SupabaseClaims, SupabaseConfig, SupabaseJwtSecret, SupabaseProvider};
use mcp_auth_testkit::{FakeAuthServer, TestKey, assemble, jwks, sign_hmac};
use serde_json::{Value, json};

const KID: &str = "b1d6c4f2-5a8e-4c1d-9e3f-2a7b6c5d4e3f";

fn provider(project: &FakeAuthServer, secret: Option<&str>) -> SupabaseProvider {
    let mut config = SupabaseConfig::for_url(project.base());
    config.jwt_secret = secret.map(SupabaseJwtSecret::new);
    SupabaseProvider::new(config).expect("provider")
}

async fn verify(p: &SupabaseProvider, token: &str) -> Result<AuthContext, VerifyError> {
    p.verify_token(token).await
}

fn rejection(result: Result<AuthContext, VerifyError>) -> TokenRejection {
    match result {
        Err(VerifyError::Rejected(r)) => r,
        other => panic!("expected a rejection, got {other:?}"),
    }
}

/// A compact JWS whose header says `alg` but whose signature is an HMAC-SHA256 of
/// the signing input with `secret`: the algorithm-confusion forgery.
fn hmac_forgery(alg: &str, kid: &str, secret: &str, claims: &Value) -> String {
    let header = json!({"alg": alg, "kid": kid, "typ": "JWT"});
    let unsigned = assemble(&header, claims, &[]);
    let signing_input = unsigned.trim_end_matches('.');
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret.as_bytes());
    let tag = aws_lc_rs::hmac::sign(&key, signing_input.as_bytes());
    assemble(&header, claims, tag.as_ref())
}

#[tokio::test]
async fn es256_token_verifies_through_the_projects_jwks() {
    let key = TestKey::ec_p256(KID);
    let project = start_project(jwks(&[key.jwk()])).await;
    let p = provider(&project, None);
    let ctx = verify(&p, &key.sign(&user_claims(&project.issuer())))
        .await
        .expect("ES256 token");
    assert_eq!(ctx.user().user_id, "8d5c9a52-0d4e-4f4f-9a57-3a1f0c6e2b11");
    assert_eq!(
        project.jwks_hits(),
        1,
        "keys come from /auth/v1/.well-known/jwks.json"
    );
}

#[tokio::test]
async fn rs256_token_verifies_through_the_projects_jwks() {
    let key = TestKey::rsa("rsa-1", Algorithm::RS256);
    let project = start_project(jwks(&[key.jwk()])).await;
    let p = provider(&project, Some(SECRET));
    verify(&p, &key.sign(&user_claims(&project.issuer())))
        .await
        .expect("RS256 token, with a secret configured as well");
}

#[tokio::test]
async fn claims_are_mapped_as_supabase_issues_them() {
    let key = TestKey::ec_p256(KID);
    let project = start_project(jwks(&[key.jwk()])).await;
    let p = provider(&project, None);
    let mut claims = user_claims(&project.issuer());
    claims["aal"] = json!("aal2");
    claims["amr"] = json!([
        {"method": "oauth", "timestamp": 1_700_000_000},
        {"method": "totp", "timestamp": 1_700_000_100}
    ]);
    claims["phone"] = json!("15550001111");
    claims["app_metadata"]["roles"] = json!(["admin"]);
    let ctx = verify(&p, &key.sign(&claims)).await.expect("token");
    let user = ctx.user();
    assert_eq!(user.user_id, "8d5c9a52-0d4e-4f4f-9a57-3a1f0c6e2b11");
    assert_eq!(user.email.as_deref(), Some("ada@example.com"));
    assert_eq!(user.name.as_deref(), Some("Ada Lovelace"));
    assert_eq!(
        user.picture.as_deref(),
        Some("https://avatars.githubusercontent.com/u/1?v=4")
    );
    assert_eq!(user.roles, ["authenticated", "admin"]);
    // Typed accessors, on the context and on the user alike.
    assert_eq!(ctx.aal(), Some("aal2"));
    assert!(ctx.is_aal2());
    assert_eq!(ctx.amr(), ["oauth", "totp"]);
    assert_eq!(
        user.session_id(),
        Some("0b7a3f3c-6d3c-4f0e-8a55-7b3c2d1e0f9a")
    );
    assert_eq!(user.phone(), Some("15550001111"));
    assert_eq!(user.supabase_role(), Some("authenticated"));
    assert_eq!(user.sign_in_provider(), Some("github"));
    assert!(!user.is_anonymous());
    assert_eq!(
        user.user_metadata().and_then(|m| m.get("user_name")),
        Some(&json!("ada"))
    );
    // Vendor extras stay in the claims map.
    assert_eq!(user.claim_str("session_id"), ctx.session_id());
}

#[tokio::test]
async fn full_name_is_the_fallback_and_user_metadata_never_grants_roles() {
    let project = start_project(jwks(&[])).await;
    let p = provider(&project, Some(SECRET));
    let mut claims = user_claims(&project.issuer());
    claims["user_metadata"] = json!({"full_name": "Grace Hopper", "roles": ["admin"]});
    let ctx = verify(&p, &legacy_token(SECRET, &claims))
        .await
        .expect("token");
    assert_eq!(ctx.user().name.as_deref(), Some("Grace Hopper"));
    assert_eq!(ctx.user().picture, None);
    assert_eq!(ctx.user().roles, ["authenticated"]);
}

#[tokio::test]
async fn legacy_hs256_token_verifies_with_the_secret_without_touching_the_jwks() {
    let project = start_project(jwks(&[])).await;
    let p = provider(&project, Some(SECRET));
    let ctx = verify(&p, &legacy_token(SECRET, &user_claims(&project.issuer())))
        .await
        .expect("HS256 token with the configured secret");
    assert_eq!(ctx.user().email.as_deref(), Some("ada@example.com"));
    assert_eq!(project.jwks_hits(), 0);
}

#[tokio::test]
async fn hs256_is_refused_when_no_secret_is_configured() {
    let key = TestKey::ec_p256(KID);
    let project = start_project(jwks(&[key.jwk()])).await;
    let p = provider(&project, None);
    let token = legacy_token(SECRET, &user_claims(&project.issuer()));
    assert_eq!(
        rejection(verify(&p, &token).await),
        TokenRejection::AlgorithmNotAllowed("HS256".into())
    );
    assert_eq!(project.jwks_hits(), 0, "refused before any key lookup");
}

#[tokio::test]
async fn hs256_with_another_secret_is_refused() {
    let project = start_project(jwks(&[])).await;
    let p = provider(&project, Some(SECRET));
    let token = legacy_token("another-projects-secret", &user_claims(&project.issuer()));
    assert_eq!(
        rejection(verify(&p, &token).await),
        TokenRejection::BadSignature
    );
}

#[tokio::test]
async fn only_hs256_of_the_hmac_family_is_accepted() {
    let project = start_project(jwks(&[])).await;
    let p = provider(&project, Some(SECRET));
    for alg in [Algorithm::HS384, Algorithm::HS512] {
        let token = sign_hmac(
            SECRET.as_bytes(),
            alg,
            None,
            &user_claims(&project.issuer()),
        );
        assert!(
            matches!(
                rejection(verify(&p, &token).await),
                TokenRejection::AlgorithmNotAllowed(_)
            ),
            "{alg:?}"
        );
    }
}

#[tokio::test]
async fn an_asymmetric_header_is_never_checked_against_the_secret() {
    let key = TestKey::ec_p256(KID);
    let project = start_project(jwks(&[key.jwk()])).await;
    let p = provider(&project, Some(SECRET));
    let claims = user_claims(&project.issuer());
    // Header says ES256 with the real kid, signature is an HMAC with the secret.
    let forged = hmac_forgery("ES256", KID, SECRET, &claims);
    assert_eq!(
        rejection(verify(&p, &forged).await),
        TokenRejection::BadSignature
    );
    // Header says RS256 (no such key in the JWKS), HMAC with the secret.
    let forged = hmac_forgery("RS256", KID, SECRET, &claims);
    assert!(
        matches!(
            rejection(verify(&p, &forged).await),
            TokenRejection::UnknownKey { .. }
        ),
        "RS256 forgery"
    );
    // The genuine tokens of both kinds still pass.
    verify(&p, &key.sign(&claims)).await.expect("ES256");
    verify(&p, &legacy_token(SECRET, &claims))
        .await
        .expect("HS256");
}

#[tokio::test]
async fn the_audience_must_be_authenticated_by_default() {
    let project = start_project(jwks(&[])).await;
    let p = provider(&project, Some(SECRET));
    for aud in [json!("anon"), json!("https://other.example.com"), json!([])] {
        let mut claims = user_claims(&project.issuer());
        claims["aud"] = aud.clone();
        assert!(
            matches!(
                rejection(verify(&p, &legacy_token(SECRET, &claims)).await),
                TokenRejection::WrongAudience { .. }
            ),
            "aud {aud}"
        );
    }
    let mut claims = user_claims(&project.issuer());
    claims.as_object_mut().map(|c| c.remove("aud"));
    assert_eq!(
        rejection(verify(&p, &legacy_token(SECRET, &claims)).await),
        TokenRejection::MissingClaim("aud")
    );
    let mut claims = user_claims(&project.issuer());
    claims["aud"] = json!(["authenticated", "other"]);
    verify(&p, &legacy_token(SECRET, &claims))
        .await
        .expect("an array containing authenticated");
}

#[tokio::test]
async fn the_audience_is_configurable() {
    let project = start_project(jwks(&[])).await;
    let mut config = SupabaseConfig::for_url(project.base());
    config.jwt_secret = Some(SupabaseJwtSecret::new(SECRET));
    config.audiences = vec!["https://mcp.example.com/mcp".into()];
    let p = SupabaseProvider::new(config).expect("provider");
    let mut claims = user_claims(&project.issuer());
    assert!(matches!(
        rejection(verify(&p, &legacy_token(SECRET, &claims)).await),
        TokenRejection::WrongAudience { .. }
    ));
    claims["aud"] = json!("https://mcp.example.com/mcp");
    verify(&p, &legacy_token(SECRET, &claims))
        .await
        .expect("configured audience");
}

#[tokio::test]
async fn an_empty_audience_list_is_a_configuration_error() {
    let mut config = SupabaseConfig::for_project("abcdefghijklmnopqrst");
    config.audiences.clear();
    let err = SupabaseProvider::new(config).expect_err("no audience");
    assert!(
        matches!(err, ConfigError::Invalid { ref name, .. } if name == "audience"),
        "{err:?}"
    );
}

#[tokio::test]
async fn dangerously_accept_any_audience_switches_the_check_off() {
    let project = start_project(jwks(&[])).await;
    let mut config = SupabaseConfig::for_url(project.base()).dangerously_accept_any_audience();
    config.jwt_secret = Some(SupabaseJwtSecret::new(SECRET));
    assert!(config.accepts_any_audience());
    let p = SupabaseProvider::new(config).expect("provider");
    let mut claims = user_claims(&project.issuer());
    claims["aud"] = json!("some-other-service");
    verify(&p, &legacy_token(SECRET, &claims))
        .await
        .expect("any audience");
    // The issuer is still checked.
    claims["iss"] = json!("https://other.supabase.co/auth/v1");
    assert!(matches!(
        rejection(verify(&p, &legacy_token(SECRET, &claims)).await),
        TokenRejection::WrongIssuer { .. }
    ));
}

#[tokio::test]
async fn a_token_of_another_project_is_refused() {
    let key = TestKey::ec_p256(KID);
    let project = start_project(jwks(&[key.jwk()])).await;
    let p = provider(&project, None);
    let mut claims = user_claims(&project.issuer());
    claims["iss"] = json!("https://otherprojectotherproje.supabase.co/auth/v1");
    assert!(matches!(
        rejection(verify(&p, &key.sign(&claims)).await),
        TokenRejection::WrongIssuer { .. }
    ));
}

#[tokio::test]
async fn an_unknown_signing_key_is_refused() {
    let published = TestKey::ec_p256(KID);
    let stranger = TestKey::ec_p256(KID);
    let project = start_project(jwks(&[published.jwk()])).await;
    let p = provider(&project, None);
    assert_eq!(
        rejection(verify(&p, &stranger.sign(&user_claims(&project.issuer()))).await),
        TokenRejection::BadSignature
    );
}
