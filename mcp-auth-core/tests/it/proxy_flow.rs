//! Proxy mode against a local fake upstream authorization server over real HTTP:
//! the code flow with PKCE through our /authorize and /token, refresh, error
//! mapping, the pre-registered client's secret, limits, and upstream failure.

use crate::common;

use std::collections::HashMap;
use std::time::Duration;

use common::Setup;
use mcp_auth_testkit::s256_challenge;
use mcp_auth_testkit::{Codes, RefreshTokens, binding_cookie, unreachable_url};
use serde_json::{Value, json};

const REDIRECT: &str = "http://127.0.0.1:9/callback";
const VERIFIER: &str = "proxy-test-verifier-0123456789-abcdefghijklmnopqrstuv";

async fn setup(token_endpoint_override: Option<String>) -> Setup {
    common::setup(
        "proxied-user",
        None,
        token_endpoint_override,
        |upstream, config| {
            upstream.set_codes(Codes::Fixed("upstream-code".into()));
            upstream.set_refresh_tokens(RefreshTokens::Fixed("r1".into()));
            config.registration_endpoint = Some(upstream.register_url());
        },
    )
    .await
}

fn authorize_query(client_id: &str) -> Vec<(&'static str, String)> {
    vec![
        ("response_type", "code".into()),
        ("client_id", client_id.into()),
        ("redirect_uri", REDIRECT.into()),
        ("code_challenge", s256_challenge(VERIFIER)),
        ("code_challenge_method", "S256".into()),
        ("state", "client state ~/=".into()),
        ("resource", "will-be-forwarded".into()),
    ]
}

#[tokio::test]
async fn code_flow_with_pkce_and_refresh_through_the_proxy() {
    let s = setup(None).await;
    let asm: Value = s.get_json("/.well-known/oauth-authorization-server").await;
    assert_eq!(asm["issuer"], json!(s.base));
    assert_eq!(
        asm["authorization_endpoint"],
        json!(format!("{}/authorize", s.base))
    );
    assert_eq!(
        asm["registration_endpoint"],
        json!(format!("{}/register", s.base))
    );
    assert_eq!(
        asm["authorization_response_iss_parameter_supported"],
        json!(true)
    );

    let reg: Value = s
        .post_register(&json!({"redirect_uris": [REDIRECT]}))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(reg["client_id"], "dcr-client");

    // Our /authorize sends the browser upstream with the client's parameters plus the provider's.
    let resp = get_authorize(&s, &authorize_query("dcr-client")).await;
    assert_eq!(resp.status(), 303);
    let browser = binding_cookie(&resp);
    let upstream_url = resp.headers()["location"]
        .to_str()
        .expect("ascii")
        .to_owned();
    let resp = s.http.get(&upstream_url).send().await.expect("upstream");
    let q = s.upstream.authorize_queries()[0].clone();
    // A client registered through us is relayed: the upstream sees our callback
    // and a state of ours, the client's own are kept here.
    let callback = registered_callback(&s, 0);
    assert_eq!(q["redirect_uri"], callback);
    assert_ne!(q["state"], "client state ~/=");
    assert_eq!(q["audience"], "https://api.example.com");
    assert_eq!(q["resource"], "will-be-forwarded");
    assert_eq!(q["code_challenge"], s256_challenge(VERIFIER));
    let relayed = resp.headers()["location"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(relayed.starts_with(&callback), "{relayed}");
    let resp = s.in_browser(&relayed, &browser).await;
    let back = url::Url::parse(resp.headers()["location"].to_str().expect("ascii")).expect("a URL");
    assert!(back.as_str().starts_with(REDIRECT), "{back}");
    let pairs: Vec<(String, String)> = back.query_pairs().into_owned().collect();
    assert_eq!(
        pairs,
        [
            ("code".to_owned(), "upstream-code".to_owned()),
            ("state".to_owned(), "client state ~/=".to_owned()),
            ("iss".to_owned(), s.base.clone()),
        ],
        "the client's state comes back unchanged, with our iss (RFC 9207)"
    );
    // The state was single-use.
    let again = s.in_browser(&relayed, &browser).await;
    assert_eq!(again.status(), 400);

    let resp = s
        .post_token(&[
            ("grant_type", "authorization_code"),
            ("code", "upstream-code"),
            ("code_verifier", VERIFIER),
            ("client_id", "dcr-client"),
            ("redirect_uri", REDIRECT),
        ])
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let tokens: Value = resp.json().await.expect("json");
    let access = tokens["access_token"].as_str().expect("token");
    let who = s.call_mcp(access).await;
    assert_eq!(who.text().await.expect("text"), "proxied-user");
    assert!(
        !s.upstream.token_forms()[0].contains_key("client_secret"),
        "no secret for a DCR client"
    );
    assert_eq!(
        s.upstream.token_forms()[0]["redirect_uri"],
        callback,
        "the code is redeemed with the redirect URI it was issued to"
    );

    let resp = s
        .post_token(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", "r1"),
            ("client_id", "dcr-client"),
        ])
        .await;
    assert_eq!(resp.status(), 200);
    // A wrong verifier is the upstream's invalid_grant, passed through.
    let resp = s
        .post_token(&[
            ("grant_type", "authorization_code"),
            ("code", "upstream-code"),
            ("code_verifier", "x".repeat(43).as_str()),
            ("client_id", "dcr-client"),
        ])
        .await;
    assert_oauth_error(resp, 400, "invalid_grant").await;
}

#[tokio::test]
async fn a_client_unknown_here_is_told_to_register_again_and_never_passed_upstream() {
    // After a restart with the in-memory store, or for a client registered
    // upstream directly (even the pre-registered one): /authorize shows an
    // error, /token answers invalid_client, and the upstream is never asked, so
    // no client receives the upstream's iss under our metadata.
    let s = setup(None).await;
    for client in ["pre-registered", "registered-before-restart"] {
        let resp = get_authorize(&s, &authorize_query(client)).await;
        assert_eq!(resp.status(), 400, "{client}");
        assert!(resp.headers().get("location").is_none(), "never redirected");
        let resp = s
            .post_token(&[
                ("grant_type", "authorization_code"),
                ("code", "upstream-code"),
                ("code_verifier", VERIFIER),
                ("client_id", client),
            ])
            .await;
        assert_oauth_error(resp, 401, "invalid_client").await;
        let resp = s
            .post_token(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", "r1"),
                ("client_id", client),
            ])
            .await;
        assert_oauth_error(resp, 401, "invalid_client").await;
    }
    assert!(s.upstream.authorize_queries().is_empty());
    assert!(s.upstream.token_forms().is_empty());
}

#[tokio::test]
async fn bad_requests_are_refused_here() {
    let s = setup(None).await;
    for (k, v) in [
        ("redirect_uri", "http://evil.example.com/cb"),
        ("code_challenge_method", "plain"),
        ("response_type", "token"),
        ("code_challenge", "short"),
    ] {
        let mut q = authorize_query("dcr-client");
        q.retain(|(qk, _)| *qk != k);
        q.push((k, v.into()));
        let resp = get_authorize(&s, &q).await;
        assert_eq!(resp.status(), 400, "{k}={v}");
        assert!(
            resp.headers().get("location").is_none(),
            "never redirected: {k}={v}"
        );
    }
    let resp = s
        .post_register(&json!({"redirect_uris": ["http://evil.example.com/cb"]}))
        .await;
    assert_eq!(resp.status(), 400);
    let resp = s
        .post_token(&[("grant_type", "password"), ("username", "u")])
        .await;
    assert_eq!(
        resp.json::<Value>().await.expect("json")["error"],
        "unsupported_grant_type"
    );
    let big = format!(
        "grant_type=refresh_token&refresh_token={}",
        "x".repeat(64 * 1024)
    );
    let resp = s
        .http
        .post(format!("{}/token", s.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(big)
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 413);
}

#[tokio::test]
async fn upstream_down_is_502_json_without_hanging() {
    let dead = unreachable_url("/token").await;
    let s = setup(Some(dead)).await;
    register(&s, "c").await;
    let resp = tokio::time::timeout(
        Duration::from_secs(20),
        s.http
            .post(format!("{}/token", s.base))
            .form(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", "r1"),
                ("client_id", "c"),
            ])
            .send(),
    )
    .await
    .expect("no hang")
    .expect("send");
    assert_eq!(resp.status(), 502);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let body: Value = resp.json().await.expect("json");
    assert_eq!(body["error"], "temporarily_unavailable");
    assert!(
        !body["error_description"]
            .as_str()
            .expect("text")
            .contains("127.0.0.1"),
        "no upstream internals"
    );
}

#[tokio::test]
async fn the_pre_registered_secret_never_buys_a_client_credentials_token() {
    let s = setup(None).await;
    let resp = s
        .post_token(&[
            ("grant_type", "client_credentials"),
            ("client_id", "pre-registered"),
        ])
        .await;
    assert_oauth_error(resp, 401, "invalid_client").await;
    let forms = s.upstream.token_forms();
    assert!(forms.is_empty(), "forwarded: {forms:?}");
}

/// The redirect URI the upstream got for the `n`th client registered through
/// us: a callback of ours, of that client alone.
fn registered_callback(s: &Setup, n: usize) -> String {
    let registration = &s.upstream.registrations()[n];
    let uris = registration["redirect_uris"]
        .as_array()
        .expect("redirect_uris");
    assert_eq!(uris.len(), 1, "{registration}");
    let callback = uris[0].as_str().expect("a URI").to_owned();
    let prefix = format!("{}/oauth/callback/", s.base);
    assert!(
        callback.starts_with(&prefix) && callback.len() > prefix.len() + 16,
        "{callback}"
    );
    callback
}

/// Registers a relayed client that the upstream will call `client_id`.
async fn register(s: &Setup, client_id: &str) {
    s.upstream.set_registered_client_id(client_id);
    let resp = s.post_register(&json!({"redirect_uris": [REDIRECT]})).await;
    assert_eq!(resp.status(), 201);
}

/// GETs our `/authorize` with `query`.
async fn get_authorize(s: &Setup, query: &[(&str, String)]) -> reqwest::Response {
    s.http
        .get(format!("{}/authorize", s.base))
        .query(query)
        .send()
        .await
        .expect("GET /authorize")
}

/// Asserts an OAuth error answer: its status and `error` code.
async fn assert_oauth_error(resp: reqwest::Response, status: u16, error: &str) {
    assert_eq!(resp.status(), status);
    assert_eq!(
        resp.json::<Value>().await.expect("JSON error")["error"],
        error
    );
}

/// The `Location` of a redirect, parsed, with its query pairs.
fn location(resp: &reqwest::Response) -> (url::Url, HashMap<String, String>) {
    let url = url::Url::parse(resp.headers()["location"].to_str().expect("ascii Location"))
        .expect("Location is a URL");
    let pairs = url.query_pairs().into_owned().collect();
    (url, pairs)
}

#[tokio::test]
async fn relayed_clients_are_held_to_their_registration() {
    let s = setup(None).await;
    let resp = s
        .post_register(&json!({"redirect_uris": [REDIRECT], "token_endpoint_auth_method": "none"}))
        .await;
    assert_eq!(resp.status(), 201);
    let callback = registered_callback(&s, 0);
    assert_eq!(
        s.upstream.registrations()[0]["redirect_uris"],
        json!([callback])
    );

    // A loopback URI the client did not register: refused here, never redirected.
    let mut q = authorize_query("dcr-client");
    q.retain(|(k, _)| *k != "redirect_uri");
    q.push(("redirect_uri", "http://127.0.0.1:9/elsewhere".into()));
    let resp = get_authorize(&s, &q).await;
    assert_eq!(resp.status(), 400);
    assert!(resp.headers().get("location").is_none());

    // A response naming another issuer is refused (RFC 9207 mix-up defence).
    let resp = get_authorize(&s, &authorize_query("dcr-client")).await;
    let browser = binding_cookie(&resp);
    let state = location(&resp).1["state"].clone();
    let resp = s
        .http
        .get(&callback)
        .header("cookie", &browser)
        .query(&[
            ("code", "c"),
            ("state", state.as_str()),
            ("iss", "https://mix-up.example.com"),
        ])
        .send()
        .await
        .expect("send");
    let (url, pairs) = location(&resp);
    assert!(url.as_str().starts_with(REDIRECT));
    assert_eq!(pairs["error"], "server_error");
    assert_eq!(pairs["state"], "client state ~/=");
    assert!(!pairs.contains_key("code"));

    // The upstream's refusal reaches the client with its state.
    s.upstream.set_deny_authorizations(true);
    let resp = get_authorize(&s, &authorize_query("dcr-client")).await;
    let browser = binding_cookie(&resp);
    let (upstream, _) = location(&resp);
    let resp = s
        .http
        .get(upstream.as_str())
        .send()
        .await
        .expect("upstream");
    let (relayed, _) = location(&resp);
    let resp = s.in_browser(relayed.as_str(), &browser).await;
    let (url, pairs) = location(&resp);
    assert!(url.as_str().starts_with(REDIRECT));
    assert_eq!(pairs["error"], "access_denied");
    assert_eq!(pairs["state"], "client state ~/=");

    // A code redeemed with a redirect URI the client did not register: refused
    // before the upstream is asked.
    let resp = s
        .post_token(&[
            ("grant_type", "authorization_code"),
            ("code", "upstream-code"),
            ("code_verifier", VERIFIER),
            ("client_id", "dcr-client"),
            ("redirect_uri", "http://127.0.0.1:9/elsewhere"),
        ])
        .await;
    assert_oauth_error(resp, 400, "invalid_grant").await;
    assert!(s.upstream.token_forms().is_empty());
}

#[tokio::test]
async fn a_state_started_by_one_client_never_carries_another_clients_code() {
    let s = setup(None).await;
    let register = |client_id: &'static str, uri: &'static str| {
        s.upstream.set_registered_client_id(client_id);
        s.http
            .post(format!("{}/register", s.base))
            .json(&json!({"redirect_uris": [uri], "token_endpoint_auth_method": "none"}))
            .send()
    };
    assert_eq!(
        register("victim", REDIRECT).await.expect("send").status(),
        201
    );
    let victim_callback = registered_callback(&s, 0);
    assert_eq!(
        register("attacker", "https://attacker.example.com/cb")
            .await
            .expect("send")
            .status(),
        201
    );
    let attacker_callback = registered_callback(&s, 1);
    assert_ne!(
        victim_callback, attacker_callback,
        "one callback per client"
    );

    // The attacker starts a flow as its own client and keeps our state...
    let mut q = authorize_query("attacker");
    q.retain(|(k, _)| *k != "redirect_uri");
    q.push(("redirect_uri", "https://attacker.example.com/cb".into()));
    q.push(("response_mode", "fragment".into()));
    q.push((
        "request_uri",
        "https://attacker.example.com/request.jwt".into(),
    ));
    let resp = get_authorize(&s, &q).await;
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let (upstream, pairs) = location(&resp);
    assert_eq!(pairs["response_mode"], "query", "{upstream}");
    assert!(!pairs.contains_key("request_uri"), "{upstream}");
    let attackers_state = pairs["state"].clone();

    // ...and lures the victim into an upstream authorization of the victim's
    // client with that state: the victim's code arrives at the victim's callback
    // and is not delivered anywhere.
    let resp = s
        .http
        .get(&victim_callback)
        .query(&[
            ("code", "victims-code"),
            ("state", attackers_state.as_str()),
        ])
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 400);
    assert!(resp.headers().get("location").is_none());
}

#[tokio::test]
async fn a_token_request_names_one_client() {
    let s = setup(None).await;
    let resp = s.post_register(&json!({"redirect_uris": [REDIRECT]})).await;
    assert_eq!(resp.status(), 201);
    // Basic credentials of another client than the form's: refused before the
    // upstream is asked, so the relay's checks always apply to the right client.
    let resp = s
        .http
        .post(format!("{}/token", s.base))
        .basic_auth("someone-else", Some("x"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", "upstream-code"),
            ("code_verifier", VERIFIER),
            ("client_id", "dcr-client"),
            ("redirect_uri", "http://127.0.0.1:9/elsewhere"),
        ])
        .send()
        .await
        .expect("send");
    assert_oauth_error(resp, 401, "invalid_client").await;
    // The relayed client named by Basic credentials alone is still checked.
    let resp = s
        .http
        .post(format!("{}/token", s.base))
        .basic_auth("dcr-client", None::<&str>)
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", "upstream-code"),
            ("code_verifier", VERIFIER),
            ("redirect_uri", "http://127.0.0.1:9/elsewhere"),
        ])
        .send()
        .await
        .expect("send");
    assert_oauth_error(resp, 400, "invalid_grant").await;
    assert!(s.upstream.token_forms().is_empty());
}

#[tokio::test]
async fn a_shared_proxy_store_keeps_relayed_clients_for_the_next_server() {
    use std::sync::Arc;

    use axum::Router;
    use axum::routing::any;
    use mcp_auth_core::proxy::MemoryStore;
    use mcp_auth_core::{CustomConfig, CustomProvider, McpAuth, Mode};
    use mcp_auth_testkit::{FakeIdp, McpServer, jwks, no_redirects};

    let upstream = FakeIdp::start(jwks(&[])).await;
    let store = Arc::new(MemoryStore::default());
    let serve = |store: Arc<MemoryStore>| {
        let mut config = CustomConfig::new(upstream.issuer());
        config.jwks_url = Some(upstream.jwks_url());
        config.mode = Mode::Proxy;
        config.authorization_endpoint = Some(upstream.authorize_url());
        config.token_endpoint = Some(upstream.token_url());
        config.registration_endpoint = Some(upstream.register_url());
        let provider = CustomProvider::new(config).expect("provider");
        McpServer::start(move |resource| {
            let auth = McpAuth::builder(provider)
                .resource_url(resource)
                .proxy_store(store)
                .build()
                .expect("resource");
            Router::new()
                .route("/mcp", any(|| async { "mcp" }))
                .layer(auth.layer())
                .merge(auth.routes())
        })
    };
    let http = no_redirects();
    let first = serve(Arc::clone(&store)).await;
    let resp = http
        .post(format!("{}/register", first.base))
        .json(&json!({"redirect_uris": [REDIRECT]}))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 201);

    // Another server on the same store (a restart, a replica) knows the client:
    // its redirect URIs are enforced here rather than passed upstream.
    let second = serve(store).await;
    let mut q = authorize_query("dcr-client");
    q.retain(|(k, _)| *k != "redirect_uri");
    q.push(("redirect_uri", "http://127.0.0.1:9/elsewhere".into()));
    let resp = http
        .get(format!("{}/authorize", second.base))
        .query(&q)
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 400);
    let resp = http
        .get(format!("{}/authorize", second.base))
        .query(&authorize_query("dcr-client"))
        .send()
        .await
        .expect("send");
    let (upstream_url, pairs) = location(&resp);
    assert!(
        pairs["redirect_uri"].contains("/oauth/callback/"),
        "relayed: {upstream_url}"
    );
}

/// Loopback aliases (issue 16): a client that reached this server as
/// `localhost` names `http://localhost:PORT/mcp` as its resource; the upstream
/// knows the configured `http://127.0.0.1:PORT/mcp` only, so the relay sends
/// that one, at `/authorize` and at `/token` alike. A resource that is not an
/// alias of ours (another port) is the upstream's to judge, sent unchanged.
#[tokio::test]
async fn a_loopback_alias_of_the_resource_reaches_the_upstream_as_the_configured_url() {
    let s = setup(None).await;
    register(&s, "dcr-client").await;
    let configured = format!("{}/mcp", s.base);
    let port = url::Url::parse(&s.base)
        .expect("base")
        .port()
        .expect("port");
    let alias = format!("http://localhost:{port}/mcp");
    let elsewhere = format!("http://localhost:{}/mcp", port.wrapping_add(1));

    for (named, sent) in [(&alias, &configured), (&elsewhere, &elsewhere)] {
        let mut query = authorize_query("dcr-client");
        query.retain(|(k, _)| *k != "resource");
        query.push(("resource", named.clone()));
        let resp = get_authorize(&s, &query).await;
        assert_eq!(resp.status(), 303);
        let (_, q) = location(&resp);
        assert_eq!(&q["resource"], sent, "authorize with resource {named}");
    }

    let before = s.upstream.token_forms().len();
    let _ = s
        .post_token(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", "r1"),
            ("client_id", "dcr-client"),
            ("resource", alias.as_str()),
        ])
        .await;
    let forms = s.upstream.token_forms();
    assert_eq!(forms.len(), before + 1, "the refresh went upstream");
    assert_eq!(forms[before]["resource"], configured);
}
