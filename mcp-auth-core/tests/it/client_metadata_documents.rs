//! Client ID Metadata Documents (checklist item 16) at the dev issuer, over
//! HTTP: a client identified by a URL that a test server on 127.0.0.1 hosts
//! logs in, gets tokens, calls the MCP endpoint and refreshes; every refusal
//! (mismatched client_id, redirect not listed, oversized, not JSON, 404,
//! timeout, private address, http off loopback, secret fields) is an error
//! page at /authorize (never a redirect) and 401 `invalid_client` at /token;
//! documents are cached per `Cache-Control`, failures briefly, one fetch for
//! concurrent requests.
#![cfg(feature = "dev-issuer")]

use std::time::Duration;

use axum::Router;
use axum::routing::post;
use mcp_auth_core::dev_issuer::{DevIssuer, DevIssuerConfig};
use mcp_auth_core::{AuthContext, McpAuth};
use mcp_auth_testkit::s256_challenge;
use mcp_auth_testkit::{
    DocumentServer, Served, client_metadata_document, location, no_redirects, query_of, serve_with,
};
use serde_json::{Value, json};

const VERIFIER: &str = "a-pkce-code-verifier-for-a-cimd-client-0123456789";
const REDIRECT: &str = "http://127.0.0.1:9/callback";

struct App {
    base: String,
    resource: String,
    http: reqwest::Client,
}

/// The dev issuer (auto-approving) in front of `/mcp`, which answers the
/// caller's client id; `tweak` changes its settings.
async fn start(tweak: impl FnOnce(&mut DevIssuerConfig)) -> App {
    let (_, base) = serve_with(|base| {
        let resource = format!("{base}/mcp");
        let mut config = DevIssuerConfig::new(base, &resource);
        config.auto_approve = true;
        tweak(&mut config);
        let issuer = DevIssuer::new(config).expect("issuer");
        let auth = McpAuth::builder(issuer.provider(&issuer.jwks_url()).expect("provider"))
            .resource_url(&resource)
            .build()
            .expect("url");
        Router::new()
            .route(
                "/mcp",
                post(|who: AuthContext| async move {
                    axum::Json(json!({"client_id": who.client_id(), "sub": who.user().user_id}))
                }),
            )
            .layer(auth.layer())
            .merge(auth.routes())
            .merge(issuer.routes())
    })
    .await;
    App {
        resource: format!("{base}/mcp"),
        base,
        http: no_redirects(),
    }
}

impl App {
    /// `GET path`, as JSON.
    async fn get_json(&self, path: &str) -> Value {
        self.http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .expect("send")
            .json()
            .await
            .expect("json")
    }

    async fn authorize(&self, client_id: &str, redirect_uri: &str) -> reqwest::Response {
        let challenge = s256_challenge(VERIFIER);
        self.http
            .get(format!("{}/authorize", self.base))
            .query(&[
                ("response_type", "code"),
                ("client_id", client_id),
                ("redirect_uri", redirect_uri),
                ("code_challenge", challenge.as_str()),
                ("code_challenge_method", "S256"),
                ("state", "cimd-state"),
                ("scope", "mcp:tools"),
                ("resource", self.resource.as_str()),
            ])
            .send()
            .await
            .expect("GET /authorize")
    }

    async fn token(&self, form: &[(&str, &str)]) -> (u16, Value) {
        let resp = self
            .http
            .post(format!("{}/token", self.base))
            .form(form)
            .send()
            .await
            .expect("POST /token");
        (resp.status().as_u16(), resp.json().await.expect("json"))
    }

    /// The code the dev issuer hands `client_id` (the whole authorization).
    async fn code(&self, client_id: &str) -> String {
        let resp = self.authorize(client_id, REDIRECT).await;
        assert_eq!(resp.status(), 303, "{:?}", resp.text().await);
        let target = location(&resp);
        assert!(target.starts_with(REDIRECT), "{target}");
        let q = query_of(&target);
        assert_eq!(q["state"], "cimd-state");
        assert_eq!(q["iss"], self.base);
        q["code"].clone()
    }

    /// `/authorize` must show an error page (no redirect anywhere) that does
    /// not tell why, and `/token` must answer 401 `invalid_client`.
    async fn assert_refused(&self, client_id: &str) {
        let resp = self.authorize(client_id, REDIRECT).await;
        assert_eq!(resp.status(), 400, "an error page");
        assert!(resp.headers().get("location").is_none(), "never a redirect");
        let body: Value = resp.json().await.expect("json");
        assert_eq!(body["error"], "invalid_request");
        let description = body["error_description"].as_str().expect("description");
        assert!(
            description.contains("metadata document") && description.contains("log"),
            "{description}"
        );
        let (status, body) = self
            .token(&[
                ("grant_type", "authorization_code"),
                ("client_id", client_id),
                ("code", "x"),
                ("code_verifier", VERIFIER),
            ])
            .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (401, Some("invalid_client"))
        );
    }
}

#[tokio::test]
async fn a_cimd_client_logs_in_calls_and_refreshes_at_the_dev_issuer() {
    let docs = DocumentServer::start().await;
    let client_id = docs.host_client("/oauth/client.json", &[REDIRECT]);
    let app = start(|_| {}).await;

    let meta: Value = app
        .get_json("/.well-known/oauth-authorization-server")
        .await;
    assert_eq!(meta["client_id_metadata_document_supported"], true);

    let code = app.code(&client_id).await;
    let (status, tokens) = app
        .token(&[
            ("grant_type", "authorization_code"),
            ("client_id", &client_id),
            ("code", &code),
            ("code_verifier", VERIFIER),
            ("redirect_uri", REDIRECT),
        ])
        .await;
    assert_eq!(status, 200, "{tokens}");
    let access = tokens["access_token"].as_str().expect("access token");
    let resp = app
        .http
        .post(format!("{}/mcp", app.base))
        .bearer_auth(access)
        .send()
        .await
        .expect("POST /mcp");
    assert_eq!(resp.status(), 200);
    let who: Value = resp.json().await.expect("json");
    assert_eq!(
        who["client_id"],
        client_id.as_str(),
        "the token names the URL"
    );

    let refresh = tokens["refresh_token"].as_str().expect("refresh token");
    let (status, renewed) = app
        .token(&[
            ("grant_type", "refresh_token"),
            ("client_id", &client_id),
            ("refresh_token", refresh),
        ])
        .await;
    assert_eq!(status, 200, "{renewed}");
    // A secret is refused: the client is public, whatever it presents.
    let (status, body) = app
        .token(&[
            ("grant_type", "refresh_token"),
            ("client_id", &client_id),
            ("client_secret", "guess"),
            (
                "refresh_token",
                renewed["refresh_token"].as_str().expect("rt"),
            ),
        ])
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );
    // Everything above used one fetch of the document (cached).
    assert_eq!(docs.hits("/oauth/client.json"), 1);
}

#[tokio::test]
async fn a_document_naming_another_client_id_is_refused() {
    let docs = DocumentServer::start().await;
    let client_id = docs.url("/client.json");
    docs.serve(
        "/client.json",
        Served::json(&client_metadata_document(
            &docs.url("/other.json"),
            &[REDIRECT],
        )),
    );
    start(|_| {}).await.assert_refused(&client_id).await;
}

#[tokio::test]
async fn a_redirect_uri_the_document_does_not_list_is_refused_without_a_redirect() {
    let docs = DocumentServer::start().await;
    let client_id = docs.host_client("/client.json", &["http://127.0.0.1:9/elsewhere"]);
    let app = start(|_| {}).await;
    let resp = app.authorize(&client_id, REDIRECT).await;
    assert_eq!(resp.status(), 400);
    assert!(resp.headers().get("location").is_none(), "never a redirect");
    let body: Value = resp.json().await.expect("json");
    assert_eq!(body["error"], "invalid_request");
    assert!(
        body["error_description"]
            .as_str()
            .is_some_and(|d| d.contains("redirect_uri")),
        "{body}"
    );
}

#[tokio::test]
async fn an_oversized_document_is_refused() {
    let docs = DocumentServer::start().await;
    let client_id = docs.url("/big.json");
    let mut doc = client_metadata_document(&client_id, &[REDIRECT]);
    doc["padding"] = json!("x".repeat(6 * 1024));
    docs.serve("/big.json", Served::json(&doc));
    start(|_| {}).await.assert_refused(&client_id).await;
}

#[tokio::test]
async fn a_document_that_is_not_json_is_refused() {
    let docs = DocumentServer::start().await;
    let client_id = docs.url("/page.html");
    docs.serve("/page.html", Served::raw("<html>hello</html>"));
    start(|_| {}).await.assert_refused(&client_id).await;
}

#[tokio::test]
async fn a_missing_document_is_refused() {
    let docs = DocumentServer::start().await;
    start(|_| {})
        .await
        .assert_refused(&docs.url("/nowhere.json"))
        .await;
    assert!(docs.hits("/nowhere.json") >= 1, "it was fetched");
}

#[tokio::test]
async fn a_document_that_does_not_come_in_time_is_refused() {
    let docs = DocumentServer::start().await;
    let client_id = docs.url("/slow.json");
    let mut served = Served::json(&client_metadata_document(&client_id, &[REDIRECT]));
    // Longer than the default timeout too: without any timeout the fetch
    // would succeed, late.
    served.delay = Duration::from_secs(8);
    docs.serve("/slow.json", served);
    let app = start(|c| c.client_metadata.timeout = Duration::from_millis(300)).await;
    app.assert_refused(&client_id).await;
}

#[tokio::test]
async fn documents_at_private_addresses_are_never_fetched() {
    let app = start(|_| {}).await;
    for client_id in [
        "https://10.0.0.7/client.json",
        "https://192.168.1.1/client.json",
        "https://169.254.169.254/latest/meta-data/client.json",
        "https://[fd00::1]/client.json",
        "https://[::ffff:ac10:1]/client.json",
    ] {
        app.assert_refused(client_id).await;
    }
}

#[tokio::test]
async fn loopback_documents_are_refused_when_this_server_is_not_on_loopback() {
    let docs = DocumentServer::start().await;
    let client_id = docs.host_client("/client.json", &[REDIRECT]);
    let https_url = client_id.replace("http://", "https://");
    let localhost = format!(
        "https://localhost:{}/client.json",
        url::Url::parse(&client_id)
            .expect("url")
            .port()
            .expect("port")
    );
    // The issuer is served on 127.0.0.1, but the resource it protects is
    // public: no plain http, no loopback address.
    let app = start(|c| {
        c.resource = "https://mcp.example.com/mcp".into();
        c.client_metadata.loopback_allowed = false;
    })
    .await;
    for id in [&client_id, &https_url, &localhost] {
        app.assert_refused(id).await;
    }
    assert_eq!(docs.hits("/client.json"), 0, "nothing was fetched");
}

#[tokio::test]
async fn plain_http_documents_off_loopback_are_refused() {
    let app = start(|_| {}).await;
    app.assert_refused("http://app.example.com/client.json")
        .await;
}

#[tokio::test]
async fn documents_carrying_a_secret_or_a_secret_method_are_refused() {
    let docs = DocumentServer::start().await;
    let app = start(|_| {}).await;
    for (path, field, value) in [
        ("/secret.json", "client_secret", json!("s3cret")),
        ("/expires.json", "client_secret_expires_at", json!(0)),
        (
            "/basic.json",
            "token_endpoint_auth_method",
            json!("client_secret_basic"),
        ),
    ] {
        let client_id = docs.url(path);
        let mut doc = client_metadata_document(&client_id, &[REDIRECT]);
        doc[field] = value;
        docs.serve(path, Served::json(&doc));
        app.assert_refused(&client_id).await;
    }
}

#[tokio::test]
async fn a_document_is_fetched_once_while_cached_and_again_when_no_store() {
    let docs = DocumentServer::start().await;
    let client_id = docs.host_client("/cached.json", &[REDIRECT]);
    let app = start(|_| {}).await;
    app.code(&client_id).await;
    app.code(&client_id).await;
    assert_eq!(
        docs.hits("/cached.json"),
        1,
        "the second request used the cache"
    );

    let uncached = docs.url("/uncached.json");
    let mut served = Served::json(&client_metadata_document(&uncached, &[REDIRECT]));
    served.cache_control = Some("no-store".into());
    docs.serve("/uncached.json", served);
    app.code(&uncached).await;
    app.code(&uncached).await;
    assert_eq!(
        docs.hits("/uncached.json"),
        2,
        "no-store: fetched every time"
    );
}

#[tokio::test]
async fn a_failing_document_is_not_refetched_on_every_request() {
    let docs = DocumentServer::start().await;
    let client_id = docs.url("/later.json");
    let app = start(|_| {}).await;
    app.assert_refused(&client_id).await;
    let after_first = docs.hits("/later.json");
    assert_eq!(
        after_first, 1,
        "/authorize fetched; /token used the failure"
    );
    // Published now, but the failure is remembered for a while.
    docs.host_client("/later.json", &[REDIRECT]);
    app.assert_refused(&client_id).await;
    assert_eq!(docs.hits("/later.json"), 1, "negative cache");
}

#[tokio::test]
async fn concurrent_first_requests_fetch_the_document_once() {
    let docs = DocumentServer::start().await;
    let client_id = docs.url("/busy.json");
    let mut served = Served::json(&client_metadata_document(&client_id, &[REDIRECT]));
    served.delay = Duration::from_millis(300);
    docs.serve("/busy.json", served);
    let app = start(|_| {}).await;
    let requests = (0..8).map(|_| app.authorize(&client_id, REDIRECT));
    for resp in futures::future::join_all(requests).await {
        assert_eq!(resp.status(), 303);
    }
    assert_eq!(docs.hits("/busy.json"), 1, "single flight");
}

/// Attack: fetches run at most `max_concurrent_fetches` at once, and the
/// attacker chooses how long a fetch of its own documents takes (up to the
/// timeout). Holding every slot with slow URLs of its own, it made every
/// client whose cached document had expired an unknown client, for as long
/// as it kept going. A client whose document was fetched within the last
/// `max_ttl` is served its last good document while every slot is taken.
#[tokio::test]
async fn slow_documents_of_an_attacker_do_not_lock_out_known_clients() {
    let docs = DocumentServer::start().await;
    // Refetched on every request: the cache never answers for it.
    let known = docs.url("/known.json");
    let mut served = Served::json(&client_metadata_document(&known, &[REDIRECT]));
    served.cache_control = Some("no-store".into());
    docs.serve("/known.json", served);
    let app = start(|c| c.client_metadata.max_concurrent_fetches = 2).await;
    app.code(&known).await;

    let attacker = DocumentServer::start().await;
    let slow: Vec<String> = (0..2)
        .map(|i| {
            let path = format!("/slow-{i}.json");
            let mut served =
                Served::json(&client_metadata_document(&attacker.url(&path), &[REDIRECT]));
            served.delay = Duration::from_secs(4);
            attacker.serve(&path, served);
            attacker.url(&path)
        })
        .collect();
    let holding = futures::future::join_all(slow.iter().map(|id| app.authorize(id, REDIRECT)));
    let known_during_attack = async {
        // Once both slow fetches are under way, every slot is taken.
        while attacker.hits("/slow-0.json") + attacker.hits("/slow-1.json") < 2 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        app.authorize(&known, REDIRECT).await
    };
    let (_, resp) = tokio::join!(holding, known_during_attack);
    assert_eq!(resp.status(), 303, "{:?}", resp.text().await);
    let target = location(&resp);
    assert!(target.starts_with(REDIRECT), "{target}");
}
