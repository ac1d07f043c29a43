//! The callback broker (proxy mode, one pre-registered upstream client, no
//! upstream registration) against a local fake upstream over real HTTP:
//! register -> authorize -> consent -> upstream -> callback -> token -> /mcp,
//! refresh, and every refusal: unregistered redirect URIs, tampered states,
//! reused or stolen codes, consent CSRF, oversized bodies, upstream down.

use crate::common;

use std::time::Duration;

use common::Setup;
use mcp_auth_testkit::s256_challenge;
use mcp_auth_testkit::{
    binding_cookie, hidden_input, location, query_of, set_cookies, unreachable_url,
};
use serde_json::{Value, json};

const REDIRECT: &str = "http://127.0.0.1:9/callback";
const OTHER_REDIRECT: &str = "https://app.example.com/oauth/callback";
const VERIFIER: &str = "broker-test-verifier-0123456789-abcdefghijklmnopqrstuv";
const CLIENT_STATE: &str = "client state ~/=&x";
const UPSTREAM_CLIENT: &str = "pre-registered";
const UPSTREAM_SECRET: &str = "s3cret";

/// The upstream hands out one-time codes bound to their PKCE challenge and
/// redirect URI, and rotating refresh tokens; no upstream registration.
async fn setup(token_endpoint_override: Option<String>) -> Setup {
    common::setup(
        "brokered-user",
        Some((UPSTREAM_CLIENT, UPSTREAM_SECRET)),
        token_endpoint_override,
        |_, config| config.registration_endpoint = None,
    )
    .await
}

/// A consent page as the browser saw it.
struct ConsentPage {
    consent_id: String,
    csrf_token: String,
    /// The cookies the browser holds after the page (`name=value; ...`).
    cookie: String,
}

impl Setup {
    async fn register(&self, redirect_uris: &[&str]) -> String {
        let resp = self
            .http
            .post(format!("{}/register", self.base))
            .json(&json!({"client_name": "Test <Client>", "redirect_uris": redirect_uris}))
            .send()
            .await
            .expect("register");
        assert_eq!(resp.status(), 201);
        assert_eq!(resp.headers()["cache-control"], "no-store");
        let body: Value = resp.json().await.expect("json");
        assert_eq!(body["token_endpoint_auth_method"], "none");
        assert!(body.get("client_secret").is_none(), "public client");
        assert_eq!(body["redirect_uris"], json!(redirect_uris));
        body["client_id"].as_str().expect("client_id").to_owned()
    }

    async fn authorize(&self, client_id: &str, redirect: &str, cookie: &str) -> reqwest::Response {
        self.http
            .get(format!("{}/authorize", self.base))
            .header("cookie", cookie)
            .query(&[
                ("response_type", "code"),
                ("client_id", client_id),
                ("redirect_uri", redirect),
                ("code_challenge", &s256_challenge(VERIFIER)),
                ("code_challenge_method", "S256"),
                ("state", CLIENT_STATE),
                ("scope", "read write"),
                ("resource", &format!("{}/mcp", self.base)),
            ])
            .send()
            .await
            .expect("authorize")
    }

    async fn consent_page(&self, client_id: &str, cookie: &str) -> ConsentPage {
        let resp = self.authorize(client_id, REDIRECT, cookie).await;
        assert_eq!(resp.status(), 200);
        let mut jar: Vec<String> = cookie
            .split("; ")
            .filter(|c| !c.is_empty())
            .map(str::to_owned)
            .collect();
        jar.extend(set_cookies(&resp));
        let html = resp.text().await.expect("html");
        ConsentPage {
            consent_id: hidden_input(&html, "consent_id"),
            csrf_token: hidden_input(&html, "csrf_token"),
            cookie: jar.join("; "),
        }
    }

    async fn answer(&self, form: &[(&str, &str)], cookie: &str) -> reqwest::Response {
        self.http
            .post(format!("{}/oauth/consent", self.base))
            .header("cookie", cookie)
            .form(form)
            .send()
            .await
            .expect("consent")
    }

    async fn approve(&self, page: &ConsentPage) -> reqwest::Response {
        self.answer(
            &[
                ("consent_id", &page.consent_id),
                ("csrf_token", &page.csrf_token),
                ("decision", "approve"),
            ],
            &page.cookie,
        )
        .await
    }

    /// Follows the browser from our upstream redirect to our callback; returns
    /// the callback URL the upstream sent the browser to.
    async fn through_upstream(&self, upstream_url: &str) -> String {
        let resp = self.http.get(upstream_url).send().await.expect("upstream");
        let callback = location(&resp);
        assert!(
            callback.starts_with(&format!("{}/oauth/callback?", self.base)),
            "{callback}"
        );
        callback
    }

    /// register (done) -> consent -> upstream -> callback: our code at the client.
    async fn code_for(&self, client_id: &str) -> String {
        let page = self.consent_page(client_id, "").await;
        let resp = self.approve(&page).await;
        let binding = binding_cookie(&resp);
        let callback = self.through_upstream(&location(&resp)).await;
        let resp = self.in_browser(&callback, &binding).await;
        let back = query_of(&location(&resp));
        back["code"].clone()
    }
}

async fn error_of(resp: reqwest::Response) -> (u16, String) {
    let status = resp.status().as_u16();
    let body: Value = resp.json().await.expect("json error body");
    (
        status,
        body["error"].as_str().unwrap_or_default().to_owned(),
    )
}

#[tokio::test]
async fn full_code_flow_through_the_broker_then_refresh() {
    let s = setup(None).await;
    let asm: Value = s.get_json("/.well-known/oauth-authorization-server").await;
    assert_eq!(
        asm["registration_endpoint"],
        json!(format!("{}/register", s.base))
    );
    // Only what the broker serves: public clients, code and refresh grants.
    assert_eq!(
        asm["token_endpoint_auth_methods_supported"],
        json!(["none"])
    );
    assert_eq!(
        asm["grant_types_supported"],
        json!(["authorization_code", "refresh_token"])
    );
    let client_id = s.register(&[REDIRECT, OTHER_REDIRECT]).await;

    // The consent page names the client and its redirect URI, and cannot be framed.
    let resp = s.authorize(&client_id, REDIRECT, "").await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["x-frame-options"], "DENY");
    assert!(
        resp.headers()["content-security-policy"]
            .to_str()
            .expect("ascii")
            .contains("frame-ancestors 'none'")
    );
    // form-action would block the redirects that follow the form (upstream and
    // back) in Chrome and Safari.
    assert!(
        !resp.headers()["content-security-policy"]
            .to_str()
            .expect("ascii")
            .contains("form-action")
    );
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let csrf_cookie = set_cookies(&resp).join("; ");
    assert!(csrf_cookie.starts_with("mcp-auth-csrf="), "{csrf_cookie}");
    assert!(
        s.upstream.authorize_queries().is_empty(),
        "nothing forwarded before consent"
    );
    let html = resp.text().await.expect("html");
    assert!(html.contains("Test &lt;Client&gt;") && html.contains(REDIRECT));
    let page = ConsentPage {
        consent_id: hidden_input(&html, "consent_id"),
        csrf_token: hidden_input(&html, "csrf_token"),
        cookie: csrf_cookie,
    };

    // Approval sends the browser upstream with our client, callback and PKCE.
    let resp = s.approve(&page).await;
    assert_eq!(resp.status(), 303);
    let binding = binding_cookie(&resp);
    let consent_cookie = set_cookies(&resp)
        .into_iter()
        .find(|c| c.starts_with("mcp-auth-consent="))
        .expect("consent cookie");
    let set_cookie = resp.headers()["set-cookie"].to_str().expect("ascii");
    assert!(set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Lax"));
    let upstream_url = location(&resp);
    let up = query_of(&upstream_url);
    assert_eq!(up["client_id"], UPSTREAM_CLIENT);
    assert_eq!(up["redirect_uri"], format!("{}/oauth/callback", s.base));
    assert_eq!(up["code_challenge_method"], "S256");
    assert_ne!(
        up["code_challenge"],
        s256_challenge(VERIFIER),
        "our own PKCE pair"
    );
    assert_ne!(up["state"], CLIENT_STATE, "our own state");
    assert!(up["state"].len() >= 27, "at least 160 bits");
    assert_eq!(up["audience"], "https://api.example.com");
    assert_eq!(up["scope"], "read write");
    assert_eq!(
        up["resource"],
        format!("{}/mcp", s.base),
        "pinned to this server"
    );

    // The callback exchanges the upstream code and gives the client ours.
    let callback = s.through_upstream(&upstream_url).await;
    let resp = s.in_browser(&callback, &binding).await;
    assert_eq!(resp.status(), 303);
    let back = location(&resp);
    assert!(back.starts_with(&format!("{REDIRECT}?")), "{back}");
    let back = query_of(&back);
    assert_eq!(back["state"], CLIENT_STATE, "state unchanged");
    assert_eq!(back["iss"], s.base, "RFC 9207: our issuer");
    let code = back["code"].clone();
    assert!(code.len() >= 27, "at least 160 bits");
    let form = s.upstream.token_forms()[0].clone();
    assert_eq!(form["client_secret"], UPSTREAM_SECRET);
    assert_eq!(form["redirect_uri"], format!("{}/oauth/callback", s.base));
    assert_ne!(form["code_verifier"], VERIFIER);

    let resp = s
        .post_token(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("code_verifier", VERIFIER),
            ("client_id", &client_id),
            ("redirect_uri", REDIRECT),
        ])
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let tokens: Value = resp.json().await.expect("json");
    let access = tokens["access_token"].as_str().expect("access token");
    let who = s.call_mcp(access).await;
    assert_eq!(who.status(), 200);
    assert_eq!(who.text().await.expect("text"), "brokered-user");

    // Refresh goes upstream with our client's credentials; the old token is gone.
    let first_refresh = tokens["refresh_token"]
        .as_str()
        .expect("refresh")
        .to_owned();
    let resp = s
        .post_token(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", &first_refresh),
            ("client_id", &client_id),
        ])
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let refreshed: Value = resp.json().await.expect("json");
    assert!(refreshed["access_token"].is_string());
    let form = s.upstream.token_forms()[1].clone();
    assert_eq!(form["client_id"], UPSTREAM_CLIENT);
    assert_eq!(form["client_secret"], UPSTREAM_SECRET);
    let resp = s
        .post_token(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", &first_refresh),
            ("client_id", &client_id),
        ])
        .await;
    assert_eq!(error_of(resp).await, (400, "invalid_grant".into()));

    // Another client cannot use this client's refresh token.
    let other = s.register(&[REDIRECT]).await;
    let second_refresh = refreshed["refresh_token"].as_str().expect("refresh");
    let resp = s
        .post_token(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", second_refresh),
            ("client_id", &other),
        ])
        .await;
    assert_eq!(error_of(resp).await, (400, "invalid_grant".into()));

    // A returning browser skips consent for the same client, not for another.
    let resp = s.authorize(&client_id, REDIRECT, &consent_cookie).await;
    assert_eq!(resp.status(), 303);
    assert!(query_of(&location(&resp))["client_id"] == UPSTREAM_CLIENT);
    let resp = s.authorize(&other, REDIRECT, &consent_cookie).await;
    assert_eq!(resp.status(), 200, "consent is per client");
    // A scope the user did not approve asks again.
    let broader = s
        .http
        .get(format!("{}/authorize", s.base))
        .header("cookie", &consent_cookie)
        .query(&[
            ("response_type", "code"),
            ("client_id", client_id.as_str()),
            ("redirect_uri", REDIRECT),
            ("code_challenge", &s256_challenge(VERIFIER)),
            ("code_challenge_method", "S256"),
            ("scope", "read write admin"),
        ])
        .send()
        .await
        .expect("authorize");
    assert_eq!(broader.status(), 200, "consent is per scope");
    // A forged consent cookie is ignored.
    let forged = format!("{consent_cookie}x");
    let resp = s.authorize(&client_id, REDIRECT, &forged).await;
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn unregistered_redirect_uris_and_unknown_clients_are_refused_without_redirect() {
    let s = setup(None).await;
    let client_id = s.register(&[REDIRECT]).await;
    for (client, redirect) in [
        (client_id.as_str(), "http://127.0.0.1:9/other"),
        (client_id.as_str(), OTHER_REDIRECT),
        (client_id.as_str(), "http://127.0.0.1:9/callback/"),
        ("never-registered", REDIRECT),
    ] {
        let resp = s.authorize(client, redirect, "").await;
        assert_eq!(resp.status(), 400, "{client} {redirect}");
        assert!(resp.headers().get("location").is_none());
        assert_eq!(error_of(resp).await.1, "invalid_request");
    }
    for bad in [
        json!({"redirect_uris": ["http://evil.example.com/cb"]}),
        json!({"redirect_uris": ["https://app.example.com/cb#frag"]}),
        json!({"redirect_uris": []}),
        json!({"client_name": "no uris"}),
    ] {
        let resp = s.post_register(&bad).await;
        assert_eq!(
            error_of(resp).await,
            (400, "invalid_redirect_uri".into()),
            "{bad}"
        );
    }
    let resp = s
        .post_register(&json!({"redirect_uris": [REDIRECT], "grant_types": ["client_credentials"]}))
        .await;
    assert_eq!(
        error_of(resp).await,
        (400, "invalid_client_metadata".into())
    );

    // Once the redirect URI is trusted, other errors go back to it with the state.
    let resp = s
        .http
        .get(format!("{}/authorize", s.base))
        .query(&[
            ("response_type", "code"),
            ("client_id", client_id.as_str()),
            ("redirect_uri", REDIRECT),
            ("code_challenge", &s256_challenge(VERIFIER)),
            ("code_challenge_method", "plain"),
            ("state", "st"),
        ])
        .send()
        .await
        .expect("authorize");
    assert_eq!(resp.status(), 303);
    let back = query_of(&location(&resp));
    assert_eq!(back["error"], "invalid_request");
    assert_eq!(back["state"], "st");
    assert!(s.upstream.authorize_queries().is_empty());
}

#[tokio::test]
async fn tampered_unknown_and_reused_states_are_refused_at_the_callback() {
    let s = setup(None).await;
    let client_id = s.register(&[REDIRECT]).await;
    let page = s.consent_page(&client_id, "").await;
    let approved = s.approve(&page).await;
    let binding = binding_cookie(&approved);
    let callback = s.through_upstream(&location(&approved)).await;
    let q = query_of(&callback);
    let state = q["state"].clone();
    let code = q["code"].clone();
    let callback_with = |state: &str| {
        let mut url = url::Url::parse(&format!("{}/oauth/callback", s.base)).expect("url");
        url.query_pairs_mut()
            .append_pair("code", &code)
            .append_pair("state", state);
        url.to_string()
    };
    let mut altered = state.clone();
    let last = altered.pop().expect("char");
    altered.push(if last == 'A' { 'B' } else { 'A' });
    for url in [
        callback_with(&altered),
        callback_with("made-up-state"),
        callback_with(""),
        format!("{}/oauth/callback?code={code}", s.base),
    ] {
        let resp = s.in_browser(&url, &binding).await;
        assert_eq!(resp.status(), 400, "{url}");
        assert!(resp.headers().get("location").is_none());
        assert_eq!(error_of(resp).await.1, "invalid_request");
    }
    // The genuine state works once, then never again.
    let resp = s.in_browser(&callback, &binding).await;
    assert_eq!(resp.status(), 303);
    let resp = s.in_browser(&callback, &binding).await;
    assert_eq!(resp.status(), 400);
    assert!(resp.headers().get("location").is_none());
}

#[tokio::test]
async fn our_codes_are_single_use_bound_to_client_redirect_and_verifier() {
    let s = setup(None).await;
    let client_id = s.register(&[REDIRECT]).await;
    let other = s.register(&[REDIRECT]).await;
    let redeem =
        |code: String, client: String, verifier: String, redirect: Option<&'static str>| {
            let s = &s;
            async move {
                let mut form = vec![
                    ("grant_type", "authorization_code".to_owned()),
                    ("code", code),
                    ("code_verifier", verifier),
                    ("client_id", client),
                ];
                if let Some(r) = redirect {
                    form.push(("redirect_uri", r.to_owned()));
                }
                let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
                s.post_token(&form).await
            }
        };

    // Reused.
    let code = s.code_for(&client_id).await;
    let ok = redeem(code.clone(), client_id.clone(), VERIFIER.into(), None).await;
    assert_eq!(ok.status(), 200);
    let again = redeem(code, client_id.clone(), VERIFIER.into(), None).await;
    assert_eq!(error_of(again).await, (400, "invalid_grant".into()));

    // Wrong verifier (and the code is spent).
    let code = s.code_for(&client_id).await;
    let wrong = redeem(code.clone(), client_id.clone(), "w".repeat(43), None).await;
    assert_eq!(error_of(wrong).await, (400, "invalid_grant".into()));
    let late = redeem(code, client_id.clone(), VERIFIER.into(), None).await;
    assert_eq!(error_of(late).await, (400, "invalid_grant".into()));

    // Another client.
    let code = s.code_for(&client_id).await;
    let stolen = redeem(code, other.clone(), VERIFIER.into(), None).await;
    assert_eq!(error_of(stolen).await, (400, "invalid_grant".into()));

    // Another redirect URI.
    let code = s.code_for(&client_id).await;
    let moved = redeem(
        code,
        client_id.clone(),
        VERIFIER.into(),
        Some("http://127.0.0.1:9/elsewhere"),
    )
    .await;
    assert_eq!(error_of(moved).await, (400, "invalid_grant".into()));

    // Unknown client: 401 invalid_client with a challenge; a secret is refused too.
    let code = s.code_for(&client_id).await;
    let unknown = redeem(code.clone(), "nobody".into(), VERIFIER.into(), None).await;
    assert_eq!(unknown.status(), 401);
    assert!(unknown.headers().contains_key("www-authenticate"));
    assert_eq!(unknown.headers()["cache-control"], "no-store");
    assert_eq!(error_of(unknown).await.1, "invalid_client");
    let resp = s
        .post_token(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("code_verifier", VERIFIER),
            ("client_id", &client_id),
            ("client_secret", "guess"),
        ])
        .await;
    assert_eq!(error_of(resp).await, (401, "invalid_client".into()));
    // The pre-registered upstream client is not a client of ours.
    let resp = s
        .post_token(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", "r1"),
            ("client_id", UPSTREAM_CLIENT),
        ])
        .await;
    assert_eq!(error_of(resp).await, (401, "invalid_client".into()));
    let resp = s
        .post_token(&[("grant_type", "password"), ("client_id", &client_id)])
        .await;
    assert_eq!(error_of(resp).await, (400, "unsupported_grant_type".into()));
}

#[tokio::test]
async fn consent_needs_the_csrf_token_of_the_browser_that_saw_the_page() {
    let s = setup(None).await;
    let client_id = s.register(&[REDIRECT]).await;

    // Missing token.
    let page = s.consent_page(&client_id, "").await;
    let resp = s
        .answer(
            &[("consent_id", &page.consent_id), ("decision", "approve")],
            &page.cookie,
        )
        .await;
    assert_eq!(error_of(resp).await, (400, "invalid_request".into()));

    // Wrong token.
    let page = s.consent_page(&client_id, "").await;
    let resp = s
        .answer(
            &[
                ("consent_id", &page.consent_id),
                ("csrf_token", &"A".repeat(43)),
                ("decision", "approve"),
            ],
            &page.cookie,
        )
        .await;
    assert_eq!(error_of(resp).await, (400, "invalid_request".into()));

    // An attacker's own consent form, submitted from the victim's browser
    // (which holds its own CSRF cookie, or none): refused.
    let attacker = s.consent_page(&client_id, "").await;
    let victim = s.consent_page(&client_id, "").await;
    for cookie in [victim.cookie.as_str(), ""] {
        let resp = s
            .answer(
                &[
                    ("consent_id", &attacker.consent_id),
                    ("csrf_token", &attacker.csrf_token),
                    ("decision", "approve"),
                ],
                cookie,
            )
            .await;
        assert_eq!(error_of(resp).await, (400, "invalid_request".into()));
    }
    assert!(
        s.upstream.authorize_queries().is_empty(),
        "nothing reached the upstream"
    );

    // The genuine answer works once; deny goes back to the client with its state.
    let resp = s
        .answer(
            &[
                ("consent_id", &victim.consent_id),
                ("csrf_token", &victim.csrf_token),
                ("decision", "deny"),
            ],
            &victim.cookie,
        )
        .await;
    assert_eq!(resp.status(), 303);
    let back = query_of(&location(&resp));
    assert_eq!(back["error"], "access_denied");
    assert_eq!(back["state"], CLIENT_STATE);
    let resp = s.approve(&victim).await;
    assert_eq!(error_of(resp).await, (400, "invalid_request".into()));
}

#[tokio::test]
async fn an_upstream_error_goes_to_the_client_with_its_state() {
    let s = setup(None).await;
    s.upstream.set_deny_authorizations(true);
    let client_id = s.register(&[REDIRECT]).await;
    let page = s.consent_page(&client_id, "").await;
    let approved = s.approve(&page).await;
    let binding = binding_cookie(&approved);
    let callback = s.through_upstream(&location(&approved)).await;
    let resp = s.in_browser(&callback, &binding).await;
    assert_eq!(resp.status(), 303);
    let back = location(&resp);
    assert!(back.starts_with(&format!("{REDIRECT}?")));
    let back = query_of(&back);
    assert_eq!(back["error"], "access_denied");
    assert_eq!(back["state"], CLIENT_STATE);
    assert!(!back.contains_key("code"));
}

#[tokio::test]
async fn oversized_bodies_are_refused() {
    let s = setup(None).await;
    let big = "x".repeat(64 * 1024);
    for (path, content_type, body) in [
        (
            "/token",
            "application/x-www-form-urlencoded",
            format!("grant_type=refresh_token&refresh_token={big}"),
        ),
        (
            "/register",
            "application/json",
            json!({"redirect_uris": [REDIRECT], "client_name": big}).to_string(),
        ),
        (
            "/oauth/consent",
            "application/x-www-form-urlencoded",
            format!("consent_id={big}"),
        ),
        (
            "/authorize",
            "application/x-www-form-urlencoded",
            format!("state={big}"),
        ),
    ] {
        let resp = s
            .http
            .post(format!("{}{path}", s.base))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .expect("send");
        assert_eq!(resp.status(), 413, "{path}");
    }
}

#[tokio::test]
async fn upstream_token_endpoint_down_at_the_callback_is_502_json() {
    let dead = unreachable_url("/token").await;
    let s = setup(Some(dead)).await;
    let client_id = s.register(&[REDIRECT]).await;
    let page = s.consent_page(&client_id, "").await;
    let approved = s.approve(&page).await;
    let binding = binding_cookie(&approved);
    let callback = s.through_upstream(&location(&approved)).await;
    let resp = tokio::time::timeout(Duration::from_secs(20), s.in_browser(&callback, &binding))
        .await
        .expect("no hang");
    assert_eq!(resp.status(), 502);
    assert!(resp.headers().get("location").is_none());
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
