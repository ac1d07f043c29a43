//! Proxy mode against the fake Keycloak over real HTTP: with a confidential
//! client configured, the broker logs in at the realm's `openid-connect/auth`
//! and `openid-connect/token` with that client's secret, and the token obtained
//! opens `/mcp`; without one, `/register` lands on the realm's
//! `clients-registrations/openid-connect`.

use crate::common;

use axum::routing::{MethodRouter, post};
use common::{CLIENT, CLIENT_SECRET, REALM, access_token_claims, serve, start_keycloak};
use mcp_auth_core::AuthContext;
use mcp_auth_keycloak::KeycloakConfig;
use mcp_auth_testkit::{Algorithm, Browser, ProxyClient, TestKey, call_mcp, jwks, post_register};
use serde_json::{Value, json};

const REDIRECT: &str = "http://127.0.0.1:9/callback";

/// `/mcp` answers with the caller's user id.
fn user_id() -> MethodRouter {
    post(|who: AuthContext| async move { who.user().user_id.clone() })
}

#[tokio::test]
async fn the_code_flow_goes_through_the_realm_with_the_clients_secret() {
    let key = TestKey::rsa("Xk2vQ7nR", Algorithm::RS256);
    let kc = start_keycloak(jwks(&[key.jwk()])).await;
    kc.set_access_token(key.sign(&access_token_claims(&kc.issuer(), CLIENT)));
    let base = serve(
        KeycloakConfig::new(kc.base(), REALM)
            .with_client_id(CLIENT)
            .with_client_secret(CLIENT_SECRET),
        user_id(),
    )
    .await
    .base;

    // A pre-registered client makes the broker: MCP clients register and consent
    // here, and the realm sees only our client, at its auth endpoint.
    let client = ProxyClient::register(&base, REDIRECT).await;
    let back = client
        .log_in(&mut Browser::default(), &[("scope", "openid roles")])
        .await;
    assert_eq!(back["state"], "client-state");
    assert_eq!(back["iss"], base);
    let query = &kc.authorize_queries()[0];
    assert_eq!(query["client_id"], CLIENT);
    assert_eq!(query["scope"], "openid roles");
    assert_eq!(query["redirect_uri"], format!("{base}/oauth/callback"));

    // The realm's token endpoint got the code with the secret added.
    let form = &kc.token_forms()[0];
    assert_eq!(form["client_secret"], CLIENT_SECRET);
    assert_eq!(form["client_id"], CLIENT);
    let (status, tokens) = client.redeem(&back["code"]).await;
    assert_eq!(status, 200, "{tokens}");

    // The realm's token opens /mcp.
    let access = tokens["access_token"].as_str().expect("access_token");
    let resp = call_mcp(&base, access).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.text().await.expect("body"),
        "f2b1c3d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
    );
}

#[tokio::test]
async fn a_wrong_client_secret_fails_the_login_as_a_server_error() {
    let kc = start_keycloak(jwks(&[])).await;
    let base = serve(
        KeycloakConfig::new(kc.base(), REALM)
            .with_client_id(CLIENT)
            .with_client_secret("not-the-secret"),
        user_id(),
    )
    .await
    .base;
    let client = ProxyClient::register(&base, REDIRECT).await;
    let back = client.log_in(&mut Browser::default(), &[]).await;
    // Our misconfiguration, not the MCP client's: no invalid_client for it.
    assert_eq!(back["error"], "server_error");
    assert!(!back.contains_key("code"));
}

#[tokio::test]
async fn register_reaches_keycloaks_client_registration() {
    let kc = start_keycloak(jwks(&[])).await;
    let addr = serve(KeycloakConfig::new(kc.base(), REALM), user_id())
        .await
        .addr;
    let resp = post_register(&format!("http://{addr}"), &json!({"client_name": "Claude", "redirect_uris": [REDIRECT], "token_endpoint_auth_method": "none"})).await;
    assert_eq!(resp.status(), 201);
    let body: Value = resp.json().await.expect("JSON");
    assert_eq!(body["client_id"], "a1b2c3d4-dcr-client");
    assert_eq!(kc.registrations()[0]["client_name"], "Claude");
}
