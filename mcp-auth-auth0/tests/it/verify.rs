//! Auth0-shaped tokens through the preset over real HTTP: claim mapping and the
//! audience, issuer and signature rules.

use crate::common;

use common::{AUDIENCE, FakeAuth0, challenge, serve};
use mcp_auth_auth0::{Auth0Config, Auth0Provider};
use mcp_auth_testkit::{Algorithm, TestKey, now};
use serde_json::json;

#[tokio::test]
async fn auth0_token_maps_to_the_user() {
    let tenant = FakeAuth0::start().await;
    let server = serve(Auth0Provider::new(tenant.config()).expect("provider")).await;
    let mut claims = tenant.claims("auth0|64f1c2d3e4b5a6978899aabb");
    claims["email"] = json!("alice@example.com");
    claims["name"] = json!("Alice Example");
    claims["nickname"] = json!("alice");
    claims["picture"] = json!("https://s.gravatar.com/avatar/abc.png");
    claims["org_id"] = json!("org_W1x2Y3z4");
    let seen = server.whoami(&tenant.sign(&claims)).await;

    let user = &seen["user"];
    assert_eq!(user["user_id"], "auth0|64f1c2d3e4b5a6978899aabb");
    assert_eq!(user["email"], "alice@example.com");
    assert_eq!(user["name"], "Alice Example");
    assert_eq!(user["nickname"], "alice");
    assert_eq!(user["picture"], "https://s.gravatar.com/avatar/abc.png");
    // Roles from the namespaced claim under the API identifier (the default).
    assert_eq!(user["roles"], json!(["admin", "editor"]));
    assert_eq!(
        user["permissions"],
        json!(["read:reports", "write:reports"])
    );
    // Vendor extras stay in the claims.
    assert_eq!(user["claims"]["org_id"], "org_W1x2Y3z4");
    assert_eq!(user["claims"]["azp"], "Xq3lA5pU0ZrTw1mS8dN2cV7bE4kY6hJ9");
    assert_eq!(seen["scopes"], json!(["openid", "profile", "email"]));
    assert_eq!(
        seen["permissions"],
        json!(["read:reports", "write:reports"])
    );
    assert_eq!(seen["client_id"], "Xq3lA5pU0ZrTw1mS8dN2cV7bE4kY6hJ9");
    assert_eq!(tenant.jwks_hits(), 1);
}

#[tokio::test]
async fn configured_roles_claim_and_plain_roles_are_merged() {
    let tenant = FakeAuth0::start().await;
    let config = tenant
        .config()
        .with_roles_claim("https://myapp.example.org/roles");
    let server = serve(Auth0Provider::new(config).expect("provider")).await;
    let mut claims = tenant.claims("auth0|bob");
    claims["https://myapp.example.org/roles"] = json!(["billing", "support"]);
    claims["roles"] = json!(["support", "viewer"]);
    let seen = server.whoami(&tenant.sign(&claims)).await;
    // The default namespace is not read once another is configured.
    assert_eq!(
        seen["user"]["roles"],
        json!(["billing", "support", "viewer"])
    );
}

#[tokio::test]
async fn token_without_rbac_claims_has_no_roles_or_permissions() {
    let tenant = FakeAuth0::start().await;
    let server = serve(Auth0Provider::new(tenant.config()).expect("provider")).await;
    let mut claims = tenant.claims("google-oauth2|1071");
    let obj = claims.as_object_mut().expect("object");
    obj.remove("permissions");
    obj.remove(common::ROLES_CLAIM);
    let seen = server.whoami(&tenant.sign(&claims)).await;
    assert_eq!(seen["user"]["user_id"], "google-oauth2|1071");
    assert_eq!(seen["user"]["roles"], json!([]));
    assert_eq!(seen["user"]["permissions"], json!([]));
}

#[tokio::test]
async fn audience_must_be_the_configured_api() {
    let tenant = FakeAuth0::start().await;
    let server = serve(Auth0Provider::new(tenant.config()).expect("provider")).await;

    // A single-string `aud` equal to the API identifier passes too.
    let mut claims = tenant.claims("auth0|alice");
    claims["aud"] = json!(AUDIENCE);
    assert_eq!(server.call(&tenant.sign(&claims)).await.status(), 200);

    // Another API of the same tenant.
    let mut other_api = tenant.claims("auth0|alice");
    other_api["aud"] = json!([
        "https://billing.example.com",
        format!("{}/userinfo", tenant.base())
    ]);
    // A token only good for /userinfo (what Auth0 issues when no audience is asked for).
    let mut userinfo_only = tenant.claims("auth0|alice");
    userinfo_only["aud"] = json!(format!("{}/userinfo", tenant.base()));
    // The MCP server's own URL is not the Auth0 audience.
    let mut resource = tenant.claims("auth0|alice");
    resource["aud"] = json!(server.resource);
    let mut missing = tenant.claims("auth0|alice");
    missing.as_object_mut().expect("object").remove("aud");

    for (what, claims) in [
        ("another API", other_api),
        ("userinfo only", userinfo_only),
        ("the resource URL", resource),
        ("no aud", missing),
    ] {
        let resp = server.call(&tenant.sign(&claims)).await;
        assert_eq!(resp.status(), 401, "{what} accepted");
        assert!(
            challenge(&resp).contains(r#"error="invalid_token""#),
            "{what}: {:?}",
            challenge(&resp)
        );
    }
}

#[tokio::test]
async fn issuer_needs_the_trailing_slash_and_the_tenants_key() {
    let tenant = FakeAuth0::start().await;
    let server = serve(Auth0Provider::new(tenant.config()).expect("provider")).await;

    let mut no_slash = tenant.claims("auth0|alice");
    no_slash["iss"] = json!(tenant.base());
    let mut other_tenant = tenant.claims("auth0|alice");
    other_tenant["iss"] = json!("https://evil.auth0.com/");
    let mut expired = tenant.claims("auth0|alice");
    expired["exp"] = json!(now() - 3600);
    for (what, claims) in [
        ("issuer without slash", no_slash),
        ("another tenant", other_tenant),
        ("expired", expired),
    ] {
        assert_eq!(
            server.call(&tenant.sign(&claims)).await.status(),
            401,
            "{what}"
        );
    }

    // Same kid, same claims, a key the tenant never published.
    let forger = TestKey::rsa(&tenant.key().kid, Algorithm::RS256);
    let forged = forger.sign(&tenant.claims("auth0|alice"));
    assert_eq!(server.call(&forged).await.status(), 401);
}

#[tokio::test]
async fn other_published_algorithms_are_accepted() {
    // A tenant publishing a PS256 key: tokens signed with it verify, each key
    // bound to its own algorithm.
    let tenant = FakeAuth0::start().await;
    let ps = TestKey::rsa("ps-key", Algorithm::PS256);
    tenant.set_jwks(mcp_auth_testkit::jwks(&[tenant.key().jwk(), ps.jwk()]));
    let base = tenant.base();
    let config = Auth0Config::new(base.clone(), AUDIENCE);
    let server = serve(Auth0Provider::new(config).expect("provider")).await;
    let mut claims = tenant.claims("auth0|ps");
    claims["iss"] = json!(format!("{base}/"));
    assert_eq!(server.call(&ps.sign(&claims)).await.status(), 200);
    assert_eq!(server.call(&tenant.sign(&claims)).await.status(), 200);
}
