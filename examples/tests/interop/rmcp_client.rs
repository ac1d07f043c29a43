//! The official Rust SDK's client (`rmcp` with its `auth` feature) doing the whole
//! reactive OAuth flow: connect, get our 401, discover from its challenge, register,
//! authorize with PKCE (pages answered by [`browser`]), exchange the code, reconnect
//! with the token and call tools.

use std::sync::{Arc, Mutex};

use rmcp::model::{CallToolRequestParams, CallToolResult};
use rmcp::service::{RunningService, ServiceError};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::auth::{
    AuthClient, AuthorizationManager, AuthorizationRequest, OAuthHttpClient, OAuthHttpClientFuture,
    OAuthHttpRequest, OAuthState, default_oauth_http_client,
};
use rmcp::transport::streamable_http_client::{
    InsufficientScopeError, StreamableHttpClientTransportConfig,
};
use rmcp::{RoleClient, ServiceExt};
use serde_json::Value;

use crate::browser;

/// Where the SDK is told the authorization server redirects; nothing listens there,
/// the headless browser stops at the redirect.
pub const REDIRECT_URI: &str = "http://127.0.0.1:9/callback";

/// Every OAuth exchange the SDK made: method, URL, status.
pub type Trace = Arc<Mutex<Vec<(String, String, u16)>>>;

/// The SDK's own OAuth HTTP client, recording each exchange.
struct Recording<C> {
    inner: C,
    trace: Trace,
}

impl<C: OAuthHttpClient> OAuthHttpClient for Recording<C> {
    fn execute(&self, request: OAuthHttpRequest) -> OAuthHttpClientFuture<'_> {
        let method = request.request.method().to_string();
        let url = request.request.uri().to_string();
        Box::pin(async move {
            let result = self.inner.execute(request).await;
            let status = result.as_ref().map_or(0, |resp| resp.status().as_u16());
            self.trace
                .lock()
                .expect("trace lock")
                .push((method, url, status));
            result
        })
    }
}

/// A connected, authorized rmcp client.
pub struct Connected {
    pub service: RunningService<RoleClient, ()>,
    pub auth: AuthClient<reqwest::Client>,
    /// The SDK's OAuth exchanges (discovery, registration, token).
    pub oauth_trace: Trace,
    /// The browser's exchanges on the authorization pages.
    pub browser_trace: Vec<browser::Exchange>,
    /// The `WWW-Authenticate` challenge of our first 401.
    pub challenge: String,
}

impl Connected {
    /// `tools/call name {}`; the structured content of the result.
    pub async fn call(&self, name: &'static str) -> Value {
        let result = self
            .service
            .call_tool(CallToolRequestParams::new(name))
            .await
            .unwrap_or_else(|e| panic!("tools/call {name}: {e}"));
        assert_ne!(result.is_error, Some(true), "{name} failed: {result:?}");
        match result.structured_content {
            Some(content) => content,
            None => panic!(
                "{name} returned no structured content: {:?}",
                result.content
            ),
        }
    }

    /// The access token the SDK holds now.
    pub async fn access_token(&self) -> String {
        self.auth
            .get_access_token()
            .await
            .expect("the SDK holds a token")
    }

    /// Has the SDK refresh its token at the authorization server.
    pub async fn refresh(&self) {
        self.auth
            .auth_manager
            .lock()
            .await
            .refresh_token()
            .await
            .expect("refresh_token grant");
    }

    pub fn oauth_exchanges(&self) -> Vec<(String, String, u16)> {
        self.oauth_trace.lock().expect("trace lock").clone()
    }

    /// `tools/call name {}`, stepping up as the SDK provides for: on our 403
    /// `insufficient_scope` the transport reports the challenge
    /// (`InsufficientScopeError`); the authorization manager builds the
    /// authorization URL for its current scopes plus the challenge's
    /// (`request_scope_upgrade`), the user authorizes, the code is exchanged, and
    /// the call is retried on a new connection. The challenge's `scope`, and the
    /// tool's result.
    pub async fn call_stepping_up(
        &mut self,
        mcp_url: &str,
        name: &'static str,
        login: &str,
    ) -> (String, CallToolResult) {
        let refused = match self
            .service
            .call_tool(CallToolRequestParams::new(name))
            .await
        {
            Ok(result) => panic!("{name} passed without stepping up: {result:?}"),
            Err(e) => e,
        };
        // The transport's error, as rmcp's own `auth_challenge` reads it.
        let ServiceError::TransportSend(transport_error) = &refused else {
            panic!("{name} failed without a transport error: {refused:?}");
        };
        let mut source: Option<&(dyn std::error::Error + 'static)> =
            Some(transport_error.error.as_ref());
        let insufficient = loop {
            match source {
                Some(e) => match e.downcast_ref::<InsufficientScopeError>() {
                    Some(found) => break found,
                    None => source = e.source(),
                },
                None => {
                    panic!("{name} failed without an insufficient_scope challenge: {refused:?}")
                }
            }
        };
        let scope = insufficient
            .get_required_scope()
            .unwrap_or_else(|| panic!("no scope in {}", insufficient.www_authenticate_header))
            .to_owned();
        let url = self
            .auth
            .auth_manager
            .lock()
            .await
            .request_scope_upgrade(&scope)
            .await
            .unwrap_or_else(|e| panic!("request_scope_upgrade({scope}): {e}"));
        let (callback, trace) = browser::authorize(&url, REDIRECT_URI, login).await;
        self.browser_trace.extend(trace);
        let callback = url::Url::parse(&callback).expect("callback URL");
        let param = |k: &str| {
            callback
                .query_pairs()
                .find(|(name, _)| name == k)
                .map(|(_, v)| v.into_owned())
        };
        let code = param("code").unwrap_or_else(|| panic!("no code in {callback}"));
        let state = param("state").unwrap_or_else(|| panic!("no state in {callback}"));
        self.auth
            .auth_manager
            .lock()
            .await
            .exchange_code_for_token_with_issuer(&code, &state, param("iss").as_deref())
            .await
            .unwrap_or_else(|e| panic!("code exchange after step-up: {e}"));
        let transport = StreamableHttpClientTransport::with_client(
            self.auth.clone(),
            StreamableHttpClientTransportConfig::with_uri(mcp_url),
        );
        self.service = ()
            .serve(transport)
            .await
            .unwrap_or_else(|e| panic!("connection after step-up: {e}"));
        let result = self
            .service
            .call_tool(CallToolRequestParams::new(name))
            .await
            .unwrap_or_else(|e| panic!("tools/call {name} after step-up: {e}"));
        (scope, result)
    }
}

/// Connects to `mcp_url` as `login`, through the reactive flow the SDK documents.
pub async fn connect(mcp_url: &str, login: &str) -> Connected {
    connect_with(mcp_url, login, |request| request).await
}

/// [`connect`], with the authorization request adjusted by `tweak` (e.g. the
/// SDK's initial scope selection, which asks for the 401's `scope` only).
pub async fn connect_with(
    mcp_url: &str,
    login: &str,
    tweak: impl FnOnce(AuthorizationRequest) -> AuthorizationRequest,
) -> Connected {
    // 1. Unauthenticated: the server's 401 challenge starts the flow.
    let refused = match ().serve(StreamableHttpClientTransport::from_uri(mcp_url)).await {
        Ok(_) => panic!("an unauthenticated connection was accepted"),
        Err(e) => e,
    };
    let challenge = refused
        .auth_challenge()
        .unwrap_or_else(|| panic!("no WWW-Authenticate challenge in: {refused}"))
        .to_owned();

    // 2. Discovery from the challenge, registration, PKCE authorization URL.
    let trace = Trace::default();
    let http = Recording {
        inner: default_oauth_http_client().expect("the SDK's HTTP client"),
        trace: Arc::clone(&trace),
    };
    let manager = AuthorizationManager::new_with_oauth_http_client(mcp_url, Arc::new(http))
        .await
        .expect("authorization manager");
    let mut state = OAuthState::Unauthorized(manager);
    state
        .start_authorization(tweak(
            AuthorizationRequest::new(REDIRECT_URI)
                .with_client_name("mcp-auth interop (rmcp)")
                .with_challenge(challenge.clone()),
        ))
        .await
        .unwrap_or_else(|e| panic!("start_authorization: {e}; exchanges: {:?}", trace));
    let authorization_url = state
        .get_authorization_url()
        .await
        .expect("authorization URL");

    // 3. The user's part, then the code exchange.
    let (callback, browser_trace) =
        browser::authorize(&authorization_url, REDIRECT_URI, login).await;
    state
        .handle_callback_url(&callback)
        .await
        .unwrap_or_else(|e| panic!("code exchange ({callback}): {e}; exchanges: {:?}", trace));
    let manager = state
        .into_authorization_manager()
        .expect("authorized after the callback");

    // 4. Reconnect with the token.
    let auth = AuthClient::new(reqwest::Client::default(), manager);
    let transport = StreamableHttpClientTransport::with_client(
        auth.clone(),
        StreamableHttpClientTransportConfig::with_uri(mcp_url),
    );
    let service =
        ().serve(transport)
            .await
            .unwrap_or_else(|e| panic!("authorized connection: {e}"));
    Connected {
        service,
        auth,
        oauth_trace: trace,
        browser_trace,
        challenge,
    }
}
