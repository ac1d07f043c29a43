//! Proxy mode in front of the testkit's fake upstream, for the proxy_* modules,
//! and the requests they send it.

use axum::routing::any;
use mcp_auth_core::{
    AuthContext, ClientSecret, CustomConfig, CustomProvider, Mode, jwt::Algorithm,
};
use mcp_auth_testkit::{FakeIdp, McpServer, TestKey, claims, jwks, no_redirects};

/// Our server in proxy mode, its upstream, and a client that shows each redirect.
pub struct Setup {
    pub base: String,
    /// The token issuer (its JWKS) and the upstream authorization server in one.
    pub upstream: FakeIdp,
    pub http: reqwest::Client,
}

/// Starts the upstream, which knows `client` (a confidential client) if given
/// and what registers with it, and hands out a token for `user`; then, in front
/// of it, `/mcp` (answering the caller's user id) behind a proxy-mode provider
/// with `client` as its pre-registered upstream client (the broker; without one,
/// the relay), an `audience` authorize parameter, and `token_endpoint` instead
/// of the upstream's if given. `tweak` sets up the upstream and the provider's
/// configuration further.
pub async fn setup(
    user: &str,
    client: Option<(&str, &str)>,
    token_endpoint: Option<String>,
    tweak: impl FnOnce(&FakeIdp, &mut CustomConfig),
) -> Setup {
    let key = TestKey::rsa("k", Algorithm::RS256);
    let upstream = FakeIdp::start(jwks(&[key.jwk()])).await;
    if let Some((client_id, secret)) = client {
        upstream.add_confidential_client(client_id, secret);
    }
    upstream.set_refuse_unknown_clients(true);
    let mut config = CustomConfig::new(upstream.issuer());
    config.jwks_url = Some(upstream.jwks_url());
    config.mode = Mode::Proxy;
    config.authorization_endpoint = Some(upstream.authorize_url());
    config.token_endpoint = Some(token_endpoint.unwrap_or(upstream.token_url()));
    config.grant_types_supported = vec![
        "authorization_code".into(),
        "refresh_token".into(),
        "client_credentials".into(),
    ];
    tweak(&upstream, &mut config);
    let mut provider = CustomProvider::new(config)
        .expect("provider")
        .with_authorize_param("audience", "https://api.example.com");
    if let Some((client_id, secret)) = client {
        provider = provider.with_proxy_client(client_id, Some(ClientSecret::new(secret)));
    }
    let user_id = any(|who: AuthContext| async move { who.user().user_id.clone() });
    let server = McpServer::protected(provider, user_id).await;
    upstream.set_access_token(key.sign(&claims(&upstream.issuer(), &server.resource, user)));
    Setup {
        base: server.base,
        upstream,
        http: no_redirects(),
    }
}

impl Setup {
    /// A GET of `url` from the browser holding `cookie`, not followed.
    pub async fn in_browser(&self, url: &str, cookie: &str) -> reqwest::Response {
        self.http
            .get(url)
            .header("cookie", cookie)
            .send()
            .await
            .expect("GET")
    }

    /// POSTs `form` to our `/token`.
    pub async fn post_token(&self, form: &[(&str, &str)]) -> reqwest::Response {
        self.http
            .post(format!("{}/token", self.base))
            .form(form)
            .send()
            .await
            .expect("POST /token")
    }

    /// `GET path` on our server, as JSON.
    pub async fn get_json(&self, path: &str) -> serde_json::Value {
        self.http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .expect("GET")
            .json()
            .await
            .expect("JSON")
    }

    /// POSTs `metadata` (JSON) to our `/register`.
    pub async fn post_register(&self, metadata: &serde_json::Value) -> reqwest::Response {
        self.http
            .post(format!("{}/register", self.base))
            .json(metadata)
            .send()
            .await
            .expect("POST /register")
    }

    /// `POST /mcp` with `access_token` as bearer.
    pub async fn call_mcp(&self, access_token: &str) -> reqwest::Response {
        self.http
            .post(format!("{}/mcp", self.base))
            .bearer_auth(access_token)
            .send()
            .await
            .expect("POST /mcp")
    }
}
