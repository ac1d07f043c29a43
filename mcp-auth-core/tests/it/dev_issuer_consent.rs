//! The dev issuer's consent page cannot be driven by anyone but the browser
//! it was shown to (checklist item 15: CSRF-protected consent), and grants
//! `admin` only when the user ticks it: reproduced over HTTP with two cookie
//! jars (two browsers) and real tokens.
#![cfg(feature = "dev-issuer")]

use axum::Router;
use axum::routing::post;
use mcp_auth_core::dev_issuer::{DevIssuer, DevIssuerConfig};
use mcp_auth_core::{AuthContext, McpAuth};
use mcp_auth_testkit::s256_challenge;
use mcp_auth_testkit::{
    Browser, DocumentServer, hidden_input, location, no_redirects, query_of, serve_with,
};
use serde_json::{Value, json};

const VERIFIER: &str = "a-pkce-code-verifier-for-consent-tests-0123456789";
const REDIRECT: &str = "http://127.0.0.1:9/callback";

struct App {
    base: String,
    resource: String,
}

async fn start(auto_approve: bool) -> App {
    let (_, base) = serve_with(|base| {
        let resource = format!("{base}/mcp");
        let mut config = DevIssuerConfig::new(base, &resource);
        config.auto_approve = auto_approve;
        let issuer = DevIssuer::new(config).expect("issuer");
        let auth = McpAuth::builder(issuer.provider(&issuer.jwks_url()).expect("provider"))
            .resource_url(&resource)
            .build()
            .expect("url");
        Router::new()
            .route(
                "/mcp",
                post(|who: AuthContext| async move { axum::Json(json!({"scopes": who.scopes()})) }),
            )
            .layer(auth.layer())
            .merge(auth.routes())
            .merge(issuer.routes())
    })
    .await;
    App {
        resource: format!("{base}/mcp"),
        base,
    }
}

impl App {
    async fn register(&self) -> String {
        let resp = no_redirects()
            .post(format!("{}/register", self.base))
            .json(&json!({"redirect_uris": [REDIRECT], "token_endpoint_auth_method": "none", "client_name": "consent test"}))
            .send()
            .await
            .expect("register");
        assert_eq!(resp.status(), 201);
        let body: Value = resp.json().await.expect("json");
        body["client_id"].as_str().expect("id").to_owned()
    }

    fn authorize_url(&self, client_id: &str, scope: &str) -> String {
        let mut url = url::Url::parse(&format!("{}/authorize", self.base)).expect("url");
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", client_id)
            .append_pair("redirect_uri", REDIRECT)
            .append_pair("code_challenge", &s256_challenge(VERIFIER))
            .append_pair("code_challenge_method", "S256")
            .append_pair("state", "st")
            .append_pair("scope", scope)
            .append_pair("resource", &self.resource);
        url.into()
    }

    fn consent_url(&self) -> String {
        format!("{}/authorize/consent", self.base)
    }

    /// Answers the consent page `html` in `browser` with its hidden fields
    /// plus `extra`; the code the redirect to the client carries.
    async fn consent_code(
        &self,
        browser: &mut Browser,
        html: &str,
        extra: &[(&str, &str)],
    ) -> String {
        let resp = browser
            .post_form(&self.consent_url(), &pairs(&answer(html, extra)))
            .await;
        query_of(&location(&resp))["code"].clone()
    }

    /// The scopes of the token `code` is redeemed for, as the MCP endpoint sees them.
    async fn granted(&self, client_id: &str, code: &str) -> Vec<String> {
        let resp = no_redirects()
            .post(format!("{}/token", self.base))
            .form(&[
                ("grant_type", "authorization_code"),
                ("client_id", client_id),
                ("code", code),
                ("code_verifier", VERIFIER),
            ])
            .send()
            .await
            .expect("token");
        assert_eq!(resp.status(), 200);
        let tokens: Value = resp.json().await.expect("json");
        let resp = no_redirects()
            .post(format!("{}/mcp", self.base))
            .bearer_auth(tokens["access_token"].as_str().expect("at"))
            .send()
            .await
            .expect("mcp");
        assert_eq!(resp.status(), 200);
        let body: Value = resp.json().await.expect("json");
        let mut scopes: Vec<String> = body["scopes"]
            .as_array()
            .expect("scopes")
            .iter()
            .map(|s| s.as_str().expect("str").to_owned())
            .collect();
        scopes.sort();
        scopes
    }
}

/// The hidden fields of a consent page plus `extra`, as a form.
fn answer(html: &str, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut form = vec![
        ("request_id".to_owned(), hidden_input(html, "request_id")),
        ("csrf_token".to_owned(), hidden_input(html, "csrf_token")),
    ];
    form.extend(
        extra
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    form
}

fn pairs(form: &[(String, String)]) -> Vec<(&str, &str)> {
    form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

#[tokio::test]
async fn a_consent_form_posted_from_another_browser_is_refused() {
    let app = start(false).await;
    let client_id = app.register().await;
    let mut developer = Browser::default();
    let page = developer
        .get(&app.authorize_url(&client_id, "mcp:tools"))
        .await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.expect("html");
    let form = answer(&html, &[("decision", "approve")]);

    // The attacker knows every field of the form (worst case) but posts it
    // from their own browser: refused, no code anywhere.
    let mut attacker = Browser::default();
    let resp = attacker.post_form(&app.consent_url(), &pairs(&form)).await;
    assert_eq!(resp.status(), 400);
    assert!(resp.headers().get("location").is_none());
    // Neither can a page post it without the token (a cross-site form
    // carries no SameSite=Lax cookie and cannot read the token).
    let no_token: Vec<(&str, &str)> = pairs(&form)
        .into_iter()
        .filter(|(k, _)| *k != "csrf_token")
        .collect();
    let resp = developer.post_form(&app.consent_url(), &no_token).await;
    assert_eq!(resp.status(), 400);
    let mut wrong = form.clone();
    wrong[1].1 = "A".repeat(43);
    let resp = developer
        .post_form(&app.consent_url(), &pairs(&wrong))
        .await;
    assert_eq!(resp.status(), 400);

    // The developer's own answer still works: failed attempts do not spend it.
    let resp = developer.post_form(&app.consent_url(), &pairs(&form)).await;
    assert_eq!(resp.status(), 303);
    let q = query_of(&location(&resp));
    assert_eq!(app.granted(&client_id, &q["code"]).await, ["mcp:tools"]);
}

#[tokio::test]
async fn admin_is_granted_only_when_ticked_on_the_consent_page() {
    let app = start(false).await;
    let client_id = app.register().await;
    let mut browser = Browser::default();
    let url = app.authorize_url(&client_id, "mcp:tools admin");

    let html = browser.get(&url).await.text().await.expect("html");
    assert!(
        html.contains(r#"<input type="checkbox" name="grant_scope" value="admin">"#),
        "an unchecked checkbox: {html}"
    );
    let code = app
        .consent_code(&mut browser, &html, &[("decision", "approve")])
        .await;
    assert_eq!(
        app.granted(&client_id, &code).await,
        ["mcp:tools"],
        "not ticked: no admin"
    );

    let html = browser.get(&url).await.text().await.expect("html");
    let code = app
        .consent_code(
            &mut browser,
            &html,
            &[("grant_scope", "admin"), ("decision", "approve")],
        )
        .await;
    assert_eq!(app.granted(&client_id, &code).await, ["admin", "mcp:tools"]);
}

#[tokio::test]
async fn admin_is_never_granted_unasked_nor_by_auto_approval() {
    let app = start(false).await;
    let client_id = app.register().await;
    let mut browser = Browser::default();
    let html = browser
        .get(&app.authorize_url(&client_id, "mcp:tools"))
        .await
        .text()
        .await
        .expect("html");
    assert!(!html.contains("grant_scope"), "not asked: no checkbox");
    let code = app
        .consent_code(
            &mut browser,
            &html,
            &[("grant_scope", "admin"), ("decision", "approve")],
        )
        .await;
    assert_eq!(
        app.granted(&client_id, &code).await,
        ["mcp:tools"],
        "a ticked scope the client did not ask for is ignored"
    );

    let auto = start(true).await;
    let client_id = auto.register().await;
    let resp = no_redirects()
        .get(auto.authorize_url(&client_id, "mcp:tools admin"))
        .send()
        .await
        .expect("authorize");
    let code = query_of(&location(&resp))["code"].clone();
    assert_eq!(auto.granted(&client_id, &code).await, ["mcp:tools"]);
}

#[tokio::test]
async fn the_consent_page_shows_the_redirect_host_and_warns_about_loopback_only_clients() {
    let docs = DocumentServer::start().await;
    let client_id = docs.url("/client.json");
    let mut doc = mcp_auth_testkit::client_metadata_document(&client_id, &[REDIRECT]);
    doc["client_name"] = json!("<b>Evil</b>\u{202e}gpj.exe");
    docs.serve("/client.json", mcp_auth_testkit::Served::json(&doc));
    let app = start(false).await;
    let mut browser = Browser::default();
    let resp = browser
        .get(&app.authorize_url(&client_id, "mcp:tools"))
        .await;
    assert_eq!(resp.status(), 200);
    let html = resp.text().await.expect("html");
    assert!(
        html.contains("<p style=\"font-size:1.5em\"><b>127.0.0.1:9</b></p>"),
        "the redirect host, prominently: {html}"
    );
    assert!(
        html.contains("&lt;b&gt;Evil&lt;/b&gt;gpj.exe"),
        "escaped, no bidi override: {html}"
    );
    assert!(!html.contains('\u{202e}'));
    assert!(
        html.contains("Warning:") && html.contains("loopback"),
        "{html}"
    );
    assert!(html.contains(&client_id), "the document's URL is shown");
}

/// Attack (DNS rebinding): a page the developer visits at
/// `http://rebind.attacker.example:PORT` has its name re-resolved to
/// 127.0.0.1; the browser then treats the dev issuer as that page's own
/// origin (no CORS, no SameSite: its cookies are the page's). The page reads
/// the consent page, repeats its CSRF token, ticks `admin`, and redeems the
/// code. Every request of that page names the attacker's host in `Host`: the
/// dev issuer answers only its own host and the loopback names.
#[tokio::test]
async fn a_dns_rebinding_page_cannot_drive_the_dev_issuer() {
    let app = start(false).await;
    let client_id = app.register().await;
    let port = url::Url::parse(&app.base)
        .expect("url")
        .port()
        .expect("port");
    let rebound = format!("rebind.attacker.example:{port}");
    let http = no_redirects();
    let page = http
        .get(app.authorize_url(&client_id, "mcp:tools admin"))
        .header("host", &rebound)
        .send()
        .await
        .expect("GET /authorize");
    assert_eq!(page.status(), 421, "the consent page is not shown");
    let cookie = page
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .unwrap_or("mcp-auth-consent-csrf=none")
        .to_owned();
    let html = page.text().await.expect("body");
    assert!(!html.contains("csrf_token"), "{html}");
    for (path, form) in [
        (
            "/authorize/consent",
            vec![
                ("request_id", "r"),
                ("csrf_token", "c"),
                ("decision", "approve"),
                ("grant_scope", "admin"),
            ],
        ),
        (
            "/token",
            vec![
                ("grant_type", "authorization_code"),
                ("client_id", client_id.as_str()),
                ("code", "c"),
                ("code_verifier", VERIFIER),
            ],
        ),
    ] {
        let resp = http
            .post(format!("{}{path}", app.base))
            .header("host", &rebound)
            .header("cookie", &cookie)
            .form(&form)
            .send()
            .await
            .expect("POST");
        assert_eq!(resp.status(), 421, "{path}");
    }
    let resp = http
        .post(format!("{}/register", app.base))
        .header("host", &rebound)
        .json(&json!({"redirect_uris": [REDIRECT], "token_endpoint_auth_method": "none"}))
        .send()
        .await
        .expect("register");
    assert_eq!(resp.status(), 421, "/register");

    // The loopback names still work, whatever the issuer is called.
    for host in [format!("localhost:{port}"), format!("127.0.0.1:{port}")] {
        let resp = http
            .get(app.authorize_url(&client_id, "mcp:tools"))
            .header("host", &host)
            .send()
            .await
            .expect("GET /authorize");
        assert_eq!(resp.status(), 200, "{host}");
    }
}
