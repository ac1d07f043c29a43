//! A web server on 127.0.0.1 hosting Client ID Metadata Documents (or any
//! body) at paths the test chooses, with the status, `Cache-Control` and delay
//! it chooses, counting the requests per path.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// What one path answers.
#[derive(Debug, Clone)]
pub struct Served {
    /// The status. Default 200.
    pub status: u16,
    /// The body.
    pub body: Vec<u8>,
    /// A `Cache-Control` header, if any.
    pub cache_control: Option<String>,
    /// How long to wait before answering.
    pub delay: Duration,
}

impl Served {
    /// A 200 JSON answer without `Cache-Control`.
    pub fn json(doc: &Value) -> Self {
        Served {
            status: 200,
            body: serde_json::to_vec(doc).expect("json"),
            cache_control: None,
            delay: Duration::ZERO,
        }
    }

    /// A 200 answer with `body` as is.
    pub fn raw(body: impl Into<Vec<u8>>) -> Self {
        Served {
            body: body.into(),
            ..Served::json(&Value::Null)
        }
    }
}

#[derive(Default)]
struct Shared {
    served: HashMap<String, Served>,
    hits: HashMap<String, usize>,
}

/// The document server. Unknown paths answer 404 (and are counted too).
#[derive(Clone)]
pub struct DocumentServer {
    base: String,
    shared: Arc<Mutex<Shared>>,
}

/// A Client ID Metadata Document for `client_id` with `redirect_uris`, named
/// "Test CIMD App", public (`token_endpoint_auth_method: none`).
pub fn client_metadata_document(client_id: &str, redirect_uris: &[&str]) -> Value {
    json!({
        "client_id": client_id,
        "client_name": "Test CIMD App",
        "redirect_uris": redirect_uris,
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
    })
}

impl DocumentServer {
    /// Starts a server on a free port of 127.0.0.1.
    pub async fn start() -> Self {
        let shared = Arc::new(Mutex::new(Shared::default()));
        let app = Router::new()
            .fallback(answer)
            .with_state(Arc::clone(&shared));
        let (_, base) = crate::serve(app).await;
        DocumentServer { base, shared }
    }

    fn lock(&self) -> MutexGuard<'_, Shared> {
        self.shared
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The URL of `path` (which starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Serves `served` at `path` from now on.
    pub fn serve(&self, path: &str, served: Served) {
        self.lock().served.insert(path.to_owned(), served);
    }

    /// Serves a valid client metadata document at `path` whose client id is
    /// the URL of `path`, with `redirect_uris`; returns that URL.
    pub fn host_client(&self, path: &str, redirect_uris: &[&str]) -> String {
        let client_id = self.url(path);
        self.serve(
            path,
            Served::json(&client_metadata_document(&client_id, redirect_uris)),
        );
        client_id
    }

    /// How many requests `path` received.
    pub fn hits(&self, path: &str) -> usize {
        self.lock().hits.get(path).copied().unwrap_or(0)
    }
}

async fn answer(State(shared): State<Arc<Mutex<Shared>>>, request: Request) -> Response {
    let path = request.uri().path().to_owned();
    let served = {
        let mut s = shared
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *s.hits.entry(path.clone()).or_default() += 1;
        s.served.get(&path).cloned()
    };
    let Some(served) = served else {
        return StatusCode::NOT_FOUND.into_response();
    };
    tokio::time::sleep(served.delay).await;
    let status = StatusCode::from_u16(served.status).expect("status");
    let mut resp = (status, served.body).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Some(cc) = served.cache_control {
        resp.headers_mut().insert(
            header::CACHE_CONTROL,
            HeaderValue::from_str(&cc).expect("header"),
        );
    }
    resp
}
