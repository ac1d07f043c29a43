//! Proxy mode against the fake Supabase project over real HTTP: `/authorize`,
//! `/token` and `/register` of this server land on the project's OAuth 2.1 server
//! (`/auth/v1/oauth/…`), and the token obtained opens `/mcp`.

use crate::common;

use axum::routing::{MethodRouter, post};
use common::{serve, start_project, user_claims};
use mcp_auth_core::AuthContext;
use mcp_auth_supabase::{SupabaseConfig, SupabaseProvider};
use mcp_auth_testkit::{Browser, ProxyClient, TestKey, call_mcp, jwks, post_register};
use serde_json::{Value, json};

const REDIRECT: &str = "http://127.0.0.1:9/callback";

/// `/mcp` answers with the caller's user id.
fn user_id() -> MethodRouter {
    post(|who: AuthContext| async move { who.user().user_id.clone() })
}

#[tokio::test]
async fn the_code_flow_goes_through_the_projects_oauth_server() {
    let key = TestKey::ec_p256("b1d6c4f2-5a8e-4c1d-9e3f-2a7b6c5d4e3f");
    let project = start_project(jwks(&[key.jwk()])).await;
    project.set_access_token(key.sign(&user_claims(&project.issuer())));
    let base = serve(SupabaseConfig::for_url(project.base()), user_id())
        .await
        .base;

    // Registered through us, the client is relayed: Supabase's answer comes
    // back through our callback, with our iss.
    let client = ProxyClient::register(&base, REDIRECT).await;
    assert_eq!(client.client_id, "9a1f0c6e-dcr-client");
    let back = client
        .log_in(&mut Browser::default(), &[("scope", "openid email")])
        .await;
    assert_eq!(back["state"], "client-state");
    assert_eq!(back["iss"], base);
    let query = &project.authorize_queries()[0];
    assert!(query["redirect_uri"].starts_with(&format!("{base}/oauth/callback/")));
    assert_eq!(query["scope"], "openid email");

    let (status, tokens) = client.redeem(&back["code"]).await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(project.token_forms()[0]["code_verifier"], client.verifier);

    let resp = call_mcp(
        &base,
        tokens["access_token"].as_str().expect("access_token"),
    )
    .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.text().await.expect("body"),
        "8d5c9a52-0d4e-4f4f-9a57-3a1f0c6e2b11"
    );
}

#[tokio::test]
async fn register_reaches_the_projects_dynamic_registration() {
    let project = start_project(jwks(&[])).await;
    let addr = serve(SupabaseConfig::for_url(project.base()), user_id())
        .await
        .addr;
    let resp = post_register(&format!("http://{addr}"), &json!({"client_name": "Claude", "redirect_uris": [REDIRECT], "token_endpoint_auth_method": "none"})).await;
    assert_eq!(resp.status(), 201);
    let body: Value = resp.json().await.expect("JSON");
    assert_eq!(body["client_id"], "9a1f0c6e-dcr-client");
    assert_eq!(project.registrations()[0]["client_name"], "Claude");
}

#[tokio::test]
async fn without_dynamic_registration_there_is_no_register_route() {
    let project = start_project(jwks(&[])).await;
    let mut config = SupabaseConfig::for_url(project.base());
    config.dynamic_client_registration = false;
    // Proxy mode with neither registration nor a pre-registered client cannot
    // serve clients: once a logged error and no proxy routes (no /register),
    // now `build()` refuses it, so no server serves a /register route.
    let err = mcp_auth_core::McpAuth::builder(SupabaseProvider::new(config).expect("provider"))
        .resource_url("http://127.0.0.1:9/mcp")
        .build()
        .expect_err("proxy mode without a strategy")
        .to_string();
    assert!(err.contains("proxy mode"), "{err}");
    assert!(err.contains("registration endpoint"), "{err}");
    assert!(project.registrations().is_empty());
}
