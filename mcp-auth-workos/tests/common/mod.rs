//! A local fake of WorkOS AuthKit over real HTTP, laid out as AuthKit lays it out
//! (`/oauth2/jwks`, `/.well-known/oauth-authorization-server`), tokens shaped like
//! AuthKit's, and an MCP server protected by the preset.

#![allow(dead_code)] // each test file uses its own subset

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use mcp_auth_core::{AuthContext, McpAuth};
use mcp_auth_testkit::{Algorithm, TestKey, jwks, now};
use mcp_auth_workos::{WorkosClaims as _, WorkosConfig, WorkosProvider};
use serde_json::{Value, json};

struct AuthKitState {
    base: String,
    jwks: Value,
    jwks_hits: AtomicUsize,
    metadata_hits: AtomicUsize,
}

/// A fake AuthKit on 127.0.0.1 with one RS256 signing key.
pub struct FakeAuthKit {
    pub addr: SocketAddr,
    pub key: TestKey,
    state: Arc<AuthKitState>,
}

async fn jwks_json(State(s): State<Arc<AuthKitState>>) -> Response {
    s.jwks_hits.fetch_add(1, Ordering::SeqCst);
    axum::Json(s.jwks.clone()).into_response()
}

/// What `https://{subdomain}.authkit.app/.well-known/oauth-authorization-server` says.
async fn authorization_server(State(s): State<Arc<AuthKitState>>) -> Response {
    s.metadata_hits.fetch_add(1, Ordering::SeqCst);
    let base = &s.base;
    axum::Json(json!({
        "issuer": base,
        "authorization_endpoint": format!("{base}/oauth2/authorize"),
        "token_endpoint": format!("{base}/oauth2/token"),
        "registration_endpoint": format!("{base}/oauth2/register"),
        "introspection_endpoint": format!("{base}/oauth2/introspection"),
        "jwks_uri": format!("{base}/oauth2/jwks"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["none", "client_secret_post", "client_secret_basic"],
        "scopes_supported": ["email", "offline_access", "openid", "profile"],
    }))
    .into_response()
}

impl FakeAuthKit {
    /// Starts AuthKit.
    pub async fn start() -> FakeAuthKit {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let key = TestKey::rsa("key_01HAUTHKIT", Algorithm::RS256);
        let state = Arc::new(AuthKitState {
            base: format!("http://{addr}"),
            jwks: jwks(&[key.jwk()]),
            jwks_hits: AtomicUsize::new(0),
            metadata_hits: AtomicUsize::new(0),
        });
        let app = Router::new()
            .route("/oauth2/jwks", get(jwks_json))
            .route(
                "/.well-known/oauth-authorization-server",
                get(authorization_server),
            )
            .with_state(Arc::clone(&state));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeAuthKit { addr, key, state }
    }

    /// `http://127.0.0.1:PORT`, standing for `https://{subdomain}.authkit.app`: the issuer.
    pub fn base(&self) -> String {
        self.state.base.clone()
    }

    /// JWKS requests served so far.
    pub fn jwks_hits(&self) -> usize {
        self.state.jwks_hits.load(Ordering::SeqCst)
    }

    /// Metadata requests served so far.
    pub fn metadata_hits(&self) -> usize {
        self.state.metadata_hits.load(Ordering::SeqCst)
    }

    /// The preset pointed at this AuthKit.
    pub fn config(&self) -> WorkosConfig {
        WorkosConfig::new("your-company").with_authkit_url(self.base())
    }

    /// An access token as AuthKit issues it for `aud`, for a member of an organization.
    pub fn claims(&self, aud: &str, sub: &str) -> Value {
        json!({
            "iss": self.base(),
            "sub": sub,
            "aud": aud,
            "sid": "session_01HQSXZGF8FHF7A9ZZFCW4387R",
            "jti": "01HQSXZXPPFK2ATHV5JFQ5ZWNY",
            "org_id": "org_01HRDMC6CM357W30QMHMQ96Q0S",
            "role": "admin",
            "roles": ["admin", "billing"],
            "permissions": ["widgets:read", "widgets:write"],
            "entitlements": ["audit-logs"],
            "feature_flags": ["new-dashboard"],
            "iat": now(),
            "exp": now() + 300,
        })
    }

    /// Signs `claims` with AuthKit's key.
    pub fn sign(&self, claims: &Value) -> String {
        self.key.sign(claims)
    }
}

/// An MCP server protected by a provider, on 127.0.0.1.
pub struct Server {
    pub addr: SocketAddr,
    pub resource: String,
}

impl Server {
    /// `http://127.0.0.1:PORT` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// `POST /mcp` with `token`; the response.
    pub async fn call(&self, token: &str) -> reqwest::Response {
        reqwest::Client::new()
            .post(self.url("/mcp"))
            .bearer_auth(token)
            .send()
            .await
            .expect("POST /mcp")
    }

    /// `POST /mcp` with `token`, which must be accepted; what the handler saw.
    pub async fn whoami(&self, token: &str) -> Value {
        let resp = self.call(token).await;
        assert_eq!(resp.status(), 200, "token refused");
        resp.json().await.expect("JSON")
    }

    /// `GET path`; status and JSON body.
    pub async fn get_json(&self, path: &str) -> (u16, Value) {
        let resp = reqwest::get(self.url(path)).await.expect("GET");
        let status = resp.status().as_u16();
        (status, resp.json().await.expect("JSON"))
    }
}

/// The handler behind the layer: the caller as the layer saw it, with the WorkOS
/// accessors.
async fn whoami(ctx: AuthContext) -> axum::Json<Value> {
    axum::Json(json!({
        "user": ctx.user(),
        "scopes": ctx.scopes(),
        "org_id": ctx.org_id(),
        "session_id": ctx.session_id(),
        "organization_role": ctx.organization_role(),
        "entitlements": ctx.entitlements(),
        "feature_flags": ctx.feature_flags(),
    }))
}

/// Serves `/mcp` protected by `provider`, with the discovery routes, the way a
/// user mounts it. The resource URL is `http://127.0.0.1:PORT/mcp`.
pub async fn serve(provider: WorkosProvider) -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let resource = format!("http://{addr}/mcp");
    let auth = McpAuth::new(provider)
        .resource_url(&resource)
        .expect("resource URL");
    let app = Router::new()
        .route("/mcp", any(whoami))
        .layer(auth.layer())
        .merge(auth.routes());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Server { addr, resource }
}
