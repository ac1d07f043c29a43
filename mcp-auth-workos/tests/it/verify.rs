//! AuthKit-shaped tokens through the preset over real HTTP: claim mapping, the
//! audience binding (resource URL, client id) and the issuer and signature rules.

use crate::common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use common::{FakeAuthKit, serve};
use mcp_auth_core::{TokenVerifier, jwt::Audience};
use mcp_auth_testkit::{Algorithm, TestKey, now};
use mcp_auth_workos::WorkosProvider;
use serde_json::json;

#[tokio::test]
async fn authkit_token_maps_to_the_user_and_workos_accessors() {
    let authkit = FakeAuthKit::start().await;
    let server = serve(WorkosProvider::new(authkit.config()).expect("provider")).await;
    let mut claims = authkit.claims(&server.resource, "user_01HXYZ7KQ4B9P8T2V6W3M5N1R0");
    claims["email"] = json!("ada@example.com");
    claims["first_name"] = json!("Ada");
    claims["last_name"] = json!("Lovelace");
    claims["preferred_username"] = json!("ada");
    claims["profile_picture_url"] = json!("https://workoscdn.com/images/ada.png");
    let seen = server.whoami(&authkit.sign(&claims)).await;

    let user = &seen["user"];
    assert_eq!(user["user_id"], "user_01HXYZ7KQ4B9P8T2V6W3M5N1R0");
    assert_eq!(user["email"], "ada@example.com");
    assert_eq!(user["name"], "Ada Lovelace");
    assert_eq!(user["username"], "ada");
    assert_eq!(user["picture"], "https://workoscdn.com/images/ada.png");
    assert_eq!(user["roles"], json!(["admin", "billing"]));
    assert_eq!(
        user["permissions"],
        json!(["widgets:read", "widgets:write"])
    );
    assert_eq!(user["claims"]["jti"], "01HQSXZXPPFK2ATHV5JFQ5ZWNY");
    assert_eq!(seen["org_id"], "org_01HRDMC6CM357W30QMHMQ96Q0S");
    assert_eq!(seen["session_id"], "session_01HQSXZGF8FHF7A9ZZFCW4387R");
    assert_eq!(seen["organization_role"], "admin");
    assert_eq!(seen["entitlements"], json!(["audit-logs"]));
    assert_eq!(seen["feature_flags"], json!(["new-dashboard"]));
    assert_eq!(authkit.jwks_hits(), 1);
}

#[tokio::test]
async fn name_claim_wins_and_a_lone_role_is_a_role() {
    let authkit = FakeAuthKit::start().await;
    let server = serve(WorkosProvider::new(authkit.config()).expect("provider")).await;
    let mut claims = authkit.claims(&server.resource, "user_01");
    claims["name"] = json!("Ada King");
    claims["first_name"] = json!("Ada");
    claims["last_name"] = json!("Lovelace");
    claims["role"] = json!("member");
    let obj = claims.as_object_mut().expect("object");
    obj.remove("roles");
    obj.remove("permissions");
    obj.remove("org_id");
    let seen = server.whoami(&authkit.sign(&claims)).await;
    assert_eq!(seen["user"]["name"], "Ada King");
    assert_eq!(seen["user"]["roles"], json!(["member"]));
    assert_eq!(seen["user"]["permissions"], json!([]));
    assert_eq!(seen["org_id"], json!(null));

    // Only a first name.
    let mut claims = authkit.claims(&server.resource, "user_02");
    claims["first_name"] = json!("Grace");
    let seen = server.whoami(&authkit.sign(&claims)).await;
    assert_eq!(seen["user"]["name"], "Grace");
}

#[tokio::test]
async fn token_for_this_resource_passes_and_for_another_resource_is_refused() {
    let authkit = FakeAuthKit::start().await;
    let server = serve(WorkosProvider::new(authkit.config()).expect("provider")).await;

    let ours = authkit.sign(&authkit.claims(&server.resource, "user_01"));
    assert_eq!(server.call(&ours).await.status(), 200);
    let mut listed = authkit.claims(&server.resource, "user_01");
    listed["aud"] = json!(["https://other.example.com/mcp", server.resource]);
    assert_eq!(server.call(&authkit.sign(&listed)).await.status(), 200);

    let other = authkit.sign(&authkit.claims("https://other.example.com/mcp", "user_01"));
    let resp = server.call(&other).await;
    assert_eq!(resp.status(), 401);
    let challenge = mcp_auth_testkit::challenge(&resp);
    assert!(
        challenge.contains(r#"error="invalid_token""#),
        "{challenge}"
    );

    let client = authkit.sign(&authkit.claims("client_01KB5SOMEAPP", "user_01"));
    assert_eq!(
        server.call(&client).await.status(),
        401,
        "no client id configured"
    );
    let mut missing = authkit.claims(&server.resource, "user_01");
    missing.as_object_mut().expect("object").remove("aud");
    assert_eq!(server.call(&authkit.sign(&missing)).await.status(), 401);
}

#[tokio::test]
async fn configured_client_id_is_an_accepted_audience_and_others_are_not() {
    let authkit = FakeAuthKit::start().await;
    let config = authkit
        .config()
        .with_client_id("client_01KB5MCPSERVER")
        .with_extra_audience("https://legacy.example.com/mcp");
    let server = serve(WorkosProvider::new(config).expect("provider")).await;
    for aud in [
        "client_01KB5MCPSERVER",
        server.resource.as_str(),
        "https://legacy.example.com/mcp",
    ] {
        let token = authkit.sign(&authkit.claims(aud, "user_01"));
        assert_eq!(server.call(&token).await.status(), 200, "{aud} refused");
    }
    for aud in ["client_01KB5OTHERAPP", "https://other.example.com/mcp"] {
        let token = authkit.sign(&authkit.claims(aud, "user_01"));
        assert_eq!(server.call(&token).await.status(), 401, "{aud} accepted");
    }
}

#[tokio::test]
async fn before_the_resource_is_bound_no_token_passes() {
    let authkit = FakeAuthKit::start().await;
    let provider = WorkosProvider::new(authkit.config()).expect("provider");
    let token = authkit.sign(&authkit.claims("http://127.0.0.1:1/mcp", "user_01"));
    assert!(provider.verify_token(&token).await.is_err());
}

#[tokio::test]
async fn issuer_and_signature_rules() {
    let authkit = FakeAuthKit::start().await;
    let server = serve(WorkosProvider::new(authkit.config()).expect("provider")).await;
    let mut slash = authkit.claims(&server.resource, "user_01");
    slash["iss"] = json!(format!("{}/", authkit.base()));
    let mut other = authkit.claims(&server.resource, "user_01");
    other["iss"] = json!("https://someone-else.authkit.app");
    let mut expired = authkit.claims(&server.resource, "user_01");
    expired["exp"] = json!(now() - 600);
    for (what, claims) in [
        ("trailing slash", slash),
        ("another AuthKit", other),
        ("expired", expired),
    ] {
        assert_eq!(
            server.call(&authkit.sign(&claims)).await.status(),
            401,
            "{what}"
        );
    }
    let forger = TestKey::rsa(&authkit.key.kid, Algorithm::RS256);
    let forged = forger.sign(&authkit.claims(&server.resource, "user_01"));
    assert_eq!(server.call(&forged).await.status(), 401);
}

/// Collects what a tracing subscriber writes.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn accepting_any_audience_takes_the_dangerous_option_and_warns() {
    let authkit = FakeAuthKit::start().await;
    let captured = Captured::default();
    let sink = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || sink.clone())
        .with_ansi(false)
        .finish();
    let provider = tracing::subscriber::with_default(subscriber, || {
        WorkosProvider::new(authkit.config().dangerously_accept_any_audience())
    })
    .expect("provider");
    let logs = String::from_utf8(captured.0.lock().expect("lock").clone()).expect("utf-8");
    assert!(logs.contains("WARN"), "{logs}");
    assert!(logs.contains("dangerously_accept_any_audience"), "{logs}");
    assert_eq!(
        provider.verifier().config().audience,
        Audience::DangerouslyAcceptAny
    );

    let server = serve(provider).await;
    let other = authkit.sign(&authkit.claims("https://other.example.com/mcp", "user_01"));
    assert_eq!(server.call(&other).await.status(), 200);
    // Everything else is still checked.
    let mut expired = authkit.claims(&server.resource, "user_01");
    expired["exp"] = json!(now() - 600);
    assert_eq!(server.call(&authkit.sign(&expired)).await.status(), 401);
}
