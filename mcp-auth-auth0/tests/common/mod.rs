//! A local fake of an Auth0 tenant over real HTTP, laid out as Auth0 lays it out
//! (`/.well-known/jwks.json` and `/.well-known/openid-configuration` at the domain
//! root, `/userinfo`), tokens shaped like Auth0's, and an MCP server protected by
//! the preset.

#![allow(dead_code)] // each test file uses its own subset

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use mcp_auth_auth0::{Auth0Config, Auth0Provider};
use mcp_auth_core::{AuthContext, McpAuth};
use mcp_auth_testkit::{Algorithm, TestKey, jwks, now};
use serde_json::{Value, json};

/// The API identifier of the tests' Auth0 API.
pub const AUDIENCE: &str = "https://api.example.com";
/// The roles claim an Auth0 Action adds under the API's namespace (the preset's default).
pub const ROLES_CLAIM: &str = "https://api.example.com/roles";

struct TenantState {
    base: String,
    key: TestKey,
    jwks: Value,
    jwks_hits: AtomicUsize,
    token_requests: Mutex<Vec<Vec<(String, String)>>>,
    registrations: Mutex<Vec<Value>>,
}

/// A fake Auth0 tenant on 127.0.0.1 with one RS256 signing key.
pub struct FakeAuth0 {
    pub addr: SocketAddr,
    state: Arc<TenantState>,
}

/// `POST /oauth/token`: records the form and answers with an Auth0-shaped access
/// token for the `audience` the tenant was asked for (here: [`AUDIENCE`]).
async fn oauth_token(
    State(s): State<Arc<TenantState>>,
    axum::Form(form): axum::Form<Vec<(String, String)>>,
) -> Response {
    s.token_requests.lock().expect("lock").push(form.clone());
    let field = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    if field("code").as_deref() != Some("auth0-code-123") {
        return (
            StatusCode::FORBIDDEN,
            axum::Json(json!({"error": "invalid_grant", "error_description": "Invalid authorization code"})),
        )
            .into_response();
    }
    let claims = tenant_claims(&s.base, "auth0|64f1c2d3e4b5a6978899aabb");
    axum::Json(json!({
        "access_token": s.key.sign(&claims),
        "token_type": "Bearer",
        "expires_in": 86400,
        "scope": "openid profile email",
    }))
    .into_response()
}

/// `POST /oidc/register`: Auth0's dynamic client registration.
async fn oidc_register(
    State(s): State<Arc<TenantState>>,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    s.registrations.lock().expect("lock").push(body.clone());
    (
        StatusCode::CREATED,
        axum::Json(json!({
            "client_id": "dcr-client-7Yh2",
            "client_name": body["client_name"],
            "redirect_uris": body["redirect_uris"],
            "token_endpoint_auth_method": "none",
        })),
    )
        .into_response()
}

fn tenant_claims(base: &str, sub: &str) -> Value {
    json!({
        "iss": format!("{base}/"),
        "sub": sub,
        "aud": [AUDIENCE, format!("{base}/userinfo")],
        "iat": now(),
        "exp": now() + 3600,
        "azp": "Xq3lA5pU0ZrTw1mS8dN2cV7bE4kY6hJ9",
        "scope": "openid profile email",
        "permissions": ["read:reports", "write:reports"],
        ROLES_CLAIM: ["admin", "editor"],
    })
}

async fn jwks_json(State(s): State<Arc<TenantState>>) -> Response {
    s.jwks_hits.fetch_add(1, Ordering::SeqCst);
    axum::Json(s.jwks.clone()).into_response()
}

/// What `https://{tenant}/.well-known/openid-configuration` says (abridged).
async fn openid_configuration(State(s): State<Arc<TenantState>>) -> Response {
    let base = &s.base;
    axum::Json(json!({
        "issuer": format!("{base}/"),
        "authorization_endpoint": format!("{base}/authorize"),
        "token_endpoint": format!("{base}/oauth/token"),
        "device_authorization_endpoint": format!("{base}/oauth/device/code"),
        "userinfo_endpoint": format!("{base}/userinfo"),
        "mfa_challenge_endpoint": format!("{base}/mfa/challenge"),
        "jwks_uri": format!("{base}/.well-known/jwks.json"),
        "registration_endpoint": format!("{base}/oidc/register"),
        "revocation_endpoint": format!("{base}/oauth/revoke"),
        "scopes_supported": ["openid", "profile", "offline_access", "name", "given_name", "family_name", "nickname", "email", "email_verified", "picture", "created_at", "identities", "phone", "address"],
        "response_types_supported": ["code", "token", "id_token", "code token", "code id_token", "token id_token", "code token id_token"],
        "code_challenge_methods_supported": ["S256", "plain"],
        "grant_types_supported": ["authorization_code", "implicit", "refresh_token", "client_credentials"],
        "id_token_signing_alg_values_supported": ["HS256", "RS256", "PS256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "private_key_jwt"],
    }))
    .into_response()
}

/// Answers with a profile when called with a bearer token, as Auth0's `/userinfo` does.
async fn userinfo(headers: HeaderMap) -> Response {
    match headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    {
        Some(_) => axum::Json(json!({
            "sub": "auth0|64f1c2d3e4b5a6978899aabb",
            "email": "alice@example.com",
            "email_verified": true,
            "name": "Alice Example",
        }))
        .into_response(),
        None => StatusCode::UNAUTHORIZED.into_response(),
    }
}

impl FakeAuth0 {
    /// Starts the tenant.
    pub async fn start() -> FakeAuth0 {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let key = TestKey::rsa("auth0-key-1", Algorithm::RS256);
        let state = Arc::new(TenantState {
            base: format!("http://{addr}"),
            jwks: jwks(&[key.jwk()]),
            key,
            jwks_hits: AtomicUsize::new(0),
            token_requests: Mutex::new(Vec::new()),
            registrations: Mutex::new(Vec::new()),
        });
        let app = Router::new()
            .route("/.well-known/jwks.json", get(jwks_json))
            .route(
                "/.well-known/openid-configuration",
                get(openid_configuration),
            )
            .route("/userinfo", get(userinfo))
            .route("/oauth/token", post(oauth_token))
            .route("/oidc/register", post(oidc_register))
            .with_state(Arc::clone(&state));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeAuth0 { addr, state }
    }

    /// The tenant's signing key.
    pub fn key(&self) -> &TestKey {
        &self.state.key
    }

    /// The forms `POST /oauth/token` received.
    pub fn token_requests(&self) -> Vec<Vec<(String, String)>> {
        self.state.token_requests.lock().expect("lock").clone()
    }

    /// The bodies `POST /oidc/register` received.
    pub fn registrations(&self) -> Vec<Value> {
        self.state.registrations.lock().expect("lock").clone()
    }

    /// `http://127.0.0.1:PORT`, standing for `https://{domain}`.
    pub fn base(&self) -> String {
        self.state.base.clone()
    }

    /// The issuer, with Auth0's trailing slash.
    pub fn issuer(&self) -> String {
        format!("{}/", self.base())
    }

    /// JWKS requests served so far.
    pub fn jwks_hits(&self) -> usize {
        self.state.jwks_hits.load(Ordering::SeqCst)
    }

    /// The preset pointed at this tenant, for [`AUDIENCE`].
    pub fn config(&self) -> Auth0Config {
        Auth0Config::new("tenant.example.com", AUDIENCE).with_base_url(self.base())
    }

    /// An access token as Auth0 issues it for [`AUDIENCE`] with RBAC permissions and
    /// an Action adding namespaced roles.
    pub fn claims(&self, sub: &str) -> Value {
        tenant_claims(&self.base(), sub)
    }

    /// Signs `claims` with the tenant's key.
    pub fn sign(&self, claims: &Value) -> String {
        self.state.key.sign(claims)
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

    /// `GET path` as JSON.
    pub async fn get_json(&self, path: &str) -> Value {
        let resp = reqwest::get(self.url(path)).await.expect("GET");
        assert_eq!(resp.status(), 200, "GET {path}");
        resp.json().await.expect("JSON")
    }
}

/// The handler behind the layer: the caller as the layer saw it.
async fn whoami(ctx: AuthContext) -> axum::Json<Value> {
    axum::Json(json!({
        "user": ctx.user(),
        "scopes": ctx.scopes(),
        "permissions": ctx.permissions(),
        "client_id": ctx.client_id(),
    }))
}

/// Serves `/mcp` protected by `provider`, with the discovery routes, the way a
/// user mounts it.
pub async fn serve(provider: Auth0Provider) -> Server {
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

/// The `WWW-Authenticate` header of a response, or "".
pub fn challenge(resp: &reqwest::Response) -> String {
    resp.headers()
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}
