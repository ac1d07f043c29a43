//! A local fake of a Supabase project over real HTTP, laid out as Supabase lays
//! it out, and access tokens shaped like the ones Supabase Auth issues.

#![allow(dead_code)] // each test file uses its own subset

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use mcp_auth_testkit::{now, sign_hmac};
use serde_json::{Value, json};

/// The legacy JWT secret of the fake project.
pub const SECRET: &str = "super-secret-jwt-token-with-at-least-32-characters-long";

struct ProjectState {
    base: String,
    jwks: Mutex<Value>,
    jwks_hits: AtomicUsize,
    discovery_hits: AtomicUsize,
    authorize_queries: Mutex<Vec<HashMap<String, String>>>,
    token_forms: Mutex<Vec<HashMap<String, String>>>,
    registrations: Mutex<Vec<Value>>,
    access_token: Mutex<String>,
}

/// A fake Supabase project on 127.0.0.1: `/auth/v1/.well-known/jwks.json`, the
/// OAuth 2.1 server's metadata at `/.well-known/oauth-authorization-server/auth/v1`
/// and `/auth/v1/.well-known/openid-configuration`, and its endpoints
/// `/auth/v1/oauth/{authorize,token,clients/register}`.
pub struct FakeSupabase {
    addr: SocketAddr,
    state: Arc<ProjectState>,
}

async fn jwks(State(s): State<Arc<ProjectState>>) -> axum::Json<Value> {
    s.jwks_hits.fetch_add(1, Ordering::SeqCst);
    axum::Json(s.jwks.lock().expect("lock").clone())
}

async fn metadata(State(s): State<Arc<ProjectState>>) -> axum::Json<Value> {
    s.discovery_hits.fetch_add(1, Ordering::SeqCst);
    let issuer = format!("{}/auth/v1", s.base);
    axum::Json(json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/oauth/authorize"),
        "token_endpoint": format!("{issuer}/oauth/token"),
        "registration_endpoint": format!("{issuer}/oauth/clients/register"),
        "jwks_uri": format!("{issuer}/.well-known/jwks.json"),
        "userinfo_endpoint": format!("{issuer}/oauth/userinfo"),
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "code_challenge_methods_supported": ["S256"],
        "scopes_supported": ["openid", "email", "profile", "phone"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
    }))
}

async fn authorize(
    State(s): State<Arc<ProjectState>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    // Supabase sends the browser to the project's consent page; the fake approves at once.
    let target = format!(
        "{}?code=sb-code&state={}",
        q.get("redirect_uri").map_or("", String::as_str),
        q.get("state").map_or("", String::as_str)
    );
    s.authorize_queries.lock().expect("lock").push(q);
    Redirect::to(&target).into_response()
}

async fn token(
    State(s): State<Arc<ProjectState>>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    s.token_forms.lock().expect("lock").push(f.clone());
    if f.get("code").map(String::as_str) != Some("sb-code") {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "invalid_grant", "error_description": "Invalid authorization code"})),
        )
            .into_response();
    }
    Json(json!({
        "access_token": *s.access_token.lock().expect("lock"),
        "token_type": "bearer",
        "expires_in": 3600,
        "refresh_token": "sb-refresh",
        "scope": "openid email"
    }))
    .into_response()
}

async fn register(State(s): State<Arc<ProjectState>>, Json(body): Json<Value>) -> Response {
    s.registrations.lock().expect("lock").push(body.clone());
    (
        StatusCode::CREATED,
        Json(json!({
            "client_id": "9a1f0c6e-dcr-client",
            "client_name": body["client_name"],
            "redirect_uris": body["redirect_uris"],
            "token_endpoint_auth_method": "none",
            "registration_type": "dynamic"
        })),
    )
        .into_response()
}

impl FakeSupabase {
    /// Starts the project publishing `jwks` (`{"keys": []}` for a legacy-only project).
    pub async fn start(jwks_doc: Value) -> FakeSupabase {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let state = Arc::new(ProjectState {
            base: format!("http://{addr}"),
            jwks: Mutex::new(jwks_doc),
            jwks_hits: AtomicUsize::new(0),
            discovery_hits: AtomicUsize::new(0),
            authorize_queries: Mutex::default(),
            token_forms: Mutex::default(),
            registrations: Mutex::default(),
            access_token: Mutex::default(),
        });
        let app = Router::new()
            .route("/auth/v1/.well-known/jwks.json", get(jwks))
            .route("/auth/v1/.well-known/openid-configuration", get(metadata))
            .route(
                "/.well-known/oauth-authorization-server/auth/v1",
                get(metadata),
            )
            .route("/auth/v1/oauth/authorize", get(authorize))
            .route("/auth/v1/oauth/token", post(token))
            .route("/auth/v1/oauth/clients/register", post(register))
            .with_state(Arc::clone(&state));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeSupabase { addr, state }
    }

    /// The project URL, `http://127.0.0.1:PORT` (what `MCP_USE_OAUTH_SUPABASE_URL` holds).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The issuer, `{url}/auth/v1`.
    pub fn issuer(&self) -> String {
        format!("{}/auth/v1", self.url())
    }

    /// JWKS requests served.
    pub fn jwks_hits(&self) -> usize {
        self.state.jwks_hits.load(Ordering::SeqCst)
    }

    /// Metadata requests served.
    pub fn discovery_hits(&self) -> usize {
        self.state.discovery_hits.load(Ordering::SeqCst)
    }

    /// The query of every request to the authorization endpoint.
    pub fn authorize_queries(&self) -> Vec<HashMap<String, String>> {
        self.state.authorize_queries.lock().expect("lock").clone()
    }

    /// The form of every request to the token endpoint.
    pub fn token_forms(&self) -> Vec<HashMap<String, String>> {
        self.state.token_forms.lock().expect("lock").clone()
    }

    /// The body of every dynamic client registration.
    pub fn registrations(&self) -> Vec<Value> {
        self.state.registrations.lock().expect("lock").clone()
    }

    /// Sets the access token the token endpoint hands out.
    pub fn set_access_token(&self, token: String) {
        *self.state.access_token.lock().expect("lock") = token;
    }
}

/// The claims of a Supabase access token for a user who signed in with GitHub,
/// as Supabase Auth issues them.
pub fn user_claims(issuer: &str) -> Value {
    json!({
        "iss": issuer,
        "sub": "8d5c9a52-0d4e-4f4f-9a57-3a1f0c6e2b11",
        "aud": "authenticated",
        "exp": now() + 3600,
        "iat": now(),
        "email": "ada@example.com",
        "phone": "",
        "app_metadata": {"provider": "github", "providers": ["github"]},
        "user_metadata": {
            "avatar_url": "https://avatars.githubusercontent.com/u/1?v=4",
            "email": "ada@example.com",
            "email_verified": true,
            "full_name": "Ada Lovelace",
            "iss": "https://api.github.com",
            "name": "Ada Lovelace",
            "preferred_username": "ada",
            "provider_id": "1",
            "sub": "1",
            "user_name": "ada"
        },
        "role": "authenticated",
        "aal": "aal1",
        "amr": [{"method": "oauth", "timestamp": now() - 60}],
        "session_id": "0b7a3f3c-6d3c-4f0e-8a55-7b3c2d1e0f9a",
        "is_anonymous": false
    })
}

/// A legacy HS256 token, signed with `secret` as Supabase signs it.
pub fn legacy_token(secret: &str, claims: &Value) -> String {
    sign_hmac(
        secret.as_bytes(),
        mcp_auth_testkit::Algorithm::HS256,
        Some("ZsF3a1bC"),
        claims,
    )
}
