//! Proxy mode against the fake Keycloak over real HTTP: `/authorize`, `/token` and
//! `/register` of this server land on the realm's `openid-connect/auth`,
//! `openid-connect/token` and `clients-registrations/openid-connect`, the
//! confidential client's secret is added, and the token obtained opens `/mcp`.

mod common;

use axum::routing::{MethodRouter, post};
use common::{CLIENT, CLIENT_SECRET, REALM, access_token_claims, serve, start_keycloak};
use mcp_auth_core::AuthContext;
use mcp_auth_core::oauth::pkce::s256_challenge;
use mcp_auth_keycloak::KeycloakConfig;
use mcp_auth_testkit::{Algorithm, TestKey, jwks, no_redirects};
use serde_json::{Value, json};

const REDIRECT: &str = "http://127.0.0.1:9/callback";
const VERIFIER: &str = "keycloak-proxy-verifier-0123456789-abcdefghijklmnopq";

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
            .client_id(CLIENT)
            .client_secret(CLIENT_SECRET),
        user_id(),
    )
    .await
    .base;
    let http = no_redirects();

    // /authorize sends the browser to the realm's auth endpoint, parameters intact.
    let resp = http
        .get(format!("{base}/authorize"))
        .query(&[
            ("response_type", "code"),
            ("client_id", CLIENT),
            ("redirect_uri", REDIRECT),
            ("scope", "openid roles"),
            ("state", "st-1"),
            ("code_challenge", &s256_challenge(VERIFIER)),
            ("code_challenge_method", "S256"),
        ])
        .send()
        .await
        .expect("GET /authorize");
    assert!(resp.status().is_redirection(), "{}", resp.status());
    let location = resp
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let auth_endpoint = format!("{}/protocol/openid-connect/auth?", kc.issuer());
    assert!(location.starts_with(&auth_endpoint), "{location}");
    let upstream = no_redirects()
        .get(&location)
        .send()
        .await
        .expect("follow to Keycloak");
    assert!(upstream.status().is_redirection());
    let query = &kc.authorize_queries()[0];
    assert_eq!(query["client_id"], CLIENT);
    assert_eq!(query["state"], "st-1");
    assert_eq!(query["scope"], "openid roles");

    // /token reaches the realm's token endpoint with the secret added.
    let resp = http
        .post(format!("{base}/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", "kc-code"),
            ("redirect_uri", REDIRECT),
            ("client_id", CLIENT),
            ("code_verifier", VERIFIER),
        ])
        .send()
        .await
        .expect("POST /token");
    assert_eq!(resp.status(), 200);
    let tokens: Value = resp.json().await.expect("JSON");
    let form = &kc.token_forms()[0];
    assert_eq!(form["client_secret"], CLIENT_SECRET);
    assert_eq!(form["code_verifier"], VERIFIER);

    // The realm's token opens /mcp.
    let access = tokens["access_token"].as_str().expect("access_token");
    let resp = http
        .post(format!("{base}/mcp"))
        .bearer_auth(access)
        .send()
        .await
        .expect("POST /mcp");
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.text().await.expect("body"),
        "f2b1c3d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
    );
}

#[tokio::test]
async fn a_wrong_client_secret_is_invalid_client() {
    let kc = start_keycloak(jwks(&[])).await;
    let addr = serve(
        KeycloakConfig::new(kc.base(), REALM)
            .client_id(CLIENT)
            .client_secret("not-the-secret"),
        user_id(),
    )
    .await
    .addr;
    let resp = no_redirects()
        .post(format!("http://{addr}/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", "kc-code"),
            ("redirect_uri", REDIRECT),
            ("client_id", CLIENT),
            ("code_verifier", VERIFIER),
        ])
        .send()
        .await
        .expect("POST /token");
    assert_eq!(resp.status(), 401);
    let body: Value = resp.json().await.expect("JSON");
    assert_eq!(body["error"], "invalid_client");
}

#[tokio::test]
async fn register_reaches_keycloaks_client_registration() {
    let kc = start_keycloak(jwks(&[])).await;
    let addr = serve(KeycloakConfig::new(kc.base(), REALM), user_id())
        .await
        .addr;
    let resp = no_redirects()
        .post(format!("http://{addr}/register"))
        .json(&json!({"client_name": "Claude", "redirect_uris": [REDIRECT], "token_endpoint_auth_method": "none"}))
        .send()
        .await
        .expect("POST /register");
    assert_eq!(resp.status(), 201);
    let body: Value = resp.json().await.expect("JSON");
    assert_eq!(body["client_id"], "a1b2c3d4-dcr-client");
    assert_eq!(kc.registrations()[0]["client_name"], "Claude");
}
