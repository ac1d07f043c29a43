//! [`DevIssuer`]: an in-memory authorization server for local development and
//! tests (feature `dev-issuer`). It generates an ES256 key at start, serves it as
//! a JWKS, registers clients (RFC 7591), runs the authorization-code flow with
//! PKCE (a login/consent page, or auto-approval for scripts), issues RFC 9068 JWT
//! access tokens and rotating refresh tokens, supports `client_credentials`
//! (when enabled), and revokes tokens. Clients identified by URL (Client ID
//! Metadata Documents) need no registration. Its consent page is bound to the
//! browser that loaded it (CSRF) and grants the
//! [`consent_scopes`](DevIssuerConfig::consent_scopes) (`admin`) only when
//! ticked. Its tokens are verified like any other issuer's: by a
//! [`JwtVerifier`] that fetches its JWKS over HTTP.
//!
//! Never expose it beyond your machine: whoever reaches `/authorize` logs in as
//! the configured development user. It answers only requests naming its own
//! host or a loopback name in `Host` (a web page re-resolved to this machine,
//! DNS rebinding, names its own host).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use axum::extract::State;
use axum::extract::rejection::FormRejection;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::HeaderMap;
use serde_json::{Value, json};

use crate::error::{ConfigError, TokenRejection, VerifyError};
use crate::http::resource::{ResourceUrl, loopback_alias};
use crate::jwt::{Algorithm, Audience, JwksCache, JwksConfig, JwtConfig, JwtVerifier, KeySource};
use crate::oauth::browser_csrf::BrowserCsrf;
use crate::oauth::client_metadata_document::{
    ClientMetadataConfig, ClientMetadataResolver, all_loopback, display_name, is_client_id_url,
    redirect_host,
};
use crate::oauth::params::unreadable;
use crate::oauth::random::random_token;
use crate::oauth::routes::{ServerSettings, framing_blocked, redirect_with};
use crate::oauth::{
    AccessTokenInfo, AuthorizationCode, AuthorizationParams, AuthorizationServer, AuthorizeOutcome,
    ClientInfo, OAuthError, RefreshToken, TokenResponse,
};
use crate::provider::{AuthProvider, Mode, ProviderMetadata, TokenVerifier};
use crate::user::AuthContext;

/// Settings of a [`DevIssuer`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DevIssuerConfig {
    /// The issuer: the base URL this server is reached at, e.g. `http://localhost:3000`.
    pub issuer: String,
    /// The resource (token audience): the MCP endpoint URL.
    pub resource: String,
    /// The development user's `sub`.
    pub user_id: String,
    /// The development user's e-mail.
    pub email: String,
    /// The development user's name.
    pub name: String,
    /// Scopes clients may request.
    pub scopes_supported: Vec<String>,
    /// Approve every authorization request without a page (for scripts and tests).
    pub auto_approve: bool,
    /// Access-token lifetime. Default 1 h.
    pub access_token_ttl: Duration,
    /// Authorization-code lifetime. Default 60 s.
    pub code_ttl: Duration,
    /// Refresh-token lifetime. Default 30 days.
    pub refresh_token_ttl: Duration,
    /// Whether confidential clients may use `client_credentials` (a token with
    /// no user and no consent). Off by default: any program that can reach the
    /// issuer could otherwise register and mint tokens.
    pub allow_client_credentials: bool,
    /// Scopes granted only when the user ticks them on the consent page (an
    /// unchecked checkbox, shown only when the client asks for the scope);
    /// never granted by [`auto_approve`](Self::auto_approve). Default `admin`.
    pub consent_scopes: Vec<String>,
    /// How clients identified by URL (Client ID Metadata Documents) are
    /// fetched and cached. Default: [`ClientMetadataConfig::for_resource`] of
    /// the resource (plain http and loopback addresses only when the resource
    /// is on loopback).
    pub client_metadata: ClientMetadataConfig,
}

impl DevIssuerConfig {
    /// Settings for an issuer at `issuer` protecting `resource`, with a dev user
    /// `dev-user` / `dev@example.com` and scopes `mcp:tools profile admin`.
    pub fn new(issuer: impl Into<String>, resource: impl Into<String>) -> Self {
        let resource: String = resource.into();
        DevIssuerConfig {
            issuer: issuer.into().trim_end_matches('/').to_owned(),
            resource: resource.clone(),
            user_id: "dev-user".into(),
            email: "dev@example.com".into(),
            name: "Dev User".into(),
            scopes_supported: vec!["mcp:tools".into(), "profile".into(), "admin".into()],
            auto_approve: false,
            access_token_ttl: Duration::from_secs(3600),
            code_ttl: Duration::from_secs(60),
            refresh_token_ttl: Duration::from_secs(30 * 86_400),
            allow_client_credentials: false,
            consent_scopes: vec!["admin".into()],
            client_metadata: ClientMetadataConfig::for_resource(&resource),
        }
    }
}

struct Pending {
    client_id: String,
    params: AuthorizationParams,
    expires_at: u64,
}

/// At most this many registered clients; the oldest go first.
const MAX_CLIENTS: usize = 1_000;
/// At most this many codes, consent pages waiting, refresh tokens, revoked ids
/// each; expired ones are swept first, then the oldest go.
const MAX_RECORDS: usize = 10_000;

/// Keeps `map` under `max` entries before an insert: expired entries first
/// (`expires` says when an entry expires), then the soonest to expire.
fn make_room<V>(map: &mut HashMap<String, V>, max: usize, expires: impl Fn(&V) -> u64) {
    if map.len() < max {
        return;
    }
    let now = now();
    map.retain(|_, v| expires(v) > now);
    while map.len() >= max {
        let Some(oldest) = map
            .iter()
            .min_by_key(|(_, v)| expires(v))
            .map(|(k, _)| k.clone())
        else {
            break;
        };
        map.remove(&oldest);
    }
}

#[derive(Default)]
struct Store {
    clients: HashMap<String, ClientInfo>,
    codes: HashMap<String, AuthorizationCode>,
    refresh: HashMap<String, RefreshToken>,
    pending: HashMap<String, Pending>,
    /// Revoked access tokens' ids, with when the token expires anyway.
    revoked_jtis: HashMap<String, u64>,
}

/// The in-memory development authorization server.
pub struct DevIssuer {
    config: DevIssuerConfig,
    kid: String,
    signing: jsonwebtoken::EncodingKey,
    jwk: Value,
    store: Mutex<Store>,
    client_metadata: ClientMetadataResolver,
    csrf: BrowserCsrf,
}

impl std::fmt::Debug for DevIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevIssuer")
            .field("config", &self.config)
            .field("kid", &self.kid)
            .finish()
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

impl DevIssuer {
    /// Generates a fresh ES256 key and an empty store.
    pub fn new(config: DevIssuerConfig) -> Result<Arc<Self>, ConfigError> {
        let rng = SystemRandom::new();
        let key_error = |e: String| ConfigError::invalid("dev issuer signing key", e);
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .map_err(|e| key_error(e.to_string()))?;
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref())
            .map_err(|e| key_error(e.to_string()))?;
        let point = pair.public_key().as_ref();
        if point.len() != 65 {
            return Err(key_error("unexpected P-256 public key encoding".into()));
        }
        let kid = format!("dev-{}", &random_token(6));
        let jwk = json!({
            "kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig", "kid": kid,
            "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
            "y": URL_SAFE_NO_PAD.encode(&point[33..]),
        });
        let client_metadata = ClientMetadataResolver::new(config.client_metadata.clone())?;
        Ok(Arc::new(DevIssuer {
            signing: jsonwebtoken::EncodingKey::from_ec_der(pkcs8.as_ref()),
            csrf: BrowserCsrf::for_issuer(&config.issuer),
            client_metadata,
            config,
            kid,
            jwk,
            store: Mutex::new(Store::default()),
        }))
    }

    /// The settings.
    pub fn config(&self) -> &DevIssuerConfig {
        &self.config
    }

    /// The JWKS URL (`{issuer}/jwks.json`).
    pub fn jwks_url(&self) -> String {
        format!("{}/jwks.json", self.config.issuer)
    }

    fn store(&self) -> std::sync::MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Mints an access token for the development user directly (what the
    /// quickstart prints), as if `client_id` had completed the flow.
    pub fn mint_access_token(
        &self,
        client_id: &str,
        scopes: &[String],
    ) -> Result<String, OAuthError> {
        self.access_token(
            &self.config.user_id,
            client_id,
            scopes,
            &self.config.resource,
        )
    }

    /// The audience of a token for a flow that asked for `resource`: that
    /// loopback alias of the configured resource, else the configured resource.
    fn audience_for(&self, resource: Option<&str>) -> String {
        resource
            .and_then(|r| self.resource_alias(r))
            .unwrap_or_else(|| self.config.resource.clone())
    }

    /// `resource` when it is the configured resource or one of its loopback
    /// aliases (the same server reached under another loopback name).
    fn resource_alias(&self, resource: &str) -> Option<String> {
        let canonical = ResourceUrl::parse(&self.config.resource).ok()?;
        let asked = ResourceUrl::parse(resource).ok()?;
        if asked == canonical {
            return Some(self.config.resource.clone());
        }
        canonical
            .loopback_aliases()
            .into_iter()
            .find(|alias| *alias == asked)
            .map(|alias| alias.as_str().to_owned())
    }

    /// The issuer under the loopback name of `audience` (an alias of the
    /// resource): the `iss` of authorization responses of a flow for it, equal
    /// to the metadata `issuer` the client read under that name.
    fn issuer_for(&self, audience: &str) -> String {
        url::Url::parse(audience)
            .ok()
            .and_then(|u| {
                let host = match u.port() {
                    Some(port) => format!("{}:{port}", u.host_str()?),
                    None => u.host_str()?.to_owned(),
                };
                loopback_alias(&self.config.issuer, &host)
            })
            .unwrap_or_else(|| self.config.issuer.clone())
    }

    /// Signs an access token for `audience`. Its `iss` is always the configured
    /// issuer (the one the verifier checks); the audience is the loopback alias
    /// the flow was for, which the layer binds to the requests' `Host`.
    fn access_token(
        &self,
        subject: &str,
        client_id: &str,
        scopes: &[String],
        audience: &str,
    ) -> Result<String, OAuthError> {
        let mut header = jsonwebtoken::Header::new(Algorithm::ES256);
        header.typ = Some("at+jwt".into());
        header.kid = Some(self.kid.clone());
        let iat = now();
        let mut claims = json!({
            "iss": self.config.issuer,
            "sub": subject,
            "aud": audience,
            "client_id": client_id,
            "scope": scopes.join(" "),
            "iat": iat,
            "exp": iat + self.config.access_token_ttl.as_secs(),
            "jti": random_token(16),
        });
        if subject == self.config.user_id {
            claims["email"] = json!(self.config.email);
            claims["name"] = json!(self.config.name);
        }
        jsonwebtoken::encode(&header, &claims, &self.signing)
            .map_err(|e| OAuthError::server_error(format!("signing failed: {e}")))
    }

    fn tokens(
        &self,
        subject: &str,
        client_id: &str,
        scopes: Vec<String>,
        audience: &str,
        refresh: bool,
    ) -> Result<TokenResponse, OAuthError> {
        let access_token = self.access_token(subject, client_id, &scopes, audience)?;
        let refresh_token = refresh.then(|| {
            let token = random_token(32);
            let mut store = self.store();
            make_room(&mut store.refresh, MAX_RECORDS, |r| {
                r.expires_at.unwrap_or(u64::MAX)
            });
            store.refresh.insert(
                token.clone(),
                RefreshToken {
                    token: crate::oauth::RefreshTokenSecret::new(token.clone()),
                    client_id: client_id.to_owned(),
                    scopes: scopes.clone(),
                    resource: Some(audience.to_owned()),
                    subject: subject.to_owned(),
                    expires_at: Some(now() + self.config.refresh_token_ttl.as_secs()),
                },
            );
            token
        });
        Ok(TokenResponse {
            access_token: crate::AccessToken::new(access_token),
            token_type: "Bearer".into(),
            expires_in: self.config.access_token_ttl.as_secs(),
            refresh_token: refresh_token.map(crate::oauth::RefreshTokenSecret::new),
            scope: Some(scopes.join(" ")),
        })
    }

    fn issue_code(&self, client_id: &str, params: AuthorizationParams) -> String {
        // 256 bits of entropy, single use, short-lived.
        let code = random_token(32);
        let issuer = self.issuer_for(&self.audience_for(params.resource.as_deref()));
        let redirect = redirect_with(
            &params.redirect_uri,
            &[
                Some(("code", code.as_str())),
                params.state.as_deref().map(|s| ("state", s)),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>(),
            &issuer,
        );
        let mut store = self.store();
        make_room(&mut store.codes, MAX_RECORDS, |c| c.expires_at);
        store.codes.insert(
            code.clone(),
            AuthorizationCode {
                code: crate::oauth::AuthorizationCodeSecret::new(code.clone()),
                client_id: client_id.to_owned(),
                redirect_uri: params.redirect_uri,
                code_challenge: params.code_challenge,
                scopes: params.scopes,
                resource: params.resource,
                subject: self.config.user_id.clone(),
                expires_at: now() + self.config.code_ttl.as_secs(),
            },
        );
        redirect
    }

    fn consent_page(
        &self,
        client: &ClientInfo,
        request_id: &str,
        params: &AuthorizationParams,
    ) -> String {
        let by_url = is_client_id_url(&client.client_id);
        let name = html_escape(&display_name(
            client.client_name.as_deref().unwrap_or(&client.client_id),
        ));
        let (asked, optional): (Vec<&String>, Vec<&String>) = params
            .scopes
            .iter()
            .partition(|s| !self.config.consent_scopes.contains(s));
        let scopes = if asked.is_empty() {
            "(none)".to_owned()
        } else {
            html_escape(
                &asked
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(" "),
            )
        };
        let checkboxes: String = optional
            .iter()
            .map(|scope| {
                let scope = html_escape(scope);
                format!(
                    "<p><label><input type=\"checkbox\" name=\"grant_scope\" value=\"{scope}\"> \
                     Also grant <code>{scope}</code> (the client asks for it; not granted unless ticked)</label></p>"
                )
            })
            .collect();
        let identity = if by_url {
            format!(
                "<p>The application is identified by its metadata document <code>{}</code>.</p>",
                html_escape(&client.client_id)
            )
        } else {
            String::new()
        };
        let warning = if all_loopback(&client.redirect_uris) {
            "<p><strong>Warning:</strong> this application's redirect URIs are all on this machine \
             (loopback): approve only if you started this from an application running here.</p>"
        } else {
            ""
        };
        format!(
            "<!doctype html><html><head><meta charset=\"utf-8\"><title>mcp-auth dev login</title></head>\
             <body style=\"font-family:sans-serif;max-width:32em;margin:4em auto\">\
             <h1>Development login</h1>\
             <p><b>{name}</b> asks to act as <b>{user}</b> ({email}) with scopes <code>{scopes}</code>.</p>\
             <p>After you answer, your browser goes to</p>\
             <p style=\"font-size:1.5em\"><b>{host}</b></p>\
             <p><small><code>{redirect}</code></small></p>{identity}{warning}\
             <form method=\"post\" action=\"/authorize/consent\">\
             <input type=\"hidden\" name=\"request_id\" value=\"{id}\">\
             <input type=\"hidden\" name=\"csrf_token\" value=\"{csrf}\">{checkboxes}\
             <button name=\"decision\" value=\"approve\">Approve</button> \
             <button name=\"decision\" value=\"deny\">Deny</button></form>\
             <p><small>mcp-auth development issuer: never expose it beyond your machine.</small></p></body></html>",
            user = html_escape(&self.config.name),
            email = html_escape(&self.config.email),
            host = html_escape(&redirect_host(&params.redirect_uri)),
            redirect = html_escape(&params.redirect_uri),
            id = html_escape(request_id),
            csrf = html_escape(&params.csrf_token),
        )
    }

    /// The issuer's routes: OAuth endpoints and metadata (see
    /// [`crate::oauth::routes::routes`]), the consent form handler, and `/jwks.json`.
    pub fn routes<S: Clone + Send + Sync + 'static>(self: &Arc<Self>) -> Router<S> {
        let settings = ServerSettings {
            issuer: self.config.issuer.clone(),
            scopes_supported: self.config.scopes_supported.clone(),
            grant_types_supported: ["authorization_code", "refresh_token"]
                .into_iter()
                .chain(
                    self.config
                        .allow_client_credentials
                        .then_some("client_credentials"),
                )
                .map(str::to_owned)
                .collect(),
            jwks_uri: Some(self.jwks_url()),
        };
        let own: Router<S> = Router::new()
            .route("/jwks.json", get(jwks))
            .route("/authorize/consent", post(consent))
            .with_state(Arc::clone(self));
        let own_host: Arc<str> = url::Url::parse(&self.config.issuer)
            .ok()
            .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
            .unwrap_or_default()
            .into();
        own.merge(crate::oauth::routes::routes(Arc::clone(self), settings))
            .layer(axum::middleware::from_fn(
                move |request: axum::extract::Request, next: axum::middleware::Next| {
                    let own_host = Arc::clone(&own_host);
                    async move {
                        match foreign_host(&request, &own_host) {
                            Some(host) => misdirected(&host),
                            None => next.run(request).await,
                        }
                    }
                },
            ))
    }

    /// A verifier for this issuer's tokens: a [`JwtVerifier`] that fetches the
    /// JWKS over HTTP from `jwks_url` (usually [`Self::jwks_url`]), strict
    /// `typ: at+jwt`, audience = the resource, plus the revocation list.
    pub fn provider(self: &Arc<Self>, jwks_url: &str) -> Result<DevIssuerProvider, ConfigError> {
        // The resource under each loopback name it answers to: the layer
        // accepts a token for an alias only on requests to that alias.
        let mut audiences = vec![self.config.resource.clone()];
        if let Ok(resource) = ResourceUrl::parse(&self.config.resource) {
            for alias in resource.loopback_aliases() {
                if !audiences.iter().any(|a| a == alias.as_str()) {
                    audiences.push(alias.as_str().to_owned());
                }
            }
        }
        let mut config = JwtConfig::new(self.config.issuer.clone(), Audience::OneOf(audiences));
        config.require_access_token_type = true;
        let verifier = JwtVerifier::new(
            config,
            KeySource::Jwks(JwksCache::new(jwks_url, JwksConfig::default())?),
        )?;
        let mut metadata = ProviderMetadata::new(self.config.issuer.clone(), Mode::Direct);
        metadata.authorization_endpoint = Some(format!("{}/authorize", self.config.issuer));
        metadata.token_endpoint = Some(format!("{}/token", self.config.issuer));
        metadata.registration_endpoint = Some(format!("{}/register", self.config.issuer));
        metadata.jwks_uri = Some(self.jwks_url());
        metadata.scopes_supported = self.config.scopes_supported.clone();
        Ok(DevIssuerProvider {
            issuer: Arc::clone(self),
            verifier,
            metadata,
        })
    }

    fn jti_of(token: &str) -> Option<(String, String)> {
        let payload = token.split('.').nth(1)?;
        let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
        Some((
            claims.get("jti")?.as_str()?.to_owned(),
            claims.get("client_id")?.as_str()?.to_owned(),
        ))
    }
}

/// The host a request names (`Host`, else the URI's authority) when it is
/// neither the issuer's host nor a loopback name: a page whose name was
/// re-resolved to this machine (DNS rebinding), to which the browser would
/// hand this issuer as the page's own origin.
fn foreign_host(request: &axum::extract::Request, own_host: &str) -> Option<String> {
    let authority = request
        .headers()
        .get(http::header::HOST)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<http::uri::Authority>().ok())
        .or_else(|| request.uri().authority().cloned())?;
    let host = authority.host().to_ascii_lowercase();
    let allowed = host == own_host
        || matches!(host.as_str(), "localhost" | "127.0.0.1" | "[::1]")
        || host.ends_with(".localhost");
    (!allowed).then_some(host)
}

/// 421: this issuer does not answer for `host`.
fn misdirected(host: &str) -> Response {
    tracing::warn!(%host, "dev issuer request for another host refused (DNS rebinding?)");
    let body = json!({
        "error": "invalid_request",
        "error_description": "this development issuer answers only its own host and the loopback names",
    });
    (http::StatusCode::MISDIRECTED_REQUEST, Json(body)).into_response()
}

async fn jwks(State(issuer): State<Arc<DevIssuer>>) -> Json<Value> {
    Json(json!({ "keys": [issuer.jwk] }))
}

/// The consent form as posted: each field once, except the ticked
/// `grant_scope` checkboxes.
struct ConsentForm {
    request_id: String,
    csrf_token: String,
    decision: String,
    granted: Vec<String>,
}

impl ConsentForm {
    fn read(pairs: Vec<(String, String)>) -> Result<Self, OAuthError> {
        let mut single = HashMap::new();
        let mut granted = Vec::new();
        for (name, value) in pairs {
            if name == "grant_scope" {
                granted.push(value);
            } else if single.insert(name.clone(), value).is_some() {
                return Err(OAuthError::invalid_request(format!(
                    "parameter {name} appears more than once"
                )));
            }
        }
        let mut take = |name: &str| {
            single
                .remove(name)
                .ok_or_else(|| OAuthError::invalid_request(format!("{name} is required")))
        };
        Ok(ConsentForm {
            request_id: take("request_id")?,
            csrf_token: take("csrf_token")?,
            decision: take("decision")?,
            granted,
        })
    }
}

async fn consent(
    State(issuer): State<Arc<DevIssuer>>,
    headers: HeaderMap,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Response {
    let form = match form {
        Ok(Form(pairs)) => ConsentForm::read(pairs),
        Err(e) => return unreadable(e.status()),
    };
    let form = match form {
        Ok(form) => form,
        Err(e) => return e.into_response(),
    };
    let refused = || {
        OAuthError::invalid_request(
            "this login request is unknown, expired, already answered, or was started in another browser",
        )
        .into_response()
    };
    let pending = {
        let mut store = issuer.store();
        let Some(pending) = store.pending.get(&form.request_id) else {
            return refused();
        };
        // The form must come from the browser the page was shown to: its
        // token in the form and in that browser's cookie. A failed check does
        // not spend the request (another browser cannot cancel it).
        if !same_token(&form.csrf_token, &pending.params.csrf_token)
            || !issuer.csrf.matches(&headers, &pending.params.csrf_token)
        {
            tracing::warn!(client_id = %pending.client_id, "consent refused: CSRF check failed");
            return refused();
        }
        match store.pending.remove(&form.request_id) {
            Some(pending) => pending,
            None => return refused(),
        }
    };
    if pending.expires_at <= now() {
        return OAuthError::invalid_request("this login request expired").into_response();
    }
    let redirect = match form.decision.as_str() {
        "approve" => {
            let mut params = pending.params;
            // A scope that needs the user's explicit grant is kept only when
            // ticked (and the client asked for it).
            params
                .scopes
                .retain(|s| !issuer.config.consent_scopes.contains(s) || form.granted.contains(s));
            issuer.issue_code(&pending.client_id, params)
        }
        "deny" => {
            let mut params = vec![
                ("error", "access_denied"),
                ("error_description", "the user denied the request"),
            ];
            if let Some(state) = pending.params.state.as_deref() {
                params.push(("state", state));
            }
            let iss = issuer.issuer_for(&issuer.audience_for(pending.params.resource.as_deref()));
            redirect_with(&pending.params.redirect_uri, &params, &iss)
        }
        _ => {
            return OAuthError::invalid_request("decision must be approve or deny").into_response();
        }
    };
    framing_blocked(Redirect::to(&redirect).into_response())
}

/// Constant-time equality of two tokens.
fn same_token(a: &str, b: &str) -> bool {
    aws_lc_rs::constant_time::verify_slices_are_equal(a.as_bytes(), b.as_bytes()).is_ok()
}

impl AuthorizationServer for DevIssuer {
    async fn get_client(&self, client_id: &str) -> Option<ClientInfo> {
        self.store().clients.get(client_id).cloned()
    }

    async fn register_client(&self, client: ClientInfo) -> Result<(), OAuthError> {
        let mut store = self.store();
        // A client unused for 30 days may go; past the cap, the oldest goes.
        make_room(&mut store.clients, MAX_CLIENTS, |c| {
            c.client_id_issued_at + 30 * 86_400
        });
        store.clients.insert(client.client_id.clone(), client);
        Ok(())
    }

    async fn authorize(
        &self,
        client: &ClientInfo,
        params: AuthorizationParams,
    ) -> Result<AuthorizeOutcome, OAuthError> {
        if let Some(resource) = &params.resource
            && resource.trim_end_matches('/') != self.config.resource.trim_end_matches('/')
            && self.resource_alias(resource).is_none()
        {
            return Err(OAuthError::new(
                "invalid_target",
                format!("unknown resource {resource:?}"),
            ));
        }
        if self.config.auto_approve {
            // No page, so nobody ticked a scope that needs the user's grant.
            let mut params = params;
            params
                .scopes
                .retain(|s| !self.config.consent_scopes.contains(s));
            return Ok(AuthorizeOutcome::Redirect(
                self.issue_code(&client.client_id, params),
            ));
        }
        let request_id = random_token(24);
        let page = self.consent_page(client, &request_id, &params);
        let mut store = self.store();
        make_room(&mut store.pending, MAX_RECORDS, |p| p.expires_at);
        store.pending.insert(
            request_id,
            Pending {
                client_id: client.client_id.clone(),
                params,
                expires_at: now() + 600,
            },
        );
        Ok(AuthorizeOutcome::Page(page))
    }

    async fn load_authorization_code(
        &self,
        _client: &ClientInfo,
        code: &str,
    ) -> Option<AuthorizationCode> {
        self.store().codes.get(code).cloned()
    }

    async fn exchange_authorization_code(
        &self,
        client: &ClientInfo,
        code: AuthorizationCode,
    ) -> Result<TokenResponse, OAuthError> {
        // Removal is the single-use guarantee: a concurrent second exchange finds nothing.
        if self.store().codes.remove(code.code.secret()).is_none() {
            return Err(OAuthError::invalid_grant("authorization code already used"));
        }
        let audience = self.audience_for(code.resource.as_deref());
        self.tokens(
            &code.subject,
            &client.client_id,
            code.scopes,
            &audience,
            true,
        )
    }

    async fn load_refresh_token(&self, _client: &ClientInfo, token: &str) -> Option<RefreshToken> {
        self.store().refresh.get(token).cloned()
    }

    async fn exchange_refresh_token(
        &self,
        client: &ClientInfo,
        token: RefreshToken,
        scopes: Vec<String>,
    ) -> Result<TokenResponse, OAuthError> {
        if self.store().refresh.remove(token.token.secret()).is_none() {
            return Err(OAuthError::invalid_grant("refresh token already used"));
        }
        let audience = self.audience_for(token.resource.as_deref());
        self.tokens(&token.subject, &client.client_id, scopes, &audience, true)
    }

    async fn exchange_client_credentials(
        &self,
        client: &ClientInfo,
        scopes: Vec<String>,
    ) -> Result<TokenResponse, OAuthError> {
        self.tokens(
            &client.client_id,
            &client.client_id,
            scopes,
            &self.config.resource,
            false,
        )
    }

    async fn load_access_token(&self, token: &str) -> Option<AccessTokenInfo> {
        let (jti, client_id) = Self::jti_of(token)?;
        if self.store().revoked_jtis.contains_key(&jti) {
            return None;
        }
        let payload: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(token.split('.').nth(1)?).ok()?).ok()?;
        Some(AccessTokenInfo {
            client_id,
            subject: payload.get("sub")?.as_str()?.to_owned(),
            scopes: crate::claims::string_list(payload.get("scope")),
            expires_at: payload.get("exp")?.as_u64()?,
        })
    }

    fn client_metadata_resolver(&self) -> Option<&ClientMetadataResolver> {
        Some(&self.client_metadata)
    }

    async fn revoke_token(&self, client: &ClientInfo, token: &str) {
        let mut store = self.store();
        if store
            .refresh
            .get(token)
            .is_some_and(|r| r.client_id == client.client_id)
        {
            store.refresh.remove(token);
            return;
        }
        if let Some((jti, owner)) = Self::jti_of(token)
            && owner == client.client_id
        {
            // The token expires within its lifetime anyway; its id need not
            // be kept longer.
            make_room(&mut store.revoked_jtis, MAX_RECORDS, |exp| *exp);
            store
                .revoked_jtis
                .insert(jti, now() + self.config.access_token_ttl.as_secs());
        }
    }
}

/// The [`AuthProvider`] for a [`DevIssuer`]'s tokens: JWT verification over HTTP,
/// then the issuer's revocation list. Direct mode: the issuer is this server.
pub struct DevIssuerProvider {
    issuer: Arc<DevIssuer>,
    verifier: JwtVerifier,
    metadata: ProviderMetadata,
}

impl std::fmt::Debug for DevIssuerProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevIssuerProvider")
            .field("verifier", &self.verifier)
            .finish()
    }
}

impl TokenVerifier for DevIssuerProvider {
    async fn verify_token(&self, token: &str) -> Result<AuthContext, VerifyError> {
        let ctx = self.verifier.verify_context(token).await?;
        if self.issuer.load_access_token(token).await.is_none() {
            return Err(TokenRejection::Custom("token was revoked".into()).into());
        }
        Ok(ctx)
    }
}

impl AuthProvider for DevIssuerProvider {
    fn metadata(&self) -> &ProviderMetadata {
        &self.metadata
    }
}

#[cfg(test)]
mod bounds {
    use super::*;

    #[test]
    fn make_room_sweeps_expired_entries_then_drops_the_soonest_to_expire() {
        let mut map: HashMap<String, u64> = HashMap::new();
        let later = now() + 3600;
        map.insert("expired".into(), 1);
        for i in 0..4u64 {
            map.insert(format!("live{i}"), later + i);
        }
        make_room(&mut map, 5, |exp| *exp);
        assert!(!map.contains_key("expired"), "expired first");
        assert_eq!(map.len(), 4);
        make_room(&mut map, 3, |exp| *exp);
        assert_eq!(map.len(), 2, "room for one more under the cap");
        assert!(
            map.contains_key("live3") && map.contains_key("live2"),
            "{map:?}"
        );
    }
}
