//! Scale-out of proxy mode: two `custom` example processes (the broker, same
//! configuration, same Redis, same state key, same public `MCP_URL`, different
//! ports) serve one client's flow between them, survive a restart of both,
//! answer 503 with `Retry-After` on every proxy route while Redis is down (and
//! `/mcp` keeps working), and recover by themselves when it is back. Redis is
//! a real `redis-server` the test starts (`mcp_auth_testkit::RedisServer`).

use crate::common;

use std::collections::BTreeMap;

use base64::Engine as _;
use common::{Server, free_port};
use mcp_auth_testkit::{
    Algorithm, Browser, Codes, FakeIdp, ProxyClient, RedisServer, RefreshTokens, TestKey, claims,
    jwks, location, no_redirects, query_of,
};
use serde_json::Value;

const REDIRECT: &str = "http://127.0.0.1:9/callback";
const UPSTREAM_SECRET: &str = "upstream-client-secret-never-stored";
const UPSTREAM_CODE: &str = "upstream-code-never-stored";
const UPSTREAM_REFRESH: &str = "upstream-refresh-token-never-stored-in-clear";
const KEY_PREFIX: &str = "scale-out-test:";

/// 32 random bytes, base64: a state key as `openssl rand -base64 32` makes.
fn random_state_key() -> (String, Vec<u8>) {
    use std::hash::{BuildHasher, RandomState};
    let bytes: Vec<u8> = (0..4u64)
        .flat_map(|i| RandomState::new().hash_one(i).to_le_bytes())
        .collect();
    (
        base64::engine::general_purpose::STANDARD.encode(&bytes),
        bytes,
    )
}

/// The deployment: the upstream, Redis, and what every replica is started with.
struct Deployment {
    idp: FakeIdp,
    redis: RedisServer,
    /// The public base URL both replicas share (nothing listens there: the
    /// test plays the load balancer and sends each request to a replica).
    public: String,
    env: Vec<(String, String)>,
    /// The upstream's access token (what clients get).
    access_token: String,
    state_key: (String, Vec<u8>),
}

impl Deployment {
    async fn start() -> Deployment {
        let key = TestKey::rsa("k1", Algorithm::RS256);
        let idp = FakeIdp::start(jwks(&[key.jwk()])).await;
        idp.set_refuse_unknown_clients(true);
        idp.add_confidential_client("mcp-server", UPSTREAM_SECRET);
        idp.set_codes(Codes::Fixed(UPSTREAM_CODE.into()));
        idp.set_refresh_tokens(RefreshTokens::Fixed(UPSTREAM_REFRESH.into()));
        let redis = RedisServer::start();
        let public = format!("http://localhost:{}", free_port());
        let state_key = random_state_key();
        let env = [
            ("MCP_URL", format!("{public}/mcp")),
            ("MCP_USE_OAUTH_CUSTOM_ISSUER", idp.issuer()),
            ("MCP_USE_OAUTH_CUSTOM_MODE", "proxy".into()),
            ("MCP_USE_OAUTH_CUSTOM_AUTH_ENDPOINT", idp.authorize_url()),
            ("MCP_USE_OAUTH_CUSTOM_TOKEN_ENDPOINT", idp.token_url()),
            ("MCP_USE_OAUTH_CUSTOM_CLIENT_ID", "mcp-server".into()),
            ("MCP_USE_OAUTH_CUSTOM_CLIENT_SECRET", UPSTREAM_SECRET.into()),
            ("MCP_AUTH_REDIS_URL", redis.url().to_owned()),
            ("MCP_AUTH_REDIS_KEY_PREFIX", KEY_PREFIX.into()),
            ("MCP_AUTH_STATE_KEY", state_key.0.clone()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        let access_token = key.sign(&claims(&idp.issuer(), &format!("{public}/mcp"), "bob"));
        idp.set_access_token(access_token.clone());
        Deployment {
            idp,
            redis,
            public,
            env,
            access_token,
            state_key,
        }
    }

    /// A replica on a port of its own.
    async fn replica(&self) -> Server {
        let env: Vec<(&str, &str)> = self
            .env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let mut server = Server::spawn(env!("CARGO_BIN_EXE_custom"), free_port(), &env);
        server.wait_ready().await;
        server
    }

    /// `url` at the public address, sent to `replica` instead.
    fn to(&self, replica: &Server, url: &str) -> String {
        assert!(url.starts_with(&self.public), "{url}");
        url.replacen(&self.public, &replica.url(""), 1)
    }
}

/// `client`, talking to `replica`.
fn via(client: &ProxyClient, replica: &Server) -> ProxyClient {
    ProxyClient {
        base: replica.url(""),
        client_id: client.client_id.clone(),
        redirect_uri: client.redirect_uri.clone(),
        verifier: client.verifier.clone(),
    }
}

/// The login in `browser`: authorize (and consent) on `start`, the upstream's
/// callback on `callback`; the client's redirect.
async fn log_in(
    d: &Deployment,
    client: &ProxyClient,
    browser: &mut Browser,
    start: &Server,
    callback: &Server,
) -> BTreeMap<String, String> {
    let on_start = via(client, start);
    let mut resp = browser.get(&on_start.authorize_url(&[])).await;
    if resp.status() == 200 {
        resp = browser.approve(&on_start.base, resp).await;
    }
    assert!(
        resp.status().is_redirection(),
        "to the upstream: {}; stderr:\n{}",
        resp.status(),
        start.stderr()
    );
    let upstream = browser.get(&location(&resp)).await;
    let back = location(&upstream);
    assert!(
        back.starts_with(&format!("{}/oauth/callback", d.public)),
        "{back}"
    );
    let answer = browser.get(&d.to(callback, &back)).await;
    let target = location(&answer);
    assert!(
        target.starts_with(REDIRECT),
        "{} {target}; stderr:\n{}",
        answer.status(),
        callback.stderr()
    );
    query_of(&target)
}

fn string(value: &Value, field: &str) -> String {
    value[field]
        .as_str()
        .unwrap_or_else(|| panic!("{field} in {value}"))
        .to_owned()
}

/// Fails if any key or value under the prefix contains one of `secrets`.
async fn assert_nothing_redeemable_in_redis(d: &Deployment, secrets: &[(&str, &[u8])]) {
    let dump = d.redis.dump(KEY_PREFIX).await;
    assert!(!dump.is_empty(), "the replicas keep their state in Redis");
    for (name, secret) in secrets {
        assert!(secret.len() >= 8, "{name} is long enough to search for");
        for (key, values) in &dump {
            assert!(
                !key.as_bytes().windows(secret.len()).any(|w| w == *secret),
                "the {name} is in the Redis key {key}"
            );
            for value in values {
                assert!(
                    !value.windows(secret.len()).any(|w| w == *secret),
                    "the {name} is in clear under the Redis key {key}"
                );
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_share_one_flow_survive_restarts_and_outlive_a_redis_outage() {
    let mut d = Deployment::start().await;
    let (a, b) = (d.replica().await, d.replica().await);

    // Registered on A, authorized on B, the upstream's callback on A, the
    // code redeemed on B.
    let client = ProxyClient::register(&a.url(""), REDIRECT).await;
    let mut browser = Browser::default();
    let back = log_in(&d, &client, &mut browser, &b, &a).await;
    assert_eq!(back["iss"], d.public, "one issuer for every replica");
    let code = back["code"].clone();

    // What a reader of Redis sees while the code is outstanding.
    let access_token = d.access_token.clone();
    assert_nothing_redeemable_in_redis(
        &d,
        &[
            ("authorization code", code.as_bytes()),
            ("access token", access_token.as_bytes()),
            ("upstream code", UPSTREAM_CODE.as_bytes()),
            ("upstream refresh token", UPSTREAM_REFRESH.as_bytes()),
            ("upstream client secret", UPSTREAM_SECRET.as_bytes()),
            ("state key", d.state_key.0.as_bytes()),
            ("state key bytes", &d.state_key.1),
        ],
    )
    .await;

    let (status, tokens) = via(&client, &b).redeem(&code).await;
    assert_eq!(
        status,
        200,
        "{tokens}\nA:\n{}\nB:\n{}",
        a.stderr(),
        b.stderr()
    );
    let access = string(&tokens, "access_token");
    let refresh = string(&tokens, "refresh_token");
    for replica in [&a, &b] {
        let answer = replica.call_tool(&access, "whoami").await;
        assert_eq!(answer["result"]["structuredContent"]["user_id"], "bob");
    }
    let upstream_forms = d.idp.token_forms();
    assert!(
        !upstream_forms.is_empty()
            && upstream_forms
                .iter()
                .all(|f| f["client_id"] == "mcp-server" && f["client_secret"] == UPSTREAM_SECRET),
        "the upstream saw the broker's own client: {upstream_forms:?}"
    );
    let (status, again) = via(&client, &a).redeem(&code).await;
    assert_eq!(status, 400, "a code is single-use across replicas: {again}");

    // A refresh on A, the next one on B.
    let refresh_on = |replica: &Server, token: String| {
        let client = via(&client, replica);
        async move {
            client
                .token(&[("grant_type", "refresh_token"), ("refresh_token", &token)])
                .await
        }
    };
    let (status, refreshed) = refresh_on(&a, refresh.clone()).await;
    assert_eq!(status, 200, "{refreshed}\n{}", a.stderr());
    let refresh2 = string(&refreshed, "refresh_token");
    let (status, refreshed) = refresh_on(&b, refresh2.clone()).await;
    assert_eq!(status, 200, "{refreshed}\n{}", b.stderr());
    let refresh3 = string(&refreshed, "refresh_token");
    let (status, _) = refresh_on(&a, refresh.clone()).await;
    assert_eq!(
        status, 400,
        "a spent refresh token is refused on any replica"
    );
    // That replay revoked the chain, as on one process.
    let (status, _) = refresh_on(&b, refresh3).await;
    assert_eq!(status, 400, "the chain is revoked on every replica");

    assert_nothing_redeemable_in_redis(
        &d,
        &[
            ("authorization code", code.as_bytes()),
            ("refresh token", refresh.as_bytes()),
            ("rotated refresh token", refresh2.as_bytes()),
            (
                "refresh token secret",
                refresh2.split_once('.').expect("chain.secret").1.as_bytes(),
            ),
            ("access token", access.as_bytes()),
            ("upstream refresh token", UPSTREAM_REFRESH.as_bytes()),
            ("upstream client secret", UPSTREAM_SECRET.as_bytes()),
            ("state key", d.state_key.0.as_bytes()),
            ("state key bytes", &d.state_key.1),
        ],
    )
    .await;

    // Both replicas restart: the same client goes on without registering,
    // and the consent the browser gave is still recognised (shared key).
    drop((a, b));
    let (a, b) = (d.replica().await, d.replica().await);
    let back = log_in(&d, &client, &mut browser, &a, &b).await;
    let (status, tokens) = via(&client, &a).redeem(&back["code"]).await;
    assert_eq!(status, 200, "{tokens}\n{}", a.stderr());
    let refresh = string(&tokens, "refresh_token");
    let (status, refreshed) = refresh_on(&b, refresh).await;
    assert_eq!(status, 200, "{refreshed}\n{}", b.stderr());
    let access = string(&refreshed, "access_token");

    // A hung Redis (it keeps the connection and answers nothing) costs a
    // request the store's timeout, then a 503; it never hangs it.
    d.redis.freeze();
    let http = no_redirects();
    let resp = http
        .post(b.url("/register"))
        .json(&serde_json::json!({"redirect_uris": [REDIRECT]}))
        .timeout(std::time::Duration::from_secs(30))
        .send()
        .await
        .expect("an answer while Redis hangs");
    assert_eq!(resp.status(), 503, "{}", b.stderr());
    assert!(resp.headers().contains_key("retry-after"));
    d.redis.thaw();

    // Redis goes away: every proxy route of either replica answers 503 with
    // Retry-After; verifying tokens needs no state and goes on.
    d.redis.stop();
    for replica in [&a, &b] {
        let requests = [
            http.post(replica.url("/register"))
                .json(&serde_json::json!({"redirect_uris": [REDIRECT]})),
            http.get(via(&client, replica).authorize_url(&[])),
            http.post(replica.url("/oauth/consent")).form(&[
                ("consent_id", "c"),
                ("csrf_token", "t"),
                ("decision", "approve"),
            ]),
            http.get(replica.url("/oauth/callback?state=s&code=c")),
            http.post(replica.url("/token")).form(&[
                ("grant_type", "authorization_code"),
                ("code", "c"),
                ("code_verifier", &client.verifier),
                ("client_id", &client.client_id),
            ]),
        ];
        for request in requests {
            let resp = request.send().await.expect("request");
            let url = resp.url().path().to_owned();
            assert_eq!(resp.status(), 503, "{url}; stderr:\n{}", replica.stderr());
            assert!(resp.headers().contains_key("retry-after"), "{url}");
            let body: Value = resp.json().await.expect("JSON");
            assert_eq!(body["error"], "temporarily_unavailable", "{url}");
        }
        let answer = replica.call_tool(&access, "whoami").await;
        assert_eq!(answer["result"]["structuredContent"]["user_id"], "bob");
    }

    // Redis is back (empty: nothing was saved): the routes recover by
    // themselves, and a client registers and logs in again.
    d.redis.restart();
    let mut client = None;
    for _ in 0..50 {
        let resp = http
            .post(a.url("/register"))
            .json(&serde_json::json!({"client_name": "Again", "redirect_uris": [REDIRECT]}))
            .send()
            .await
            .expect("POST /register");
        if resp.status() == 201 {
            client = Some(ProxyClient {
                base: a.url(""),
                client_id: string(&resp.json().await.expect("JSON"), "client_id"),
                redirect_uri: REDIRECT.into(),
                verifier: "a-new-verifier-0123456789-abcdefghijklmnopqrstuvwxyz".into(),
            });
            break;
        }
        assert_eq!(resp.status(), 503, "until Redis answers");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let client = client.expect("the replicas use Redis again once it is back");
    let flow_store_back = no_redirects()
        .get(via(&client, &b).authorize_url(&[]))
        .send()
        .await
        .expect("GET /authorize")
        .status();
    assert_ne!(flow_store_back, 503, "B recovered by itself too");
    let back = log_in(&d, &client, &mut Browser::default(), &b, &a).await;
    let (status, tokens) = via(&client, &b).redeem(&back["code"]).await;
    assert_eq!(status, 200, "{tokens}\n{}", b.stderr());
}

#[test]
fn an_unreachable_redis_at_start_exits_2_naming_the_url_without_its_password() {
    let port = free_port();
    let url = format!("redis://:hunter2@127.0.0.1:{port}/0");
    let env = [
        ("MCP_USE_OAUTH_CUSTOM_ISSUER", "https://auth.example.com"),
        ("MCP_AUTH_REDIS_URL", url.as_str()),
    ];
    let mut server = Server::spawn(env!("CARGO_BIN_EXE_custom"), free_port(), &env);
    let stderr = server.expect_exit_2();
    assert!(
        stderr.contains("MCP_AUTH_REDIS_URL") && stderr.contains(&format!("127.0.0.1:{port}")),
        "stderr:\n{stderr}"
    );
    assert!(!stderr.contains("hunter2"), "stderr:\n{stderr}");
}

#[test]
fn a_state_key_too_short_exits_2_naming_the_variable() {
    let short = base64::engine::general_purpose::STANDARD.encode([42u8; 16]);
    let env = [
        ("MCP_USE_OAUTH_CUSTOM_ISSUER", "https://auth.example.com"),
        ("MCP_AUTH_STATE_KEY", short.as_str()),
    ];
    let mut server = Server::spawn(env!("CARGO_BIN_EXE_custom"), free_port(), &env);
    let stderr = server.expect_exit_2_naming(&["MCP_AUTH_STATE_KEY"]);
    assert!(!stderr.contains(&short), "the value is never printed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_without_a_state_key_warns_once() {
    let d = Deployment::start().await;
    let env: Vec<(&str, &str)> = d
        .env
        .iter()
        .filter(|(k, _)| k != "MCP_AUTH_STATE_KEY")
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let mut server = Server::spawn(env!("CARGO_BIN_EXE_custom"), free_port(), &env);
    server.wait_ready().await;
    let stderr = server.stderr();
    assert_eq!(
        stderr
            .matches("has no state key (MCP_AUTH_STATE_KEY)")
            .count(),
        1,
        "one warning:\n{stderr}"
    );
}
