//! Proxy mode on the Redis store while Redis is lost: for both strategies (the
//! relay and the broker), every proxy route answers 503
//! `temporarily_unavailable` with `Retry-After` (never 500, never a hang),
//! `/mcp` with a valid token is still served, and the routes recover by
//! themselves once Redis is back. Real servers on 127.0.0.1: the app, the fake
//! upstream, and a `redis-server` the test starts.

#![cfg(feature = "redis")]

use std::time::Duration;

use axum::Router;
use axum::routing::any;
use mcp_auth_core::proxy::{RedisStore, RedisStoreConfig};
use mcp_auth_core::{
    AuthContext, ClientSecret, CustomConfig, CustomProvider, McpAuth, Mode, jwt::Algorithm,
};
use mcp_auth_testkit::{
    FakeIdp, McpServer, ProxyClient, RedisServer, TestKey, claims, jwks, no_redirects,
};
use serde_json::{Value, json};

const REDIRECT: &str = "http://127.0.0.1:9/callback";

/// The app in proxy mode on `redis`, in front of a fresh upstream: the broker
/// with a pre-registered client when `broker`, else the relay.
async fn start(redis: &RedisServer, broker: bool) -> (McpServer, FakeIdp, TestKey) {
    let key = TestKey::rsa("k", Algorithm::RS256);
    let upstream = FakeIdp::start(jwks(&[key.jwk()])).await;
    let mut config = CustomConfig::new(upstream.issuer());
    config.jwks_url = Some(upstream.jwks_url());
    config.mode = Mode::Proxy;
    config.authorization_endpoint = Some(upstream.authorize_url());
    config.token_endpoint = Some(upstream.token_url());
    config.registration_endpoint = (!broker).then(|| upstream.register_url());
    let mut provider = CustomProvider::new(config).expect("provider");
    if broker {
        upstream.add_confidential_client("pre-registered", "s3cret");
        provider = provider.with_proxy_client("pre-registered", Some(ClientSecret::new("s3cret")));
    }
    let store = RedisStore::connect(
        RedisStoreConfig::new(redis.url())
            .expect("URL")
            .connect_timeout(Duration::from_millis(300))
            .response_timeout(Duration::from_millis(300)),
    )
    .await
    .expect("Redis");
    let server = McpServer::start(|resource| {
        let auth = McpAuth::builder(provider)
            .resource_url(resource)
            .proxy_store(store)
            .proxy_state_key([7; 32])
            .build()
            .expect("resource URL");
        let user = any(|who: AuthContext| async move { who.user().user_id.clone() });
        Router::new()
            .route("/mcp", user)
            .layer(auth.layer())
            .merge(auth.routes())
    })
    .await;
    upstream.set_access_token(key.sign(&claims(&upstream.issuer(), &server.resource, "carol")));
    (server, upstream, key)
}

/// Every proxy route of the strategy, with a request it would serve.
fn proxy_requests(
    server: &McpServer,
    client: &ProxyClient,
    broker: bool,
) -> Vec<reqwest::RequestBuilder> {
    let http = no_redirects();
    let mut requests = vec![
        http.post(server.url("/register"))
            .json(&json!({"redirect_uris": [REDIRECT]})),
        http.get(client.authorize_url(&[])),
        http.post(server.url("/token")).form(&[
            ("grant_type", "authorization_code"),
            ("code", "c"),
            ("code_verifier", client.verifier.as_str()),
            ("client_id", client.client_id.as_str()),
        ]),
    ];
    if broker {
        requests.push(http.post(server.url("/oauth/consent")).form(&[
            ("consent_id", "c"),
            ("csrf_token", "t"),
            ("decision", "approve"),
        ]));
        requests.push(http.get(server.url("/oauth/callback?state=s&code=c")));
    } else {
        requests.push(http.get(server.url("/oauth/callback/some-client?state=s&code=c")));
    }
    requests
}

async fn outage_and_recovery(broker: bool) {
    let mut redis = RedisServer::start();
    let (server, upstream, key) = start(&redis, broker).await;
    let client = ProxyClient::register(&server.base, REDIRECT).await;
    let token = key.sign(&claims(&upstream.issuer(), &server.resource, "carol"));

    redis.stop();
    for request in proxy_requests(&server, &client, broker) {
        let resp = tokio::time::timeout(Duration::from_secs(30), request.send())
            .await
            .expect("an answer, not a hang")
            .expect("request");
        let path = resp.url().path().to_owned();
        assert_eq!(resp.status(), 503, "{path}");
        assert_eq!(
            resp.headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok()),
            Some("5"),
            "{path}"
        );
        let body: Value = resp.json().await.expect("JSON");
        assert_eq!(body["error"], "temporarily_unavailable", "{path}");
    }
    let resp = server.call(&token).await;
    assert_eq!(resp.status(), 200, "/mcp needs no state");
    assert_eq!(resp.text().await.expect("body"), "carol");

    // Back: the very first request is served (the store retries once on the
    // connection it found broken, which the manager re-establishes).
    // Long enough for the reconnection the failures started to have failed
    // too: nothing is left trying when Redis comes back.
    tokio::time::sleep(Duration::from_secs(2)).await;
    redis.restart();
    let status = no_redirects()
        .post(server.url("/register"))
        .json(&json!({"redirect_uris": [REDIRECT]}))
        .send()
        .await
        .expect("POST /register")
        .status()
        .as_u16();
    assert_eq!(status, 201, "registration works again once Redis is back");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_broker_answers_503_with_retry_after_while_redis_is_down_and_recovers() {
    outage_and_recovery(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_relay_answers_503_with_retry_after_while_redis_is_down_and_recovers() {
    outage_and_recovery(false).await;
}
