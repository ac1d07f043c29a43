//! A local fake of a Keycloak server over real HTTP, laid out as Keycloak lays it
//! out, and access tokens shaped like the ones a Keycloak realm issues.

#![allow(dead_code)] // each test file uses its own subset

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use mcp_auth_testkit::now;
use serde_json::{Value, json};

/// The realm the fake serves.
pub const REALM: &str = "acme";
/// The client the MCP server is registered as (a confidential client).
pub const CLIENT: &str = "mcp-server";
/// Its secret, which the token endpoint requires.
pub const CLIENT_SECRET: &str = "kc-client-secret";

struct ServerState {
    base: String,
    certs: Mutex<Value>,
    certs_hits: AtomicUsize,
    discovery_hits: AtomicUsize,
    authorize_queries: Mutex<Vec<HashMap<String, String>>>,
    token_forms: Mutex<Vec<HashMap<String, String>>>,
    registrations: Mutex<Vec<Value>>,
    access_token: Mutex<String>,
}

/// A fake Keycloak on 127.0.0.1 with one realm: `/realms/acme/protocol/openid-connect/certs`,
/// `/realms/acme/.well-known/openid-configuration`, the `auth` and `token`
/// endpoints under `/realms/acme/protocol/openid-connect/`, and dynamic client
/// registration at `/realms/acme/clients-registrations/openid-connect`. Other
/// realms are 404.
pub struct FakeKeycloak {
    addr: SocketAddr,
    state: Arc<ServerState>,
}

async fn certs(State(s): State<Arc<ServerState>>, Path(realm): Path<String>) -> Response {
    if realm != REALM {
        return (StatusCode::NOT_FOUND, "Realm does not exist").into_response();
    }
    s.certs_hits.fetch_add(1, Ordering::SeqCst);
    axum::Json(s.certs.lock().expect("lock").clone()).into_response()
}

async fn discovery(State(s): State<Arc<ServerState>>, Path(realm): Path<String>) -> Response {
    if realm != REALM {
        return (StatusCode::NOT_FOUND, "Realm does not exist").into_response();
    }
    s.discovery_hits.fetch_add(1, Ordering::SeqCst);
    let issuer = format!("{}/realms/{REALM}", s.base);
    let oidc = format!("{issuer}/protocol/openid-connect");
    axum::Json(json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{oidc}/auth"),
        "token_endpoint": format!("{oidc}/token"),
        "introspection_endpoint": format!("{oidc}/token/introspect"),
        "userinfo_endpoint": format!("{oidc}/userinfo"),
        "end_session_endpoint": format!("{oidc}/logout"),
        "jwks_uri": format!("{oidc}/certs"),
        "registration_endpoint": format!("{issuer}/clients-registrations/openid-connect"),
        "grant_types_supported": ["authorization_code", "implicit", "refresh_token", "password", "client_credentials", "urn:ietf:params:oauth:grant-type:device_code"],
        "response_types_supported": ["code", "none", "id_token", "token", "id_token token", "code id_token", "code token", "code id_token token"],
        "scopes_supported": ["openid", "profile", "email", "roles", "web-origins", "offline_access", "acr", "basic", "address", "phone", "microprofile-jwt"],
        "code_challenge_methods_supported": ["plain", "S256"],
        "id_token_signing_alg_values_supported": ["PS384", "RS384", "EdDSA", "ES384", "HS256", "HS512", "ES256", "RS256", "HS384", "ES512", "PS256", "PS512", "RS512"],
    }))
    .into_response()
}

async fn auth(
    State(s): State<Arc<ServerState>>,
    Path(realm): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if realm != REALM {
        return (StatusCode::NOT_FOUND, "Realm does not exist").into_response();
    }
    let target = format!(
        "{}?code=kc-code&state={}",
        q.get("redirect_uri").map_or("", String::as_str),
        q.get("state").map_or("", String::as_str)
    );
    s.authorize_queries.lock().expect("lock").push(q);
    Redirect::to(&target).into_response()
}

async fn token(
    State(s): State<Arc<ServerState>>,
    Path(realm): Path<String>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    if realm != REALM {
        return (StatusCode::NOT_FOUND, "Realm does not exist").into_response();
    }
    s.token_forms.lock().expect("lock").push(f.clone());
    if f.get("client_id").map(String::as_str) == Some(CLIENT)
        && f.get("client_secret").map(String::as_str) != Some(CLIENT_SECRET)
    {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": "unauthorized_client", "error_description": "Invalid client or Invalid client credentials"})),
        )
            .into_response();
    }
    if f.get("code").map(String::as_str) != Some("kc-code") {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "invalid_grant", "error_description": "Code not valid"})),
        )
            .into_response();
    }
    Json(json!({
        "access_token": *s.access_token.lock().expect("lock"),
        "expires_in": 300,
        "refresh_expires_in": 1800,
        "refresh_token": "kc-refresh",
        "token_type": "Bearer",
        "not-before-policy": 0,
        "session_state": "7c9e6679-7425-40de-944b-e07fc1f90ae7",
        "scope": "openid email profile"
    }))
    .into_response()
}

async fn register(
    State(s): State<Arc<ServerState>>,
    Path(realm): Path<String>,
    Json(body): Json<Value>,
) -> Response {
    if realm != REALM {
        return (StatusCode::NOT_FOUND, "Realm does not exist").into_response();
    }
    s.registrations.lock().expect("lock").push(body.clone());
    (
        StatusCode::CREATED,
        Json(json!({
            "client_id": "a1b2c3d4-dcr-client",
            "redirect_uris": body["redirect_uris"],
            "token_endpoint_auth_method": "none",
            "registration_access_token": "eyJhbGciOiJIUzI1NiJ9.e30.x"
        })),
    )
        .into_response()
}

impl FakeKeycloak {
    /// Starts the server publishing `certs` for the realm.
    pub async fn start(certs_doc: Value) -> FakeKeycloak {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let state = Arc::new(ServerState {
            base: format!("http://{addr}"),
            certs: Mutex::new(certs_doc),
            certs_hits: AtomicUsize::new(0),
            discovery_hits: AtomicUsize::new(0),
            authorize_queries: Mutex::default(),
            token_forms: Mutex::default(),
            registrations: Mutex::default(),
            access_token: Mutex::default(),
        });
        let app = Router::new()
            .route("/realms/{realm}/protocol/openid-connect/certs", get(certs))
            .route(
                "/realms/{realm}/.well-known/openid-configuration",
                get(discovery),
            )
            .route("/realms/{realm}/protocol/openid-connect/auth", get(auth))
            .route("/realms/{realm}/protocol/openid-connect/token", post(token))
            .route(
                "/realms/{realm}/clients-registrations/openid-connect",
                post(register),
            )
            .with_state(Arc::clone(&state));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeKeycloak { addr, state }
    }

    /// The server URL, `http://127.0.0.1:PORT` (what `MCP_USE_OAUTH_KEYCLOAK_SERVER_URL` holds).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The realm's issuer.
    pub fn issuer(&self) -> String {
        format!("{}/realms/{REALM}", self.url())
    }

    /// Certs requests served.
    pub fn certs_hits(&self) -> usize {
        self.state.certs_hits.load(Ordering::SeqCst)
    }

    /// Discovery requests served.
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

/// The claims of an access token the realm issued to `azp` for alice, as Keycloak
/// issues them: `aud: "account"`, realm roles, and roles in several clients.
pub fn access_token_claims(issuer: &str, azp: &str) -> Value {
    json!({
        "exp": now() + 300,
        "iat": now(),
        "auth_time": now() - 10,
        "jti": "onrtac:6f0c2a4e-8d1b-4f3e-9a7c-5b2d1e0f3a4b",
        "iss": issuer,
        "aud": "account",
        "sub": "f2b1c3d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
        "typ": "Bearer",
        "azp": azp,
        "sid": "7c9e6679-7425-40de-944b-e07fc1f90ae7",
        "acr": "1",
        "allowed-origins": ["http://localhost:3000"],
        "realm_access": {"roles": ["offline_access", "default-roles-acme", "uma_authorization", "analyst"]},
        "resource_access": {
            "mcp-server": {"roles": ["tools:write", "admin"]},
            "other-client": {"roles": ["superuser"]},
            "account": {"roles": ["manage-account", "manage-account-links", "view-profile"]}
        },
        "scope": "openid email profile",
        "email_verified": true,
        "name": "Alice Liddell",
        "preferred_username": "alice",
        "given_name": "Alice",
        "family_name": "Liddell",
        "email": "alice@example.com"
    })
}
