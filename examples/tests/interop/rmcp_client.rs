//! The official Rust SDK's client (`rmcp` with its `auth` feature) doing the whole
//! reactive OAuth flow: connect, get our 401, discover from its challenge, register,
//! authorize with PKCE (pages answered by [`browser`]), exchange the code, reconnect
//! with the token and call tools.

use std::sync::{Arc, Mutex};

use rmcp::model::CallToolRequestParams;
use rmcp::service::RunningService;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::auth::{
    AuthClient, AuthorizationManager, AuthorizationRequest, OAuthHttpClient, OAuthHttpClientFuture,
    OAuthHttpRequest, OAuthState, default_oauth_http_client,
};
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
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
}

/// Connects to `mcp_url` as `login`, through the reactive flow the SDK documents.
pub async fn connect(mcp_url: &str, login: &str) -> Connected {
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
        .start_authorization(
            AuthorizationRequest::new(REDIRECT_URI)
                .with_client_name("mcp-auth interop (rmcp)")
                .with_challenge(challenge.clone()),
        )
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
