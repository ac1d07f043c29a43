//! Discovery documents: RFC 9728 protected-resource metadata, and the RFC 8414 /
//! OpenID authorization-server metadata (the upstream's in direct mode, ours in
//! proxy mode).

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http::{Method, StatusCode};
use serde_json::{Value, json};
use tower_http::cors::{Any, CorsLayer};

use super::resource::{ResourceUrl, request_host};
use crate::oidc::IssuerMetadata;
use crate::provider::{Mode, ProviderMetadata};

/// Everything the discovery routes need, fixed at start-up.
pub(crate) struct Discovery {
    pub resource: ResourceUrl,
    pub resource_name: Option<String>,
    pub metadata: ProviderMetadata,
    /// The upstream's metadata document, fetched on first use (direct mode).
    pub upstream: Arc<IssuerMetadata>,
}

impl Discovery {
    /// Whether the issuer is hosted by this very server (the dev issuer).
    fn co_hosted(&self) -> bool {
        self.metadata.mode == Mode::Direct
            && self.metadata.issuer.trim_end_matches('/') == self.resource.base()
    }

    /// The `authorization_servers` entry for a request to `resource` (the
    /// configured resource or one of its loopback aliases): the upstream
    /// issuer, an issuer this server hosts under the same alias, or, in proxy
    /// mode, this server under its configured name (the flow toward the
    /// upstream is bound to a cookie of one host, and its callback URL is
    /// registered upstream under that name).
    fn authorization_server(&self, resource: &ResourceUrl) -> String {
        match self.metadata.mode {
            Mode::Direct if self.co_hosted() => resource.base().to_owned(),
            Mode::Direct => self.metadata.issuer.clone(),
            Mode::Proxy => self.resource.base().to_owned(),
        }
    }

    /// `scopes_supported`, unless no scope is configured: an empty list would
    /// tell clients to ask for none, which strict providers refuse.
    fn add_scopes(&self, doc: &mut Value) {
        if !self.metadata.scopes_supported.is_empty() {
            doc["scopes_supported"] = json!(self.metadata.scopes_supported);
        }
    }

    /// The protected-resource metadata for a request naming `host`: for a
    /// loopback resource, `resource` is the loopback alias the client used
    /// (clients check it against the URL they connected to); otherwise the
    /// configured resource, whatever the `Host` header says.
    fn protected_resource(&self, host: Option<&str>) -> Value {
        let aliased = host.and_then(|h| self.resource.loopback_alias(h));
        let resource = aliased.as_ref().unwrap_or(&self.resource);
        let mut doc = json!({
            "resource": resource.as_str(),
            "authorization_servers": [self.authorization_server(resource)],
            "bearer_methods_supported": ["header"],
        });
        // `offline_access` asks the authorization server for a refresh token; it
        // is no scope of this resource, and MCP says it SHOULD NOT be listed here
        // (the authorization-server metadata keeps it).
        let scopes: Vec<&String> = self
            .metadata
            .scopes_supported
            .iter()
            .filter(|s| *s != "offline_access")
            .collect();
        if !scopes.is_empty() {
            doc["scopes_supported"] = json!(scopes);
        }
        if let Some(name) = &self.resource_name {
            doc["resource_name"] = json!(name);
        }
        doc
    }

    /// This server's own authorization-server metadata (proxy mode).
    fn own_authorization_server(&self) -> Value {
        let base = self.resource.base();
        let mut doc = json!({
            "issuer": base,
            "authorization_endpoint": format!("{base}/authorize"),
            "token_endpoint": format!("{base}/token"),
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": self.metadata.grant_types_supported,
            "code_challenge_methods_supported": ["S256"],
            // Every authorization response of the relay and the broker carries
            // our `iss`; clients that did not register here are refused.
            "authorization_response_iss_parameter_supported": true,
            "token_endpoint_auth_methods_supported": ["none", "client_secret_post", "client_secret_basic"],
        });
        self.add_scopes(&mut doc);
        // Registration is forwarded upstream, or answered here by the broker.
        let strategy = crate::proxy::strategy(&self.metadata);
        if strategy.is_some() {
            doc["registration_endpoint"] = json!(format!("{base}/register"));
            // Both strategies resolve URL client ids (CIMD).
            doc["client_id_metadata_document_supported"] = json!(true);
        }
        if strategy == Some(crate::proxy::Strategy::Broker) {
            // The broker registers public clients only and serves the code and
            // refresh grants: advertise exactly that.
            doc["token_endpoint_auth_methods_supported"] = json!(["none"]);
            let grants: Vec<&String> = self
                .metadata
                .grant_types_supported
                .iter()
                .filter(|g| *g == "authorization_code" || *g == "refresh_token")
                .collect();
            doc["grant_types_supported"] = json!(grants);
        }
        doc
    }
}

async fn protected_resource(
    State(d): State<Arc<Discovery>>,
    headers: http::HeaderMap,
    uri: http::Uri,
) -> Json<Value> {
    Json(d.protected_resource(request_host(&headers, &uri)))
}

async fn authorization_server(State(d): State<Arc<Discovery>>) -> Response {
    match d.metadata.mode {
        Mode::Proxy => Json(d.own_authorization_server()).into_response(),
        Mode::Direct => match d.upstream.get().await {
            Ok(doc) => Json(Value::Object((*doc).clone())).into_response(),
            Err(error) => {
                tracing::warn!(%error, "upstream authorization-server metadata unavailable");
                (
                    StatusCode::BAD_GATEWAY,
                    Json(json!({
                        "error": "upstream_unavailable",
                        "error_description": "The authorization server's metadata cannot be fetched; retry later"
                    })),
                )
                    .into_response()
            }
        },
    }
}

/// The discovery routes, with permissive CORS so browser-based clients can read them.
pub(crate) fn routes<S: Clone + Send + Sync + 'static>(discovery: Arc<Discovery>) -> Router<S> {
    let prm_path = discovery.resource.metadata_path();
    let mut router = Router::new().route(
        "/.well-known/oauth-protected-resource",
        get(protected_resource),
    );
    if prm_path != "/.well-known/oauth-protected-resource" {
        router = router.route(&prm_path, get(protected_resource));
    }
    // An issuer hosted by this very server (the dev issuer) serves its own metadata.
    if !discovery.co_hosted() {
        router = router
            .route(
                "/.well-known/oauth-authorization-server",
                get(authorization_server),
            )
            .route(
                "/.well-known/openid-configuration",
                get(authorization_server),
            );
    }
    router
        .layer(
            CorsLayer::new()
                .allow_origin(Any)
                .allow_methods([Method::GET, Method::OPTIONS])
                .allow_headers(Any),
        )
        .with_state(discovery)
}
