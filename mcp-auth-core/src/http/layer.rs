//! [`AuthLayer`]: the tower layer that refuses unauthenticated requests and puts
//! the [`AuthContext`] of authenticated ones in the request extensions.

use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::response::Response;
use bytes::Bytes;
use http::header::{CONTENT_ENCODING, CONTENT_LENGTH};
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use tower::{Layer, Service};

use super::bearer::{BearerError, bearer_token};
use super::challenge::{Challenges, Refusal};
use super::resource::{ResourceUrl, loopback_alias, request_host};
use super::scope_policy::ScopePolicy;
use super::tools_list::ToolsFilter;
use crate::error::VerifyError;
use crate::provider::{BoxFuture, DynVerifier};
use crate::user::{AuthContext, InsufficientScope, ScopeHierarchy};

/// Default of [`crate::McpAuthBuilder::max_body_bytes`]: 4 MiB, rmcp's own default.
pub const DEFAULT_MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// Paths never protected by default: the seed's debug and documentation paths.
pub const DEFAULT_PUBLIC_PATHS: [&str; 4] = ["/health", "/docs", "/inspector", "/openmcp.json"];

/// The policy the layer applies; shared by every clone of the layer and service.
pub(crate) struct Policy {
    pub verifier: Arc<dyn DynVerifier>,
    pub challenges: Challenges,
    pub required_scopes: Vec<String>,
    pub public_paths: Vec<String>,
    pub max_token_bytes: usize,
    /// Scopes per MCP operation, checked on authenticated `POST` bodies.
    pub scope_policy: Option<Arc<ScopePolicy>>,
    /// Which scopes imply which; put in every [`AuthContext`].
    pub hierarchy: Option<Arc<ScopeHierarchy>>,
    /// Largest body the scope policy reads.
    pub max_body_bytes: usize,
    /// For a loopback resource: each loopback alias, with its challenges.
    pub loopback: Option<LoopbackAliases>,
}

/// What follows the `Host` a client used when the resource is on a loopback
/// host: the challenges' `resource_metadata`, and the token audience accepted.
pub(crate) struct LoopbackAliases {
    /// The configured resource URL: a token for it is accepted under every alias.
    pub canonical: String,
    /// Every alias of the resource (the canonical one included) and its challenges.
    pub aliases: Vec<(ResourceUrl, Challenges)>,
}

impl LoopbackAliases {
    /// The index in [`Self::aliases`] of the alias `host` names.
    fn position(&self, host: Option<&str>) -> Option<usize> {
        let alias = host.and_then(|h| loopback_alias(&self.canonical, h))?;
        self.aliases.iter().position(|(r, _)| r.as_str() == alias)
    }

    /// Whether `ctx`'s token may be used on a request that named `alias`: a
    /// token whose `aud` names a loopback alias of this resource must name the
    /// configured resource or the alias of this request. An audience that names
    /// no alias (an API identifier, ...) was checked by the verifier alone.
    fn accepts(&self, ctx: &AuthContext, alias: Option<usize>) -> bool {
        let audience = crate::claims::string_list(ctx.claims().get("aud"));
        let names_an_alias = audience
            .iter()
            .any(|a| self.aliases.iter().any(|(r, _)| r.as_str() == a));
        if !names_an_alias {
            return true;
        }
        let this_request = alias.map(|i| self.aliases[i].0.as_str());
        audience
            .iter()
            .any(|a| *a == self.canonical || Some(a.as_str()) == this_request)
    }
}

impl Policy {
    /// Whether the request passes without a token: a CORS preflight, or a GET/HEAD-free
    /// match of a public path (the path itself or below it). Paths with dot segments
    /// or percent-escapes never match, so `/health/../mcp` stays protected.
    fn is_public(&self, method: &Method, headers: &http::HeaderMap, path: &str) -> bool {
        if method == Method::OPTIONS
            && headers.contains_key(http::header::ORIGIN)
            && headers.contains_key(http::header::ACCESS_CONTROL_REQUEST_METHOD)
        {
            return true;
        }
        if path.contains('%') || path.split('/').any(|seg| seg == "." || seg == "..") {
            return false;
        }
        self.public_paths.iter().any(|p| {
            path == p
                || path
                    .strip_prefix(p.as_str())
                    .is_some_and(|rest| rest.starts_with('/'))
        })
    }

    /// The challenges for a request that named the loopback alias at `alias`.
    fn challenges(&self, alias: Option<usize>) -> &Challenges {
        match (&self.loopback, alias) {
            (Some(loopback), Some(i)) => &loopback.aliases[i].1,
            _ => &self.challenges,
        }
    }

    fn refuse_verify_error(&self, challenges: &Challenges, error: &VerifyError) -> Response {
        match error {
            VerifyError::Rejected(reason) => {
                tracing::info!(%reason, "bearer token refused");
                challenges.respond(Refusal::InvalidToken)
            }
            VerifyError::KeysUnavailable {
                source,
                retry_after,
            } => {
                tracing::warn!(error = %source, "cannot verify tokens: signing keys unavailable");
                challenges.respond(Refusal::Unavailable {
                    retry_after_secs: retry_after.as_secs(),
                })
            }
        }
    }

    /// The 403 for `e`: `scope` names everything the operation needs, the
    /// layer's `required_scopes` included, so a client re-authorizing with it
    /// gets a token that passes.
    fn insufficient_scope(
        &self,
        challenges: &Challenges,
        ctx: &AuthContext,
        e: &InsufficientScope,
    ) -> Response {
        let mut all = self.required_scopes.clone();
        for s in &e.required {
            if !all.contains(s) {
                all.push(s.clone());
            }
        }
        challenges.respond(Refusal::InsufficientScope(ctx.insufficient(&all)))
    }

    /// Reads the body of `req` (bounded) and checks it against the scope policy.
    /// The body is buffered once and handed on as the same bytes.
    async fn check_body<B>(
        &self,
        challenges: &Challenges,
        scopes: &ScopePolicy,
        ctx: &AuthContext,
        req: Request<B>,
    ) -> Result<(Request<Body>, Vec<serde_json::Value>), Response>
    where
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<axum::BoxError>,
    {
        let user = &ctx.user().user_id;
        if let Some(encoding) = req.headers().get(CONTENT_ENCODING)
            && !encoding.as_bytes().eq_ignore_ascii_case(b"identity")
        {
            tracing::info!(%user, ?encoding, "compressed body: the scope policy cannot read it");
            return Err(challenges.respond(Refusal::UnsupportedEncoding));
        }
        let declared = req
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|len| len > self.max_body_bytes as u64) {
            tracing::info!(%user, ?declared, max = self.max_body_bytes, "request body over the limit");
            return Err(challenges.respond(Refusal::PayloadTooLarge));
        }
        let (parts, body) = req.into_parts();
        let bytes = match Limited::new(body, self.max_body_bytes).collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(error) if error.downcast_ref::<LengthLimitError>().is_some() => {
                tracing::info!(%user, max = self.max_body_bytes, "request body over the limit");
                return Err(challenges.respond(Refusal::PayloadTooLarge));
            }
            Err(error) => {
                tracing::info!(%user, %error, "cannot read the request body");
                return Err(challenges.respond(Refusal::BadBody("The request body cannot be read")));
            }
        };
        let tools_list_ids = match scopes.inspect(&bytes) {
            Ok(None) => Vec::new(),
            Ok(Some(inspection)) => {
                let mut all = self.required_scopes.clone();
                for s in inspection.needed {
                    if !all.contains(&s) {
                        all.push(s);
                    }
                }
                if !ctx.has_all_scopes(&all) {
                    let e = ctx.insufficient(&all);
                    tracing::info!(%user, error = %e, "insufficient scope for the MCP operation");
                    return Err(challenges.respond(Refusal::InsufficientScope(e)));
                }
                inspection.tools_list_ids
            }
            Err(error) => {
                tracing::info!(%user, %error, "request refused");
                return Err(
                    challenges.respond(Refusal::BadBody("The JSON-RPC request cannot be read"))
                );
            }
        };
        Ok((
            Request::from_parts(parts, Body::from(bytes)),
            tools_list_ids,
        ))
    }
}

/// A tower [`Layer`] that requires a valid bearer token on every request it wraps.
///
/// Made by [`crate::McpAuth::layer`]. Requests without a token get 401 with a
/// `WWW-Authenticate` challenge pointing at the protected-resource metadata; bad
/// tokens get 401 `invalid_token`; tokens without the required scopes get 403
/// `insufficient_scope`; a malformed request (two `Authorization` headers, a token
/// in the query string) gets 400; when the
/// identity provider's keys cannot be fetched the answer is 503 with
/// `Retry-After`. CORS preflights and the public paths pass untouched.
///
/// With a [`ScopePolicy`], the body of every authenticated
/// `POST` is read (bounded: over [`crate::McpAuthBuilder::max_body_bytes`] it is 413,
/// a compressed body is 415) and the JSON-RPC operations in it are checked: a
/// missing scope is 403 `insufficient_scope` naming every scope the operation
/// needs. The same bytes then go on to the service. A 403 a handler returns
/// with [`InsufficientScope`] gets the layer's challenge (`resource_metadata`
/// and the layer's required scopes added).
#[derive(Clone)]
pub struct AuthLayer {
    policy: Arc<Policy>,
}

impl AuthLayer {
    pub(crate) fn new(policy: Arc<Policy>) -> Self {
        AuthLayer { policy }
    }
}

impl std::fmt::Debug for AuthLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthLayer")
            .field("required_scopes", &self.policy.required_scopes)
            .field("public_paths", &self.policy.public_paths)
            .finish()
    }
}

impl<S> Layer<S> for AuthLayer {
    type Service = AuthService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        AuthService {
            inner,
            policy: Arc::clone(&self.policy),
        }
    }
}

/// The service made by [`AuthLayer`].
#[derive(Clone)]
pub struct AuthService<S> {
    inner: S,
    policy: Arc<Policy>,
}

impl<S> std::fmt::Debug for AuthService<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuthService")
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for AuthService<S>
where
    S: Service<Request<Body>, Response = http::Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    ReqBody: http_body::Body<Data = Bytes> + Send + 'static,
    ReqBody::Error: Into<axum::BoxError>,
    ResBody: http_body::Body<Data = bytes::Bytes> + Send + 'static,
    ResBody::Error: Into<axum::BoxError>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        // Take the service that was driven to readiness; leave a fresh clone behind.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let policy = Arc::clone(&self.policy);
        if policy.is_public(req.method(), req.headers(), req.uri().path()) {
            return Box::pin(
                async move { Ok(inner.call(req.map(Body::new)).await?.map(Body::new)) },
            );
        }
        let alias = policy
            .loopback
            .as_ref()
            .and_then(|loopback| loopback.position(request_host(req.headers(), req.uri())));
        let token = match bearer_token(req.headers(), req.uri().query(), policy.max_token_bytes) {
            Ok(token) => token.to_owned(),
            Err(error) => {
                let resp = match error {
                    BearerError::Missing => policy.challenges(alias).respond(Refusal::MissingToken),
                    BearerError::Malformed(reason) => {
                        tracing::info!(reason, "malformed authorization");
                        policy
                            .challenges(alias)
                            .respond(Refusal::InvalidRequest(reason))
                    }
                    BearerError::InvalidToken(reason) => {
                        tracing::info!(reason, "malformed bearer token");
                        policy.challenges(alias).respond(Refusal::InvalidToken)
                    }
                    BearerError::TooLarge(len) => {
                        tracing::info!(
                            len,
                            max = policy.max_token_bytes,
                            "bearer token over the size limit"
                        );
                        policy.challenges(alias).respond(Refusal::InvalidToken)
                    }
                };
                return Box::pin(std::future::ready(Ok(resp)));
            }
        };
        Box::pin(async move {
            let mut ctx: AuthContext = match policy.verifier.verify_dyn(&token).await {
                Ok(ctx) => ctx,
                Err(error) => {
                    return Ok(policy.refuse_verify_error(policy.challenges(alias), &error));
                }
            };
            if let Some(loopback) = &policy.loopback
                && !loopback.accepts(&ctx, alias)
            {
                tracing::info!(
                    user = %ctx.user().user_id,
                    "bearer token refused: its audience is another loopback alias of this resource"
                );
                return Ok(policy.challenges(alias).respond(Refusal::InvalidToken));
            }
            if let Some(hierarchy) = &policy.hierarchy {
                ctx = ctx.with_scope_hierarchy(Arc::clone(hierarchy));
            }
            // No configured scopes: all of none are granted.
            if let Err(e) = ctx.require_all_scopes(&policy.required_scopes) {
                tracing::info!(user = %ctx.user().user_id, error = %e, "insufficient scope");
                return Ok(policy
                    .challenges(alias)
                    .respond(Refusal::InsufficientScope(e)));
            }
            let (mut req, tools_list_ids) = match &policy.scope_policy {
                Some(scopes) if req.method() == Method::POST => {
                    match policy
                        .check_body(policy.challenges(alias), scopes, &ctx, req)
                        .await
                    {
                        Ok(checked) => checked,
                        Err(refusal) => return Ok(refusal),
                    }
                }
                _ => (req.map(Body::new), Vec::new()),
            };
            req.extensions_mut().insert(ctx.clone());
            let mut resp = inner.call(req).await?.map(Body::new);
            if resp.status() == StatusCode::FORBIDDEN
                && let Some(e) = resp.extensions_mut().remove::<InsufficientScope>()
            {
                return Ok(policy.insufficient_scope(policy.challenges(alias), &ctx, &e));
            }
            match &policy.scope_policy {
                Some(scopes) if !tools_list_ids.is_empty() => {
                    let filter = ToolsFilter {
                        policy: Arc::clone(scopes),
                        ctx,
                        ids: tools_list_ids,
                    };
                    Ok(filter.apply(resp).await)
                }
                _ => Ok(resp),
            }
        })
    }
}
