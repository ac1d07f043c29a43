//! `McpAuthBuilder::build`: every check happens there, once, whatever the order
//! of the setters; afterwards `layer()` and `routes()` cannot fail, and every
//! copy of the routes shares one proxy state.

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use axum::routing::any;
use base64::Engine as _;
use mcp_auth_core::env::EnvSource;
use mcp_auth_core::jwt::MAX_TOKEN_BYTES_CEILING;
use mcp_auth_core::{
    AuthContext, AuthUser, CustomConfig, CustomProvider, McpAuth, McpAuthBuilder, Mode,
    StaticApiKeys, TokenRejection, VerifyError, jwt::Algorithm, jwt::JwtConfig, jwt::JwtVerifier,
    jwt::KeySource, verifier_fn,
};
use mcp_auth_testkit::s256_challenge;
use mcp_auth_testkit::{FakeIdp, TestKey, claims, jwks};
use serde_json::{Value, json};
use tower::ServiceExt as _;

const RESOURCE: &str = "https://mcp.example.com/mcp";

fn provider(idp: &FakeIdp) -> CustomProvider {
    let mut config = CustomConfig::new(idp.issuer());
    config.jwks_url = Some(idp.jwks_url());
    CustomProvider::new(config).expect("provider")
}

/// A provider that needs no network to be built (its keys are never fetched).
fn offline_provider() -> CustomProvider {
    let mut config = CustomConfig::new("https://auth.example.com");
    config.jwks_url = Some("https://auth.example.com/jwks".into());
    CustomProvider::new(config).expect("provider")
}

fn error_of(builder: McpAuthBuilder) -> String {
    builder
        .build()
        .expect_err("configuration error")
        .to_string()
}

/// The status and `WWW-Authenticate` of `path` through `app`, with `token` if any.
async fn answer(app: &Router, path: &str, token: Option<&str>) -> (StatusCode, String) {
    let mut req = Request::post(path);
    if let Some(token) = token {
        req = req.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    let resp = app
        .clone()
        .oneshot(req.body(Body::empty()).expect("request"))
        .await
        .expect("infallible");
    let challenge = resp
        .headers()
        .get(header::WWW_AUTHENTICATE)
        .map(|v| v.to_str().expect("ascii").to_owned())
        .unwrap_or_default();
    (resp.status(), challenge)
}

fn protected(auth: &McpAuth) -> Router {
    Router::new()
        .fallback(any(|who: Option<AuthContext>| async move {
            who.map_or_else(|| "anonymous".to_owned(), |c| c.user().user_id.clone())
        }))
        .layer(auth.layer())
        .merge(auth.routes())
}

#[test]
fn a_provider_without_a_resource_url_is_refused_naming_it() {
    let err = error_of(McpAuth::builder(offline_provider()));
    assert!(err.contains("resource_url"), "{err}");
    assert!(err.contains("protected-resource metadata"), "{err}");
    // A plain verifier has nothing to describe: no resource URL is fine.
    McpAuth::builder_with_verifier(StaticApiKeys::new())
        .build()
        .expect("a verifier needs no resource URL");
}

#[test]
fn a_bad_resource_url_is_refused_naming_it() {
    for url in [
        "not a url",
        "http://mcp.example.com/mcp",
        "ftp://mcp.example.com/",
    ] {
        let err = error_of(McpAuth::builder(offline_provider()).resource_url(url));
        assert!(err.contains("resource URL"), "{url}: {err}");
    }
    let err = error_of(
        McpAuth::builder_with_verifier(StaticApiKeys::new()).resource_url("http://mcp.example.com"),
    );
    assert!(err.contains("https"), "{err}");
}

#[test]
fn a_short_state_key_is_refused_from_bytes_and_from_the_environment() {
    let err =
        error_of(McpAuth::builder_with_verifier(StaticApiKeys::new()).proxy_state_key([7u8; 31]));
    assert!(
        err.contains("proxy_state_key") && err.contains("32"),
        "{err}"
    );
    McpAuth::builder_with_verifier(StaticApiKeys::new())
        .proxy_state_key((0u8..32).collect::<Vec<_>>())
        .build()
        .expect("32 bytes");

    let short = base64::engine::general_purpose::STANDARD.encode((0u8..16).collect::<Vec<_>>());
    let source = EnvSource::from_vars([("MCP_AUTH_STATE_KEY", short.as_str())]);
    // Whatever the order, and even with a good key given as bytes.
    for builder in [
        McpAuth::builder_with_verifier(StaticApiKeys::new())
            .proxy_state_key_from_env(&source)
            .proxy_state_key([9u8; 32]),
        McpAuth::builder_with_verifier(StaticApiKeys::new())
            .proxy_state_key([9u8; 32])
            .proxy_state_key_from_env(&source),
    ] {
        let err = error_of(builder);
        assert!(
            err.contains("MCP_AUTH_STATE_KEY") && err.contains("32"),
            "{err}"
        );
    }
    // Unset, the variable changes nothing.
    McpAuth::builder_with_verifier(StaticApiKeys::new())
        .proxy_state_key_from_env(&EnvSource::from_vars([("OTHER", "x")]))
        .build()
        .expect("unset variable");
    assert_eq!(McpAuthBuilder::STATE_KEY_VAR, "MCP_AUTH_STATE_KEY");
}

#[test]
fn max_token_bytes_is_refused_above_the_ceiling_and_at_zero() {
    for max in [MAX_TOKEN_BYTES_CEILING + 1, 0] {
        let err =
            error_of(McpAuth::builder_with_verifier(StaticApiKeys::new()).max_token_bytes(max));
        assert!(err.contains("max_token_bytes"), "{err}");
        assert!(err.contains(&MAX_TOKEN_BYTES_CEILING.to_string()), "{err}");
    }
    McpAuth::builder_with_verifier(StaticApiKeys::new())
        .max_token_bytes(MAX_TOKEN_BYTES_CEILING)
        .build()
        .expect("at the ceiling");
}

#[test]
fn every_problem_is_reported_at_once() {
    let err = error_of(
        McpAuth::builder(offline_provider())
            .max_token_bytes(0)
            .proxy_state_key([1u8; 8]),
    );
    for named in ["resource_url", "max_token_bytes", "proxy_state_key"] {
        assert!(err.contains(named), "{named} missing from {err}");
    }
}

#[tokio::test]
async fn the_layer_refuses_a_token_one_byte_over_the_limit_and_accepts_one_at_it() {
    let any_token = verifier_fn(|token: String| async move {
        Ok(AuthContext::builder(AuthUser::new("holder"), token).build())
    });
    let auth = McpAuth::builder_with_verifier(any_token)
        .max_token_bytes(100)
        .build()
        .expect("configuration");
    let app = protected(&auth);
    let (status, _) = answer(&app, "/mcp", Some(&"a".repeat(100))).await;
    assert_eq!(status, StatusCode::OK, "a token at the limit");
    let (status, challenge) = answer(&app, "/mcp", Some(&"a".repeat(101))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "a token one byte over");
    assert!(challenge.contains("invalid_token"), "{challenge}");

    // The default is 8 KiB.
    let any_token = verifier_fn(|token: String| async move {
        Ok(AuthContext::builder(AuthUser::new("holder"), token).build())
    });
    let app = protected(
        &McpAuth::builder_with_verifier(any_token)
            .build()
            .expect("configuration"),
    );
    assert_eq!(
        answer(&app, "/mcp", Some(&"a".repeat(8192))).await.0,
        StatusCode::OK
    );
    assert_eq!(
        answer(&app, "/mcp", Some(&"a".repeat(8193))).await.0,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn a_standalone_jwt_verifier_refuses_tokens_over_its_ceiling_before_parsing() {
    let verifier = JwtVerifier::new(
        JwtConfig::new(
            "https://auth.example.com",
            mcp_auth_core::jwt::Audience::exactly("x"),
        ),
        KeySource::Secret(mcp_auth_core::jwt::HmacSecret::new([5u8; 32])),
    )
    .expect("verifier");
    let token = "a".repeat(MAX_TOKEN_BYTES_CEILING + 1);
    match verifier.verify(&token).await {
        Err(VerifyError::Rejected(TokenRejection::TooLarge { len, max })) => {
            assert_eq!(
                (len, max),
                (MAX_TOKEN_BYTES_CEILING + 1, MAX_TOKEN_BYTES_CEILING)
            );
        }
        other => panic!("expected TooLarge, got {other:?}"),
    }
    // At the ceiling the token is parsed (and refused as malformed).
    match verifier.verify(&"a".repeat(MAX_TOKEN_BYTES_CEILING)).await {
        Err(VerifyError::Rejected(TokenRejection::Malformed(_))) => {}
        other => panic!("expected Malformed, got {other:?}"),
    }
}

#[tokio::test]
async fn the_order_of_the_setters_does_not_matter() {
    let key = TestKey::rsa("k", Algorithm::RS256);
    let idp = FakeIdp::start(jwks(&[key.jwk()])).await;
    let resource_first = McpAuth::builder(provider(&idp))
        .resource_url(RESOURCE)
        .required_scopes(["read"])
        .public_path("/open")
        .public_paths(["/status"])
        .build()
        .expect("configuration");
    let resource_last = McpAuth::builder(provider(&idp))
        .public_paths(["/status"])
        .public_path("/open")
        .required_scopes(["read"])
        .resource_url(RESOURCE)
        .build()
        .expect("configuration");
    let token = key.sign(&claims(&idp.issuer(), RESOURCE, "alice"));
    let mut answers: Vec<Vec<(StatusCode, String)>> = Vec::new();
    for auth in [&resource_first, &resource_last] {
        let app = protected(auth);
        let mut seen = Vec::new();
        for (path, token) in [
            ("/mcp", None),
            ("/mcp", Some(token.as_str())),
            ("/open", None),
            ("/status", None),
            ("/health", None),
        ] {
            seen.push(answer(&app, path, token).await);
        }
        answers.push(seen);
    }
    assert_eq!(answers[0], answers[1]);
    let statuses: Vec<StatusCode> = answers[0].iter().map(|(s, _)| *s).collect();
    assert_eq!(
        statuses,
        [
            StatusCode::UNAUTHORIZED, // no token
            StatusCode::OK,           // a token for the resource: the audience was bound
            StatusCode::OK,           // added public path
            StatusCode::OK,           // replaced public paths
            StatusCode::UNAUTHORIZED, // a default public path, replaced
        ]
    );
    let challenge = &answers[0][0].1;
    assert!(
        challenge.contains(
            "resource_metadata=\"https://mcp.example.com/.well-known/oauth-protected-resource/mcp\""
        ),
        "{challenge}"
    );
    assert!(challenge.contains("scope=\"read\""), "{challenge}");
}

#[tokio::test]
async fn every_copy_of_the_routes_shares_one_proxy_store() {
    const REDIRECT: &str = "http://127.0.0.1:9/callback";
    let upstream = FakeIdp::start(jwks(&[])).await;
    let mut config = CustomConfig::new(upstream.issuer());
    config.jwks_url = Some(upstream.jwks_url());
    config.mode = Mode::Proxy;
    config.authorization_endpoint = Some(upstream.authorize_url());
    config.token_endpoint = Some(upstream.token_url());
    config.registration_endpoint = Some(upstream.register_url());
    let auth = McpAuth::builder(CustomProvider::new(config).expect("provider"))
        .resource_url("http://127.0.0.1:9/mcp")
        .build()
        .expect("configuration");
    let one: Router = auth.routes();
    let two: Router = auth.routes();

    let register = Request::post("/register")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(json!({"redirect_uris": [REDIRECT]}).to_string()))
        .expect("request");
    let resp = one.oneshot(register).await.expect("infallible");
    assert_eq!(resp.status(), StatusCode::CREATED);
    let body = axum::body::to_bytes(resp.into_body(), 1 << 20)
        .await
        .expect("body");
    let client: Value = serde_json::from_slice(&body).expect("JSON");
    let client_id = client["client_id"].as_str().expect("client_id");

    // The other copy knows the client: a redirect URI it did not register is
    // refused here (a client unknown to this store would be sent upstream).
    let query = |redirect: &str| {
        url::form_urlencoded::Serializer::new(String::new())
            .append_pair("response_type", "code")
            .append_pair("client_id", client_id)
            .append_pair("redirect_uri", redirect)
            .append_pair(
                "code_challenge",
                &s256_challenge("verifier-0123456789-abcdefghijklmnopqrstuvwxyz"),
            )
            .append_pair("code_challenge_method", "S256")
            .append_pair("state", "s")
            .finish()
    };
    let authorize = |redirect: &str| {
        Request::get(format!("/authorize?{}", query(redirect)))
            .body(Body::empty())
            .expect("request")
    };
    let resp = two
        .clone()
        .oneshot(authorize("http://127.0.0.1:9/elsewhere"))
        .await
        .expect("infallible");
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let resp = two.oneshot(authorize(REDIRECT)).await.expect("infallible");
    assert!(resp.status().is_redirection(), "{}", resp.status());
}
