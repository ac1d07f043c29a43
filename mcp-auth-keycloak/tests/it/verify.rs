//! Keycloak tokens against a local fake Keycloak over real HTTP: the realm's certs,
//! the client audience or `azp` rule, the resource audience without a client, and
//! the claim mapping of realm and client roles.

use crate::common;

use common::{CLIENT, REALM, access_token_claims, start_keycloak};
use mcp_auth_core::{
    AuthContext, AuthProvider, TokenRejection, TokenVerifier, VerifyError, jwt::Algorithm,
};
use mcp_auth_keycloak::{KeycloakClaims, KeycloakConfig, KeycloakProvider};
use mcp_auth_testkit::{FakeAuthServer, TestKey, jwks};
use serde_json::json;

const RESOURCE: &str = "https://mcp.example.com/mcp";

struct Realm {
    server: FakeAuthServer,
    key: TestKey,
}

impl Realm {
    async fn start() -> Realm {
        let key = TestKey::rsa("Xk2vQ7nR", Algorithm::RS256);
        let server = start_keycloak(jwks(&[key.jwk()])).await;
        Realm { server, key }
    }

    fn provider(&self, client: Option<&str>) -> KeycloakProvider {
        let mut config = KeycloakConfig::new(self.server.base(), REALM);
        config.client_id = client.map(str::to_owned);
        KeycloakProvider::new(config).expect("provider")
    }

    fn token_for(&self, azp: &str) -> String {
        self.key
            .sign(&access_token_claims(&self.server.issuer(), azp))
    }
}

fn rejection(result: Result<AuthContext, VerifyError>) -> TokenRejection {
    match result {
        Err(VerifyError::Rejected(r)) => r,
        other => panic!("expected a rejection, got {other:?}"),
    }
}

#[tokio::test]
async fn a_token_issued_to_the_configured_client_passes_by_azp() {
    let realm = Realm::start().await;
    let p = realm.provider(Some(CLIENT));
    let ctx = p
        .verify_token(&realm.token_for(CLIENT))
        .await
        .expect("aud account, azp mcp-server");
    assert_eq!(ctx.user().user_id, "f2b1c3d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d");
    assert_eq!(ctx.client_id(), Some(CLIENT));
    assert_eq!(
        realm.server.jwks_hits(),
        1,
        "keys come from the realm's certs"
    );
}

#[tokio::test]
async fn a_token_issued_to_another_client_of_the_realm_is_refused() {
    let realm = Realm::start().await;
    let p = realm.provider(Some(CLIENT));
    let refused = rejection(p.verify_token(&realm.token_for("other-client")).await);
    assert!(
        matches!(refused, TokenRejection::WrongAudience { ref expected, .. } if expected == &[CLIENT.to_owned()]),
        "{refused:?}"
    );
    assert_eq!(realm.server.jwks_hits(), 0, "refused before any key lookup");
}

#[tokio::test]
async fn an_audience_mapper_naming_the_client_passes_whatever_the_azp() {
    let realm = Realm::start().await;
    let p = realm.provider(Some(CLIENT));
    let mut claims = access_token_claims(&realm.server.issuer(), "frontend-app");
    claims["aud"] = json!([CLIENT, "account"]);
    p.verify_token(&realm.key.sign(&claims))
        .await
        .expect("aud contains the client id");
}

#[tokio::test]
async fn without_a_client_the_resource_url_is_the_audience() {
    let realm = Realm::start().await;
    let mut p = realm.provider(None);
    // Before the resource is bound nothing passes, not even azp tricks.
    let mut claims = access_token_claims(&realm.server.issuer(), RESOURCE);
    assert!(matches!(
        rejection(p.verify_token(&realm.key.sign(&claims)).await),
        TokenRejection::WrongAudience { .. }
    ));
    p.bind_resource(RESOURCE);
    // aud "account" (azp = some client): refused.
    assert!(matches!(
        rejection(p.verify_token(&realm.token_for(CLIENT)).await),
        TokenRejection::WrongAudience { .. }
    ));
    // azp equal to the resource URL is no audience.
    assert!(matches!(
        rejection(p.verify_token(&realm.key.sign(&claims)).await),
        TokenRejection::WrongAudience { .. }
    ));
    // An audience mapper adding the resource URL: accepted.
    claims["aud"] = json!([RESOURCE, "account"]);
    claims["azp"] = json!(CLIENT);
    let ctx = p
        .verify_token(&realm.key.sign(&claims))
        .await
        .expect("aud contains the resource URL");
    // Without a configured client, only realm roles are mapped.
    assert_eq!(
        ctx.user().roles,
        [
            "offline_access",
            "default-roles-acme",
            "uma_authorization",
            "analyst"
        ]
    );
}

#[tokio::test]
async fn dangerously_accept_any_audience_switches_the_check_off() {
    let realm = Realm::start().await;
    let config = KeycloakConfig::new(realm.server.base(), REALM)
        .with_client_id(CLIENT)
        .dangerously_accept_any_audience();
    assert!(config.accepts_any_audience());
    let p = KeycloakProvider::new(config).expect("provider");
    p.verify_token(&realm.token_for("other-client"))
        .await
        .expect("any client");
}

#[tokio::test]
async fn a_token_of_another_realm_is_refused() {
    let realm = Realm::start().await;
    let p = realm.provider(Some(CLIENT));
    let claims = access_token_claims(&format!("{}/realms/master", realm.server.base()), CLIENT);
    assert!(matches!(
        rejection(p.verify_token(&realm.key.sign(&claims)).await),
        TokenRejection::WrongIssuer { .. }
    ));
}

#[tokio::test]
async fn a_key_outside_the_realms_certs_is_refused() {
    let realm = Realm::start().await;
    let stranger = TestKey::rsa("Xk2vQ7nR", Algorithm::RS256);
    let p = realm.provider(Some(CLIENT));
    let token = stranger.sign(&access_token_claims(&realm.server.issuer(), CLIENT));
    assert_eq!(
        rejection(p.verify_token(&token).await),
        TokenRejection::BadSignature
    );
}

#[tokio::test]
async fn realm_roles_and_the_configured_clients_roles_are_mapped() {
    let realm = Realm::start().await;
    let p = realm.provider(Some(CLIENT));
    let ctx = p
        .verify_token(&realm.token_for(CLIENT))
        .await
        .expect("token");
    let user = ctx.user();
    assert_eq!(user.username.as_deref(), Some("alice"));
    assert_eq!(user.email.as_deref(), Some("alice@example.com"));
    assert_eq!(user.name.as_deref(), Some("Alice Liddell"));
    assert_eq!(
        user.roles,
        [
            "offline_access",
            "default-roles-acme",
            "uma_authorization",
            "analyst",
            "tools:write",
            "admin"
        ],
        "realm roles, then mcp-server's; never other-client's or account's"
    );
    assert_eq!(ctx.scopes(), ["openid", "email", "profile"]);
    // Typed accessors.
    assert!(ctx.has_realm_role("analyst"));
    assert!(!ctx.has_realm_role("admin"));
    assert_eq!(ctx.client_roles("other-client"), ["superuser"]);
    assert!(user.has_client_role(CLIENT, "admin"));
    assert_eq!(user.authorized_party(), Some(CLIENT));
    assert_eq!(user.given_name(), Some("Alice"));
    assert_eq!(user.family_name(), Some("Liddell"));
    assert_eq!(
        user.keycloak_session_id(),
        Some("7c9e6679-7425-40de-944b-e07fc1f90ae7")
    );
    // Vendor extras stay in the claims map.
    assert_eq!(user.claim_str("acr"), Some("1"));
}

#[tokio::test]
async fn es256_realm_keys_work_too() {
    let key = TestKey::ec_p256("ec-1");
    let server = start_keycloak(jwks(&[key.jwk()])).await;
    let p = KeycloakProvider::new(KeycloakConfig::new(server.base(), REALM).with_client_id(CLIENT))
        .expect("provider");
    p.verify_token(&key.sign(&access_token_claims(&server.issuer(), CLIENT)))
        .await
        .expect("ES256");
}

#[tokio::test]
async fn hmac_tokens_are_never_accepted() {
    let realm = Realm::start().await;
    let p = realm.provider(Some(CLIENT));
    let token = mcp_auth_testkit::sign_hmac(
        b"realm-secret",
        Algorithm::HS256,
        None,
        &access_token_claims(&realm.server.issuer(), CLIENT),
    );
    assert_eq!(
        rejection(p.verify_token(&token).await),
        TokenRejection::AlgorithmNotAllowed("HS256".into())
    );
}
