//! One configurable fake authorization server over real HTTP on 127.0.0.1.
//!
//! Vendors differ mostly in where they put things, not in what the endpoints do,
//! so a [`Layout`] names the paths and one implementation serves them: the JWKS,
//! the discovery document, an authorization endpoint that records the query and
//! redirects back with a code, a token endpoint that records the form and hands
//! out tokens, and a registration endpoint that records the body. Vendor-shaped
//! extras (more discovery fields, token and registration response fields, error
//! statuses) and the behaviour the tests need (fixed or one-time codes and
//! refresh tokens, confidential clients, refusing unknown clients, denying
//! consent, JWKS failures) are set on the running server.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::extract::{Form, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Map, Value, json};

use crate::keys::b64;

/// Where a vendor puts its endpoints: paths from the server's root.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    /// Appended to the base URL to make the issuer: `""` (the base itself), `"/"`
    /// (a trailing slash), `"/auth/v1"`, `"/realms/acme"`.
    pub issuer_path: &'static str,
    /// The JWKS.
    pub jwks_path: &'static str,
    /// Every path serving the discovery document (OpenID, RFC 8414, or both).
    pub discovery_paths: &'static [&'static str],
    /// The authorization endpoint (`GET`).
    pub authorize_path: &'static str,
    /// The token endpoint (`POST`, form).
    pub token_path: &'static str,
    /// The dynamic client registration endpoint (`POST`, JSON).
    pub register_path: &'static str,
    /// Further endpoints the discovery document names, as `(field, path)`; not served.
    pub other_endpoints: &'static [(&'static str, &'static str)],
}

impl Default for Layout {
    /// The issuer at the root, `/jwks.json`, both discovery documents under
    /// `/.well-known/`, and `/authorize`, `/token`, `/register`.
    fn default() -> Self {
        Layout {
            issuer_path: "",
            jwks_path: "/jwks.json",
            discovery_paths: &[
                "/.well-known/openid-configuration",
                "/.well-known/oauth-authorization-server",
            ],
            authorize_path: "/authorize",
            token_path: "/token",
            register_path: "/register",
            other_endpoints: &[],
        }
    }
}

/// How the fake answers JWKS requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Behavior {
    /// Serve the current JWKS.
    Normal,
    /// Answer with this status and an HTML body.
    Status(u16),
    /// Answer 200 with a body that is not JSON.
    Garbage,
    /// Answer 200 with a body of this many bytes (valid JSON prefix, then padding).
    Huge(usize),
    /// Wait this long before answering normally.
    Delay(Duration),
}

/// The authorization codes the fake hands out.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Codes {
    /// This code for every authorization, redeemable any number of times, also
    /// without an authorization first; once an authorization sent a PKCE
    /// challenge with it, the verifier must match the latest one.
    Fixed(String),
    /// A fresh code per authorization, redeemable once, with the verifier of its
    /// challenge and the redirect URI it was issued for.
    #[default]
    OneTime,
}

/// The refresh tokens the fake hands out with every token.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum RefreshTokens {
    /// None: token responses carry no refresh token; the refresh grant fails.
    None,
    /// This one, accepted any number of times.
    Fixed(String),
    /// A fresh one each time, accepted once.
    #[default]
    OneTime,
}

/// What an authorization left for the code it issued.
#[derive(Clone, Default)]
struct Grant {
    challenge: Option<String>,
    /// Bound for one-time codes only.
    redirect_uri: Option<String>,
}

/// Settings and issued state, behind one lock.
struct Settings {
    jwks: Value,
    behavior: Behavior,
    cache_control: Option<String>,
    discovery_issuer: Option<String>,
    discovery_fields: Map<String, Value>,
    codes: Codes,
    refresh_tokens: RefreshTokens,
    invalid_grant_status: StatusCode,
    confidential_clients: HashMap<String, String>,
    refuse_unknown_clients: bool,
    deny_authorizations: bool,
    access_token: String,
    token_fields: Map<String, Value>,
    registered_client_id: String,
    registration_fields: Map<String, Value>,
    registration_delay: std::time::Duration,
    issued_codes: HashMap<String, Grant>,
    live_refresh_tokens: HashSet<String>,
    registered_clients: HashSet<String>,
    counter: usize,
}

struct Shared {
    base: String,
    layout: Layout,
    settings: Mutex<Settings>,
    jwks_hits: AtomicUsize,
    discovery_hits: AtomicUsize,
    authorize_queries: Mutex<Vec<HashMap<String, String>>>,
    token_forms: Mutex<Vec<HashMap<String, String>>>,
    registrations: Mutex<Vec<Value>>,
}

impl Shared {
    fn settings(&self) -> MutexGuard<'_, Settings> {
        self.settings.lock().expect("lock")
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

/// A fake authorization server on 127.0.0.1, laid out by a [`Layout`].
pub struct FakeAuthServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

/// A fake identity provider on 127.0.0.1: the [`FakeAuthServer`] in the default
/// [`Layout`] (`/jwks.json`, `/.well-known/openid-configuration` and the RFC 8414
/// document, `/authorize`, `/token`, `/register`).
pub type FakeIdp = FakeAuthServer;

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        Json(json!({"error": error, "error_description": description})),
    )
        .into_response()
}

fn merge(doc: &mut Value, fields: &Map<String, Value>) {
    if let Some(obj) = doc.as_object_mut() {
        obj.extend(fields.clone());
    }
}

fn object(fields: Value) -> Map<String, Value> {
    match fields {
        Value::Object(map) => map,
        other => panic!("expected a JSON object, got {other}"),
    }
}

/// The RFC 7636 S256 challenge of `verifier`, computed apart from core's PKCE so
/// tests check core against an independent implementation.
pub fn s256_challenge(verifier: &str) -> String {
    b64(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes()).as_ref())
}

async fn serve_jwks(State(s): State<Arc<Shared>>) -> Response {
    s.jwks_hits.fetch_add(1, Ordering::SeqCst);
    let (behavior, jwks, cache_control) = {
        let st = s.settings();
        (
            st.behavior.clone(),
            st.jwks.clone(),
            st.cache_control.clone(),
        )
    };
    let mut resp = match behavior {
        Behavior::Normal => Json(jwks).into_response(),
        Behavior::Status(code) => (
            StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            "<html>oops</html>",
        )
            .into_response(),
        Behavior::Garbage => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            "{\"keys\": [tru",
        )
            .into_response(),
        Behavior::Huge(n) => {
            let mut body = String::from("{\"keys\": [], \"pad\": \"");
            body.push_str(&"x".repeat(n));
            body.push_str("\"}");
            (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "application/json")],
                body,
            )
                .into_response()
        }
        Behavior::Delay(d) => {
            tokio::time::sleep(d).await;
            // Whatever is published by the time the answer goes out.
            Json(s.settings().jwks.clone()).into_response()
        }
    };
    if let Some(cc) = cache_control {
        resp.headers_mut().insert(
            header::CACHE_CONTROL,
            HeaderValue::from_str(&cc).expect("header"),
        );
    }
    resp
}

async fn serve_discovery(State(s): State<Arc<Shared>>) -> Response {
    s.discovery_hits.fetch_add(1, Ordering::SeqCst);
    let layout = s.layout;
    let st = s.settings();
    let issuer = st
        .discovery_issuer
        .clone()
        .unwrap_or_else(|| s.url(layout.issuer_path));
    let mut doc = json!({
        "issuer": issuer,
        "jwks_uri": s.url(layout.jwks_path),
        "authorization_endpoint": s.url(layout.authorize_path),
        "token_endpoint": s.url(layout.token_path),
        "registration_endpoint": s.url(layout.register_path),
        "response_types_supported": ["code"],
        "code_challenge_methods_supported": ["S256"],
    });
    for (field, path) in layout.other_endpoints {
        doc[*field] = json!(s.url(path));
    }
    merge(&mut doc, &st.discovery_fields);
    Json(doc).into_response()
}

/// Records the query and sends the browser back to its `redirect_uri` with a
/// code (or `access_denied`) and the `state`, as if the user approved at once.
async fn authorize(
    State(s): State<Arc<Shared>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    s.authorize_queries.lock().expect("lock").push(q.clone());
    let Some(mut target) = q.get("redirect_uri").and_then(|u| url::Url::parse(u).ok()) else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "redirect_uri is missing or not a URL",
        );
    };
    let state = q.get("state").map_or("", String::as_str);
    let mut st = s.settings();
    if st.deny_authorizations {
        target
            .query_pairs_mut()
            .append_pair("error", "access_denied")
            .append_pair("error_description", "user said no")
            .append_pair("state", state);
    } else {
        let challenge = q.get("code_challenge").cloned();
        let (code, grant) = match &st.codes {
            Codes::Fixed(code) => (
                code.clone(),
                Grant {
                    challenge,
                    redirect_uri: None,
                },
            ),
            Codes::OneTime => {
                st.counter += 1;
                (
                    format!("code-{}", st.counter),
                    Grant {
                        challenge,
                        redirect_uri: q.get("redirect_uri").cloned(),
                    },
                )
            }
        };
        st.issued_codes.insert(code.clone(), grant);
        target
            .query_pairs_mut()
            .append_pair("code", &code)
            .append_pair("state", state);
    }
    Redirect::to(target.as_str()).into_response()
}

impl Settings {
    /// A refusal of the client, if any: a confidential client without its
    /// secret, or (when asked) a client neither confidential nor registered here.
    fn client_refusal(&self, client_id: &str, secret: Option<&String>) -> Option<Response> {
        if let Some(expected) = self.confidential_clients.get(client_id) {
            return (secret != Some(expected)).then(|| {
                oauth_error(
                    StatusCode::UNAUTHORIZED,
                    "unauthorized_client",
                    "Invalid client or Invalid client credentials",
                )
            });
        }
        (self.refuse_unknown_clients && !self.registered_clients.contains(client_id)).then(|| {
            oauth_error(
                StatusCode::BAD_REQUEST,
                "unauthorized_client",
                "unknown client",
            )
        })
    }

    fn redeem_code(&mut self, code: &str, verifier: &str, redirect_uri: Option<&String>) -> bool {
        let grant = match &self.codes {
            Codes::Fixed(fixed) if code == fixed => {
                self.issued_codes.get(code).cloned().unwrap_or_default()
            }
            Codes::Fixed(_) => return false,
            Codes::OneTime => match self.issued_codes.remove(code) {
                Some(grant) => grant,
                None => return false,
            },
        };
        if grant.redirect_uri.is_some() && grant.redirect_uri.as_ref() != redirect_uri {
            return false;
        }
        grant
            .challenge
            .is_none_or(|c| s256_challenge(verifier) == c)
    }

    fn redeem_refresh_token(&mut self, token: &str) -> bool {
        match &self.refresh_tokens {
            RefreshTokens::None => false,
            RefreshTokens::Fixed(fixed) => token == fixed,
            RefreshTokens::OneTime => self.live_refresh_tokens.remove(token),
        }
    }

    fn token_response(&mut self) -> Value {
        let mut body = json!({
            "access_token": self.access_token,
            "token_type": "Bearer",
            "expires_in": 3600,
        });
        match &self.refresh_tokens {
            RefreshTokens::None => {}
            RefreshTokens::Fixed(fixed) => body["refresh_token"] = json!(fixed),
            RefreshTokens::OneTime => {
                self.counter += 1;
                let fresh = format!("refresh-{}", self.counter);
                self.live_refresh_tokens.insert(fresh.clone());
                body["refresh_token"] = json!(fresh);
            }
        }
        merge(&mut body, &self.token_fields);
        body
    }
}

/// Records the form; authenticates the client, redeems the code or refresh token
/// and answers with the access token set by the test.
async fn token(State(s): State<Arc<Shared>>, Form(f): Form<HashMap<String, String>>) -> Response {
    s.token_forms.lock().expect("lock").push(f.clone());
    let field = |k: &str| f.get(k).map_or("", String::as_str);
    let mut st = s.settings();
    if let Some(refusal) = st.client_refusal(field("client_id"), f.get("client_secret")) {
        return refusal;
    }
    let redeemed = match field("grant_type") {
        "authorization_code" => {
            st.redeem_code(field("code"), field("code_verifier"), f.get("redirect_uri"))
        }
        "refresh_token" => st.redeem_refresh_token(field("refresh_token")),
        other => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                &format!("grant_type {other:?} is not supported"),
            );
        }
    };
    if !redeemed {
        return oauth_error(
            st.invalid_grant_status,
            "invalid_grant",
            "Invalid authorization code or refresh token",
        );
    }
    Json(st.token_response()).into_response()
}

/// Records the body and registers a public client under the configured id.
async fn register(State(s): State<Arc<Shared>>, Json(body): Json<Value>) -> Response {
    s.registrations.lock().expect("lock").push(body.clone());
    let delay = s.settings().registration_delay;
    tokio::time::sleep(delay).await;
    let mut st = s.settings();
    let client_id = st.registered_client_id.clone();
    st.registered_clients.insert(client_id.clone());
    let mut reply = json!({
        "client_id": client_id,
        "redirect_uris": body["redirect_uris"],
        "token_endpoint_auth_method": "none",
    });
    if let Some(name) = body.get("client_name") {
        reply["client_name"] = name.clone();
    }
    merge(&mut reply, &st.registration_fields);
    (StatusCode::CREATED, Json(reply)).into_response()
}

impl FakeAuthServer {
    /// Starts the server in the default [`Layout`], publishing `jwks`.
    pub async fn start(jwks: Value) -> Self {
        Self::start_with(Layout::default(), jwks).await
    }

    /// Starts the server laid out by `layout`, publishing `jwks`.
    pub async fn start_with(layout: Layout, jwks: Value) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let shared = Arc::new(Shared {
            base: format!("http://{addr}"),
            layout,
            settings: Mutex::new(Settings {
                jwks,
                behavior: Behavior::Normal,
                cache_control: None,
                discovery_issuer: None,
                discovery_fields: Map::new(),
                codes: Codes::default(),
                refresh_tokens: RefreshTokens::default(),
                invalid_grant_status: StatusCode::BAD_REQUEST,
                confidential_clients: HashMap::new(),
                refuse_unknown_clients: false,
                deny_authorizations: false,
                access_token: String::new(),
                token_fields: Map::new(),
                registered_client_id: "dcr-client".to_owned(),
                registration_fields: Map::new(),
                registration_delay: std::time::Duration::ZERO,
                issued_codes: HashMap::new(),
                live_refresh_tokens: HashSet::new(),
                registered_clients: HashSet::new(),
                counter: 0,
            }),
            jwks_hits: AtomicUsize::new(0),
            discovery_hits: AtomicUsize::new(0),
            authorize_queries: Mutex::default(),
            token_forms: Mutex::default(),
            registrations: Mutex::default(),
        });
        let mut app = Router::new()
            .route(layout.jwks_path, get(serve_jwks))
            .route(layout.authorize_path, get(authorize))
            .route(layout.token_path, post(token))
            .route(layout.register_path, post(register));
        for path in layout.discovery_paths {
            app = app.route(path, get(serve_discovery));
        }
        let app = app.with_state(Arc::clone(&shared));
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = rx.await;
                })
                .await;
        });
        FakeAuthServer {
            addr,
            shared,
            shutdown: Some(tx),
            task: Some(task),
        }
    }

    /// Where the server listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`, standing for the vendor's host.
    pub fn base(&self) -> String {
        self.shared.base.clone()
    }

    /// The issuer identifier: the base URL and the layout's issuer path.
    pub fn issuer(&self) -> String {
        self.shared.url(self.shared.layout.issuer_path)
    }

    /// The JWKS URL.
    pub fn jwks_url(&self) -> String {
        self.shared.url(self.shared.layout.jwks_path)
    }

    /// The authorization endpoint.
    pub fn authorize_url(&self) -> String {
        self.shared.url(self.shared.layout.authorize_path)
    }

    /// The token endpoint.
    pub fn token_url(&self) -> String {
        self.shared.url(self.shared.layout.token_path)
    }

    /// The registration endpoint.
    pub fn register_url(&self) -> String {
        self.shared.url(self.shared.layout.register_path)
    }

    /// JWKS requests served so far.
    pub fn jwks_hits(&self) -> usize {
        self.shared.jwks_hits.load(Ordering::SeqCst)
    }

    /// Discovery requests served so far, on any of the discovery paths.
    pub fn discovery_hits(&self) -> usize {
        self.shared.discovery_hits.load(Ordering::SeqCst)
    }

    /// The query of every request to the authorization endpoint.
    pub fn authorize_queries(&self) -> Vec<HashMap<String, String>> {
        self.shared.authorize_queries.lock().expect("lock").clone()
    }

    /// The form of every request to the token endpoint.
    pub fn token_forms(&self) -> Vec<HashMap<String, String>> {
        self.shared.token_forms.lock().expect("lock").clone()
    }

    /// The body of every request to the registration endpoint.
    pub fn registrations(&self) -> Vec<Value> {
        self.shared.registrations.lock().expect("lock").clone()
    }

    /// Replaces the published JWKS (key rotation).
    pub fn set_jwks(&self, jwks: Value) {
        self.shared.settings().jwks = jwks;
    }

    /// Changes how JWKS requests are answered.
    pub fn set_behavior(&self, behavior: Behavior) {
        self.shared.settings().behavior = behavior;
    }

    /// Sets the `Cache-Control` header of JWKS responses.
    pub fn set_cache_control(&self, value: Option<&str>) {
        self.shared.settings().cache_control = value.map(str::to_owned);
    }

    /// Makes the discovery document name another issuer.
    pub fn set_discovery_issuer(&self, issuer: Option<&str>) {
        self.shared.settings().discovery_issuer = issuer.map(str::to_owned);
    }

    /// Adds (or overrides) fields of the discovery document: the vendor's extras.
    pub fn set_discovery_fields(&self, fields: Value) {
        self.shared.settings().discovery_fields = object(fields);
    }

    /// Sets the codes the authorization endpoint hands out ([`Codes::OneTime`] by default).
    pub fn set_codes(&self, codes: Codes) {
        self.shared.settings().codes = codes;
    }

    /// Sets the refresh tokens the token endpoint hands out
    /// ([`RefreshTokens::OneTime`] by default).
    pub fn set_refresh_tokens(&self, refresh_tokens: RefreshTokens) {
        self.shared.settings().refresh_tokens = refresh_tokens;
    }

    /// Sets the status of `invalid_grant` answers (400 by default).
    pub fn set_invalid_grant_status(&self, status: u16) {
        self.shared.settings().invalid_grant_status =
            StatusCode::from_u16(status).expect("status code");
    }

    /// Makes `client_id` a confidential client: a token request naming it without
    /// `secret` is refused with 401 `unauthorized_client`.
    pub fn add_confidential_client(&self, client_id: &str, secret: &str) {
        self.shared
            .settings()
            .confidential_clients
            .insert(client_id.to_owned(), secret.to_owned());
    }

    /// Refuses (400 `unauthorized_client`) token requests of clients neither
    /// confidential nor registered here (off by default: any client is served).
    pub fn set_refuse_unknown_clients(&self, refuse: bool) {
        self.shared.settings().refuse_unknown_clients = refuse;
    }

    /// Makes the authorization endpoint send `access_denied` back instead of a code.
    pub fn set_deny_authorizations(&self, deny: bool) {
        self.shared.settings().deny_authorizations = deny;
    }

    /// Sets the access token the token endpoint hands out.
    pub fn set_access_token(&self, token: String) {
        self.shared.settings().access_token = token;
    }

    /// Adds (or overrides) fields of token responses: the vendor's extras.
    pub fn set_token_fields(&self, fields: Value) {
        self.shared.settings().token_fields = object(fields);
    }

    /// Sets the client id dynamic registration hands out (`dcr-client` by default).
    pub fn set_registered_client_id(&self, client_id: &str) {
        self.shared.settings().registered_client_id = client_id.to_owned();
    }

    /// Adds (or overrides) fields of registration responses: the vendor's extras.
    pub fn set_registration_fields(&self, fields: Value) {
        self.shared.settings().registration_fields = object(fields);
    }

    /// Makes every registration answer after `delay` (recorded on arrival):
    /// a slow upstream.
    pub fn set_registration_delay(&self, delay: std::time::Duration) {
        self.shared.settings().registration_delay = delay;
    }

    /// Stops the server and closes its port.
    pub async fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = tokio::time::timeout(Duration::from_secs(5), task).await;
        }
    }
}
