//! Proxy mode: what the preset tells MCP clients, and what it will forward to Auth0.

use crate::common;

use common::{AUDIENCE, FakeAuth0, challenge, serve};
use mcp_auth_auth0::{AUTH0_DEFAULT_SCOPES, Auth0Config, Auth0Provider};
use mcp_auth_core::ClientSecret;
use mcp_auth_core::{AuthProvider, Mode};
use mcp_auth_testkit::{discovered_endpoints, endpoints};
use serde_json::{Value, json};

#[tokio::test]
async fn protected_resource_metadata_names_this_server() {
    let tenant = FakeAuth0::start().await;
    let server = serve(Auth0Provider::new(tenant.config()).expect("provider")).await;
    let base = server.url("");

    for path in [
        "/.well-known/oauth-protected-resource/mcp",
        "/.well-known/oauth-protected-resource",
    ] {
        let doc = server.get_json(path).await;
        assert_eq!(doc["resource"], server.resource, "{path}");
        // Proxy: the MCP server itself is the authorization server, not the tenant.
        assert_eq!(doc["authorization_servers"], json!([base]), "{path}");
        // offline_access asks for a refresh token, not for access to this
        // resource: MCP says it SHOULD NOT be listed here (checklist 16a).
        assert_eq!(
            doc["scopes_supported"],
            json!(["openid", "profile", "email"]),
            "{path}"
        );
        assert_eq!(doc["bearer_methods_supported"], json!(["header"]));
    }

    // A 401 points at the document.
    let resp = reqwest::Client::new()
        .post(server.url("/mcp"))
        .send()
        .await
        .expect("POST");
    assert_eq!(resp.status(), 401);
    assert!(
        challenge(&resp).contains(&format!(
            "resource_metadata=\"{base}/.well-known/oauth-protected-resource/mcp\""
        )),
        "{:?}",
        challenge(&resp)
    );
}

#[tokio::test]
async fn authorization_server_metadata_is_this_servers_own() {
    let tenant = FakeAuth0::start().await;
    let server = serve(Auth0Provider::new(tenant.config()).expect("provider")).await;
    let base = server.url("");
    for path in [
        "/.well-known/oauth-authorization-server",
        "/.well-known/openid-configuration",
    ] {
        let doc = server.get_json(path).await;
        assert_eq!(doc["issuer"], base, "{path}");
        assert_eq!(doc["authorization_endpoint"], format!("{base}/authorize"));
        assert_eq!(doc["token_endpoint"], format!("{base}/token"));
        assert_eq!(doc["registration_endpoint"], format!("{base}/register"));
        assert_eq!(
            doc["grant_types_supported"],
            json!(["authorization_code", "refresh_token"])
        );
        assert_eq!(doc["code_challenge_methods_supported"], json!(["S256"]));
        // The authorization server does issue refresh tokens: here it may say so.
        assert!(
            doc["scopes_supported"]
                .as_array()
                .is_some_and(|s| s.contains(&json!("offline_access"))),
            "{doc}"
        );
    }
}

#[tokio::test]
async fn upstream_endpoints_match_the_tenants_discovery_document() {
    let tenant = FakeAuth0::start().await;
    let provider = Auth0Provider::new(tenant.config()).expect("provider");
    let discovery: Value = reqwest::get(format!(
        "{}/.well-known/openid-configuration",
        tenant.base()
    ))
    .await
    .expect("GET discovery")
    .json()
    .await
    .expect("JSON");
    let m = provider.metadata();
    assert_eq!(m.mode, Mode::Proxy);
    assert_eq!(m.issuer, discovery["issuer"]);
    assert_eq!(endpoints(m), discovered_endpoints(&discovery));
    assert_eq!(
        Some(provider.userinfo_url()),
        discovery["userinfo_endpoint"].as_str()
    );
    // Without `audience` Auth0 issues an opaque token: the proxy always adds it.
    assert_eq!(
        m.extra_authorize_params,
        [("audience".to_owned(), AUDIENCE.to_owned())]
    );
    assert_eq!(m.scopes_supported, AUTH0_DEFAULT_SCOPES);
    assert_eq!(
        m.grant_types_supported,
        ["authorization_code", "refresh_token"]
    );
    assert_eq!(m.client_id, None);
}

#[test]
fn real_tenant_urls() {
    let provider = Auth0Provider::new(Auth0Config::new(
        "your-tenant.eu.auth0.com",
        "https://api.example.com",
    ))
    .expect("provider");
    let m = provider.metadata();
    assert_eq!(m.issuer, "https://your-tenant.eu.auth0.com/");
    assert_eq!(provider.issuer(), "https://your-tenant.eu.auth0.com/");
    assert_eq!(
        endpoints(m),
        [
            Some("https://your-tenant.eu.auth0.com/authorize"),
            Some("https://your-tenant.eu.auth0.com/oauth/token"),
            Some("https://your-tenant.eu.auth0.com/oidc/register"),
            Some("https://your-tenant.eu.auth0.com/.well-known/jwks.json"),
        ]
    );
    assert_eq!(
        provider.userinfo_url(),
        "https://your-tenant.eu.auth0.com/userinfo"
    );
    let jwt = provider.verifier().config();
    assert_eq!(jwt.issuer, "https://your-tenant.eu.auth0.com/");
    assert_eq!(
        jwt.audience,
        mcp_auth_core::jwt::Audience::exactly("https://api.example.com")
    );
}

#[test]
fn pre_registered_client_is_passed_on_and_its_secret_never_printed() {
    let config = Auth0Config::new("tenant.auth0.com", "my-api")
        .with_client_id("abc123")
        .with_client_secret("s3cr3t-value");
    let printed = format!("{config:?}");
    assert!(!printed.contains("s3cr3t-value"), "{printed}");
    assert!(printed.contains("abc123"), "{printed}");
    let provider = Auth0Provider::new(config).expect("provider");
    assert!(!format!("{provider:?}").contains("s3cr3t-value"));
    let m = provider.metadata();
    assert_eq!(m.client_id.as_deref(), Some("abc123"));
    assert_eq!(
        m.client_secret.as_ref().map(ClientSecret::secret),
        Some("s3cr3t-value")
    );
    // A non-URL audience has no default roles namespace.
    assert_eq!(provider.config().effective_roles_claim(), None);
}

#[test]
fn explicit_config_errors_name_the_setting() {
    let err = Auth0Provider::new(Auth0Config::default()).expect_err("no domain");
    assert!(err.to_string().contains("domain"), "{err}");
    let err =
        Auth0Provider::new(Auth0Config::new("tenant.auth0.com", "")).expect_err("no audience");
    assert!(err.to_string().contains("audience"), "{err}");
    let err =
        Auth0Provider::new(Auth0Config::new("http://tenant.auth0.com", "a")).expect_err("http");
    assert!(err.to_string().contains("https"), "{err}");
    let err = Auth0Provider::new(
        Auth0Config::new("tenant.auth0.com", "a").with_base_url("http://auth0.internal"),
    )
    .expect_err("http base URL");
    assert!(err.to_string().contains("base_url"), "{err}");
}
