//! Proxy mode against a local fake upstream authorization server over real HTTP:
//! the code flow with PKCE through our /authorize and /token, refresh, error
//! mapping, the pre-registered client's secret, limits, and upstream failure.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{any, get, post};
use axum::{Form, Json, Router};
use mcp_auth_core::oauth::pkce::s256_challenge;
use mcp_auth_core::{
    Algorithm, AuthContext, ClientSecret, CustomConfig, CustomProvider, McpAuth, Mode,
};
use mcp_auth_testkit::{FakeIdp, TestKey, claims, jwks, unreachable_url};
use serde_json::{Value, json};

const REDIRECT: &str = "http://127.0.0.1:9/callback";
const VERIFIER: &str = "proxy-test-verifier-0123456789-abcdefghijklmnopqrstuv";

#[derive(Default)]
struct Upstream {
    authorize_queries: Mutex<Vec<HashMap<String, String>>>,
    token_forms: Mutex<Vec<HashMap<String, String>>>,
    challenge: Mutex<Option<String>>,
    token: Mutex<String>,
}

async fn up_authorize(
    State(u): State<Arc<Upstream>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    *u.challenge.lock().expect("lock") = q.get("code_challenge").cloned();
    let mut target = url::Url::parse(&q["redirect_uri"]).expect("redirect uri");
    target
        .query_pairs_mut()
        .append_pair("code", "upstream-code")
        .append_pair("state", q.get("state").map_or("", String::as_str));
    let target = target.to_string();
    u.authorize_queries.lock().expect("lock").push(q);
    Redirect::to(&target).into_response()
}

async fn up_token(
    State(u): State<Arc<Upstream>>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    u.token_forms.lock().expect("lock").push(f.clone());
    if f.get("client_id").map(String::as_str) == Some("pre-registered")
        && f.get("client_secret").map(String::as_str) != Some("s3cret")
    {
        return (
            axum::http::StatusCode::UNAUTHORIZED,
            Json(json!({"error": "unauthorized_client"})),
        )
            .into_response();
    }
    if f.get("client_id").map(String::as_str) == Some("stale-client") {
        return (
            axum::http::StatusCode::BAD_REQUEST,
            Json(json!({"error": "unauthorized_client"})),
        )
            .into_response();
    }
    match f.get("grant_type").map(String::as_str) {
        Some("authorization_code") => {
            let challenge = u
                .challenge
                .lock()
                .expect("lock")
                .clone()
                .unwrap_or_default();
            if f.get("code").map(String::as_str) != Some("upstream-code")
                || s256_challenge(f.get("code_verifier").map_or("", String::as_str)) != challenge
            {
                return (
                    axum::http::StatusCode::BAD_REQUEST,
                    Json(json!({"error": "invalid_grant"})),
                )
                    .into_response();
            }
        }
        Some("refresh_token") if f.get("refresh_token").map(String::as_str) == Some("r1") => {}
        _ => {
            return (
                axum::http::StatusCode::BAD_REQUEST,
                Json(json!({"error": "invalid_grant"})),
            )
                .into_response();
        }
    }
    Json(json!({"access_token": *u.token.lock().expect("lock"), "token_type": "Bearer", "expires_in": 3600, "refresh_token": "r1"})).into_response()
}

async fn up_register(Json(body): Json<Value>) -> Response {
    (
        axum::http::StatusCode::CREATED,
        Json(json!({"client_id": "dcr-client", "redirect_uris": body["redirect_uris"]})),
    )
        .into_response()
}

struct Setup {
    base: String,
    upstream: Arc<Upstream>,
    http: reqwest::Client,
    _idp: FakeIdp,
}

async fn setup(token_endpoint_override: Option<String>) -> Setup {
    let key = TestKey::rsa("k", Algorithm::RS256);
    let idp = FakeIdp::start(jwks(&[key.jwk()])).await;
    let upstream = Arc::new(Upstream::default());
    let up_listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let up = format!("http://{}", up_listener.local_addr().expect("addr"));
    let up_app = Router::new()
        .route("/authorize", get(up_authorize))
        .route("/token", post(up_token))
        .route("/register", post(up_register))
        .with_state(Arc::clone(&upstream));
    tokio::spawn(async move {
        let _ = axum::serve(up_listener, up_app).await;
    });

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let resource = format!("{base}/mcp");
    *upstream.token.lock().expect("lock") =
        key.sign(&claims(&idp.issuer(), &resource, "proxied-user"));
    let mut config = CustomConfig::new(idp.issuer());
    config.jwks_url = Some(idp.jwks_url());
    config.mode = Mode::Proxy;
    config.authorization_endpoint = Some(format!("{up}/authorize"));
    config.token_endpoint = Some(token_endpoint_override.unwrap_or(format!("{up}/token")));
    config.registration_endpoint = Some(format!("{up}/register"));
    config.grant_types_supported = vec![
        "authorization_code".into(),
        "refresh_token".into(),
        "client_credentials".into(),
    ];
    let provider = CustomProvider::new(config)
        .expect("provider")
        .with_proxy_client("pre-registered", Some(ClientSecret::new("s3cret")))
        .with_authorize_param("audience", "https://api.example.com");
    let auth = McpAuth::new(provider).resource_url(&resource).expect("url");
    let app = Router::new()
        .route(
            "/mcp",
            any(|who: AuthContext| async move { who.user().user_id.clone() }),
        )
        .layer(auth.layer())
        .merge(auth.routes());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    Setup {
        base,
        upstream,
        http,
        _idp: idp,
    }
}

fn authorize_query(client_id: &str) -> Vec<(&'static str, String)> {
    vec![
        ("response_type", "code".into()),
        ("client_id", client_id.into()),
        ("redirect_uri", REDIRECT.into()),
        ("code_challenge", s256_challenge(VERIFIER)),
        ("code_challenge_method", "S256".into()),
        ("state", "client state ✓/=".into()),
        ("resource", "will-be-forwarded".into()),
    ]
}

#[tokio::test]
async fn code_flow_with_pkce_and_refresh_through_the_proxy() {
    let s = setup(None).await;
    let asm: Value = s
        .http
        .get(format!("{}/.well-known/oauth-authorization-server", s.base))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
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
        json!(false)
    );

    let reg: Value = s
        .http
        .post(format!("{}/register", s.base))
        .json(&json!({"redirect_uris": [REDIRECT]}))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(reg["client_id"], "dcr-client");

    // Our /authorize sends the browser upstream with the client's parameters plus the provider's.
    let resp = s
        .http
        .get(format!("{}/authorize", s.base))
        .query(&authorize_query("dcr-client"))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 303);
    let upstream_url = resp.headers()["location"]
        .to_str()
        .expect("ascii")
        .to_owned();
    let resp = s.http.get(&upstream_url).send().await.expect("upstream");
    let q = s.upstream.authorize_queries.lock().expect("lock")[0].clone();
    assert_eq!(
        q["state"], "client state ✓/=",
        "state passes through unchanged"
    );
    assert_eq!(q["audience"], "https://api.example.com");
    assert_eq!(q["resource"], "will-be-forwarded");
    assert_eq!(q["redirect_uri"], REDIRECT);
    let back = resp.headers()["location"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(back.starts_with(REDIRECT) && back.contains("code=upstream-code"));

    let resp = s
        .http
        .post(format!("{}/token", s.base))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", "upstream-code"),
            ("code_verifier", VERIFIER),
            ("client_id", "dcr-client"),
            ("redirect_uri", REDIRECT),
        ])
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let tokens: Value = resp.json().await.expect("json");
    let access = tokens["access_token"].as_str().expect("token");
    let who = s
        .http
        .post(format!("{}/mcp", s.base))
        .bearer_auth(access)
        .send()
        .await
        .expect("send");
    assert_eq!(who.text().await.expect("text"), "proxied-user");
    assert!(
        !s.upstream.token_forms.lock().expect("lock")[0].contains_key("client_secret"),
        "no secret for a DCR client"
    );

    let resp = s
        .http
        .post(format!("{}/token", s.base))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", "r1"),
            ("client_id", "dcr-client"),
        ])
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 200);
    // A wrong verifier is the upstream's invalid_grant, passed through.
    let resp = s
        .http
        .post(format!("{}/token", s.base))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", "upstream-code"),
            ("code_verifier", "x".repeat(43).as_str()),
            ("client_id", "dcr-client"),
        ])
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 400);
    assert_eq!(
        resp.json::<Value>().await.expect("json")["error"],
        "invalid_grant"
    );
}

#[tokio::test]
async fn pre_registered_secret_is_injected_and_auth_failures_become_invalid_client() {
    let s = setup(None).await;
    let resp = s
        .http
        .get(format!("{}/authorize", s.base))
        .query(&authorize_query("pre-registered"))
        .send()
        .await
        .expect("send");
    let _ = s
        .http
        .get(resp.headers()["location"].to_str().expect("ascii"))
        .send()
        .await
        .expect("upstream");
    let resp = s
        .http
        .post(format!("{}/token", s.base))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", "upstream-code"),
            ("code_verifier", VERIFIER),
            ("client_id", "pre-registered"),
        ])
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 200);
    assert_eq!(
        s.upstream.token_forms.lock().expect("lock")[0]["client_secret"],
        "s3cret"
    );
    // unauthorized_client from the upstream is invalid_client (401) here.
    let resp = s
        .http
        .post(format!("{}/token", s.base))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", "r1"),
            ("client_id", "stale-client"),
        ])
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 401);
    assert_eq!(
        resp.json::<Value>().await.expect("json")["error"],
        "invalid_client"
    );
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
        let resp = s
            .http
            .get(format!("{}/authorize", s.base))
            .query(&q)
            .send()
            .await
            .expect("send");
        assert_eq!(resp.status(), 400, "{k}={v}");
        assert!(
            resp.headers().get("location").is_none(),
            "never redirected: {k}={v}"
        );
    }
    let resp = s
        .http
        .post(format!("{}/register", s.base))
        .json(&json!({"redirect_uris": ["http://evil.example.com/cb"]}))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 400);
    let resp = s
        .http
        .post(format!("{}/token", s.base))
        .form(&[("grant_type", "password"), ("username", "u")])
        .send()
        .await
        .expect("send");
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
        .http
        .post(format!("{}/token", s.base))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "pre-registered"),
        ])
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 401);
    assert_eq!(
        resp.json::<Value>().await.expect("json")["error"],
        "invalid_client"
    );
    let forms = s.upstream.token_forms.lock().expect("lock").clone();
    assert_eq!(forms.len(), 1);
    assert!(
        !forms[0].contains_key("client_secret"),
        "our secret was injected: {forms:?}"
    );
}
