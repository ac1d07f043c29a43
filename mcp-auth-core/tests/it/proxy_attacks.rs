//! Attacks on proxy mode, reproduced end to end over HTTP against a local fake
//! upstream, each with the browsers it needs (one cookie jar per browser):
//! the cross-browser consent bypass (broker and relay), repeated parameters,
//! a missing RFC 9207 `iss`, a foreign `resource`, the upstream's `id_token`,
//! refresh-token replay, and oversized stored fields.

use crate::common;

use common::Setup;
use mcp_auth_testkit::s256_challenge;
use mcp_auth_testkit::{Browser, FakeIdp, RefreshTokens, location, query_of};
use serde_json::{Value, json};

const VERIFIER: &str = "attack-test-verifier-0123456789-abcdefghijklmnopqrstuv";
const ATTACKER_REDIRECT: &str = "https://attacker.example.com/cb";
const CLIENT_REDIRECT: &str = "http://127.0.0.1:9/callback";

async fn broker(tweak: impl FnOnce(&FakeIdp)) -> Setup {
    common::setup(
        "victim-user",
        Some(("pre-registered", "s3cret")),
        None,
        |up, config| {
            config.registration_endpoint = None;
            tweak(up);
        },
    )
    .await
}

async fn relay() -> Setup {
    common::setup("victim-user", None, None, |up, config| {
        config.registration_endpoint = Some(up.register_url());
    })
    .await
}

async fn register(s: &Setup, redirect: &str) -> String {
    let resp = s
        .post_register(&json!({"client_name": "Some App", "redirect_uris": [redirect]}))
        .await;
    assert_eq!(resp.status(), 201);
    let body: Value = resp.json().await.expect("json");
    body["client_id"].as_str().expect("client_id").to_owned()
}

fn authorize_url(s: &Setup, client_id: &str, redirect: &str, extra: &[(&str, &str)]) -> String {
    let mut url = url::Url::parse(&format!("{}/authorize", s.base)).expect("url");
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", client_id)
        .append_pair("redirect_uri", redirect)
        .append_pair("code_challenge", &s256_challenge(VERIFIER))
        .append_pair("code_challenge_method", "S256")
        .append_pair("state", "client-state")
        .extend_pairs(extra);
    url.into()
}

/// In `browser`: /authorize, consent approved; returns the upstream URL.
async fn consent_in(browser: &mut Browser, s: &Setup, client_id: &str, redirect: &str) -> String {
    let page = browser
        .get(&authorize_url(s, client_id, redirect, &[]))
        .await;
    let resp = browser.approve(&s.base, page).await;
    assert_eq!(resp.status(), 303);
    location(&resp)
}

/// In `browser`: the upstream (which approves at once) then our callback.
async fn through_upstream(
    browser: &mut Browser,
    s: &Setup,
    upstream_url: &str,
) -> reqwest::Response {
    let resp = browser.get(upstream_url).await;
    let callback = location(&resp);
    assert!(
        callback.starts_with(&format!("{}/oauth/callback", s.base)),
        "{callback}"
    );
    browser.get(&callback).await
}

async fn token(s: &Setup, form: &[(&str, &str)]) -> (u16, Value) {
    let resp = s.post_token(form).await;
    let status = resp.status().as_u16();
    (status, resp.json().await.expect("json"))
}

/// POSTs `form` to our `/token`, which must answer `status` with `error`.
async fn assert_token_error(s: &Setup, form: &[(&str, &str)], status: u16, error: &str) {
    let (got, body) = token(s, form).await;
    assert_eq!((got, body["error"].as_str()), (status, Some(error)));
}

/// A legitimate browser's full broker flow; the client's token response.
async fn broker_tokens(s: &Setup, client_id: &str) -> Value {
    let mut browser = Browser::default();
    let upstream_url = consent_in(&mut browser, s, client_id, CLIENT_REDIRECT).await;
    let resp = through_upstream(&mut browser, s, &upstream_url).await;
    let code = query_of(&location(&resp))["code"].clone();
    let (status, tokens) = token(
        s,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("code_verifier", VERIFIER),
            ("client_id", client_id),
        ],
    )
    .await;
    assert_eq!(status, 200, "{tokens}");
    tokens
}

#[tokio::test]
async fn broker_consent_bypass_across_browsers_is_refused_before_the_code_is_redeemed() {
    let s = broker(|_| {}).await;
    let attackers_client = register(&s, ATTACKER_REDIRECT).await;
    // The attacker approves its own client in its own browser and keeps the
    // upstream authorization URL instead of following it.
    let mut attacker = Browser::default();
    let upstream_url = consent_in(&mut attacker, &s, &attackers_client, ATTACKER_REDIRECT).await;

    // The victim, signed in upstream, opens the link: the upstream sends the
    // victim's browser back to our callback with a code for the victim. The
    // victim's browser has a binding of its own from an earlier flow.
    let mut victim = Browser::default();
    let own_client = register(&s, CLIENT_REDIRECT).await;
    consent_in(&mut victim, &s, &own_client, CLIENT_REDIRECT).await;
    assert!(victim.has_cookie("mcp-auth-binding"));
    let resp = through_upstream(&mut victim, &s, &upstream_url).await;
    assert_eq!(resp.status(), 400);
    assert!(
        resp.headers().get("location").is_none(),
        "no redirect to the attacker"
    );
    let body: Value = resp.json().await.expect("json");
    assert_eq!(body["error"], "access_denied");
    assert!(
        s.upstream.token_forms().is_empty(),
        "the victim's code was never redeemed"
    );

    // The flow is spent: the attacker cannot finish it in its own browser either.
    let callback = location(&attacker.get(&upstream_url).await);
    let resp = attacker.get(&callback).await;
    assert_eq!(resp.status(), 400);
    assert!(s.upstream.token_forms().is_empty());
}

#[tokio::test]
async fn relay_flows_are_bound_to_the_browser_that_started_them() {
    let s = relay().await;
    s.upstream.set_registered_client_id("attacker-client");
    let attackers_client = register(&s, ATTACKER_REDIRECT).await;
    let mut attacker = Browser::default();
    let resp = attacker
        .get(&authorize_url(
            &s,
            &attackers_client,
            ATTACKER_REDIRECT,
            &[],
        ))
        .await;
    assert_eq!(resp.status(), 303);
    let upstream_url = location(&resp);
    let mut victim = Browser::default();
    let resp = through_upstream(&mut victim, &s, &upstream_url).await;
    assert_eq!(resp.status(), 400);
    assert!(
        resp.headers().get("location").is_none(),
        "the code goes nowhere"
    );

    // The same flow, started and finished in one browser, works.
    let resp = attacker
        .get(&authorize_url(
            &s,
            &attackers_client,
            ATTACKER_REDIRECT,
            &[],
        ))
        .await;
    let resp = through_upstream(&mut attacker, &s, &location(&resp)).await;
    assert_eq!(resp.status(), 303);
    let back = query_of(&location(&resp));
    assert!(back.contains_key("code"));
    assert_eq!(back["iss"], s.base);
}

#[tokio::test]
async fn repeated_parameters_are_refused_and_never_forwarded() {
    let s = relay().await;
    s.upstream.set_registered_client_id("dcr-client");
    register(&s, CLIENT_REDIRECT).await;
    // An upstream that reads the last grant_type would issue a service token.
    assert_token_error(
        &s,
        &[
            ("grant_type", "refresh_token"),
            ("grant_type", "client_credentials"),
            ("refresh_token", "r1"),
            ("client_id", "dcr-client"),
        ],
        400,
        "invalid_request",
    )
    .await;
    assert!(s.upstream.token_forms().is_empty());
    let url = authorize_url(&s, "dcr-client", CLIENT_REDIRECT, &[("state", "second")]);
    let resp = Browser::default().get(&url).await;
    assert_eq!(resp.status(), 400);
    assert!(resp.headers().get("location").is_none());
    assert!(s.upstream.authorize_queries().is_empty());

    let b = broker(|_| {}).await;
    let client = register(&b, CLIENT_REDIRECT).await;
    let (status, body) = token(
        &b,
        &[
            ("grant_type", "authorization_code"),
            ("grant_type", "refresh_token"),
            ("client_id", &client),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_request"))
    );
}

#[tokio::test]
async fn an_upstream_that_advertises_rfc9207_must_send_its_iss() {
    let s = broker(|up| {
        up.set_discovery_fields(json!({"authorization_response_iss_parameter_supported": true}));
    })
    .await;
    let client = register(&s, CLIENT_REDIRECT).await;
    let mut browser = Browser::default();
    let upstream_url = consent_in(&mut browser, &s, &client, CLIENT_REDIRECT).await;
    // The fake upstream sends no iss.
    let resp = through_upstream(&mut browser, &s, &upstream_url).await;
    let back = query_of(&location(&resp));
    assert_eq!(back["error"], "server_error");
    assert_eq!(back["iss"], s.base, "our own error carries our iss");
    assert!(!back.contains_key("code"));
    assert!(s.upstream.token_forms().is_empty());
}

#[tokio::test]
async fn the_broker_pins_resource_and_never_hands_out_the_id_token() {
    let s = broker(|up| up.set_token_fields(json!({"id_token": "upstream.id.token"}))).await;
    let client = register(&s, CLIENT_REDIRECT).await;
    let foreign = authorize_url(
        &s,
        &client,
        CLIENT_REDIRECT,
        &[("resource", "https://other.example.com/mcp")],
    );
    let resp = Browser::default().get(&foreign).await;
    let back = query_of(&location(&resp));
    assert_eq!(back["error"], "invalid_target");
    assert_eq!(back["iss"], s.base);
    assert!(s.upstream.authorize_queries().is_empty());

    let tokens = broker_tokens(&s, &client).await;
    assert!(tokens.get("id_token").is_none(), "{tokens}");
    assert_eq!(
        s.upstream.authorize_queries()[0]["resource"],
        format!("{}/mcp", s.base)
    );
    let handle = tokens["refresh_token"].as_str().expect("handle");
    let (_, refreshed) = token(
        &s,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", handle),
            ("client_id", &client),
        ],
    )
    .await;
    assert!(refreshed["access_token"].is_string() && refreshed.get("id_token").is_none());
}

#[tokio::test]
async fn the_relay_never_hands_out_the_id_token() {
    let s = relay().await;
    s.upstream
        .set_token_fields(json!({"id_token": "upstream.id.token"}));
    s.upstream.set_registered_client_id("dcr-client");
    register(&s, CLIENT_REDIRECT).await;
    let mut browser = Browser::default();
    let resp = browser
        .get(&authorize_url(&s, "dcr-client", CLIENT_REDIRECT, &[]))
        .await;
    let resp = through_upstream(&mut browser, &s, &location(&resp)).await;
    let code = query_of(&location(&resp))["code"].clone();
    let (status, tokens) = token(
        &s,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("code_verifier", VERIFIER),
            ("client_id", "dcr-client"),
            ("redirect_uri", CLIENT_REDIRECT),
        ],
    )
    .await;
    assert_eq!(status, 200, "{tokens}");
    assert!(tokens.get("id_token").is_none(), "{tokens}");
}

#[tokio::test]
async fn broker_refresh_handles_rotate_even_when_the_upstream_does_not_and_a_replay_revokes_the_chain()
 {
    let s =
        broker(|up| up.set_refresh_tokens(RefreshTokens::Fixed("same-upstream-rt".into()))).await;
    let client = register(&s, CLIENT_REDIRECT).await;
    let tokens = broker_tokens(&s, &client).await;
    let first = tokens["refresh_token"].as_str().expect("handle").to_owned();
    assert_ne!(first, "same-upstream-rt", "the upstream token stays here");
    let refresh = |handle: String| {
        let s = &s;
        let client = client.clone();
        async move {
            token(
                s,
                &[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", &handle),
                    ("client_id", &client),
                ],
            )
            .await
        }
    };
    let (status, second) = refresh(first.clone()).await;
    assert_eq!(status, 200, "{second}");
    let second = second["refresh_token"]
        .as_str()
        .expect("rotated")
        .to_owned();
    assert_ne!(second, first);
    let (_, third) = refresh(second.clone()).await;
    let third = third["refresh_token"].as_str().expect("rotated").to_owned();
    // A thief replays the first handle: refused, and the chain is revoked, so
    // the newest handle stops working too.
    let (status, body) = refresh(first).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let (status, body) = refresh(third).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    assert_eq!(
        s.upstream.token_forms().len(),
        3,
        "the code and two refreshes reached the upstream, nothing after the replay"
    );
}

#[tokio::test]
async fn oversized_fields_are_refused_before_anything_is_stored() {
    let s = broker(|_| {}).await;
    let client = register(&s, CLIENT_REDIRECT).await;
    let long = "x".repeat(2049);
    for field in ["state", "scope", "resource"] {
        let mut url =
            url::Url::parse(&authorize_url(&s, &client, CLIENT_REDIRECT, &[])).expect("url");
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .into_owned()
            .filter(|(k, _)| k != field)
            .collect();
        url.query_pairs_mut()
            .clear()
            .extend_pairs(pairs)
            .append_pair(field, &long);
        let resp = Browser::default().get(url.as_str()).await;
        let back = query_of(&location(&resp));
        assert_eq!(back["error"], "invalid_request", "{field}");
        assert!(
            !back.contains_key("state") || back["state"].len() < 2049,
            "{field}"
        );
    }
    for body in [
        json!({"client_name": long, "redirect_uris": [CLIENT_REDIRECT]}),
        json!({"redirect_uris": [format!("https://a.example.com/{long}")]}),
    ] {
        let resp = s.post_register(&body).await;
        assert_eq!(resp.status(), 400);
    }
}

/// Serves `handler` as `POST /token` on loopback; returns its URL.
async fn token_endpoint(handler: axum::routing::MethodRouter) -> String {
    let app = axum::Router::new().route("/token", handler);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}/token")
}

/// A token endpoint that answers every POST with `status` and `body`.
async fn odd_token_endpoint(status: u16, body: String) -> String {
    token_endpoint(axum::routing::post(move || {
        let body = body.clone();
        async move {
            (
                axum::http::StatusCode::from_u16(status).expect("status"),
                [("content-type", "application/json")],
                body,
            )
        }
    }))
    .await
}

#[tokio::test]
async fn odd_upstream_token_answers_are_502_json_and_the_server_keeps_serving() {
    for (status, body) in [
        (400, "[1, 2]".to_owned()),
        (400, "\"oops\"".to_owned()),
        (200, "not json".to_owned()),
        (
            200,
            format!("{{\"access_token\": \"{}\"}}", "a".repeat(70 * 1024)),
        ),
    ] {
        let endpoint = odd_token_endpoint(status, body).await;
        // The relay's pass-through.
        let s = common::setup("u", None, Some(endpoint.clone()), |up, config| {
            config.registration_endpoint = Some(up.register_url());
        })
        .await;
        s.upstream.set_registered_client_id("dcr-client");
        register(&s, CLIENT_REDIRECT).await;
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", "r1"),
            ("client_id", "dcr-client"),
        ];
        let (code, answer) = token(&s, &form).await;
        assert_eq!(
            (code, answer["error"].as_str()),
            (502, Some("temporarily_unavailable"))
        );
        // The broker's callback.
        let b = common::setup(
            "u",
            Some(("pre-registered", "s3cret")),
            Some(endpoint),
            |_, config| {
                config.registration_endpoint = None;
            },
        )
        .await;
        let client = register(&b, CLIENT_REDIRECT).await;
        let mut browser = Browser::default();
        let upstream_url = consent_in(&mut browser, &b, &client, CLIENT_REDIRECT).await;
        let resp = through_upstream(&mut browser, &b, &upstream_url).await;
        assert_eq!(resp.status(), 502);
        let answer: Value = resp.json().await.expect("json");
        assert_eq!(answer["error"], "temporarily_unavailable");
        // Still serving.
        let resp = b
            .http
            .get(format!("{}/.well-known/oauth-authorization-server", b.base))
            .send()
            .await
            .expect("metadata");
        assert_eq!(resp.status(), 200);
    }
}

type Shared<T> = std::sync::Arc<std::sync::Mutex<T>>;

/// A token endpoint that forwards to the URL in `upstream`, or answers 503
/// while `down` holds.
async fn flaky_token_endpoint(upstream: Shared<String>, down: Shared<bool>) -> String {
    token_endpoint(axum::routing::post(move |body: String| {
        let target = upstream.lock().expect("lock").clone();
        let is_down = *down.lock().expect("lock");
        async move {
            if is_down {
                return (axum::http::StatusCode::SERVICE_UNAVAILABLE, String::new());
            }
            let resp = reqwest::Client::new()
                .post(&target)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
                .await
                .expect("upstream");
            let status = axum::http::StatusCode::from_u16(resp.status().as_u16()).expect("status");
            (status, resp.text().await.expect("body"))
        }
    }))
    .await
}

#[tokio::test]
async fn an_upstream_outage_during_a_refresh_keeps_the_chain_for_the_retry() {
    let target: Shared<String> = Shared::default();
    let down: Shared<bool> = Shared::default();
    let flaky = flaky_token_endpoint(target.clone(), down.clone()).await;
    let s = common::setup(
        "victim-user",
        Some(("pre-registered", "s3cret")),
        Some(flaky),
        |_, config| config.registration_endpoint = None,
    )
    .await;
    *target.lock().expect("lock") = s.upstream.token_url();
    let client = register(&s, CLIENT_REDIRECT).await;
    let tokens = broker_tokens(&s, &client).await;
    let handle = tokens["refresh_token"].as_str().expect("handle").to_owned();
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", handle.as_str()),
        ("client_id", client.as_str()),
    ];
    *down.lock().expect("lock") = true;
    let (status, _) = token(&s, &form).await;
    assert_eq!(status, 502);
    *down.lock().expect("lock") = false;
    let (status, body) = token(&s, &form).await;
    assert_eq!(status, 200, "the retry is not a replay: {body}");
}

#[tokio::test]
async fn the_relay_forwards_only_client_metadata_and_never_replaces_a_client() {
    let s = relay().await;
    s.upstream.set_registered_client_id("victim-client");
    let resp = s
        .http
        .post(format!("{}/register", s.base))
        .json(&json!({
            "redirect_uris": [CLIENT_REDIRECT],
            "client_name": "App",
            "client_id": "chosen-id",
            "jwks_uri": "https://attacker.example.com/jwks",
            "software_statement": "eyJ...",
        }))
        .send()
        .await
        .expect("register");
    assert_eq!(resp.status(), 201);
    let upstream = &s.upstream.registrations()[0];
    assert_eq!(upstream["client_name"], "App");
    for field in ["client_id", "jwks_uri", "software_statement"] {
        assert!(
            upstream.get(field).is_none(),
            "{field} forwarded: {upstream}"
        );
    }
    // The upstream hands out the same id again: the relayed client keeps its URIs.
    let resp = s
        .post_register(&json!({"redirect_uris": [ATTACKER_REDIRECT]}))
        .await;
    assert_eq!(resp.status(), 502);
    let url = authorize_url(&s, "victim-client", ATTACKER_REDIRECT, &[]);
    let resp = Browser::default().get(&url).await;
    assert_eq!(
        resp.status(),
        400,
        "the attacker's URI is not the victim client's"
    );
    // And the code grant needs the client's PKCE verifier here, not only upstream.
    assert_token_error(
        &s,
        &[
            ("grant_type", "authorization_code"),
            ("code", "c"),
            ("client_id", "victim-client"),
        ],
        400,
        "invalid_request",
    )
    .await;
}

/// A broker in front of `upstream` with its state in `store`, and `key` as its
/// state key when given.
async fn broker_on(
    upstream: &FakeIdp,
    store: std::sync::Arc<mcp_auth_core::proxy::MemoryStore>,
    key: Option<&[u8]>,
) -> mcp_auth_testkit::McpServer {
    use mcp_auth_core::{ClientSecret, CustomConfig, CustomProvider, McpAuth, Mode};
    let mut config = CustomConfig::new(upstream.issuer());
    config.jwks_url = Some(upstream.jwks_url());
    config.mode = Mode::Proxy;
    config.authorization_endpoint = Some(upstream.authorize_url());
    config.token_endpoint = Some(upstream.token_url());
    let provider = CustomProvider::new(config)
        .expect("provider")
        .with_proxy_client("pre-registered", Some(ClientSecret::new("s3cret")));
    let key = key.map(<[u8]>::to_vec);
    mcp_auth_testkit::McpServer::start(move |resource| {
        let mut builder = McpAuth::builder(provider)
            .resource_url(resource)
            .proxy_store(store);
        if let Some(key) = &key {
            builder = builder.proxy_state_key(key);
        }
        let auth = builder.build().expect("configuration");
        axum::Router::new()
            .route("/mcp", axum::routing::any(|| async { "mcp" }))
            .layer(auth.layer())
            .merge(auth.routes())
    })
    .await
}

#[tokio::test]
async fn a_shared_store_and_state_key_carry_refresh_tokens_to_the_next_server() {
    use mcp_auth_testkit::{ProxyClient, TestKey, jwks};
    let key = TestKey::rsa("k", mcp_auth_core::jwt::Algorithm::RS256);
    let upstream = FakeIdp::start(jwks(&[key.jwk()])).await;
    upstream.add_confidential_client("pre-registered", "s3cret");
    upstream.set_access_token("upstream-access".into());
    let store = std::sync::Arc::new(mcp_auth_core::proxy::MemoryStore::default());
    let secret = [7u8; 32];
    let first = broker_on(&upstream, store.clone(), Some(&secret)).await;
    let client = ProxyClient::register(&first.base, CLIENT_REDIRECT).await;
    let back = client.log_in(&mut Browser::default(), &[]).await;
    let (_, tokens) = client.redeem(&back["code"]).await;
    let handle = tokens["refresh_token"].as_str().expect("handle").to_owned();

    // A replica with the same store and key serves the refresh.
    let second = broker_on(&upstream, store.clone(), Some(&secret)).await;
    let on_second = ProxyClient {
        base: second.base.clone(),
        ..client
    };
    let (status, body) = on_second
        .token(&[("grant_type", "refresh_token"), ("refresh_token", &handle)])
        .await;
    assert_eq!(status, 200, "{body}");
    let next = body["refresh_token"].as_str().expect("rotated").to_owned();

    // One with the store but a key of its own cannot open what was sealed: the
    // client is told to log in again (invalid_grant), never a 500.
    let third = broker_on(&upstream, store, None).await;
    let on_third = ProxyClient {
        base: third.base.clone(),
        ..on_second
    };
    let (status, body) = on_third
        .token(&[("grant_type", "refresh_token"), ("refresh_token", &next)])
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
}

#[test]
fn a_short_state_key_is_a_configuration_error() {
    let err = mcp_auth_core::McpAuth::builder_with_verifier(mcp_auth_core::StaticApiKeys::new())
        .proxy_state_key([1u8; 16])
        .build()
        .expect_err("16 bytes");
    assert!(err.to_string().contains("32"), "{err}");
}

/// A store that records the lifetime of every record written.
#[derive(Default)]
struct RecordingStore {
    inner: mcp_auth_core::proxy::MemoryStore,
    ttls: std::sync::Mutex<Vec<(mcp_auth_core::proxy::RecordKind, std::time::Duration)>>,
}

impl mcp_auth_core::proxy::ProxyStore for RecordingStore {
    fn get<'a>(
        &'a self,
        kind: mcp_auth_core::proxy::RecordKind,
        id: &'a str,
    ) -> mcp_auth_core::BoxFuture<'a, Result<Option<Vec<u8>>, mcp_auth_core::proxy::StoreError>>
    {
        self.inner.get(kind, id)
    }

    fn put<'a>(
        &'a self,
        kind: mcp_auth_core::proxy::RecordKind,
        id: &'a str,
        value: Vec<u8>,
        ttl: std::time::Duration,
    ) -> mcp_auth_core::BoxFuture<'a, Result<(), mcp_auth_core::proxy::StoreError>> {
        self.ttls.lock().expect("lock").push((kind, ttl));
        self.inner.put(kind, id, value, ttl)
    }

    fn take<'a>(
        &'a self,
        kind: mcp_auth_core::proxy::RecordKind,
        id: &'a str,
    ) -> mcp_auth_core::BoxFuture<'a, Result<Option<Vec<u8>>, mcp_auth_core::proxy::StoreError>>
    {
        self.inner.take(kind, id)
    }
}

#[tokio::test]
async fn a_registration_lives_an_hour_until_its_client_obtains_a_token() {
    use mcp_auth_core::proxy::RecordKind;
    use mcp_auth_core::{ClientSecret, CustomConfig, CustomProvider, McpAuth, Mode};
    use mcp_auth_testkit::{ProxyClient, jwks};
    use std::time::Duration;
    let upstream = FakeIdp::start(jwks(&[])).await;
    upstream.add_confidential_client("pre-registered", "s3cret");
    upstream.set_access_token("upstream-access".into());
    let store = std::sync::Arc::new(RecordingStore::default());
    let mut config = CustomConfig::new(upstream.issuer());
    config.jwks_url = Some(upstream.jwks_url());
    config.mode = Mode::Proxy;
    config.authorization_endpoint = Some(upstream.authorize_url());
    config.token_endpoint = Some(upstream.token_url());
    let provider = CustomProvider::new(config)
        .expect("provider")
        .with_proxy_client("pre-registered", Some(ClientSecret::new("s3cret")));
    let shared = store.clone();
    let server = mcp_auth_testkit::McpServer::start(move |resource| {
        let auth = McpAuth::builder(provider)
            .resource_url(resource)
            .proxy_store(shared)
            .build()
            .expect("resource");
        axum::Router::new()
            .route("/mcp", axum::routing::any(|| async { "mcp" }))
            .layer(auth.layer())
            .merge(auth.routes())
    })
    .await;
    let client = ProxyClient::register(&server.base, CLIENT_REDIRECT).await;
    let clients = |store: &RecordingStore| -> Vec<Duration> {
        let ttls = store.ttls.lock().expect("lock");
        ttls.iter()
            .filter(|(k, _)| *k == RecordKind::Client)
            .map(|(_, t)| *t)
            .collect()
    };
    assert_eq!(
        clients(&store),
        [Duration::from_secs(3600)],
        "unused: an hour"
    );
    let back = client.log_in(&mut Browser::default(), &[]).await;
    let (status, _) = client.redeem(&back["code"]).await;
    assert_eq!(status, 200);
    let ttls = clients(&store);
    assert!(
        ttls.last()
            .is_some_and(|t| *t >= Duration::from_secs(30 * 86_400)),
        "used: kept long: {ttls:?}"
    );
}

#[tokio::test]
async fn an_overlong_upstream_client_id_is_a_502_and_nothing_is_stored() {
    let s = relay().await;
    s.upstream.set_registered_client_id(&"c".repeat(300));
    let resp = s
        .post_register(&json!({"redirect_uris": [CLIENT_REDIRECT]}))
        .await;
    assert_eq!(resp.status(), 502);
    let body: Value = resp.json().await.expect("json");
    assert_eq!(body["error"], "temporarily_unavailable");
}

#[tokio::test]
async fn proxy_mode_without_registration_or_client_serves_no_oauth_route() {
    // Neither strategy applies: rather than pass clients through to another
    // issuer, no /authorize, /token or /register is ever served. The
    // configuration error, once logged while the routes were built, is now
    // `build()`'s, naming proxy mode and both ways to fix it.
    let upstream = FakeIdp::start(mcp_auth_testkit::jwks(&[])).await;
    let mut config = mcp_auth_core::CustomConfig::new(upstream.issuer());
    config.jwks_url = Some(upstream.jwks_url());
    config.mode = mcp_auth_core::Mode::Proxy;
    config.authorization_endpoint = Some(upstream.authorize_url());
    config.token_endpoint = Some(upstream.token_url());
    config.registration_endpoint = None;
    let err = mcp_auth_core::McpAuth::builder(
        mcp_auth_core::CustomProvider::new(config).expect("provider"),
    )
    .resource_url("http://127.0.0.1:9/mcp")
    .build()
    .expect_err("proxy mode without a strategy")
    .to_string();
    assert!(err.contains("proxy mode"), "{err}");
    assert!(err.contains("registration endpoint"), "{err}");
    assert!(err.contains("pre-registered upstream client"), "{err}");
    // The same provider in direct mode (no OAuth routes to serve) is fine, and
    // its discovery answers.
    let mut config = mcp_auth_core::CustomConfig::new(upstream.issuer());
    config.jwks_url = Some(upstream.jwks_url());
    config.mode = mcp_auth_core::Mode::Direct;
    let user_id = axum::routing::any(|| async { "user" });
    let server = mcp_auth_testkit::McpServer::protected(
        mcp_auth_core::CustomProvider::new(config).expect("provider"),
        user_id,
    )
    .await;
    let http = mcp_auth_testkit::no_redirects();
    for (method, path) in [
        (reqwest::Method::GET, "/authorize"),
        (reqwest::Method::POST, "/token"),
        (reqwest::Method::POST, "/register"),
    ] {
        let resp = http
            .request(method, server.url(path))
            .send()
            .await
            .expect("send");
        assert_eq!(resp.status(), 404, "{path}");
    }
    let resp = http
        .get(server.url("/.well-known/oauth-protected-resource/mcp"))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 200);
}
