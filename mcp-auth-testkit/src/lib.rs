//! Test support for mcp-auth: keys generated per test, tokens signed with them by
//! `jsonwebtoken` (an implementation independent of the verifier under test), and a
//! real local HTTP server publishing the JWKS and OpenID discovery, whose behaviour
//! (errors, garbage, huge bodies, stopping) the test controls.

#![allow(clippy::missing_panics_doc)]

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair};
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
pub use jsonwebtoken::Algorithm;
use jsonwebtoken::{EncodingKey, Header};
use serde_json::{Value, json};

/// Seconds since the Unix epoch.
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Standard access-token claims valid for an hour.
pub fn claims(issuer: &str, audience: &str, sub: &str) -> Value {
    json!({
        "iss": issuer,
        "aud": audience,
        "sub": sub,
        "exp": now() + 3600,
        "iat": now(),
        "scope": "read write",
    })
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Assembles a compact JWS from raw parts (for forged and malformed tokens).
pub fn assemble(header: &Value, claims: &Value, signature: &[u8]) -> String {
    format!(
        "{}.{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes()),
        b64(signature)
    )
}

/// A signing key generated for one test, with its public JWK.
pub struct TestKey {
    /// Key id published in the JWK and put in token headers.
    pub kid: String,
    /// The algorithm this key signs with.
    pub alg: Algorithm,
    encoding: EncodingKey,
    jwk: Value,
}

fn pem(label: &str, der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).expect("base64 is ascii"))
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}

fn alg_name(alg: Algorithm) -> String {
    serde_json::to_value(alg)
        .expect("alg serializes")
        .as_str()
        .expect("alg is a string")
        .to_owned()
}

impl TestKey {
    /// A fresh 2048-bit RSA key for `alg` (RS256/384/512 or PS256/384/512).
    pub fn rsa(kid: &str, alg: Algorithm) -> Self {
        Self::rsa_sized(kid, alg, aws_lc_rs::rsa::KeySize::Rsa2048)
    }

    /// A fresh RSA key of the given size.
    pub fn rsa_sized(kid: &str, alg: Algorithm, size: aws_lc_rs::rsa::KeySize) -> Self {
        let pair = aws_lc_rs::rsa::KeyPair::generate(size).expect("RSA key generation");
        let pkcs8 = pair.as_der().expect("PKCS#8 export");
        let encoding = EncodingKey::from_rsa_pem(pem("PRIVATE KEY", pkcs8.as_ref()).as_bytes())
            .expect("RSA PEM");
        let public = pair.public_key();
        let jwk = json!({
            "kty": "RSA",
            "kid": kid,
            "alg": alg_name(alg),
            "use": "sig",
            "n": b64(public.modulus().big_endian_without_leading_zero()),
            "e": b64(public.exponent().big_endian_without_leading_zero()),
        });
        TestKey {
            kid: kid.to_owned(),
            alg,
            encoding,
            jwk,
        }
    }

    /// A fresh P-256 key (ES256).
    pub fn ec_p256(kid: &str) -> Self {
        Self::ec(
            kid,
            Algorithm::ES256,
            &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            "P-256",
            32,
        )
    }

    /// A fresh P-384 key (ES384).
    pub fn ec_p384(kid: &str) -> Self {
        Self::ec(
            kid,
            Algorithm::ES384,
            &signature::ECDSA_P384_SHA384_FIXED_SIGNING,
            "P-384",
            48,
        )
    }

    fn ec(
        kid: &str,
        alg: Algorithm,
        sig: &'static signature::EcdsaSigningAlgorithm,
        crv: &str,
        size: usize,
    ) -> Self {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(sig, &rng).expect("EC key generation");
        let pair = EcdsaKeyPair::from_pkcs8(sig, pkcs8.as_ref()).expect("EC key parse");
        let point = pair.public_key().as_ref();
        let jwk = json!({
            "kty": "EC",
            "kid": kid,
            "alg": alg_name(alg),
            "use": "sig",
            "crv": crv,
            "x": b64(&point[1..1 + size]),
            "y": b64(&point[1 + size..]),
        });
        TestKey {
            kid: kid.to_owned(),
            alg,
            encoding: EncodingKey::from_ec_der(pkcs8.as_ref()),
            jwk,
        }
    }

    /// A fresh Ed25519 key (EdDSA).
    pub fn ed25519(kid: &str) -> Self {
        let rng = SystemRandom::new();
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).expect("Ed25519 key generation");
        let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).expect("Ed25519 parse");
        let jwk = json!({
            "kty": "OKP",
            "kid": kid,
            "alg": "EdDSA",
            "use": "sig",
            "crv": "Ed25519",
            "x": b64(pair.public_key().as_ref()),
        });
        TestKey {
            kid: kid.to_owned(),
            alg: Algorithm::EdDSA,
            encoding: EncodingKey::from_ed_der(pkcs8.as_ref()),
            jwk,
        }
    }

    /// The public JWK (with `kid`, `alg` and `use`).
    pub fn jwk(&self) -> Value {
        self.jwk.clone()
    }

    /// The public JWK without `alg` (bound by key type and curve only).
    pub fn jwk_without_alg(&self) -> Value {
        let mut jwk = self.jwk.clone();
        if let Some(obj) = jwk.as_object_mut() {
            obj.remove("alg");
        }
        jwk
    }

    /// The standard header for this key: `alg`, `kid`, `typ: JWT`.
    pub fn header(&self) -> Header {
        let mut h = Header::new(self.alg);
        h.kid = Some(self.kid.clone());
        h
    }

    /// Signs `claims` with the standard header.
    pub fn sign(&self, claims: &Value) -> String {
        self.sign_with(self.header(), claims)
    }

    /// Signs `claims` with a caller-built header (its `alg` must be this key's family).
    pub fn sign_with(&self, header: Header, claims: &Value) -> String {
        jsonwebtoken::encode(&header, claims, &self.encoding).expect("signing")
    }
}

/// An HS256/384/512 token signed with `secret`.
pub fn sign_hmac(secret: &[u8], alg: Algorithm, kid: Option<&str>, claims: &Value) -> String {
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_secret(secret)).expect("HMAC signing")
}

/// A JWKS document of the given public keys.
pub fn jwks(keys: &[Value]) -> Value {
    json!({ "keys": keys })
}

/// How the fake identity provider answers JWKS requests.
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

struct IdpState {
    issuer: Mutex<String>,
    jwks: Mutex<Value>,
    behavior: Mutex<Behavior>,
    cache_control: Mutex<Option<String>>,
    jwks_hits: AtomicUsize,
    discovery_hits: AtomicUsize,
    discovery_issuer: Mutex<Option<String>>,
}

/// A fake identity provider on 127.0.0.1: `/jwks.json` and
/// `/.well-known/openid-configuration` (and the RFC 8414 document).
pub struct FakeIdp {
    addr: std::net::SocketAddr,
    state: Arc<IdpState>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

async fn serve_jwks(State(s): State<Arc<IdpState>>) -> Response {
    s.jwks_hits.fetch_add(1, Ordering::SeqCst);
    let behavior = s.behavior.lock().expect("lock").clone();
    let mut resp = match behavior {
        Behavior::Normal => axum::Json(s.jwks.lock().expect("lock").clone()).into_response(),
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
            axum::Json(s.jwks.lock().expect("lock").clone()).into_response()
        }
    };
    if let Some(cc) = s.cache_control.lock().expect("lock").clone() {
        resp.headers_mut().insert(
            header::CACHE_CONTROL,
            HeaderValue::from_str(&cc).expect("header"),
        );
    }
    resp
}

async fn serve_discovery(State(s): State<Arc<IdpState>>) -> Response {
    s.discovery_hits.fetch_add(1, Ordering::SeqCst);
    let issuer = s.issuer.lock().expect("lock").clone();
    let named = s
        .discovery_issuer
        .lock()
        .expect("lock")
        .clone()
        .unwrap_or_else(|| issuer.clone());
    axum::Json(json!({
        "issuer": named,
        "jwks_uri": format!("{issuer}/jwks.json"),
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "registration_endpoint": format!("{issuer}/register"),
        "response_types_supported": ["code"],
        "code_challenge_methods_supported": ["S256"],
    }))
    .into_response()
}

impl FakeIdp {
    /// Starts the server publishing `jwks`.
    pub async fn start(jwks: Value) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let state = Arc::new(IdpState {
            issuer: Mutex::new(format!("http://{addr}")),
            jwks: Mutex::new(jwks),
            behavior: Mutex::new(Behavior::Normal),
            cache_control: Mutex::new(None),
            jwks_hits: AtomicUsize::new(0),
            discovery_hits: AtomicUsize::new(0),
            discovery_issuer: Mutex::new(None),
        });
        let app = Router::new()
            .route("/jwks.json", get(serve_jwks))
            .route("/.well-known/openid-configuration", get(serve_discovery))
            .route(
                "/.well-known/oauth-authorization-server",
                get(serve_discovery),
            )
            .with_state(Arc::clone(&state));
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = rx.await;
                })
                .await;
        });
        FakeIdp {
            addr,
            state,
            shutdown: Some(tx),
            task: Some(task),
        }
    }

    /// `http://127.0.0.1:PORT` — the issuer identifier.
    pub fn issuer(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The JWKS URL.
    pub fn jwks_url(&self) -> String {
        format!("{}/jwks.json", self.issuer())
    }

    /// JWKS requests served so far.
    pub fn jwks_hits(&self) -> usize {
        self.state.jwks_hits.load(Ordering::SeqCst)
    }

    /// Discovery requests served so far.
    pub fn discovery_hits(&self) -> usize {
        self.state.discovery_hits.load(Ordering::SeqCst)
    }

    /// Replaces the published JWKS (key rotation).
    pub fn set_jwks(&self, jwks: Value) {
        *self.state.jwks.lock().expect("lock") = jwks;
    }

    /// Changes how JWKS requests are answered.
    pub fn set_behavior(&self, behavior: Behavior) {
        *self.state.behavior.lock().expect("lock") = behavior;
    }

    /// Sets the `Cache-Control` header of JWKS responses.
    pub fn set_cache_control(&self, value: Option<&str>) {
        *self.state.cache_control.lock().expect("lock") = value.map(str::to_owned);
    }

    /// Makes the discovery document name another issuer.
    pub fn set_discovery_issuer(&self, issuer: Option<&str>) {
        *self.state.discovery_issuer.lock().expect("lock") = issuer.map(str::to_owned);
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

/// An http URL on 127.0.0.1 where nothing listens (the port was bound, then released).
pub async fn unreachable_url(path: &str) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    format!("http://{addr}{path}")
}
