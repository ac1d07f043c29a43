//! A local fake of a Keycloak server over real HTTP, laid out as Keycloak lays it
//! out, and access tokens shaped like the ones a Keycloak realm issues.

#![allow(dead_code)] // each test file uses its own subset

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use mcp_auth_testkit::now;
use serde_json::{Value, json};

/// The realm the fake serves.
pub const REALM: &str = "acme";
/// The client the MCP server is registered as.
pub const CLIENT: &str = "mcp-server";

struct ServerState {
    base: String,
    certs: Mutex<Value>,
    certs_hits: AtomicUsize,
    discovery_hits: AtomicUsize,
}

/// A fake Keycloak on 127.0.0.1 with one realm: `/realms/acme/protocol/openid-connect/certs`
/// and `/realms/acme/.well-known/openid-configuration`. Other realms are 404.
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
        });
        let app = Router::new()
            .route("/realms/{realm}/protocol/openid-connect/certs", get(certs))
            .route(
                "/realms/{realm}/.well-known/openid-configuration",
                get(discovery),
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
