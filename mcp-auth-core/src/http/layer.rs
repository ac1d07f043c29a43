//! [`AuthLayer`]: the tower layer that refuses unauthenticated requests and puts
//! the [`AuthContext`] of authenticated ones in the request extensions.

use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::response::Response;
use http::{Method, Request};
use tower::{Layer, Service};

use super::bearer::{BearerError, bearer_token};
use super::challenge::{Challenges, Refusal};
use crate::error::VerifyError;
use crate::provider::{BoxFuture, DynVerifier};
use crate::user::AuthContext;

/// Paths never protected by default: the seed's debug and documentation paths.
pub const DEFAULT_PUBLIC_PATHS: [&str; 4] = ["/health", "/docs", "/inspector", "/openmcp.json"];

/// The policy the layer applies; shared by every clone of the layer and service.
pub(crate) struct Policy {
    pub verifier: Arc<dyn DynVerifier>,
    pub challenges: Challenges,
    pub required_scopes: Vec<String>,
    pub public_paths: Vec<String>,
    pub max_token_bytes: usize,
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

    fn refuse_verify_error(&self, error: &VerifyError) -> Response {
        match error {
            VerifyError::Rejected(reason) => {
                tracing::info!(%reason, "bearer token refused");
                self.challenges.respond(Refusal::InvalidToken)
            }
            VerifyError::KeysUnavailable {
                source,
                retry_after,
            } => {
                tracing::warn!(error = %source, "cannot verify tokens: signing keys unavailable");
                self.challenges.respond(Refusal::Unavailable {
                    retry_after_secs: retry_after.as_secs(),
                })
            }
        }
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
    S: Service<Request<ReqBody>, Response = http::Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    ReqBody: Send + 'static,
    ResBody: http_body::Body<Data = bytes::Bytes> + Send + 'static,
    ResBody::Error: Into<axum::BoxError>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<ReqBody>) -> Self::Future {
        // Take the service that was driven to readiness; leave a fresh clone behind.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let policy = Arc::clone(&self.policy);
        if policy.is_public(req.method(), req.headers(), req.uri().path()) {
            return Box::pin(async move { Ok(inner.call(req).await?.map(Body::new)) });
        }
        let token = match bearer_token(req.headers(), req.uri().query(), policy.max_token_bytes) {
            Ok(token) => token.to_owned(),
            Err(error) => {
                let resp = match error {
                    BearerError::Missing => policy.challenges.respond(Refusal::MissingToken),
                    BearerError::Malformed(reason) => {
                        tracing::info!(reason, "malformed authorization");
                        policy.challenges.respond(Refusal::InvalidRequest(reason))
                    }
                    BearerError::InvalidToken(reason) => {
                        tracing::info!(reason, "malformed bearer token");
                        policy.challenges.respond(Refusal::InvalidToken)
                    }
                    BearerError::TooLarge(len) => {
                        tracing::info!(
                            len,
                            max = policy.max_token_bytes,
                            "bearer token over the size limit"
                        );
                        policy.challenges.respond(Refusal::InvalidToken)
                    }
                };
                return Box::pin(std::future::ready(Ok(resp)));
            }
        };
        Box::pin(async move {
            let ctx: AuthContext = match policy.verifier.verify_dyn(&token).await {
                Ok(ctx) => ctx,
                Err(error) => return Ok(policy.refuse_verify_error(&error)),
            };
            // No configured scopes: all of none are granted.
            if let Err(e) = ctx.require_all_scopes(&policy.required_scopes) {
                tracing::info!(user = %ctx.user().user_id, error = %e, "insufficient scope");
                return Ok(policy.challenges.respond(Refusal::InsufficientScope(e)));
            }
            req.extensions_mut().insert(ctx);
            Ok(inner.call(req).await?.map(Body::new))
        })
    }
}
