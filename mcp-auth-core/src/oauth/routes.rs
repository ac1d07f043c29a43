//! The axum routes of an authorization server: metadata (RFC 8414), `/authorize`,
//! `/token`, `/register` (RFC 7591) and `/revoke` (RFC 7009), driving any
//! [`AuthorizationServer`].

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use http::{HeaderMap, Method, StatusCode};
use serde_json::{Value, json};
use tower_http::cors::{AllowOrigin, Any, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;

use super::authorization_request::{AuthorizationRequest, echoed_state, redirect_target};
use super::browser_csrf::BrowserCsrf;
use super::client_auth::client_credentials;
use super::client_metadata_document::is_client_id_url;
use super::params::Params;
use super::registration::{self, RegistrationRequest};
use super::response::error_response;
use super::{
    AuthorizationParams, AuthorizationServer, AuthorizeOutcome, ClientInfo, OAuthError, no_store,
    pkce,
};

/// Largest request body accepted by these routes.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// What the routes say about the server in its metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerSettings {
    /// The issuer: this server's base URL, e.g. `http://localhost:3000`.
    pub issuer: String,
    /// Scopes advertised and accepted.
    pub scopes_supported: Vec<String>,
    /// Grant types advertised and accepted.
    pub grant_types_supported: Vec<String>,
    /// The JWKS URL of the tokens this server issues, if any.
    pub jwks_uri: Option<String>,
}

struct Shared<A> {
    server: Arc<A>,
    settings: ServerSettings,
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The routes: `/.well-known/oauth-authorization-server` (and the OpenID alias),
/// `/authorize`, `/token`, `/register` and `/revoke`, with body size limits and
/// CORS: any origin may read the metadata; only loopback origins may call
/// `/token`, `/register` and `/revoke` from script; none `/authorize`.
pub fn routes<A: AuthorizationServer, S: Clone + Send + Sync + 'static>(
    server: Arc<A>,
    settings: ServerSettings,
) -> Router<S> {
    let shared = Arc::new(Shared { server, settings });
    // Metadata is public; the endpoints that register clients and hand out
    // tokens answer scripts of loopback origins only, so a web page the
    // developer happens to visit cannot drive them.
    let public = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::OPTIONS])
        .allow_headers(Any);
    let loopback_only = CorsLayer::new()
        .allow_origin(AllowOrigin::predicate(|origin, _| {
            crate::http::cors::is_loopback_origin(origin)
        }))
        .allow_methods([Method::POST, Method::OPTIONS])
        .allow_headers([http::header::CONTENT_TYPE, http::header::AUTHORIZATION]);
    let metadata = Router::new()
        .route(
            "/.well-known/oauth-authorization-server",
            get(metadata::<A>),
        )
        .route("/.well-known/openid-configuration", get(metadata::<A>))
        .layer(public);
    let api = Router::new()
        .route("/token", post(token::<A>))
        .route("/register", post(register::<A>))
        .route("/revoke", post(revoke::<A>))
        .layer(loopback_only)
        .merge(metadata);
    let authorize = Router::new().route(
        "/authorize",
        get(authorize_route::<A>).post(authorize_route::<A>),
    );
    api.merge(authorize)
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .with_state(shared)
}

/// The RFC 8414 metadata document for `settings`.
pub fn metadata_document(settings: &ServerSettings) -> Value {
    let base = settings.issuer.trim_end_matches('/');
    let mut doc = json!({
        "issuer": settings.issuer,
        "authorization_endpoint": format!("{base}/authorize"),
        "token_endpoint": format!("{base}/token"),
        "registration_endpoint": format!("{base}/register"),
        "revocation_endpoint": format!("{base}/revoke"),
        "scopes_supported": settings.scopes_supported,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": settings.grant_types_supported,
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["none", "client_secret_post", "client_secret_basic"],
        "revocation_endpoint_auth_methods_supported": ["none", "client_secret_post", "client_secret_basic"],
        "authorization_response_iss_parameter_supported": true,
    });
    if let Some(jwks) = &settings.jwks_uri {
        doc["jwks_uri"] = json!(jwks);
    }
    doc
}

impl ServerSettings {
    /// These settings for a request naming `host`: an issuer on a loopback host
    /// (and its JWKS URL) under the loopback alias the client used, so that the
    /// metadata's `issuer` is the URL the client built the metadata URL from
    /// (RFC 8414 §3.3). Unchanged for any other issuer, whatever `host` says.
    pub fn for_host(&self, host: Option<&str>) -> ServerSettings {
        let alias = |url: &str| host.and_then(|h| crate::http::resource::loopback_alias(url, h));
        let Some(issuer) = alias(&self.issuer) else {
            return self.clone();
        };
        ServerSettings {
            jwks_uri: self
                .jwks_uri
                .as_deref()
                .map(|j| alias(j).unwrap_or_else(|| j.to_owned())),
            issuer,
            ..self.clone()
        }
    }
}

async fn metadata<A: AuthorizationServer>(
    State(s): State<Arc<Shared<A>>>,
    headers: HeaderMap,
    uri: http::Uri,
) -> Json<Value> {
    let host = crate::http::resource::request_host(&headers, &uri);
    let mut doc = metadata_document(&s.settings.for_host(host));
    if s.server.client_metadata_resolver().is_some() {
        doc["client_id_metadata_document_supported"] = json!(true);
    }
    Json(doc)
}

/// Where a client is looked up, which decides how a failure is answered.
#[derive(Clone, Copy)]
enum Endpoint {
    /// An error page (never a redirect).
    Authorize,
    /// 401 `invalid_client`.
    Token,
}

/// The client `client_id` names: resolved from its metadata document when it
/// is a URL and the server accepts those, else registered here.
async fn find_client<A: AuthorizationServer>(
    s: &Shared<A>,
    client_id: &str,
    endpoint: Endpoint,
) -> Result<ClientInfo, OAuthError> {
    if is_client_id_url(client_id)
        && let Some(resolver) = s.server.client_metadata_resolver()
    {
        return resolver
            .client(client_id)
            .await
            .map_err(|e| match endpoint {
                Endpoint::Authorize => e.authorize_refusal(),
                Endpoint::Token => e.token_refusal(),
            });
    }
    match (s.server.get_client(client_id).await, endpoint) {
        (Some(client), _) => Ok(client),
        (None, Endpoint::Authorize) => Err(OAuthError::invalid_request("unknown client_id")),
        (None, Endpoint::Token) => Err(OAuthError::invalid_client("unknown client")),
    }
}

async fn authorize_route<A: AuthorizationServer>(
    State(s): State<Arc<Shared<A>>>,
    headers: HeaderMap,
    uri: http::Uri,
    params: Params,
) -> Response {
    let issuer = s
        .settings
        .for_host(crate::http::resource::request_host(&headers, &uri))
        .issuer;
    authorize(&s, &headers, &issuer, params).await
}

/// The client's redirect URI with OAuth response parameters (and RFC 9207 `iss`).
/// An unparsable URI is returned unchanged. Only the dev issuer answers
/// authorization requests itself.
#[cfg(any(test, feature = "dev-issuer"))]
pub fn redirect_with(redirect_uri: &str, params: &[(&str, &str)], issuer: &str) -> String {
    super::response::authorization_response_url(redirect_uri, params, None, issuer)
        .unwrap_or_else(|| redirect_uri.to_owned())
}

/// `/authorize`; `issuer` is the `iss` of its error responses (the issuer
/// under the name the client used).
async fn authorize<A: AuthorizationServer>(
    s: &Shared<A>,
    headers: &HeaderMap,
    issuer: &str,
    params: Params,
) -> Response {
    // Until the client and its redirect URI are known good, errors cannot be
    // redirected: they are shown here (no open redirect).
    let Some(client_id) = params.get("client_id") else {
        return OAuthError::invalid_request("client_id is required").into_response();
    };
    let client = match find_client(s, client_id, Endpoint::Authorize).await {
        Ok(client) => client,
        Err(e) => return e.into_response(),
    };
    let redirect_uri = match redirect_target(&params, &client.redirect_uris) {
        Ok(uri) => uri,
        Err(e) => return e.into_response(),
    };
    let fail = |e: OAuthError| error_response(&redirect_uri, &e, echoed_state(&params), issuer);
    let request = match AuthorizationRequest::validate(&params, client_id, redirect_uri.clone()) {
        Ok(request) => request,
        Err(e) => return fail(e),
    };
    let scopes = match request.scope {
        Some(_) => request.scopes(),
        None => client
            .scope
            .as_deref()
            .unwrap_or("")
            .split_whitespace()
            .map(str::to_owned)
            .collect(),
    };
    if let Some(bad) = scopes
        .iter()
        .find(|sc| !s.settings.scopes_supported.contains(sc))
    {
        return fail(OAuthError::invalid_scope(format!(
            "scope {bad:?} is not supported"
        )));
    }
    let csrf = BrowserCsrf::for_issuer(issuer);
    let (csrf_token, set_cookie) = csrf.token(headers);
    let params = AuthorizationParams {
        state: request.state.clone(),
        scopes,
        code_challenge: request.code_challenge,
        redirect_uri: request.redirect_uri,
        resource: request.resource,
        csrf_token,
    };
    match s.server.authorize(&client, params).await {
        Ok(AuthorizeOutcome::Redirect(url)) => Redirect::to(&url).into_response(),
        Ok(AuthorizeOutcome::Page(html)) => {
            let mut resp = framing_blocked(Html(html).into_response());
            if let Some(cookie) = set_cookie {
                resp.headers_mut().append(http::header::SET_COOKIE, cookie);
            }
            resp
        }
        Err(e) => fail(e),
    }
}

/// Login and consent pages must never be framed (clickjacking).
pub(crate) fn framing_blocked(mut resp: Response) -> Response {
    let h = resp.headers_mut();
    h.insert("x-frame-options", http::HeaderValue::from_static("DENY"));
    h.insert(
        "content-security-policy",
        http::HeaderValue::from_static("frame-ancestors 'none'"),
    );
    h.insert(
        http::header::CACHE_CONTROL,
        http::HeaderValue::from_static("no-store"),
    );
    resp
}

/// Authenticates the client of a token or revocation request (RFC 6749 §2.3):
/// an unknown client or a wrong secret is `invalid_client` (401).
async fn authenticate<A: AuthorizationServer>(
    s: &Shared<A>,
    headers: &HeaderMap,
    params: &Params,
) -> Result<ClientInfo, OAuthError> {
    let presented = client_credentials(headers, params)?;
    let client = find_client(s, &presented.client_id, Endpoint::Token).await?;
    match (&client.client_secret, presented.secret) {
        (None, None) => Ok(client),
        (None, Some(_)) => Err(OAuthError::invalid_client(
            "this public client has no secret",
        )),
        (Some(_), None) => Err(OAuthError::invalid_client("client secret required")),
        (Some(expected), Some(given)) => {
            if aws_lc_rs::constant_time::verify_slices_are_equal(
                expected.secret().as_bytes(),
                given.secret().as_bytes(),
            )
            .is_ok()
            {
                Ok(client)
            } else {
                Err(OAuthError::invalid_client("client authentication failed"))
            }
        }
    }
}

async fn token<A: AuthorizationServer>(
    State(s): State<Arc<Shared<A>>>,
    headers: HeaderMap,
    form: Params,
) -> Response {
    match token_inner(&s, &headers, &form).await {
        Ok(resp) => no_store(Json(resp).into_response()),
        Err(e) => {
            tracing::info!(error = %e, "token request refused");
            e.into_response()
        }
    }
}

async fn token_inner<A: AuthorizationServer>(
    s: &Shared<A>,
    headers: &HeaderMap,
    form: &Params,
) -> Result<super::TokenResponse, OAuthError> {
    let client = authenticate(s, headers, form).await?;
    let grant = form.get("grant_type").unwrap_or_default();
    if !s.settings.grant_types_supported.iter().any(|g| g == grant)
        || !client.grant_types.iter().any(|g| g == grant)
    {
        return Err(OAuthError::unsupported_grant_type(format!(
            "grant_type {grant:?} is not allowed"
        )));
    }
    match grant {
        "authorization_code" => {
            let code_str = form
                .get("code")
                .ok_or_else(|| OAuthError::invalid_request("code is required"))?;
            let verifier = form
                .get("code_verifier")
                .ok_or_else(|| OAuthError::invalid_request("code_verifier is required (PKCE)"))?;
            let code = s
                .server
                .load_authorization_code(&client, code_str)
                .await
                .ok_or_else(|| {
                    OAuthError::invalid_grant(
                        "authorization code is invalid, expired or already used",
                    )
                })?;
            if code.client_id != client.client_id {
                return Err(OAuthError::invalid_grant(
                    "authorization code was issued to another client",
                ));
            }
            if code.expires_at <= now() {
                return Err(OAuthError::invalid_grant("authorization code expired"));
            }
            if form
                .get("redirect_uri")
                .is_some_and(|r| r != code.redirect_uri)
            {
                return Err(OAuthError::invalid_grant(
                    "redirect_uri does not match the authorization request",
                ));
            }
            if !pkce::verify_s256(verifier, &code.code_challenge) {
                return Err(OAuthError::invalid_grant(
                    "code_verifier does not match the code_challenge",
                ));
            }
            s.server.exchange_authorization_code(&client, code).await
        }
        "refresh_token" => {
            let token = form
                .get("refresh_token")
                .ok_or_else(|| OAuthError::invalid_request("refresh_token is required"))?;
            let stored = s
                .server
                .load_refresh_token(&client, token)
                .await
                .ok_or_else(|| OAuthError::invalid_grant("refresh token is invalid or revoked"))?;
            if stored.client_id != client.client_id {
                return Err(OAuthError::invalid_grant(
                    "refresh token was issued to another client",
                ));
            }
            if stored.expires_at.is_some_and(|e| e <= now()) {
                return Err(OAuthError::invalid_grant("refresh token expired"));
            }
            let scopes: Vec<String> = match form.get("scope") {
                Some(sc) => sc.split_whitespace().map(str::to_owned).collect(),
                None => stored.scopes.clone(),
            };
            if let Some(extra) = scopes.iter().find(|sc| !stored.scopes.contains(sc)) {
                return Err(OAuthError::invalid_scope(format!(
                    "scope {extra:?} was not granted"
                )));
            }
            s.server
                .exchange_refresh_token(&client, stored, scopes)
                .await
        }
        "client_credentials" => {
            if client.client_secret.is_none() {
                return Err(OAuthError::new(
                    "unauthorized_client",
                    "client_credentials needs a confidential client",
                ));
            }
            let scopes: Vec<String> = form
                .get("scope")
                .map(|sc| sc.split_whitespace().map(str::to_owned).collect())
                .unwrap_or_default();
            if let Some(bad) = scopes
                .iter()
                .find(|sc| !s.settings.scopes_supported.contains(sc))
            {
                return Err(OAuthError::invalid_scope(format!(
                    "scope {bad:?} is not supported"
                )));
            }
            s.server.exchange_client_credentials(&client, scopes).await
        }
        other => Err(OAuthError::unsupported_grant_type(format!(
            "grant_type {other:?} is not supported"
        ))),
    }
}

use super::random::random_token;

async fn register<A: AuthorizationServer>(
    State(s): State<Arc<Shared<A>>>,
    body: Result<Json<RegistrationRequest>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let Ok(Json(req)) = body else {
        return OAuthError::invalid_client_metadata(
            "the body must be a JSON client metadata document",
        )
        .into_response();
    };
    let redirect_uris = match registration::redirect_uris(req.redirect_uris.as_deref()) {
        Ok(uris) => uris,
        Err(e) => return e.into_response(),
    };
    let (client_name, scope) = match (
        registration::client_name(req.client_name.as_deref()),
        registration::scope(req.scope.as_deref()),
    ) {
        (Ok(name), Ok(scope)) => (name, scope),
        (Err(e), _) | (_, Err(e)) => return e.into_response(),
    };
    let method = req
        .token_endpoint_auth_method
        .unwrap_or_else(|| "client_secret_basic".into());
    if !["none", "client_secret_post", "client_secret_basic"].contains(&method.as_str()) {
        return OAuthError::invalid_client_metadata(format!(
            "token_endpoint_auth_method {method:?} is not supported"
        ))
        .into_response();
    }
    let grant_types = req
        .grant_types
        .unwrap_or_else(|| vec!["authorization_code".into(), "refresh_token".into()]);
    if let Some(bad) = grant_types
        .iter()
        .find(|g| !s.settings.grant_types_supported.contains(g))
    {
        return OAuthError::invalid_client_metadata(format!("grant type {bad:?} is not supported"))
            .into_response();
    }
    if let Some(scope) = &scope
        && let Some(bad) = scope
            .split_whitespace()
            .find(|sc| !s.settings.scopes_supported.iter().any(|x| x == sc))
    {
        return OAuthError::invalid_client_metadata(format!("scope {bad:?} is not supported"))
            .into_response();
    }
    let client = ClientInfo {
        client_id: random_token(16),
        client_secret: (method != "none").then(|| crate::ClientSecret::new(random_token(32))),
        redirect_uris,
        grant_types,
        token_endpoint_auth_method: method,
        client_name,
        scope,
        client_id_issued_at: now(),
    };
    match s.server.register_client(client.clone()).await {
        Ok(()) => no_store((StatusCode::CREATED, Json(client)).into_response()),
        Err(e) => e.into_response(),
    }
}

async fn revoke<A: AuthorizationServer>(
    State(s): State<Arc<Shared<A>>>,
    headers: HeaderMap,
    form: Params,
) -> Response {
    let client = match authenticate(&s, &headers, &form).await {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    let Some(token) = form.get("token") else {
        return OAuthError::invalid_request("token is required").into_response();
    };
    s.server.revoke_token(&client, token).await;
    no_store(StatusCode::OK.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_carries_state_and_iss() {
        let url = redirect_with(
            "https://c.example.com/cb?x=1",
            &[("code", "abc"), ("state", "s t")],
            "http://localhost:3000",
        );
        assert_eq!(
            url,
            "https://c.example.com/cb?x=1&code=abc&state=s+t&iss=http%3A%2F%2Flocalhost%3A3000"
        );
    }
}
