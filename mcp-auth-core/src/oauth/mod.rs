//! Serving OAuth as an authorization server: the [`AuthorizationServer`] trait
//! (modelled on the MCP Python SDK's `OAuthAuthorizationServerProvider`) and the
//! axum routes in [`routes`] that drive any implementation of it, enforcing the
//! rules no implementation may get wrong: PKCE with S256, exact redirect URIs,
//! single-use short-lived codes, RFC 6749 §5.2 errors and `Cache-Control: no-store`.

pub(crate) mod authorization_request;
pub(crate) mod browser_csrf;
pub(crate) mod client_auth;
pub(crate) mod client_metadata_document;
pub(crate) mod params;
pub(crate) mod pkce;
pub(crate) mod random;
pub(crate) mod registration;
pub(crate) mod response;
pub(crate) mod routes;

pub use crate::secret::{AuthorizationCodeSecret, RefreshTokenSecret};
pub use client_metadata_document::{
    ClientMetadataConfig, ClientMetadataDocument, ClientMetadataError, ClientMetadataResolver,
    MAX_CLIENT_ID_URL_BYTES, MAX_DISPLAYED_NAME_CHARS, MAX_DOCUMENT_BYTES,
};
pub use routes::{ServerSettings, routes};

use std::future::Future;

use axum::Json;
use axum::response::{IntoResponse, Response};
use http::header::{CACHE_CONTROL, PRAGMA, WWW_AUTHENTICATE};
use http::{HeaderValue, StatusCode};
use serde::{Deserialize, Serialize};

/// A registered OAuth client (RFC 7591 client information).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientInfo {
    /// The client identifier.
    pub client_id: String,
    /// The secret of a confidential client; `None` for public clients (PKCE only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<crate::ClientSecret>,
    /// Redirect URIs, matched exactly.
    pub redirect_uris: Vec<String>,
    /// Grant types the client may use.
    pub grant_types: Vec<String>,
    /// `none`, `client_secret_post` or `client_secret_basic`.
    pub token_endpoint_auth_method: String,
    /// Human-readable name, shown on the consent page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_name: Option<String>,
    /// Space-separated scopes the client may request (`None`: any supported scope).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// When the client was registered (seconds since the epoch).
    pub client_id_issued_at: u64,
}

/// A validated authorization request, handed to [`AuthorizationServer::authorize`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationParams {
    /// The client's `state`, returned unchanged.
    pub state: Option<String>,
    /// Requested scopes.
    pub scopes: Vec<String>,
    /// The S256 PKCE challenge.
    pub code_challenge: String,
    /// The redirect URI, already matched against the client's registered ones.
    pub redirect_uri: String,
    /// RFC 8707 resource indicator, if the client sent one.
    pub resource: Option<String>,
    /// The CSRF token of the browser that sent the request (a cookie the
    /// routes set): a consent page must repeat it in its
    /// form, and the form's handler must check it against the browser's cookie.
    pub csrf_token: String,
}

/// An issued authorization code, as the server stored it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationCode {
    /// The code itself.
    pub code: crate::oauth::AuthorizationCodeSecret,
    /// The client it was issued to.
    pub client_id: String,
    /// The redirect URI of the authorization request.
    pub redirect_uri: String,
    /// The PKCE challenge to check the verifier against.
    pub code_challenge: String,
    /// Granted scopes.
    pub scopes: Vec<String>,
    /// The resource (audience) the tokens are for.
    pub resource: Option<String>,
    /// The authenticated user.
    pub subject: String,
    /// Expiry (seconds since the epoch).
    pub expires_at: u64,
}

/// A refresh token, as the server stored it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshToken {
    /// The token itself.
    pub token: crate::oauth::RefreshTokenSecret,
    /// The client it was issued to.
    pub client_id: String,
    /// Scopes it may grant.
    pub scopes: Vec<String>,
    /// The resource the tokens are for.
    pub resource: Option<String>,
    /// The user.
    pub subject: String,
    /// Expiry, if any (seconds since the epoch).
    pub expires_at: Option<u64>,
}

/// What [`AuthorizationServer::load_access_token`] knows about an access token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessTokenInfo {
    /// The client it was issued to.
    pub client_id: String,
    /// The user.
    pub subject: String,
    /// Granted scopes.
    pub scopes: Vec<String>,
    /// Expiry (seconds since the epoch).
    pub expires_at: u64,
}

/// The token endpoint's success response (RFC 6749 §5.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenResponse {
    /// The access token.
    pub access_token: crate::AccessToken,
    /// Always `Bearer`.
    pub token_type: String,
    /// Lifetime in seconds.
    pub expires_in: u64,
    /// A new refresh token (rotated on every refresh).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<crate::oauth::RefreshTokenSecret>,
    /// Granted scopes, space-separated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}

/// What `/authorize` answers once the request is valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthorizeOutcome {
    /// Redirect the browser here (the client's redirect URI with a code, or a login page).
    Redirect(String),
    /// Show this HTML page (a login/consent page).
    Page(String),
}

/// An OAuth error response (RFC 6749 §4.1.2.1, §5.2; RFC 7591 §3.2.2).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {description}")]
pub struct OAuthError {
    /// The error code (`invalid_request`, `invalid_client`, `invalid_grant`, ...).
    pub code: &'static str,
    /// A short human-readable description.
    pub description: String,
}

impl OAuthError {
    /// An error with `code` and `description`.
    pub fn new(code: &'static str, description: impl Into<String>) -> Self {
        OAuthError {
            code,
            description: description.into(),
        }
    }

    /// `invalid_request`.
    pub fn invalid_request(d: impl Into<String>) -> Self {
        Self::new("invalid_request", d)
    }

    /// `invalid_client` (401).
    pub fn invalid_client(d: impl Into<String>) -> Self {
        Self::new("invalid_client", d)
    }

    /// `invalid_grant`.
    pub fn invalid_grant(d: impl Into<String>) -> Self {
        Self::new("invalid_grant", d)
    }

    /// `invalid_scope`.
    pub fn invalid_scope(d: impl Into<String>) -> Self {
        Self::new("invalid_scope", d)
    }

    /// `unsupported_grant_type`.
    pub fn unsupported_grant_type(d: impl Into<String>) -> Self {
        Self::new("unsupported_grant_type", d)
    }

    /// `invalid_client_metadata` (registration).
    pub fn invalid_client_metadata(d: impl Into<String>) -> Self {
        Self::new("invalid_client_metadata", d)
    }

    /// `invalid_redirect_uri` (registration).
    pub fn invalid_redirect_uri(d: impl Into<String>) -> Self {
        Self::new("invalid_redirect_uri", d)
    }

    /// `access_denied`.
    pub fn access_denied(d: impl Into<String>) -> Self {
        Self::new("access_denied", d)
    }

    /// `invalid_target` (RFC 8707: a resource this server does not serve).
    pub fn invalid_target(d: impl Into<String>) -> Self {
        Self::new("invalid_target", d)
    }

    /// `server_error`.
    pub fn server_error(d: impl Into<String>) -> Self {
        Self::new("server_error", d)
    }
}

/// Adds the headers every token-endpoint-like response carries.
pub(crate) fn no_store(mut resp: Response) -> Response {
    resp.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp.headers_mut()
        .insert(PRAGMA, HeaderValue::from_static("no-cache"));
    resp
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let status = match self.code {
            "invalid_client" => StatusCode::UNAUTHORIZED,
            "server_error" => StatusCode::INTERNAL_SERVER_ERROR,
            "temporarily_unavailable" => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::BAD_REQUEST,
        };
        let mut resp = (
            status,
            Json(serde_json::json!({"error": self.code, "error_description": self.description})),
        )
            .into_response();
        if status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(
                WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"oauth\""),
            );
        }
        no_store(resp)
    }
}

/// An authorization server: what the routes in [`routes`] need from storage and
/// policy. The routes validate every request before calling these methods.
pub trait AuthorizationServer: Send + Sync + 'static {
    /// The client with this id, if registered.
    fn get_client(&self, client_id: &str) -> impl Future<Output = Option<ClientInfo>> + Send;

    /// Stores a client whose metadata the routes already validated.
    fn register_client(
        &self,
        client: ClientInfo,
    ) -> impl Future<Output = Result<(), OAuthError>> + Send;

    /// Handles a valid authorization request: issue a code and redirect, or show
    /// a login/consent page.
    fn authorize(
        &self,
        client: &ClientInfo,
        params: AuthorizationParams,
    ) -> impl Future<Output = Result<AuthorizeOutcome, OAuthError>> + Send;

    /// The stored authorization code, if it exists and was not used.
    fn load_authorization_code(
        &self,
        client: &ClientInfo,
        code: &str,
    ) -> impl Future<Output = Option<AuthorizationCode>> + Send;

    /// Consumes the code (it must never work twice) and issues tokens.
    fn exchange_authorization_code(
        &self,
        client: &ClientInfo,
        code: AuthorizationCode,
    ) -> impl Future<Output = Result<TokenResponse, OAuthError>> + Send;

    /// The stored refresh token, if valid.
    fn load_refresh_token(
        &self,
        client: &ClientInfo,
        token: &str,
    ) -> impl Future<Output = Option<RefreshToken>> + Send;

    /// Issues new tokens and rotates the refresh token (the old one stops working).
    fn exchange_refresh_token(
        &self,
        client: &ClientInfo,
        token: RefreshToken,
        scopes: Vec<String>,
    ) -> impl Future<Output = Result<TokenResponse, OAuthError>> + Send;

    /// Issues a token to the client itself (`client_credentials`). Unsupported by default.
    fn exchange_client_credentials(
        &self,
        client: &ClientInfo,
        scopes: Vec<String>,
    ) -> impl Future<Output = Result<TokenResponse, OAuthError>> + Send {
        let _ = (client, scopes);
        async {
            Err(OAuthError::unsupported_grant_type(
                "client_credentials is not supported",
            ))
        }
    }

    /// What the server knows about an access token (`None`: unknown or revoked).
    fn load_access_token(
        &self,
        token: &str,
    ) -> impl Future<Output = Option<AccessTokenInfo>> + Send;

    /// Revokes an access or refresh token (RFC 7009); unknown tokens are ignored.
    fn revoke_token(&self, client: &ClientInfo, token: &str) -> impl Future<Output = ()> + Send;

    /// The resolver of Client ID Metadata Documents, if this server accepts
    /// clients identified by URL. With one, the routes resolve every URL
    /// `client_id` through it (never through [`get_client`](Self::get_client))
    /// and the metadata says `client_id_metadata_document_supported: true`.
    /// None by default.
    fn client_metadata_resolver(
        &self,
    ) -> Option<&client_metadata_document::ClientMetadataResolver> {
        None
    }
}
