//! Property tests of the parsers the fuzz targets in `fuzz/` cover, run in the
//! normal suite: the JWKS document parser, the JWT verifier on arbitrary input
//! with a fixed key (and on HMAC-signed arbitrary claims), and the OAuth routes'
//! parsing of `/authorize`, `/token` and `/register`. (The `Authorization` header
//! parser has its properties next to it, in `src/http/bearer.rs`.)

use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::body::Body;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use mcp_auth_core::oauth::{
    AccessTokenInfo, AuthorizationCode, AuthorizationParams, AuthorizationServer, AuthorizeOutcome,
    ClientInfo, OAuthError, RefreshToken, ServerSettings, TokenResponse, routes,
};
use mcp_auth_core::{
    VerifyError, jwt::Algorithm, jwt::Audience, jwt::HmacSecret, jwt::JwtConfig, jwt::JwtVerifier,
    jwt::KeySet, jwt::KeySource,
};
use mcp_auth_testkit::{TestKey, now, sign_hmac};
use proptest::prelude::*;
use serde_json::{Value, json};
use tower::ServiceExt as _;

const ISSUER: &str = "https://issuer.example.com";
const AUD: &str = "https://mcp.example.com/mcp";
const SECRET: &[u8] = b"property-secret-property-secret-property-secret!!";

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
    })
}

fn verifier() -> &'static JwtVerifier {
    static V: OnceLock<JwtVerifier> = OnceLock::new();
    V.get_or_init(|| {
        let mut config = JwtConfig::new(ISSUER, Audience::exactly(AUD));
        config.token_cache = None;
        JwtVerifier::new(config, KeySource::Secret(HmacSecret::new(SECRET))).expect("verifier")
    })
}

/// Arbitrary JSON, a few levels deep.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        "[a-zA-Z0-9+/=_-]{0,40}".prop_map(Value::from),
        prop::sample::select(vec![
            "RSA", "EC", "OKP", "oct", "RS256", "ES256", "EdDSA", "P-256", "Ed25519", "sig",
        ])
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 40, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(
                prop::sample::select(vec![
                    "kty", "kid", "alg", "use", "n", "e", "crv", "x", "y", "k", "key_ops", "keys",
                ])
                .prop_map(str::to_owned),
                inner,
                0..8
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// A JWKS document of any shape parses or is refused, never panics, and
    /// never yields more keys than it lists.
    #[test]
    fn any_jwks_document_parses_without_panicking(keys in prop::collection::vec(json_value(), 0..6)) {
        let listed = keys.len();
        let mut doc = serde_json::Map::new();
        doc.insert("keys".into(), Value::Array(keys));
        if let Ok(set) = KeySet::from_jwks(&doc) {
            prop_assert!(set.len() <= listed);
        }
    }

    /// Arbitrary text is never a valid token.
    #[test]
    fn arbitrary_text_is_refused_without_panicking(token in ".{0,300}") {
        let result = runtime().block_on(verifier().verify(&token));
        prop_assert!(matches!(result, Err(VerifyError::Rejected(_))), "{result:?}");
    }

    /// Arbitrary three-segment strings of base64url are refused too.
    #[test]
    fn arbitrary_segments_are_refused(
        header in prop::collection::vec(any::<u8>(), 0..80),
        payload in prop::collection::vec(any::<u8>(), 0..120),
        signature in prop::collection::vec(any::<u8>(), 0..64),
    ) {
        let token = format!(
            "{}.{}.{}",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(payload),
            URL_SAFE_NO_PAD.encode(signature)
        );
        let result = runtime().block_on(verifier().verify(&token));
        prop_assert!(matches!(result, Err(VerifyError::Rejected(_))), "{result:?}");
    }

    /// A correctly signed token with arbitrary claims is accepted only when its
    /// issuer, audience and lifetime are right.
    #[test]
    fn signed_arbitrary_claims_pass_only_with_the_right_iss_aud_and_exp(
        iss in prop::sample::select(vec![Value::from(ISSUER), Value::from("https://other.example.com"), Value::Null, json!(1)]),
        aud in prop::sample::select(vec![Value::from(AUD), json!([AUD, "x"]), Value::from("x"), json!([]), Value::Null]),
        exp_offset in prop::option::of(-7200i64..7200),
        extra in json_value(),
    ) {
        let mut claims = json!({"sub": "u", "extra": extra});
        if !iss.is_null() { claims["iss"] = iss.clone(); }
        if !aud.is_null() { claims["aud"] = aud.clone(); }
        if let Some(offset) = exp_offset {
            claims["exp"] = json!(now() as i64 + offset);
        }
        let token = sign_hmac(SECRET, Algorithm::HS256, None, &claims);
        let result = runtime().block_on(verifier().verify(&token));
        let right_aud = aud == AUD || aud == json!([AUD, "x"]);
        // The default leeway is 60 s.
        let live = exp_offset.is_some_and(|o| o > -60);
        let expected = iss == ISSUER && right_aud && live;
        // Within two seconds of the leeway edge the clock may tick either way.
        if exp_offset.is_none_or(|o| !(-62..=-58).contains(&o)) {
            prop_assert_eq!(result.is_ok(), expected, "{:?}", result);
        }
    }

    /// A token signed by an asymmetric key the verifier does not hold is refused.
    #[test]
    fn a_token_from_an_unknown_key_is_refused(sub in "[a-z]{1,12}") {
        static KEY: OnceLock<TestKey> = OnceLock::new();
        let key = KEY.get_or_init(|| TestKey::ec_p256("stranger"));
        let token = key.sign(&mcp_auth_testkit::claims(ISSUER, AUD, &sub));
        let result = runtime().block_on(verifier().verify(&token));
        prop_assert!(matches!(result, Err(VerifyError::Rejected(_))), "{result:?}");
    }
}

/// An authorization server that knows one public client and keeps nothing.
struct Stateless;

const REDIRECT: &str = "http://127.0.0.1:9/cb";

impl AuthorizationServer for Stateless {
    async fn get_client(&self, client_id: &str) -> Option<ClientInfo> {
        (client_id == "client-1").then(|| ClientInfo {
            client_id: "client-1".into(),
            client_secret: None,
            redirect_uris: vec![REDIRECT.into()],
            grant_types: vec!["authorization_code".into(), "refresh_token".into()],
            token_endpoint_auth_method: "none".into(),
            client_name: None,
            scope: None,
            client_id_issued_at: 0,
        })
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
            "{}?code=c",
            params.redirect_uri
        )))
    }
    async fn load_authorization_code(
        &self,
        _client: &ClientInfo,
        _code: &str,
    ) -> Option<AuthorizationCode> {
        None
    }
    async fn exchange_authorization_code(
        &self,
        _client: &ClientInfo,
        _code: AuthorizationCode,
    ) -> Result<TokenResponse, OAuthError> {
        Err(OAuthError::invalid_grant("none"))
    }
    async fn load_refresh_token(&self, _client: &ClientInfo, _token: &str) -> Option<RefreshToken> {
        None
    }
    async fn exchange_refresh_token(
        &self,
        _client: &ClientInfo,
        _token: RefreshToken,
        _scopes: Vec<String>,
    ) -> Result<TokenResponse, OAuthError> {
        Err(OAuthError::invalid_grant("none"))
    }
    async fn load_access_token(&self, _token: &str) -> Option<AccessTokenInfo> {
        None
    }
    async fn revoke_token(&self, _client: &ClientInfo, _token: &str) {}
}

fn oauth_app() -> Router {
    routes(
        Arc::new(Stateless),
        ServerSettings {
            issuer: "http://127.0.0.1:9".into(),
            scopes_supported: vec!["read".into()],
            grant_types_supported: vec!["authorization_code".into(), "refresh_token".into()],
            jwks_uri: None,
        },
    )
}

fn status(req: http::Request<Body>) -> u16 {
    runtime()
        .block_on(oauth_app().oneshot(req))
        .map_or(0, |r| r.status().as_u16())
}

/// OAuth parameter names, so generated requests reach the validation behind them.
fn oauth_pairs() -> impl Strategy<Value = Vec<(String, String)>> {
    let name = prop::sample::select(vec![
        "response_type",
        "client_id",
        "redirect_uri",
        "code_challenge",
        "code_challenge_method",
        "state",
        "scope",
        "resource",
        "grant_type",
        "code",
        "code_verifier",
        "refresh_token",
        "client_secret",
        "x",
    ])
    .prop_map(str::to_owned);
    let value = prop_oneof![
        ".{0,20}",
        prop::sample::select(vec![
            "code",
            "client-1",
            REDIRECT,
            "S256",
            "plain",
            "authorization_code",
            "refresh_token",
            "client_credentials",
            "read",
        ])
        .prop_map(str::to_owned),
    ];
    prop::collection::vec((name, value), 0..10)
}

fn encode(pairs: &[(String, String)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// `/authorize` (query and form) and `/token` answer any parameters with a
    /// client error or a redirect, never a 5xx.
    #[test]
    fn oauth_forms_never_cause_a_server_error(pairs in oauth_pairs()) {
        let body = encode(&pairs);
        let get = http::Request::get(format!("/authorize?{body}"))
            .body(Body::empty())
            .expect("request");
        let post = |path: &str| {
            http::Request::post(path)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Body::from(body.clone()))
                .expect("request")
        };
        for (what, req) in [("GET /authorize", get), ("POST /authorize", post("/authorize")), ("POST /token", post("/token"))] {
            let s = status(req);
            prop_assert!((200..500).contains(&s), "{} answered {}", what, s);
        }
    }

    /// `/register` answers any JSON body with a client error or a registration.
    #[test]
    fn registration_bodies_never_cause_a_server_error(body in json_value(), uris in prop::collection::vec(".{0,30}", 0..3)) {
        for doc in [body.clone(), json!({"redirect_uris": uris, "extra": body})] {
            let req = http::Request::post("/register")
                .header("content-type", "application/json")
                .body(Body::from(doc.to_string()))
                .expect("request");
            let s = status(req);
            prop_assert!((200..500).contains(&s), "/register answered {}", s);
        }
    }
}
