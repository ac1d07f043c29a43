//! Proxy mode end to end against the fake tenant: an MCP client registers, is sent
//! to Auth0's `/authorize` with the API `audience` added, exchanges its code at
//! this server's `/token`, and calls `/mcp` with the Auth0 token it got.

use crate::common;

use common::{AUDIENCE, FakeAuth0, serve};
use mcp_auth_auth0::Auth0Provider;
use mcp_auth_testkit::{Browser, ProxyClient, no_redirects};
use serde_json::{Value, json};

/// The RFC 7636 example challenge (S256).
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const REDIRECT: &str = "http://127.0.0.1:33418/callback";

fn query_pairs(location: &str) -> (String, Vec<(String, String)>) {
    let url = url::Url::parse(location).expect("Location is a URL");
    let base = format!(
        "{}://{}{}",
        url.scheme(),
        url.host_str().unwrap_or_default(),
        url.port().map(|p| format!(":{p}")).unwrap_or_default()
    ) + url.path();
    (base, url.query_pairs().into_owned().collect())
}

#[tokio::test]
async fn register_authorize_token_then_call_mcp() {
    let tenant = FakeAuth0::start().await;
    let server = serve(Auth0Provider::new(tenant.config()).expect("provider")).await;
    let http = no_redirects();

    // 1. Dynamic client registration, forwarded to Auth0's /oidc/register.
    let resp = http
        .post(server.url("/register"))
        .json(&json!({"client_name": "Test MCP client", "redirect_uris": [REDIRECT]}))
        .send()
        .await
        .expect("POST /register");
    assert_eq!(resp.status(), 201);
    let client: Value = resp.json().await.expect("JSON");
    let client_id = client["client_id"].as_str().expect("client_id").to_owned();
    assert_eq!(tenant.registrations()[0]["client_name"], "Test MCP client");
    // Auth0 knows only our callback; the client is shown the URI it registered.
    let callback = tenant.registrations()[0]["redirect_uris"][0]
        .as_str()
        .expect("one redirect URI upstream")
        .to_owned();
    assert!(
        callback.starts_with(&server.url("/oauth/callback/")),
        "{callback}"
    );
    assert_eq!(
        tenant.registrations()[0]["redirect_uris"],
        json!([callback])
    );
    assert_eq!(client["redirect_uris"], json!([REDIRECT]));

    // 2. /authorize sends the browser to Auth0 with the audience added; a
    //    client-supplied audience cannot replace it. The response comes back
    //    through our callback, under a state of ours.
    let resp = http
        .get(server.url("/authorize"))
        .query(&[
            ("response_type", "code"),
            ("client_id", client_id.as_str()),
            ("redirect_uri", REDIRECT),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
            ("state", "st-42"),
            ("scope", "openid profile email offline_access"),
            ("audience", "https://attacker.example.com"),
            ("resource", server.resource.as_str()),
        ])
        .send()
        .await
        .expect("GET /authorize");
    assert!(resp.status().is_redirection(), "{}", resp.status());
    let binding = resp
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok()?.split(';').next())
        .find(|c| c.starts_with("mcp-auth-binding="))
        .expect("the flow is bound to this browser")
        .to_owned();
    let location = resp
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .expect("Location")
        .to_owned();
    let (endpoint, pairs) = query_pairs(&location);
    assert_eq!(endpoint, format!("{}/authorize", tenant.base()));
    let audiences: Vec<&str> = pairs
        .iter()
        .filter(|(k, _)| k == "audience")
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(audiences, [AUDIENCE], "{location}");
    let upstream_state = pairs
        .iter()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.clone())
        .expect("a state upstream");
    assert_ne!(upstream_state, "st-42");
    for (k, v) in [
        ("client_id", client_id.as_str()),
        ("redirect_uri", callback.as_str()),
        ("code_challenge", CHALLENGE),
        ("scope", "openid profile email offline_access"),
    ] {
        assert!(
            pairs.iter().any(|(pk, pv)| pk == k && pv == v),
            "{k} not passed on: {location}"
        );
    }

    // Auth0 answers our callback, which hands the code to the client's URI with
    // the client's state (and Auth0's `iss` checked, ours sent instead).
    let resp = http
        .get(&callback)
        .header("cookie", &binding)
        .query(&[
            ("code", "auth0-code-123"),
            ("state", upstream_state.as_str()),
            ("iss", &format!("{}/", tenant.base())),
        ])
        .send()
        .await
        .expect("GET /oauth/callback");
    let back = resp
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .expect("Location")
        .to_owned();
    let (target, pairs) = query_pairs(&back);
    assert_eq!(target, REDIRECT);
    assert_eq!(
        pairs,
        [
            ("code".to_owned(), "auth0-code-123".to_owned()),
            ("state".to_owned(), "st-42".to_owned()),
            ("iss".to_owned(), server.base.clone()),
        ]
    );

    // 3. The code is exchanged at this server's /token, forwarded to /oauth/token
    //    with the redirect URI Auth0 issued it to.
    let resp = http
        .post(server.url("/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", "auth0-code-123"),
            ("client_id", client_id.as_str()),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
        ])
        .send()
        .await
        .expect("POST /token");
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers()
            .get("cache-control")
            .and_then(|v| v.to_str().ok()),
        Some("no-store")
    );
    let tokens: Value = resp.json().await.expect("JSON");
    let access_token = tokens["access_token"].as_str().expect("access_token");
    let forwarded = &tenant.token_forms()[0];
    assert!(
        forwarded
            .iter()
            .any(|(k, v)| k == "code_verifier" && v == VERIFIER)
    );
    assert!(
        forwarded
            .iter()
            .any(|(k, v)| k == "redirect_uri" && *v == callback)
    );

    // 4. The Auth0 token opens /mcp.
    let seen = server.whoami(access_token).await;
    assert_eq!(seen["user"]["user_id"], "auth0|64f1c2d3e4b5a6978899aabb");
    assert_eq!(seen["user"]["roles"], json!(["admin", "editor"]));
}

#[tokio::test]
async fn a_pre_registered_client_makes_the_broker_and_its_secret_stays_here() {
    let tenant = FakeAuth0::start().await;
    let config = tenant
        .config()
        .with_client_id("preRegistered123")
        .with_client_secret("the-secret");
    let server = serve(Auth0Provider::new(config).expect("provider")).await;
    let client = ProxyClient::register(&server.base, REDIRECT).await;
    let back = client.log_in(&mut Browser::default(), &[]).await;
    let query = &tenant.authorize_queries()[0];
    assert_eq!(query["client_id"], "preRegistered123");
    assert_eq!(query["audience"], AUDIENCE);
    let forwarded = &tenant.token_forms()[0];
    assert!(
        forwarded
            .iter()
            .any(|(k, v)| k == "client_secret" && v == "the-secret"),
        "{forwarded:?}"
    );
    let (status, tokens) = client.redeem(&back["code"]).await;
    assert_eq!(status, 200, "{tokens}");
    assert!(!tokens.to_string().contains("the-secret"));
}

#[tokio::test]
async fn auth0s_refusal_comes_back_as_an_oauth_error() {
    let tenant = FakeAuth0::start().await;
    let server = serve(Auth0Provider::new(tenant.config()).expect("provider")).await;
    let client = ProxyClient::register(&server.base, REDIRECT).await;
    let (status, body) = client
        .token(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", "stale-token"),
        ])
        .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"], "invalid_grant");
}
