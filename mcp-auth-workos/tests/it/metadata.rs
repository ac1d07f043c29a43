//! Direct mode: the discovery documents send MCP clients to AuthKit.

use crate::common;

use common::{FakeAuthKit, serve};
use mcp_auth_core::{AuthProvider, Mode};
use mcp_auth_testkit::{discovered_endpoints, endpoints};
use mcp_auth_workos::{WORKOS_DEFAULT_SCOPES, WorkosConfig, WorkosProvider};
use serde_json::json;

#[tokio::test]
async fn protected_resource_metadata_names_authkit() {
    let authkit = FakeAuthKit::start().await;
    let server = serve(WorkosProvider::new(authkit.config()).expect("provider")).await;
    for path in [
        "/.well-known/oauth-protected-resource/mcp",
        "/.well-known/oauth-protected-resource",
    ] {
        let doc = server.get_json(path).await;
        assert_eq!(doc["resource"], server.resource);
        // Direct: the issuer itself, i.e. https://{subdomain}.authkit.app.
        assert_eq!(doc["authorization_servers"], json!([authkit.base()]));
        // No offline_access in protected-resource metadata (checklist 16a).
        assert_eq!(
            doc["scopes_supported"],
            json!(["openid", "profile", "email"])
        );
    }
}

#[tokio::test]
async fn authorization_server_metadata_is_authkits_own() {
    let authkit = FakeAuthKit::start().await;
    let server = serve(WorkosProvider::new(authkit.config()).expect("provider")).await;
    let base = authkit.base();
    let doc = server
        .get_json("/.well-known/oauth-authorization-server")
        .await;
    assert_eq!(doc["issuer"], base);
    assert_eq!(
        doc["authorization_endpoint"],
        format!("{base}/oauth2/authorize")
    );
    assert_eq!(
        doc["registration_endpoint"],
        format!("{base}/oauth2/register")
    );
    assert_eq!(doc["jwks_uri"], format!("{base}/oauth2/jwks"));
    // Fetched from AuthKit's RFC 8414 path once, then cached.
    let again = server.get_json("/.well-known/openid-configuration").await;
    assert_eq!(again, doc);
    assert_eq!(authkit.discovery_hits(), 1);
}

#[tokio::test]
async fn provider_metadata_matches_authkits_document() {
    let authkit = FakeAuthKit::start().await;
    let provider =
        WorkosProvider::new(authkit.config().with_client_id("client_01KB5MCP")).expect("provider");
    let doc: serde_json::Value = reqwest::get(format!(
        "{}/.well-known/oauth-authorization-server",
        authkit.base()
    ))
    .await
    .expect("GET")
    .json()
    .await
    .expect("JSON");
    let m = provider.metadata();
    assert_eq!(m.mode, Mode::Direct);
    assert_eq!(m.issuer, doc["issuer"]);
    assert_eq!(endpoints(m), discovered_endpoints(&doc));
    assert_eq!(m.scopes_supported, WORKOS_DEFAULT_SCOPES);
    assert_eq!(
        m.grant_types_supported,
        ["authorization_code", "refresh_token"]
    );
    assert!(m.extra_authorize_params.is_empty());
    assert_eq!(m.client_id.as_deref(), Some("client_01KB5MCP"));
}

#[test]
fn real_authkit_urls() {
    let provider = WorkosProvider::new(WorkosConfig::new("your-company")).expect("provider");
    let m = provider.metadata();
    assert_eq!(m.issuer, "https://your-company.authkit.app");
    assert_eq!(provider.issuer(), "https://your-company.authkit.app");
    assert_eq!(
        m.jwks_uri.as_deref(),
        Some("https://your-company.authkit.app/oauth2/jwks")
    );
    assert_eq!(
        m.authorization_endpoint.as_deref(),
        Some("https://your-company.authkit.app/oauth2/authorize")
    );
    assert_eq!(
        m.token_endpoint.as_deref(),
        Some("https://your-company.authkit.app/oauth2/token")
    );
    assert_eq!(provider.api_base_url(), "https://api.workos.com");
    assert_eq!(
        provider.verifier().config().issuer,
        "https://your-company.authkit.app"
    );

    // A custom AuthKit domain.
    let provider =
        WorkosProvider::new(WorkosConfig::new("auth.example.com")).expect("custom domain");
    assert_eq!(provider.issuer(), "https://auth.example.com");
}

#[test]
fn api_key_is_never_printed() {
    let config = WorkosConfig::new("your-company").with_api_key("sk_test_a1b2c3d4e5");
    assert!(!format!("{config:?}").contains("sk_test_a1b2c3d4e5"));
    let provider = WorkosProvider::new(config).expect("provider");
    assert!(!format!("{provider:?}").contains("sk_test_a1b2c3d4e5"));
    assert_eq!(
        provider.api_key().map(|k| k.secret()),
        Some("sk_test_a1b2c3d4e5")
    );
}

#[test]
fn explicit_config_errors_name_the_setting() {
    let err = WorkosProvider::new(WorkosConfig::default()).expect_err("no subdomain");
    assert!(err.to_string().contains("subdomain"), "{err}");
    let err = WorkosProvider::new(WorkosConfig::new("my company")).expect_err("space");
    assert!(err.to_string().contains("subdomain"), "{err}");
    let err = WorkosProvider::new(
        WorkosConfig::new("your-company").with_authkit_url("http://authkit.internal"),
    )
    .expect_err("plain http");
    assert!(err.to_string().contains("authkit_url"), "{err}");
}
