//! Clients identified by URL (Client ID Metadata Documents, checklist item 16)
//! in proxy mode, over HTTP against the fake upstream, with documents hosted
//! by a test server on 127.0.0.1: the broker serves them with consent per URL
//! and no registration; the relay registers one upstream client per URL,
//! once, and reuses it; refusals never reach the upstream.

use crate::common;

use common::Setup;
use mcp_auth_testkit::{
    Browser, DocumentServer, ProxyClient, Served, client_metadata_document, location, query_of,
};
use serde_json::Value;

const REDIRECT: &str = "http://127.0.0.1:9/callback";
const UPSTREAM_CLIENT: &str = "pre-registered";
const UPSTREAM_SECRET: &str = "s3cret";

async fn broker() -> Setup {
    common::setup(
        "cimd-user",
        Some((UPSTREAM_CLIENT, UPSTREAM_SECRET)),
        None,
        |_, config| config.registration_endpoint = None,
    )
    .await
}

async fn relay() -> Setup {
    common::setup("cimd-user", None, None, |upstream, config| {
        config.registration_endpoint = Some(upstream.register_url());
    })
    .await
}

async fn metadata(s: &Setup) -> Value {
    s.get_json("/.well-known/openid-configuration").await
}

async fn call_mcp(s: &Setup, access_token: &str) -> String {
    let resp = s.call_mcp(access_token).await;
    assert_eq!(resp.status(), 200);
    resp.text().await.expect("text")
}

/// A client identified by the URL of the document `docs` hosts at `path`,
/// listing [`REDIRECT`].
fn hosted_client(s: &Setup, docs: &DocumentServer, path: &str) -> ProxyClient {
    ProxyClient::by_url(&s.base, &docs.host_client(path, &[REDIRECT]), REDIRECT)
}

/// `/authorize` answers an error page (no redirect), and `/token` 401
/// `invalid_client`, for the client identified by the URL `client_id`.
async fn assert_refused(s: &Setup, client_id: &str) {
    let client = ProxyClient::by_url(&s.base, client_id, REDIRECT);
    let mut browser = Browser::default();
    let resp = browser.get(&client.authorize_url(&[])).await;
    assert_eq!(resp.status(), 400);
    assert!(location(&resp).is_empty(), "never a redirect");
    let (status, body) = client.redeem("some-code").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );
}

/// `client`, public, presenting a secret with `code` at `/token`: 401
/// `invalid_client`.
async fn assert_secret_refused(client: &ProxyClient, code: &str) {
    let (status, body) = client
        .token(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("code_verifier", &client.verifier),
            ("client_secret", "guess"),
        ])
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );
}

#[tokio::test]
async fn the_broker_serves_a_cimd_client_with_consent_keyed_by_its_url() {
    let s = broker().await;
    assert_eq!(
        metadata(&s).await["client_id_metadata_document_supported"],
        true
    );
    let docs = DocumentServer::start().await;
    let client = hosted_client(&s, &docs, "/app.json");
    let mut browser = Browser::default();

    // The consent page names the client and, prominently, where it goes.
    let page = browser.get(&client.authorize_url(&[])).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.expect("html");
    assert!(html.contains("Test CIMD App"), "{html}");
    assert!(html.contains("<strong>127.0.0.1:9</strong>"), "{html}");
    assert!(
        html.contains("Warning:"),
        "loopback-only redirect URIs: {html}"
    );
    assert!(html.contains(&client.client_id), "{html}");

    let back = client.log_in(&mut browser, &[]).await;
    assert_eq!(back["iss"], s.base);
    let (status, tokens) = client.redeem(&back["code"]).await;
    assert_eq!(status, 200, "{tokens}");
    let access = tokens["access_token"].as_str().expect("access token");
    assert_eq!(call_mcp(&s, access).await, "cimd-user");
    let refresh = tokens["refresh_token"].as_str().expect("refresh");
    let (status, renewed) = client
        .token(&[("grant_type", "refresh_token"), ("refresh_token", refresh)])
        .await;
    assert_eq!(status, 200, "{renewed}");
    // The broker logged in upstream as its own client.
    let upstream_query = s.upstream.authorize_queries().pop().expect("upstream");
    assert_eq!(upstream_query["client_id"], UPSTREAM_CLIENT);

    // The same browser is not asked again for this URL...
    let again = browser.get(&client.authorize_url(&[])).await;
    assert!(again.status().is_redirection(), "{}", again.status());
    // ...but another document (another URL) with the same name is.
    let other = hosted_client(&s, &docs, "/other.json");
    let page = browser.get(&other.authorize_url(&[])).await;
    assert_eq!(page.status(), 200, "consent is keyed by the URL");
    assert_eq!(docs.hits("/app.json"), 1, "one fetch, then the cache");
}

#[tokio::test]
async fn the_broker_refuses_bad_documents_and_secrets_without_a_redirect() {
    let s = broker().await;
    let docs = DocumentServer::start().await;
    let mismatched = docs.url("/mismatch.json");
    docs.serve(
        "/mismatch.json",
        Served::json(&client_metadata_document(&docs.url("/x.json"), &[REDIRECT])),
    );
    assert_refused(&s, &mismatched).await;
    assert_refused(&s, &docs.url("/missing.json")).await;
    assert_refused(&s, "https://10.1.2.3/client.json").await;
    // Not listed: an error page, not a redirect to the unlisted URI.
    let listed_elsewhere = docs.host_client("/elsewhere.json", &["http://127.0.0.1:9/other"]);
    let client = ProxyClient::by_url(&s.base, &listed_elsewhere, REDIRECT);
    let resp = Browser::default().get(&client.authorize_url(&[])).await;
    assert_eq!(resp.status(), 400);
    assert!(location(&resp).is_empty());
    // A valid client presenting a secret is refused at /token.
    let valid = hosted_client(&s, &docs, "/ok.json");
    assert_secret_refused(&valid, "x").await;
    assert!(
        s.upstream.authorize_queries().is_empty(),
        "nothing went upstream"
    );
}

#[tokio::test]
async fn the_relay_registers_one_upstream_client_per_url_and_reuses_it() {
    let s = relay().await;
    assert_eq!(
        metadata(&s).await["client_id_metadata_document_supported"],
        true
    );
    let docs = DocumentServer::start().await;
    let client = hosted_client(&s, &docs, "/relayed.json");

    let back = client.log_in(&mut Browser::default(), &[]).await;
    assert_eq!(back["iss"], s.base);
    let registrations = s.upstream.registrations();
    assert_eq!(registrations.len(), 1);
    let registered = &registrations[0];
    assert_eq!(registered["client_name"], "Test CIMD App");
    let callback = registered["redirect_uris"][0].as_str().expect("callback");
    assert!(
        callback.starts_with(&format!("{}/oauth/callback/", s.base)),
        "{callback}"
    );
    let upstream_query = s.upstream.authorize_queries().pop().expect("upstream");
    assert_eq!(
        upstream_query["client_id"], "dcr-client",
        "the upstream's id"
    );
    assert_eq!(upstream_query["redirect_uri"], callback);

    let (status, tokens) = client.redeem(&back["code"]).await;
    assert_eq!(status, 200, "{tokens}");
    let form = s.upstream.token_forms().pop().expect("token form");
    assert_eq!(form["client_id"], "dcr-client");
    assert_eq!(form["redirect_uri"], callback);
    let access = tokens["access_token"].as_str().expect("access token");
    assert_eq!(call_mcp(&s, access).await, "cimd-user");

    // A second login (another browser) reuses the registration.
    let back = client.log_in(&mut Browser::default(), &[]).await;
    assert!(back.contains_key("code"));
    assert_eq!(s.upstream.registrations().len(), 1, "registered once");
    // A secret is refused: the client is public.
    assert_secret_refused(&client, &back["code"]).await;
}

#[tokio::test]
async fn two_first_requests_for_one_url_register_upstream_once() {
    let s = relay().await;
    let docs = DocumentServer::start().await;
    let client = hosted_client(&s, &docs, "/together.json");
    let url = client.authorize_url(&[]);
    // Six browsers approve at once: the consent page comes first, and nothing
    // is registered upstream before an approval.
    let answers = futures::future::join_all((0..6).map(|_| {
        let url = url.clone();
        let base = s.base.clone();
        async move {
            let mut browser = Browser::default();
            let page = browser.get(&url).await;
            assert_eq!(page.status(), 200, "the consent page");
            browser.approve(&base, page).await
        }
    }))
    .await;
    for resp in &answers {
        assert!(resp.status().is_redirection(), "{}", resp.status());
        let upstream = query_of(&location(resp));
        assert_eq!(upstream["client_id"], "dcr-client");
    }
    assert_eq!(s.upstream.registrations().len(), 1);
}

#[tokio::test]
async fn the_relay_registers_nothing_for_a_refused_document() {
    let s = relay().await;
    let docs = DocumentServer::start().await;
    let mut secret = client_metadata_document(&docs.url("/secret.json"), &[REDIRECT]);
    secret["client_secret"] = "s".into();
    docs.serve("/secret.json", Served::json(&secret));
    assert_refused(&s, &docs.url("/secret.json")).await;
    assert_refused(&s, "http://app.example.com/client.json").await;
    let elsewhere = docs.host_client("/elsewhere.json", &["http://127.0.0.1:9/other"]);
    let resp = Browser::default()
        .get(&ProxyClient::by_url(&s.base, &elsewhere, REDIRECT).authorize_url(&[]))
        .await;
    assert_eq!(resp.status(), 400);
    assert!(
        s.upstream.registrations().is_empty(),
        "nothing registered upstream"
    );
    assert!(s.upstream.authorize_queries().is_empty());
}

/// Attack: the relay keeps the upstream secret of a URL client's registration
/// (an upstream that insists on confidential clients) and adds it to every
/// token request naming that URL. Anyone may name a URL: with
/// `grant_type=client_credentials` (a grant the upstream advertises, which no
/// metadata document can list) the relay would mint a token as that upstream
/// client with no code, no refresh token and no user. A URL client gets only
/// the grants of its document, refused here, before anything goes upstream.
#[tokio::test]
async fn the_relay_refuses_a_grant_the_document_does_not_list() {
    let s = relay().await;
    s.upstream
        .set_registration_fields(serde_json::json!({"client_secret": "upstream-secret"}));
    let docs = DocumentServer::start().await;
    let mut no_refresh = client_metadata_document(&docs.url("/no-refresh.json"), &[REDIRECT]);
    no_refresh["grant_types"] = serde_json::json!(["authorization_code"]);
    docs.serve("/no-refresh.json", Served::json(&no_refresh));
    let client = ProxyClient::by_url(&s.base, &docs.url("/no-refresh.json"), REDIRECT);
    // The legitimate client logs in once: the relay registers upstream.
    let back = client.log_in(&mut Browser::default(), &[]).await;
    assert!(back.contains_key("code"), "{back:?}");
    assert_eq!(s.upstream.registrations().len(), 1);
    let forms_before = s.upstream.token_forms().len();

    // Someone else names the URL with grants the document does not list.
    let attacker = ProxyClient::by_url(&s.base, &client.client_id, REDIRECT);
    let (status, body) = attacker
        .token(&[("grant_type", "client_credentials"), ("scope", "admin")])
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"], "unauthorized_client", "{body}");
    let (status, body) = attacker
        .token(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", "stolen-or-guessed"),
        ])
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"], "unauthorized_client", "{body}");
    assert_eq!(
        s.upstream.token_forms().len(),
        forms_before,
        "nothing went upstream (with or without the sealed secret)"
    );

    // The document's own grant still works, with the sealed secret.
    let (status, tokens) = client.redeem(&back["code"]).await;
    assert_eq!(status, 200, "{tokens}");
    let form = s.upstream.token_forms().pop().expect("token form");
    assert_eq!(form["client_secret"], "upstream-secret");
}

/// Attack: the relay keeps a URL client's upstream registration among the
/// clients, under `cimd.` and the URL's SHA-256, which anyone can compute.
/// Named as a plain client id, that record was read as a client registered
/// through the relay: a 500 and an error in the log for every such request.
/// It is an unknown client like any other: an error page at `/authorize`,
/// 401 `invalid_client` at `/token`.
#[tokio::test]
async fn the_relay_does_not_take_a_url_registration_for_a_registered_client() {
    let s = relay().await;
    let docs = DocumentServer::start().await;
    let client = hosted_client(&s, &docs, "/hashed.json");
    let back = client.log_in(&mut Browser::default(), &[]).await;
    assert!(back.contains_key("code"), "{back:?}");
    // SHA-256, base64url without padding: what an S256 challenge is.
    let record_id = format!(
        "cimd.{}",
        mcp_auth_testkit::s256_challenge(&client.client_id)
    );
    let impostor = ProxyClient::by_url(&s.base, &record_id, REDIRECT);
    let resp = Browser::default().get(&impostor.authorize_url(&[])).await;
    assert_eq!(resp.status(), 400, "an unknown client");
    assert!(location(&resp).is_empty(), "never a redirect");
    let (status, body) = impostor.redeem(&back["code"]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client")),
        "{body}"
    );
    let (status, tokens) = client.redeem(&back["code"]).await;
    assert_eq!(status, 200, "the code is still the client's: {tokens}");
}

/// Attack: the relay serialises upstream registrations of URL clients per
/// lock stripe (picked from the hash of the URL), and took the stripe's lock
/// before looking up the registration it already had. An attacker grinding
/// URLs into the stripe of a known client and starting registrations there
/// (each as slow as the upstream) made that client wait behind every one of
/// them at each `/authorize`. A known client does not wait for any lock.
#[tokio::test]
async fn a_known_url_client_does_not_wait_for_registrations_of_others() {
    let s = relay().await;
    let docs = DocumentServer::start().await;
    let known = hosted_client(&s, &docs, "/known.json");
    let mut known_browser = Browser::default();
    known.log_in(&mut known_browser, &[]).await;
    assert_eq!(s.upstream.registrations().len(), 1);

    // The same stripe as the known client, whichever the relay picks from
    // the URL's hash: the same hash characters at both ends.
    let hash = |url: &str| mcp_auth_testkit::s256_challenge(url).into_bytes();
    let target = hash(&known.client_id);
    let same_stripe = (0..)
        .map(|i| docs.url(&format!("/grind-{i}.json")))
        .find(|url| {
            let h = hash(url);
            h[0] % 64 == target[0] % 64 && h[h.len() - 1] % 64 == target[target.len() - 1] % 64
        })
        .expect("a URL in the same stripe");
    let path = same_stripe.trim_start_matches(docs.base()).to_owned();
    let attacker = ProxyClient::by_url(&s.base, &docs.host_client(&path, &[REDIRECT]), REDIRECT);
    s.upstream
        .set_registration_delay(std::time::Duration::from_secs(5));
    let attacker_base = s.base.clone();
    let slow = tokio::spawn(async move {
        let mut browser = Browser::default();
        let page = browser.get(&attacker.authorize_url(&[])).await;
        browser.approve(&attacker_base, page).await.status()
    });
    while s.upstream.registrations().len() < 2 {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    // The attacker's registration is under way upstream, in that stripe.
    let resp = known_browser.get(&known.authorize_url(&[])).await;
    assert!(resp.status().is_redirection(), "{}", resp.status());
    assert!(
        !slow.is_finished(),
        "the known client was answered before the slow registration ended"
    );
    assert!(slow.await.expect("join").is_redirection());
}

/// Checklist item 16 (consent for clients identified by URL), attack: the
/// relay sent a URL client's browser straight upstream, whose consent screen
/// names the document's (attacker-chosen) client name and our callback, never
/// the host the code goes to. A page anywhere could start that flow for any
/// URL. The relay now shows its own consent page first: the name and,
/// prominently, the redirect host; the form counts only from the browser it
/// was shown to (two cookie jars); nothing is registered upstream before an
/// approval; a denial goes back to the client as `access_denied`; an approving
/// browser is not asked again for that URL.
#[tokio::test]
async fn the_relay_asks_consent_for_a_cimd_client_before_anything_goes_upstream() {
    let s = relay().await;
    let docs = DocumentServer::start().await;
    let client = hosted_client(&s, &docs, "/asked.json");
    let mut victim = Browser::default();
    let page = victim.get(&client.authorize_url(&[])).await;
    assert_eq!(
        page.status(),
        200,
        "a consent page, not a redirect upstream"
    );
    let html = page.text().await.expect("html");
    assert!(html.contains("Test CIMD App"), "{html}");
    assert!(html.contains("<strong>127.0.0.1:9</strong>"), "{html}");
    assert!(
        s.upstream.registrations().is_empty(),
        "nothing registered yet"
    );
    assert!(s.upstream.authorize_queries().is_empty());

    // The form, lifted into another browser, is refused there.
    let forged = Browser::default()
        .answer_consent(&s.base, &html, "approve")
        .await;
    assert_eq!(forged.status(), 400);
    assert!(location(&forged).is_empty(), "never a redirect");
    assert!(s.upstream.registrations().is_empty());

    // Denied: the client hears access_denied with its state and our iss.
    let page = victim.get(&client.authorize_url(&[])).await;
    let html = page.text().await.expect("html");
    let denied = victim.answer_consent(&s.base, &html, "deny").await;
    let back = query_of(&location(&denied));
    assert_eq!(back["error"], "access_denied", "{back:?}");
    assert_eq!(back["iss"], s.base);
    assert!(location(&denied).starts_with(REDIRECT));
    assert!(
        s.upstream.registrations().is_empty(),
        "a denial registers nothing"
    );

    // Approved: upstream as the URL's registration, and not asked again.
    let back = client.log_in(&mut victim, &[]).await;
    assert!(back.contains_key("code"), "{back:?}");
    assert_eq!(s.upstream.registrations().len(), 1);
    let again = victim.get(&client.authorize_url(&[])).await;
    assert!(again.status().is_redirection(), "{}", again.status());
    let fresh = Browser::default().get(&client.authorize_url(&[])).await;
    assert_eq!(fresh.status(), 200, "another browser is asked");
}
