//! Spec-checklist item 16b (every authorization-server endpoint on https,
//! loopback excepted) for the URLs this server does not read from its own
//! configuration: those an upstream's metadata document names, and those a
//! provider other than `CustomProvider` puts in its `ProviderMetadata`; and no
//! upstream call or metadata fetch follows a redirect off to plain http. Each
//! case over HTTP, against fake upstreams on 127.0.0.1, with real signed tokens.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::http::{StatusCode, header::LOCATION};
use axum::response::IntoResponse;
use axum::routing::post;
use mcp_auth_core::{
    AuthContext, AuthProvider, AuthUser, CustomConfig, CustomProvider, McpAuth, Mode,
    ProviderMetadata, TokenVerifier, VerifyError, jwt::Algorithm, jwt::Audience, jwt::JwksCache,
    jwt::JwksConfig, jwt::JwtConfig, jwt::JwtVerifier, jwt::KeySource,
};
use mcp_auth_testkit::{FakeIdp, McpServer, TestKey, claims, jwks, serve_with};
use serde_json::{Value, json};

/// The protected MCP endpoint and the discovery (and proxy) routes of `auth`.
async fn serve_auth(build: impl FnOnce(&str) -> McpAuth) -> McpServer {
    McpServer::start(|resource| {
        let auth = build(resource);
        Router::new()
            .route(
                "/mcp",
                post(|ctx: AuthContext| async move { ctx.user().user_id.clone() }),
            )
            .layer(auth.layer())
            .merge(auth.routes())
    })
    .await
}

/// Direct mode for `idp` (its JWKS configured, or found by discovery when `jwks` is false).
fn direct(idp: &FakeIdp, resource: &str, configured_jwks: bool) -> McpAuth {
    let mut config = CustomConfig::new(idp.issuer());
    if configured_jwks {
        config.jwks_url = Some(idp.jwks_url());
    }
    McpAuth::builder(CustomProvider::new(config).expect("provider"))
        .resource_url(resource)
        .build()
        .expect("resource URL")
}

async fn fetch(url: &str) -> (StatusCode, String) {
    let resp = reqwest::get(url).await.expect("GET");
    (resp.status(), resp.text().await.expect("body"))
}

#[tokio::test]
async fn rule16b_upstream_metadata_naming_a_plain_http_endpoint_is_not_passed_to_clients() {
    let key = TestKey::rsa("k", Algorithm::RS256);
    for (member, url) in [
        ("token_endpoint", "http://idp.example.com/token"),
        ("authorization_endpoint", "http://idp.example.com/authorize"),
        ("userinfo_endpoint", "http://10.0.0.8/userinfo"),
        ("registration_endpoint", "http://idp.example.com/register"),
    ] {
        let idp = FakeIdp::start(jwks(&[key.jwk()])).await;
        idp.set_discovery_fields(json!({ member: url }));
        let server = serve_auth(|resource| direct(&idp, resource, true)).await;
        let (status, body) = fetch(&server.url("/.well-known/oauth-authorization-server")).await;
        assert_eq!(status, StatusCode::BAD_GATEWAY, "{member}: {body}");
        assert!(
            !body.contains(url),
            "{member}: the URL is passed on: {body}"
        );
        // The reason goes to the log; the client learns only that the upstream is unusable.
        assert!(
            !body.contains("https"),
            "{member}: the reason is sent: {body}"
        );
    }

    // The same upstream naming https (or loopback) endpoints is passed on unchanged.
    let idp = FakeIdp::start(jwks(&[key.jwk()])).await;
    idp.set_discovery_fields(json!({
        "token_endpoint": "https://idp.example.com/token",
        "userinfo_endpoint": "https://idp.example.com/userinfo",
    }));
    let server = serve_auth(|resource| direct(&idp, resource, true)).await;
    let doc = server
        .get_json("/.well-known/oauth-authorization-server")
        .await;
    assert_eq!(doc["token_endpoint"], "https://idp.example.com/token");
    assert_eq!(
        doc["authorization_endpoint"],
        Value::from(idp.authorize_url())
    );
}

#[tokio::test]
async fn rule16b_keys_are_not_taken_from_metadata_naming_a_plain_http_endpoint() {
    let key = TestKey::rsa("k", Algorithm::RS256);
    let idp = FakeIdp::start(jwks(&[key.jwk()])).await;
    idp.set_discovery_fields(json!({"userinfo_endpoint": "http://idp.example.com/userinfo"}));
    let server = serve_auth(|resource| direct(&idp, resource, false)).await;
    let token = key.sign(&claims(&idp.issuer(), &server.resource, "alice"));
    let resp = server.call(&token).await;
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        idp.jwks_hits(),
        0,
        "the JWKS named by a refused document was fetched"
    );

    // Without the clear-text endpoint the same discovery yields the keys.
    idp.set_discovery_fields(json!({"userinfo_endpoint": "https://idp.example.com/userinfo"}));
    let server = serve_auth(|resource| direct(&idp, resource, false)).await;
    let token = key.sign(&claims(&idp.issuer(), &server.resource, "alice"));
    assert_eq!(server.call(&token).await.status(), StatusCode::OK);
}

/// A provider that is not `CustomProvider` (whose settings are checked when it
/// is built): its metadata is whatever its author wrote.
struct HandWritten {
    metadata: ProviderMetadata,
}

impl TokenVerifier for HandWritten {
    async fn verify_token(&self, token: &str) -> Result<AuthContext, VerifyError> {
        Ok(AuthContext::builder(AuthUser::new("hand"), token).build())
    }
}

impl AuthProvider for HandWritten {
    fn metadata(&self) -> &ProviderMetadata {
        &self.metadata
    }
}

fn hand_written(upstream: &str, endpoint_base: &str) -> HandWritten {
    let mut metadata = ProviderMetadata::new(upstream, Mode::Proxy);
    metadata.authorization_endpoint = Some(format!("{endpoint_base}/authorize"));
    metadata.token_endpoint = Some(format!("{endpoint_base}/token"));
    metadata.registration_endpoint = Some(format!("{endpoint_base}/register"));
    HandWritten { metadata }
}

#[tokio::test]
async fn rule16b_proxy_mode_is_not_served_over_plain_http_upstream_endpoints() {
    let key = TestKey::rsa("k", Algorithm::RS256);
    let idp = FakeIdp::start(jwks(&[key.jwk()])).await;
    let registration = json!({"redirect_uris": ["http://127.0.0.1:9/cb"], "client_name": "c"});

    // Refused when the protection is built, naming the endpoint: there is no
    // server whose proxy routes could forward to it.
    let err = McpAuth::builder(hand_written(&idp.issuer(), "http://idp.example.com"))
        .resource_url("http://127.0.0.1:3000/mcp")
        .build()
        .expect_err("proxy mode over plain http upstream endpoints");
    let err = err.to_string();
    assert!(err.contains("upstream authorization endpoint"), "{err}");
    assert!(err.contains("https"), "{err}");
    assert!(idp.registrations().is_empty());

    // The same provider over loopback endpoints is served: registration reaches the upstream.
    let server = serve_auth(|resource| {
        McpAuth::builder(hand_written(&idp.issuer(), &idp.base()))
            .resource_url(resource)
            .build()
            .expect("resource URL")
    })
    .await;
    let resp = reqwest::Client::new()
        .post(server.url("/register"))
        .json(&registration)
        .send()
        .await
        .expect("POST /register");
    assert_eq!(resp.status(), StatusCode::CREATED);
    assert_eq!(idp.registrations().len(), 1);
}

/// A server whose every request is counted.
async fn counting_target() -> (String, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&hits);
    let (_, base) = serve_with(move |_| {
        Router::new().fallback(move || {
            counter.fetch_add(1, Ordering::SeqCst);
            async { axum::Json(json!({"client_id": "elsewhere"})) }
        })
    })
    .await;
    (base, hits)
}

#[tokio::test]
async fn upstream_calls_follow_no_redirect() {
    let key = TestKey::rsa("k", Algorithm::RS256);
    let idp = FakeIdp::start(jwks(&[key.jwk()])).await;
    let (target, target_hits) = counting_target().await;
    // The upstream's registration endpoint sends the call elsewhere.
    let (_, upstream) = serve_with(move |_| {
        Router::new().route(
            "/register",
            post(move || async move {
                (
                    StatusCode::TEMPORARY_REDIRECT,
                    [(LOCATION, format!("{target}/register"))],
                )
                    .into_response()
            }),
        )
    })
    .await;
    let server = serve_auth(|resource| {
        let mut config = CustomConfig::new(idp.issuer());
        config.jwks_url = Some(idp.jwks_url());
        config.mode = Mode::Proxy;
        config.authorization_endpoint = Some(idp.authorize_url());
        config.token_endpoint = Some(idp.token_url());
        config.registration_endpoint = Some(format!("{upstream}/register"));
        McpAuth::builder(CustomProvider::new(config).expect("provider"))
            .resource_url(resource)
            .build()
            .expect("resource URL")
    })
    .await;
    let resp = reqwest::Client::new()
        .post(server.url("/register"))
        .json(&json!({"redirect_uris": ["http://127.0.0.1:9/cb"], "client_name": "c"}))
        .send()
        .await
        .expect("POST /register");
    assert_eq!(resp.status(), StatusCode::BAD_GATEWAY);
    assert_eq!(
        target_hits.load(Ordering::SeqCst),
        0,
        "the redirect was followed"
    );
}

/// The messages of `error` and of every error under it.
fn chain(error: &dyn std::error::Error) -> String {
    let mut out = error.to_string();
    let mut next = error.source();
    while let Some(e) = next {
        out.push_str(" / ");
        out.push_str(&e.to_string());
        next = e.source();
    }
    out
}

#[tokio::test]
async fn a_metadata_redirect_to_plain_http_on_another_host_is_not_followed() {
    let key = TestKey::rsa("k", Algorithm::RS256);
    // Both metadata URLs of the issuer redirect to plain http on another host.
    let (_, issuer) = serve_with(|_| {
        Router::new().fallback(|| async {
            (
                StatusCode::FOUND,
                [(
                    LOCATION,
                    "http://idp.example.com/.well-known/openid-configuration",
                )],
            )
                .into_response()
        })
    })
    .await;

    // Keys by discovery: the redirect policy refuses the hop (no DNS lookup failure).
    let cache = JwksCache::from_issuer(issuer.clone(), JwksConfig::default()).expect("cache");
    let mut config = JwtConfig::new(
        issuer.clone(),
        Audience::exactly("https://mcp.example.com/mcp"),
    );
    config.token_cache = None;
    let verifier = JwtVerifier::new(config, KeySource::Jwks(cache)).expect("verifier");
    let token = key.sign(&claims(&issuer, "https://mcp.example.com/mcp", "alice"));
    match verifier.verify(&token).await {
        Err(VerifyError::KeysUnavailable { source, .. }) => {
            let why = chain(&source);
            assert!(why.contains("refusing a redirect to plain http"), "{why}");
        }
        other => panic!("expected keys to be unavailable, got {other:?}"),
    }

    // Direct mode's authorization-server metadata: a 502, the reason only in the log.
    let idp = FakeIdp::start(jwks(&[key.jwk()])).await;
    let server = serve_auth(|resource| {
        let mut config = CustomConfig::new(issuer.clone());
        config.jwks_url = Some(idp.jwks_url());
        McpAuth::builder(CustomProvider::new(config).expect("provider"))
            .resource_url(resource)
            .build()
            .expect("resource URL")
    })
    .await;
    let (status, body) = fetch(&server.url("/.well-known/oauth-authorization-server")).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{body}");
    assert!(!body.contains("idp.example.com"), "{body}");
}
