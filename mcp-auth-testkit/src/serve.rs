//! Serving the app under test on 127.0.0.1, and talking to it.

use std::net::SocketAddr;

use axum::Router;
use axum::routing::MethodRouter;
use mcp_auth_core::{AuthProvider, McpAuth};
use serde_json::Value;

/// Serves the app `build` makes of its own base URL (`http://127.0.0.1:PORT`) on
/// a free port; the address and the base URL.
pub async fn serve_with(build: impl FnOnce(&str) -> Router) -> (SocketAddr, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let base = format!("http://{addr}");
    let app = build(&base);
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (addr, base)
}

/// Serves `app` on a free port; the address and the base URL.
pub async fn serve(app: Router) -> (SocketAddr, String) {
    serve_with(|_| app).await
}

/// An MCP server on 127.0.0.1 whose resource is `/mcp`, as a test built it.
pub struct McpServer {
    /// Where it listens.
    pub addr: SocketAddr,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The resource URL, `http://127.0.0.1:PORT/mcp`.
    pub resource: String,
}

impl McpServer {
    /// Serves the app `build` makes of the resource URL (typically `/mcp` behind
    /// an `McpAuth` layer, with its discovery routes).
    pub async fn start(build: impl FnOnce(&str) -> Router) -> McpServer {
        let mut resource = String::new();
        let (addr, base) = serve_with(|base| {
            resource = format!("{base}/mcp");
            build(&resource)
        })
        .await;
        McpServer {
            addr,
            base,
            resource,
        }
    }

    /// Serves `/mcp`, answered by `mcp`, protected by `provider`, with the
    /// discovery routes: the way a user mounts `McpAuth`.
    pub async fn protected(provider: impl AuthProvider, mcp: MethodRouter) -> McpServer {
        McpServer::start(|resource| {
            let auth = McpAuth::builder(provider)
                .resource_url(resource)
                .build()
                .expect("resource URL");
            Router::new()
                .route("/mcp", mcp)
                .layer(auth.layer())
                .merge(auth.routes())
        })
        .await
    }

    /// The base URL + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// `POST /mcp` with `token` as bearer; the response.
    pub async fn call(&self, token: &str) -> reqwest::Response {
        call_mcp(&self.base, token).await
    }

    /// `POST /mcp` with `token`, which must be accepted; the JSON the handler answered.
    pub async fn whoami(&self, token: &str) -> Value {
        let resp = self.call(token).await;
        assert_eq!(resp.status(), 200, "token refused");
        resp.json().await.expect("JSON")
    }

    /// `GET path`, which must answer 200, as JSON.
    pub async fn get_json(&self, path: &str) -> Value {
        let resp = reqwest::get(self.url(path)).await.expect("GET");
        assert_eq!(resp.status(), 200, "GET {path}");
        resp.json().await.expect("JSON")
    }
}

/// The `WWW-Authenticate` header of a response, or "".
pub fn challenge(resp: &reqwest::Response) -> String {
    resp.headers()
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// `POST {base}/mcp` with `token` as bearer; the response.
pub async fn call_mcp(base: &str, token: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{base}/mcp"))
        .bearer_auth(token)
        .send()
        .await
        .expect("POST /mcp")
}

/// `POST {base}/register` with the client `metadata` (dynamic client
/// registration); the response, not followed.
pub async fn post_register(base: &str, metadata: &Value) -> reqwest::Response {
    no_redirects()
        .post(format!("{base}/register"))
        .json(metadata)
        .send()
        .await
        .expect("POST /register")
}

/// An HTTP client that does not follow redirects, to look at each one.
pub fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
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
