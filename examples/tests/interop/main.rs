//! Interop with software we did not write: `oidc-provider` (a certified OpenID
//! provider, run with the machine's Node from the `interop/` fixture) upstream, and
//! the official MCP client SDKs (TypeScript, and `rmcp`'s `auth` client) doing the
//! whole OAuth flow against the example servers started as processes.
//!
//! The fixture is installed on first use (`interop/install.sh`, `npm ci` from its
//! lock file). Without Node every test here fails and says what to install.

#[path = "../it/common/mod.rs"]
mod common;

mod browser;
mod fixture;
mod real_browser;
mod rmcp_client;

use common::{Server, free_port};
use fixture::{
    Alg, CimdHost, Idp, TS_CLIENT_REDIRECT_URI, run_ts_client, run_ts_client_by_url,
    run_ts_client_calling,
};
use serde_json::Value;

/// A resource the identity provider also serves, that is not our MCP server.
const OTHER_RESOURCE: &str = "http://127.0.0.1:9/other-mcp";

/// The `custom` example in front of an `oidc-provider`, and its MCP URL.
struct CustomStack {
    idp: Idp,
    server: Server,
    mcp_url: String,
}

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Direct,
    Proxy,
}

impl CustomStack {
    /// Starts `oidc-provider` (tokens signed with `alg`) and the `custom` example
    /// configured for it in `mode`, as a user would: the issuer, the scope, and in
    /// proxy mode the upstream endpoints from the provider's discovery document.
    async fn start(mode: Mode, alg: Alg) -> CustomStack {
        Self::start_with(mode, alg, None).await
    }

    /// [`CustomStack::start`], with one more variable for the server process.
    async fn start_with(mode: Mode, alg: Alg, extra: Option<(String, String)>) -> CustomStack {
        let port = free_port();
        let mcp_url = format!("http://127.0.0.1:{port}/mcp");
        let idp = Idp::start(&[&mcp_url, OTHER_RESOURCE], alg);
        let mut env = vec![
            ("MCP_URL".to_owned(), mcp_url.clone()),
            ("MCP_USE_OAUTH_CUSTOM_ISSUER".to_owned(), idp.issuer.clone()),
            (
                "MCP_USE_OAUTH_CUSTOM_SCOPES".to_owned(),
                "mcp:tools".to_owned(),
            ),
        ];
        if mode == Mode::Proxy {
            let discovery = idp.discovery().await;
            let endpoint = |name: &str| {
                discovery[name]
                    .as_str()
                    .unwrap_or_else(|| panic!("oidc-provider advertises no {name}"))
                    .to_owned()
            };
            env.extend([
                ("MCP_USE_OAUTH_CUSTOM_MODE".to_owned(), "proxy".to_owned()),
                (
                    "MCP_USE_OAUTH_CUSTOM_AUTH_ENDPOINT".to_owned(),
                    endpoint("authorization_endpoint"),
                ),
                (
                    "MCP_USE_OAUTH_CUSTOM_TOKEN_ENDPOINT".to_owned(),
                    endpoint("token_endpoint"),
                ),
                (
                    "MCP_USE_OAUTH_CUSTOM_REGISTRATION_ENDPOINT".to_owned(),
                    endpoint("registration_endpoint"),
                ),
            ]);
        }
        env.extend(extra);
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let mut server = Server::spawn(env!("CARGO_BIN_EXE_custom"), port, &env);
        server.wait_ready().await;
        CustomStack {
            idp,
            server,
            mcp_url,
        }
    }

    /// Our server's base URL.
    fn base(&self) -> String {
        self.server.url("")
    }

    /// Both processes' logs, for failure messages.
    fn logs(&self) -> String {
        format!(
            "--- custom example:\n{}\n--- oidc-provider:\n{}",
            self.server.stderr(),
            self.idp.logs()
        )
    }
}

/// The payload of a JWT, decoded without verification (to look at what a peer sent).
fn jwt_part(token: &str, index: usize) -> Value {
    use base64::Engine;
    let part = token.split('.').nth(index).expect("a JWT");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .expect("base64url JWT part");
    serde_json::from_slice(&bytes).expect("JSON JWT part")
}

/// Position of the first exchange whose method is `method` and URL starts with
/// `prefix`, failing with the whole trace when there is none.
fn position<S: AsRef<str>, N: Copy + Into<u64>>(
    trace: &[(String, S, N)],
    method: &str,
    prefix: &str,
) -> usize {
    trace
        .iter()
        .position(|(m, url, _)| m == method && url.as_ref().starts_with(prefix))
        .unwrap_or_else(|| {
            panic!(
                "no {method} {prefix}… in the trace: {:?}",
                trace_view(trace)
            )
        })
}

/// The browser of `run` posted the dev issuer's consent form under `base`: the
/// consent page was shown and answered.
fn assert_consent_answered(run: &fixture::TsRun, base: &str) {
    let browser = run.browser_exchanges();
    assert!(
        browser
            .iter()
            .any(|(m, url, _)| m == "POST" && url.starts_with(&format!("{base}/authorize/consent"))),
        "{:?}",
        trace_view(&browser)
    );
}

fn trace_view<S: AsRef<str>, N: Copy + Into<u64>>(trace: &[(String, S, N)]) -> Vec<String> {
    trace
        .iter()
        .map(|(m, url, status)| format!("{m} {} -> {}", url.as_ref(), (*status).into()))
        .collect()
}

/// The status of the exchange at `index`.
fn status_at<S, N: Copy + Into<u64>>(trace: &[(String, S, N)], index: usize) -> u64 {
    trace[index].2.into()
}

/// The quickstart (embedded dev issuer, consent page on) and its MCP URL.
async fn start_quickstart() -> (Server, String) {
    start_quickstart_with(None).await
}

/// [`start_quickstart`], with one more variable for the server process.
async fn start_quickstart_with(extra: Option<(String, String)>) -> (Server, String) {
    let port = free_port();
    let mcp_url = format!("http://127.0.0.1:{port}/mcp");
    let mut env = vec![("MCP_URL", mcp_url.as_str())];
    if let Some((k, v)) = &extra {
        env.push((k.as_str(), v.as_str()));
    }
    let mut server = Server::spawn(env!("CARGO_BIN_EXE_quickstart"), port, &env);
    server.wait_ready().await;
    (server, mcp_url)
}

// --- MCP TypeScript SDK -----------------------------------------------------------

/// What every TS SDK scenario must show: our 401 first, then our protected-resource
/// metadata, then the authorization server's metadata, registration and token
/// exchange at `auth_server` (the IdP in direct mode, us in proxy mode), then a
/// `whoami` answered for the IdP's user.
fn assert_ts_flow(run: &fixture::TsRun, base: &str, mcp_url: &str, auth_server: &str) -> Value {
    let sdk = run.sdk_exchanges();
    let first = &sdk[0];
    assert!(
        first.1 == mcp_url && first.2 == 401,
        "the SDK's first exchange is our 401: {:?}",
        trace_view(&sdk)
    );
    let prm = position(
        &sdk,
        "GET",
        &format!("{base}/.well-known/oauth-protected-resource"),
    );
    assert_eq!(status_at(&sdk, prm), 200, "{:?}", trace_view(&sdk));
    let as_meta = sdk
        .iter()
        .position(|(m, url, status)| {
            m == "GET"
                && (url.starts_with(&format!(
                    "{auth_server}/.well-known/oauth-authorization-server"
                )) || url
                    .starts_with(&format!("{auth_server}/.well-known/openid-configuration")))
                && *status == 200
        })
        .unwrap_or_else(|| {
            panic!(
                "no authorization-server metadata from {auth_server}: {:?}",
                trace_view(&sdk)
            )
        });
    let register = position(&sdk, "POST", &format!("{auth_server}/re"));
    let token = position(&sdk, "POST", &format!("{auth_server}/token"));
    assert!(
        prm < as_meta && as_meta < register && register < token,
        "out of order: {:?}",
        trace_view(&sdk)
    );
    assert!(
        status_at(&sdk, register) == 201 && status_at(&sdk, token) == 200,
        "{:?}",
        trace_view(&sdk)
    );
    // The SDK's standalone SSE stream (`GET /mcp`) can be recorded after the
    // last call, aborted as the client exits: the flow ends with the last POST.
    let last_call = sdk
        .iter()
        .rposition(|(m, url, _)| m == "POST" && *url == mcp_url)
        .unwrap_or_else(|| panic!("no MCP call: {:?}", trace_view(&sdk)));
    assert!(
        last_call > token && status_at(&sdk, last_call) == 200,
        "the flow ends with a successful MCP call: {:?}",
        trace_view(&sdk)
    );
    run.output["result"]["structuredContent"].clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn ts_sdk_direct_mode_logs_in_at_oidc_provider() {
    let stack = CustomStack::start(Mode::Direct, Alg::Rs256).await;
    let run = run_ts_client(&stack.mcp_url, "alice");
    let who = assert_ts_flow(&run, &stack.base(), &stack.mcp_url, &stack.idp.issuer);
    assert_eq!(who["user_id"], "alice", "{who}\n{}", stack.logs());
    assert_eq!(who["claims"]["iss"], stack.idp.issuer.as_str());
    assert_eq!(who["claims"]["aud"], stack.mcp_url.as_str());
    // The browser logged in at the IdP itself, never on our server.
    let browser = run.browser_exchanges();
    assert!(
        browser
            .iter()
            .all(|(_, url, _)| url.starts_with(&stack.idp.issuer))
    );
    let claims = &run.output["token_claims"];
    assert_eq!(claims["sub"], "alice");
}

#[tokio::test(flavor = "multi_thread")]
async fn ts_sdk_proxy_mode_goes_through_our_endpoints() {
    let stack = CustomStack::start(Mode::Proxy, Alg::Es256).await;
    let run = run_ts_client(&stack.mcp_url, "bob");
    let base = stack.base();
    let who = assert_ts_flow(&run, &base, &stack.mcp_url, &base);
    assert_eq!(who["user_id"], "bob", "{who}\n{}", stack.logs());
    assert_eq!(who["claims"]["iss"], stack.idp.issuer.as_str());
    // The browser started at our /authorize, which sent it to oidc-provider, whose
    // answer came back through our callback.
    let browser = run.browser_exchanges();
    let (_, first, status) = &browser[0];
    assert!(
        first.starts_with(&format!("{base}/authorize")) && (300..400).contains(status),
        "{:?}",
        trace_view(&browser)
    );
    assert!(
        browser
            .iter()
            .any(|(_, url, _)| url.starts_with(&stack.idp.issuer)),
        "{:?}",
        trace_view(&browser)
    );
    let (_, last, _) = browser.last().expect("exchanges");
    assert!(
        last.starts_with(&format!("{base}/oauth/callback")),
        "{:?}",
        trace_view(&browser)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn ts_sdk_logs_in_at_the_quickstart_dev_issuer() {
    let (server, mcp_url) = start_quickstart().await;
    let base = server.url("");
    let run = run_ts_client(&mcp_url, "alice");
    let who = assert_ts_flow(&run, &base, &mcp_url, &base);
    assert_eq!(
        who["claims"]["iss"],
        base.as_str(),
        "{who}\n{}",
        server.stderr()
    );
    // The consent page was shown and answered (auto-approve is off).
    assert_consent_answered(&run, &base);
}

#[tokio::test(flavor = "multi_thread")]
async fn ts_sdk_steps_up_on_our_403_and_the_call_then_succeeds() {
    let (server, mcp_url) = start_quickstart().await;
    let run = run_ts_client_calling(&mcp_url, "alice", "admin-action");
    // It logged in with the 401's scope hint, without admin...
    let sdk = run.sdk_exchanges();
    let refused = sdk
        .iter()
        .position(|(m, url, status)| m == "POST" && url == &mcp_url && *status == 403)
        .unwrap_or_else(|| panic!("no 403 from the tool call: {:?}", trace_view(&sdk)));
    // ...re-authorized for the challenge's scope...
    let step_ups = run.output["step_ups"].as_array().expect("step_ups");
    assert_eq!(step_ups.len(), 1, "{}", run.output);
    assert_eq!(step_ups[0]["scope"], "mcp:tools admin", "{}", run.output);
    let token = position(&sdk, "POST", &format!("{}/token", server.url("")));
    assert!(sdk[refused..].iter().any(|(m, url, s)| m == "POST"
        && url.starts_with(&format!("{}/token", server.url("")))
        && *s == 200));
    assert!(token < refused, "{:?}", trace_view(&sdk));
    // ...and the call then succeeded, with a token carrying admin.
    assert_eq!(
        run.output["result"]["content"][0]["text"],
        "admin action performed by dev-user",
        "{}\n{}",
        run.output,
        server.stderr()
    );
    let scopes = run.output["token_claims"]["scope"]
        .as_str()
        .unwrap_or_default();
    assert!(scopes.split(' ').any(|s| s == "admin"), "{scopes}");
    let last = sdk.last().expect("exchanges");
    assert!(last.1 == mcp_url && last.2 == 200, "{:?}", trace_view(&sdk));
}

/// What a TS SDK run identified by URL must show: the SDK read the
/// authorization server's metadata at `auth_server`, registered nothing, used
/// the document's URL as its client id at `/token`, and the call succeeded.
fn assert_ts_flow_by_url(run: &fixture::TsRun, mcp_url: &str, auth_server: &str, client_id: &str) {
    let sdk = run.sdk_exchanges();
    assert!(
        !sdk.iter()
            .any(|(m, url, _)| m == "POST" && url.starts_with(&format!("{auth_server}/register"))),
        "a client identified by URL does not register: {:?}",
        trace_view(&sdk)
    );
    let token = position(&sdk, "POST", &format!("{auth_server}/token"));
    assert_eq!(status_at(&sdk, token), 200, "{:?}", trace_view(&sdk));
    assert_eq!(run.output["client_id"], client_id, "{}", run.output);
    let last_call = sdk
        .iter()
        .rposition(|(m, url, _)| m == "POST" && *url == mcp_url)
        .unwrap_or_else(|| panic!("no MCP call: {:?}", trace_view(&sdk)));
    assert!(
        last_call > token && status_at(&sdk, last_call) == 200,
        "{:?}",
        trace_view(&sdk)
    );
    let browser = run.browser_exchanges();
    let (_, first, _) = &browser[0];
    let authorize = url::Url::parse(first).expect("authorization URL");
    let sent = authorize
        .query_pairs()
        .find(|(k, _)| k == "client_id")
        .map(|(_, v)| v.into_owned());
    assert_eq!(sent.as_deref(), Some(client_id), "{first}");
}

#[tokio::test(flavor = "multi_thread")]
async fn ts_sdk_logs_in_with_a_client_id_metadata_document_at_the_quickstart() {
    let host = CimdHost::start(TS_CLIENT_REDIRECT_URI);
    let (server, mcp_url) = start_quickstart_with(Some(host.trust_env())).await;
    let base = server.url("");
    let run = run_ts_client_by_url(&mcp_url, "alice", &host.client_id);
    assert_ts_flow_by_url(&run, &mcp_url, &base, &host.client_id);
    assert_eq!(
        run.output["token_claims"]["client_id"],
        host.client_id.as_str(),
        "the token names the URL: {}\n{}",
        run.output,
        server.stderr()
    );
    // The consent page was shown (and answered) for the document's client.
    assert_consent_answered(&run, &base);
    assert_eq!(host.fetches(), 1, "fetched once, then cached");
}

#[tokio::test(flavor = "multi_thread")]
async fn ts_sdk_logs_in_with_a_client_id_metadata_document_in_proxy_mode() {
    let host = CimdHost::start(TS_CLIENT_REDIRECT_URI);
    let stack = CustomStack::start_with(Mode::Proxy, Alg::Es256, Some(host.trust_env())).await;
    let base = stack.base();
    let run = run_ts_client_by_url(&stack.mcp_url, "carol", &host.client_id);
    assert_ts_flow_by_url(&run, &stack.mcp_url, &base, &host.client_id);
    let who = &run.output["result"]["structuredContent"];
    assert_eq!(who["user_id"], "carol", "{who}\n{}", stack.logs());
    // The relay logged in at oidc-provider as the upstream client it
    // registered for the URL, and the answer came back through our callback.
    let browser = run.browser_exchanges();
    assert!(
        browser
            .iter()
            .any(|(_, url, _)| url.starts_with(&stack.idp.issuer)),
        "{:?}",
        trace_view(&browser)
    );
    assert!(
        browser
            .iter()
            .any(|(_, url, _)| url.starts_with(&format!("{base}/oauth/callback/"))),
        "{:?}",
        trace_view(&browser)
    );
    assert!(host.fetches() >= 1);
}

// --- rmcp (official Rust SDK) -------------------------------------------------------

/// What every rmcp scenario must show: discovery from our challenge's
/// `resource_metadata`, then registration and token exchange at `auth_server`.
fn assert_rmcp_flow(client: &rmcp_client::Connected, base: &str, auth_server: &str) {
    assert!(
        client.challenge.contains(&format!(
            "resource_metadata=\"{base}/.well-known/oauth-protected-resource/mcp\""
        )),
        "our 401 challenge: {}",
        client.challenge
    );
    let oauth = client.oauth_exchanges();
    let prm = position(
        &oauth,
        "GET",
        &format!("{base}/.well-known/oauth-protected-resource"),
    );
    let register = position(&oauth, "POST", &format!("{auth_server}/re"));
    let token = position(&oauth, "POST", &format!("{auth_server}/token"));
    assert!(
        prm < register && register < token,
        "out of order: {:?}",
        trace_view(&oauth)
    );
    assert_eq!(status_at(&oauth, token), 200, "{:?}", trace_view(&oauth));
}

#[tokio::test(flavor = "multi_thread")]
async fn rmcp_direct_mode_logs_in_at_oidc_provider() {
    let stack = CustomStack::start(Mode::Direct, Alg::Es256).await;
    let client = rmcp_client::connect(&stack.mcp_url, "carol").await;
    assert_rmcp_flow(&client, &stack.base(), &stack.idp.issuer);
    let who = client.call("whoami").await;
    assert_eq!(who["user_id"], "carol", "{who}\n{}", stack.logs());
    assert_eq!(who["claims"]["iss"], stack.idp.issuer.as_str());
    let token = client.access_token().await;
    assert_eq!(jwt_part(&token, 0)["alg"], "ES256");
}

#[tokio::test(flavor = "multi_thread")]
async fn rmcp_proxy_mode_goes_through_our_endpoints() {
    let stack = CustomStack::start(Mode::Proxy, Alg::Rs256).await;
    let client = rmcp_client::connect(&stack.mcp_url, "dave").await;
    let base = stack.base();
    assert_rmcp_flow(&client, &base, &base);
    assert!(
        client.browser_trace[0]
            .1
            .starts_with(&format!("{base}/authorize")),
        "{:?}",
        client.browser_trace
    );
    let who = client.call("whoami").await;
    assert_eq!(who["user_id"], "dave", "{who}\n{}", stack.logs());
    // Refresh goes through our /token too, and the new token works.
    let before = client.access_token().await;
    client.refresh().await;
    let after = client.access_token().await;
    assert_ne!(before, after, "the refresh grant issued a new token");
    let oauth = client.oauth_exchanges();
    let (method, url, status) = oauth.last().expect("exchanges");
    assert!(
        method == "POST" && url.starts_with(&format!("{base}/token")) && *status == 200,
        "{:?}",
        trace_view(&oauth)
    );
    assert_eq!(client.call("whoami").await["user_id"], "dave");
}

#[tokio::test(flavor = "multi_thread")]
async fn rmcp_logs_in_at_the_quickstart_dev_issuer() {
    let (server, mcp_url) = start_quickstart().await;
    let base = server.url("");
    let client = rmcp_client::connect(&mcp_url, "alice").await;
    assert_rmcp_flow(&client, &base, &base);
    let who = client.call("whoami").await;
    assert_eq!(
        who["claims"]["iss"],
        base.as_str(),
        "{who}\n{}",
        server.stderr()
    );
    assert_eq!(who["claims"]["aud"], mcp_url.as_str());
}

#[tokio::test(flavor = "multi_thread")]
async fn rmcp_steps_up_on_our_403_and_the_call_then_succeeds() {
    let (server, mcp_url) = start_quickstart().await;
    // The SDK's initial scope selection asks for the 401's scope hint only (by
    // default it also adds every scope of the protected-resource metadata, admin
    // included, and would never need to step up here).
    let mut client =
        rmcp_client::connect_with(&mcp_url, "alice", |r| r.with_initial_scope_selection()).await;
    // Logged in without admin: whoami works, admin-action needs more.
    assert_eq!(client.call("whoami").await["user_id"], "dev-user");
    let (scope, result) = client
        .call_stepping_up(&mcp_url, "admin-action", "alice")
        .await;
    assert_eq!(scope, "mcp:tools admin");
    assert_ne!(
        result.is_error,
        Some(true),
        "{result:?}\n{}",
        server.stderr()
    );
    let text = serde_json::to_value(&result.content).expect("content");
    assert_eq!(
        text[0]["text"], "admin action performed by dev-user",
        "{text}"
    );
    let token = client.access_token().await;
    let scopes = jwt_part(&token, 1)["scope"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(scopes.split(' ').any(|s| s == "admin"), "{scopes}");
}

// --- The identity provider's side ---------------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn key_rotation_mid_session_costs_one_jwks_refetch() {
    let stack = CustomStack::start(Mode::Direct, Alg::Rs256).await;
    let client = rmcp_client::connect(&stack.mcp_url, "erin").await;
    assert_eq!(client.call("whoami").await["user_id"], "erin");
    let old_kid = jwt_part(&client.access_token().await, 0)["kid"].clone();
    let fetches_before = stack.idp.jwks_requests().await;

    let new_kid = stack.idp.rotate().await;
    client.refresh().await;
    let token = client.access_token().await;
    assert_eq!(
        jwt_part(&token, 0)["kid"],
        new_kid.as_str(),
        "the IdP signs with the new key"
    );
    assert_ne!(old_kid, new_kid.as_str());
    for _ in 0..5 {
        assert_eq!(
            client.call("whoami").await["user_id"],
            "erin",
            "{}",
            stack.logs()
        );
    }
    assert_eq!(
        stack.idp.jwks_requests().await,
        fetches_before + 1,
        "one JWKS refetch for the new key, then cached; {}",
        stack.logs()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_token_oidc_provider_issued_for_another_resource_is_refused() {
    let stack = CustomStack::start(Mode::Direct, Alg::Es256).await;
    let foreign = stack
        .idp
        .client_credentials_token(OTHER_RESOURCE, "mcp:tools")
        .await;
    assert_eq!(jwt_part(&foreign, 1)["aud"], OTHER_RESOURCE);
    let resp = stack
        .server
        .mcp(Some(&foreign), "tools/list", serde_json::json!({}))
        .await;
    assert_eq!(resp.status(), 401, "{}", stack.logs());
    let challenge = common::challenge(&resp);
    assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
    // The same IdP's token for our resource, obtained the same way, is accepted.
    let ours = stack
        .idp
        .client_credentials_token(&stack.mcp_url, "mcp:tools")
        .await;
    let resp = stack
        .server
        .mcp(Some(&ours), "tools/list", serde_json::json!({}))
        .await;
    assert_eq!(resp.status(), 200, "{}", stack.logs());
}

// --- Wiring -----------------------------------------------------------------------

#[test]
fn without_node_the_installer_fails_and_says_what_to_install() {
    let out = std::process::Command::new("/bin/bash")
        .arg(fixture::interop_dir().join("install.sh"))
        .env("PATH", "/nonexistent")
        .output()
        .expect("run install.sh");
    assert_eq!(out.status.code(), Some(1), "never a silent success");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("needs Node.js 20 or newer with npm")
            && stderr.contains("apt-get install nodejs npm"),
        "{stderr}"
    );
}
