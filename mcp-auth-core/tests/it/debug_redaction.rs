//! No secret or token ever appears in a `Debug` output (`{:?}` or `{:#?}`): every
//! public type of core that holds one is built with marker values, and neither
//! form may contain a marker. Removing any redaction makes this fail.

use mcp_auth_core::__private::{AuthMethod, ClientCredentials};
use mcp_auth_core::env::EnvSource;
use mcp_auth_core::oauth::{AuthorizationCode, ClientInfo, RefreshToken, TokenResponse};
use mcp_auth_testkit::assert_debug_redacted;

use mcp_auth_core::{
    AccessToken, AuthContext, AuthUser, ClientSecret, CustomConfig, CustomProvider, JwtProvider,
    Mode, ProviderMetadata, jwt::HmacSecret, oauth::AuthorizationCodeSecret,
    oauth::RefreshTokenSecret,
};

const CLIENT_SECRET: &str = "marker-client-secret-5f1c";
const HMAC_SECRET: &str = "marker-hmac-secret-0123456789abcdef0123456789";
const ACCESS_TOKEN: &str = "marker-access-token-9a7e";
const REFRESH_TOKEN: &str = "marker-refresh-token-44d2";
const ENV_SECRET: &str = "marker-env-value-c0ff";
const AUTHORIZATION_CODE: &str = "marker-authorization-code-e3";
#[cfg(feature = "redis")]
const REDIS_PASSWORD: &str = "marker-redis-password-77";

const MARKERS: &[&str] = &[
    CLIENT_SECRET,
    HMAC_SECRET,
    ACCESS_TOKEN,
    REFRESH_TOKEN,
    ENV_SECRET,
    AUTHORIZATION_CODE,
    #[cfg(feature = "redis")]
    REDIS_PASSWORD,
];

/// Neither `{:?}` nor `{:#?}` of `value` shows a marker.
fn assert_redacted(what: &str, value: &impl std::fmt::Debug) {
    assert_debug_redacted(what, value, MARKERS);
}

#[test]
fn secret_types_print_only_their_name() {
    assert_redacted("ClientSecret", &ClientSecret::new(CLIENT_SECRET));
    assert_redacted("HmacSecret", &HmacSecret::new(HMAC_SECRET));
    assert_redacted("AccessToken", &AccessToken::new(ACCESS_TOKEN));
    assert_redacted(
        "RefreshTokenSecret",
        &RefreshTokenSecret::new(REFRESH_TOKEN),
    );
    assert_eq!(
        format!("{:?}", ClientSecret::new(CLIENT_SECRET)),
        "ClientSecret([redacted])"
    );
}

#[test]
fn oauth_wire_types_hide_secrets_and_tokens() {
    let client = ClientInfo {
        client_id: "client-1".into(),
        client_secret: Some(ClientSecret::new(CLIENT_SECRET)),
        redirect_uris: vec!["https://app.example.com/cb".into()],
        grant_types: vec!["authorization_code".into()],
        token_endpoint_auth_method: "client_secret_post".into(),
        client_name: None,
        scope: None,
        client_id_issued_at: 0,
    };
    assert_redacted("ClientInfo", &client);
    // On the wire the secret is still the bare string.
    let json = serde_json::to_value(&client).expect("json");
    assert_eq!(json["client_secret"], CLIENT_SECRET);

    let tokens = TokenResponse {
        access_token: AccessToken::new(ACCESS_TOKEN),
        token_type: "Bearer".into(),
        expires_in: 3600,
        refresh_token: Some(RefreshTokenSecret::new(REFRESH_TOKEN)),
        scope: None,
    };
    assert_redacted("TokenResponse", &tokens);
    let json = serde_json::to_value(&tokens).expect("json");
    assert_eq!(json["access_token"], ACCESS_TOKEN);
    assert_eq!(json["refresh_token"], REFRESH_TOKEN);

    let code = AuthorizationCode {
        code: AuthorizationCodeSecret::new(AUTHORIZATION_CODE),
        client_id: "client-1".into(),
        redirect_uri: "https://app.example.com/cb".into(),
        code_challenge: "challenge".into(),
        scopes: Vec::new(),
        resource: None,
        subject: "u".into(),
        expires_at: 0,
    };
    assert_redacted("AuthorizationCode", &code);
    let stored = RefreshToken {
        token: RefreshTokenSecret::new(REFRESH_TOKEN),
        client_id: "client-1".into(),
        scopes: Vec::new(),
        resource: None,
        subject: "u".into(),
        expires_at: None,
    };
    assert_redacted("RefreshToken", &stored);

    let credentials = ClientCredentials {
        client_id: "client-1".into(),
        secret: Some(ClientSecret::new(CLIENT_SECRET)),
        method: AuthMethod::Post,
    };
    assert_redacted("ClientCredentials", &credentials);
}

#[test]
fn auth_context_hides_its_token() {
    let ctx = AuthContext::builder(AuthUser::new("u"), ACCESS_TOKEN).build();
    assert_redacted("AuthContext", &ctx);
    assert_eq!(ctx.access_token().secret(), ACCESS_TOKEN);
}

#[test]
fn env_source_prints_names_only() {
    let source = EnvSource::from_vars([("MCP_USE_OAUTH_CUSTOM_CLIENT_SECRET", ENV_SECRET)]);
    assert_redacted("EnvSource", &source);
}

#[test]
fn providers_and_metadata_hide_client_and_hmac_secrets() {
    let mut metadata = ProviderMetadata::new("https://idp.example.com", Mode::Proxy);
    metadata.client_id = Some("pre-registered".into());
    metadata.client_secret = Some(ClientSecret::new(CLIENT_SECRET));
    assert_redacted("ProviderMetadata", &metadata);

    let builder = JwtProvider::builder("https://idp.example.com", Mode::Proxy)
        .jwks_url("https://idp.example.com/jwks")
        .hmac_secret(HmacSecret::new(HMAC_SECRET))
        .audiences(["api"])
        .client(
            Some("pre-registered".into()),
            Some(ClientSecret::new(CLIENT_SECRET)),
        );
    assert_redacted("JwtProviderBuilder", &builder);
    let provider = builder.build().expect("provider");
    assert_redacted("JwtProvider", &provider);
    assert_redacted("JwtVerifier", provider.verifier());

    let mut config = CustomConfig::new("https://idp.example.com");
    config.jwks_url = Some("https://idp.example.com/jwks".into());
    config.audience = Some("api".into());
    config.client_id = Some("pre-registered".into());
    config.client_secret = Some(ClientSecret::new(CLIENT_SECRET));
    assert_redacted("CustomConfig", &config);
    let provider = CustomProvider::new(config).expect("provider");
    assert_redacted("CustomProvider", &provider);
}

#[cfg(feature = "redis")]
#[test]
fn redis_settings_hide_the_password() {
    use mcp_auth_core::proxy::{RedisStoreConfig, RedisUrl};
    let url = format!("redis://:{REDIS_PASSWORD}@127.0.0.1:6379/0");
    assert_redacted("RedisUrl", &RedisUrl::parse(&url).expect("url"));
    assert_redacted(
        "RedisStoreConfig",
        &RedisStoreConfig::new(&url).expect("config"),
    );
}
