//! Mode and discovery documents of the Keycloak preset, served by `McpAuth` on a
//! real local server, and the protected route end to end.

use crate::common;

use axum::routing::post;
use common::{CLIENT, REALM, access_token_claims, serve, start_keycloak};
use mcp_auth_core::{AuthContext, AuthProvider, Mode};
use mcp_auth_keycloak::{KeycloakClaims, KeycloakConfig, KeycloakProvider};
use mcp_auth_testkit::{Algorithm, TestKey, jwks};
use mcp_auth_testkit::{call_mcp, endpoints};
use serde_json::json;

async fn whoami(who: AuthContext) -> String {
    format!(
        "{} {}",
        who.user().username.as_deref().unwrap_or("-"),
        who.authorized_party().unwrap_or("-")
    )
}

#[test]
fn provider_metadata_names_the_realms_endpoints() {
    let p = KeycloakProvider::new(KeycloakConfig::new("https://sso.example.com/", REALM))
        .expect("provider");
    let m = p.metadata();
    let issuer = "https://sso.example.com/realms/acme";
    let oidc = format!("{issuer}/protocol/openid-connect");
    assert_eq!(m.issuer, issuer);
    assert_eq!(m.mode, Mode::Proxy);
    assert_eq!(
        endpoints(m),
        [
            Some(format!("{oidc}/auth").as_str()),
            Some(format!("{oidc}/token").as_str()),
            Some(format!("{issuer}/clients-registrations/openid-connect").as_str()),
            Some(format!("{oidc}/certs").as_str()),
        ]
    );
    assert!(m.scopes_supported.iter().any(|s| s == "roles"));
    assert_eq!(
        m.grant_types_supported,
        ["authorization_code", "refresh_token", "client_credentials"]
    );
    let mut no_dcr = KeycloakConfig::new("https://sso.example.com", REALM);
    no_dcr.dynamic_client_registration = false;
    assert_eq!(
        KeycloakProvider::new(no_dcr)
            .expect("provider")
            .metadata()
            .registration_endpoint,
        None
    );
}

#[tokio::test]
async fn proxy_mode_names_this_server_as_the_authorization_server() {
    let server = start_keycloak(jwks(&[])).await;
    let app = serve(
        KeycloakConfig::new(server.base(), REALM).with_client_id(CLIENT),
        post(whoami),
    )
    .await;
    let base = app.base.clone();

    let prm = app
        .get_json("/.well-known/oauth-protected-resource/mcp")
        .await;
    assert_eq!(prm["resource"], format!("{base}/mcp"));
    assert_eq!(prm["authorization_servers"], json!([base]));
    assert!(
        prm["scopes_supported"]
            .as_array()
            .is_some_and(|s| s.contains(&json!("roles")) && !s.contains(&json!("offline_access"))),
        "{prm}"
    );

    let asm = app
        .get_json("/.well-known/oauth-authorization-server")
        .await;
    assert_eq!(asm["issuer"], base);
    assert_eq!(asm["authorization_endpoint"], format!("{base}/authorize"));
    assert_eq!(asm["token_endpoint"], format!("{base}/token"));
    assert_eq!(asm["registration_endpoint"], format!("{base}/register"));
    // A configured client makes the broker, which serves exactly these grants.
    assert_eq!(
        asm["grant_types_supported"],
        json!(["authorization_code", "refresh_token"])
    );
    assert_eq!(asm["authorization_response_iss_parameter_supported"], true);
    assert_eq!(
        server.discovery_hits(),
        0,
        "proxy mode serves its own document"
    );
}

#[tokio::test]
async fn direct_mode_names_the_realm_and_relays_its_discovery_document() {
    let server = start_keycloak(jwks(&[])).await;
    let mut config = KeycloakConfig::new(server.base(), REALM);
    config.mode = Mode::Direct;
    let app = serve(config, post(whoami)).await;

    let prm = app
        .get_json("/.well-known/oauth-protected-resource/mcp")
        .await;
    assert_eq!(prm["authorization_servers"], json!([server.issuer()]));

    let asm = app
        .get_json("/.well-known/oauth-authorization-server")
        .await;
    assert_eq!(asm["issuer"], server.issuer());
    assert_eq!(
        asm["registration_endpoint"],
        format!("{}/clients-registrations/openid-connect", server.issuer())
    );
    assert_eq!(
        server.discovery_hits(),
        1,
        "fetched from /realms/acme/.well-known/openid-configuration"
    );
}

#[tokio::test]
async fn the_protected_route_takes_tokens_of_the_configured_client_only() {
    let key = TestKey::rsa("Xk2vQ7nR", Algorithm::RS256);
    let server = start_keycloak(jwks(&[key.jwk()])).await;
    let addr = serve(
        KeycloakConfig::new(server.base(), REALM).with_client_id(CLIENT),
        post(whoami),
    )
    .await
    .addr;
    let client = reqwest::Client::new();
    let base = format!("http://{addr}");
    let url = format!("{base}/mcp");

    let resp = client.post(&url).send().await.expect("POST");
    assert_eq!(resp.status(), 401);

    let ours = key.sign(&access_token_claims(&server.issuer(), CLIENT));
    let resp = call_mcp(&base, &ours).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.text().await.expect("body"), "alice mcp-server");

    let theirs = key.sign(&access_token_claims(&server.issuer(), "other-client"));
    let resp = call_mcp(&base, &theirs).await;
    assert_eq!(resp.status(), 401);
    let challenge = mcp_auth_testkit::challenge(&resp);
    assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
}

#[tokio::test]
async fn without_a_client_tokens_for_this_resource_pass() {
    let key = TestKey::rsa("Xk2vQ7nR", Algorithm::RS256);
    let server = start_keycloak(jwks(&[key.jwk()])).await;
    let addr = serve(KeycloakConfig::new(server.base(), REALM), post(whoami))
        .await
        .addr;
    let url = format!("http://{addr}/mcp");
    let mut claims = access_token_claims(&server.issuer(), CLIENT);
    claims["aud"] = json!([url, "account"]);
    let resp = reqwest::Client::new()
        .post(&url)
        .bearer_auth(key.sign(&claims))
        .send()
        .await
        .expect("POST");
    assert_eq!(resp.status(), 200);
}
