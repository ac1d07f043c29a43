//! What the fuzz targets share: one tokio runtime, a JWKS served on 127.0.0.1
//! (fetched once, then cached for the whole run), a verifier over it and a fixed
//! HMAC secret, the auth layer in front of a trivial service, and the OAuth routes
//! over a stateless authorization server (so millions of registrations cost no
//! memory).

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::routing::any;
use mcp_auth_core::oauth::{
    AccessTokenInfo, AuthorizationCode, AuthorizationParams, AuthorizationServer, AuthorizeOutcome,
    ClientInfo, OAuthError, RefreshToken, ServerSettings, TokenResponse, routes,
};
use mcp_auth_core::{
    AccessToken, AuthUser, McpAuth, StaticApiKeys, jwt::Algorithm, jwt::Audience, jwt::HmacSecret,
    jwt::JwksCache, jwt::JwksConfig, jwt::JwtConfig, jwt::JwtVerifier, jwt::KeySource,
    oauth::AuthorizationCodeSecret, oauth::RefreshTokenSecret,
};
use mcp_auth_testkit::{TestKey, jwks};
use tower::ServiceExt as _;

/// The issuer of the fuzzed tokens.
pub const ISSUER: &str = "https://issuer.fuzz.example";
/// The audience the verifier requires.
pub const AUDIENCE: &str = "https://mcp.fuzz.example/mcp";
/// The fixed HMAC secret (64 bytes: every HS algorithm is allowed).
pub const SECRET: &[u8; 64] = b"fuzz-secret-fuzz-secret-fuzz-secret-fuzz-secret-fuzz-secret-0064";

/// The one runtime every target runs its futures on.
pub fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("tokio runtime")
    })
}

/// A verifier for [`ISSUER`] / [`AUDIENCE`] with an RSA, an EC and an Ed25519 key
/// (served once from 127.0.0.1, then cached for the run) and [`SECRET`]; no
/// verified-token cache, so every input runs every rule.
pub fn verifier() -> &'static JwtVerifier {
    static V: OnceLock<JwtVerifier> = OnceLock::new();
    V.get_or_init(|| {
        let keys = [
            TestKey::rsa("rsa", Algorithm::RS256),
            TestKey::ec_p256("ec"),
            TestKey::ed25519("ed"),
        ];
        let doc = jwks(&keys.iter().map(TestKey::jwk).collect::<Vec<_>>());
        let url = runtime().block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            let addr = listener.local_addr().expect("addr");
            let app = Router::new().route(
                "/jwks",
                axum::routing::get(move || async move { axum::Json(doc) }),
            );
            tokio::spawn(async move {
                let _ = axum::serve(listener, app).await;
            });
            format!("http://{addr}/jwks")
        });
        let config = JwksConfig {
            ttl: Duration::from_secs(365 * 86_400),
            min_ttl: Duration::from_secs(365 * 86_400),
            max_ttl: Duration::from_secs(365 * 86_400),
            ..JwksConfig::default()
        };
        let cache = JwksCache::new(url, config).expect("JWKS cache");
        let mut rules = JwtConfig::new(ISSUER, Audience::exactly(AUDIENCE));
        rules.token_cache = None;
        let v = JwtVerifier::new(
            rules,
            KeySource::JwksAndSecret(cache, HmacSecret::new(SECRET)),
        )
        .expect("verifier");
        // Warm the cache: one fetch now, none during the run.
        let _ = runtime().block_on(v.verify("x.y.z"));
        v
    })
}

/// The auth layer (static API key `fuzz-key`) in front of a service answering 200.
pub fn protected_app() -> &'static Router {
    static APP: OnceLock<Router> = OnceLock::new();
    APP.get_or_init(|| {
        let keys = StaticApiKeys::new().key("fuzz-key", AuthUser::new("user"));
        let auth = McpAuth::builder_with_verifier(keys)
            .build()
            .expect("configuration");
        Router::new()
            .route("/mcp", any(|| async { "ok" }))
            .layer(auth.layer())
    })
}

/// Sends `req` through `app` and returns the status.
pub fn status_of(app: &Router, req: http::Request<Body>) -> u16 {
    runtime()
        .block_on(app.clone().oneshot(req))
        .map_or(0, |resp| resp.status().as_u16())
}

/// A stateless authorization server: one public client `client-1`, one code
/// `code-1`, one refresh token `rt-1`; registrations succeed and are not kept.
pub struct StatelessServer;

/// The redirect URI of `client-1`.
pub const REDIRECT_URI: &str = "http://127.0.0.1:9/cb";

fn client() -> ClientInfo {
    ClientInfo {
        client_id: "client-1".into(),
        client_secret: None,
        redirect_uris: vec![REDIRECT_URI.into()],
        grant_types: vec!["authorization_code".into(), "refresh_token".into()],
        token_endpoint_auth_method: "none".into(),
        client_name: None,
        scope: None,
        client_id_issued_at: 0,
    }
}

fn tokens() -> TokenResponse {
    TokenResponse {
        access_token: AccessToken::new("at"),
        token_type: "Bearer".into(),
        expires_in: 60,
        refresh_token: Some(RefreshTokenSecret::new("rt-2")),
        scope: None,
    }
}

impl AuthorizationServer for StatelessServer {
    async fn get_client(&self, client_id: &str) -> Option<ClientInfo> {
        (client_id == "client-1").then(client)
    }

    async fn register_client(&self, _client: ClientInfo) -> Result<(), OAuthError> {
        Ok(())
    }

    async fn authorize(
        &self,
        _client: &ClientInfo,
        params: AuthorizationParams,
    ) -> Result<AuthorizeOutcome, OAuthError> {
        Ok(AuthorizeOutcome::Redirect(format!(
            "{}?code=code-1",
            params.redirect_uri
        )))
    }

    async fn load_authorization_code(
        &self,
        client: &ClientInfo,
        code: &str,
    ) -> Option<AuthorizationCode> {
        (code == "code-1").then(|| AuthorizationCode {
            code: AuthorizationCodeSecret::new(code),
            client_id: client.client_id.clone(),
            redirect_uri: REDIRECT_URI.into(),
            // S256 of the verifier "a" repeated 43 times.
            code_challenge: "ZtNPunH49FD35FWYhT5Tv8I7vRKQJ8uxMaL0_9eHjNA".into(),
            scopes: vec![],
            resource: None,
            subject: "u".into(),
            expires_at: u64::MAX,
        })
    }

    async fn exchange_authorization_code(
        &self,
        _client: &ClientInfo,
        _code: AuthorizationCode,
    ) -> Result<TokenResponse, OAuthError> {
        Ok(tokens())
    }

    async fn load_refresh_token(&self, client: &ClientInfo, token: &str) -> Option<RefreshToken> {
        (token == "rt-1").then(|| RefreshToken {
            token: RefreshTokenSecret::new(token),
            client_id: client.client_id.clone(),
            scopes: vec![],
            resource: None,
            subject: "u".into(),
            expires_at: None,
        })
    }

    async fn exchange_refresh_token(
        &self,
        _client: &ClientInfo,
        _token: RefreshToken,
        _scopes: Vec<String>,
    ) -> Result<TokenResponse, OAuthError> {
        Ok(tokens())
    }

    async fn load_access_token(&self, _token: &str) -> Option<AccessTokenInfo> {
        None
    }

    async fn revoke_token(&self, _client: &ClientInfo, _token: &str) {}
}

/// The OAuth routes (`/authorize`, `/token`, `/register`, `/revoke`, metadata)
/// over [`StatelessServer`].
pub fn oauth_app() -> &'static Router {
    static APP: OnceLock<Router> = OnceLock::new();
    APP.get_or_init(|| {
        routes(
            Arc::new(StatelessServer),
            ServerSettings {
                issuer: "http://127.0.0.1:9".into(),
                scopes_supported: vec!["read".into(), "write".into()],
                grant_types_supported: vec!["authorization_code".into(), "refresh_token".into()],
                jwks_uri: None,
            },
        )
    })
}
