//! Bounded HTTP GET of JSON documents: timeouts, a size cap, and `Cache-Control`.

use std::time::Duration;

use http::header::CACHE_CONTROL;

use crate::env::{check_secure_url, is_loopback};
use crate::error::{ConfigError, FetchError};

/// Most redirects followed by one fetch.
const MAX_REDIRECTS: usize = 3;

/// Follows at most [`MAX_REDIRECTS`] redirects, and only those
/// [`redirect_refusal`] accepts.
fn redirect_policy() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        if attempt.previous().len() > MAX_REDIRECTS {
            return attempt.error(format!("more than {MAX_REDIRECTS} redirects"));
        }
        match redirect_refusal(attempt.previous(), attempt.url()) {
            Some(reason) => attempt.error(reason),
            None => attempt.follow(),
        }
    })
}

/// Why a redirect to `next` must not be followed, after the chain `previous`
/// (the original URL first): a redirect goes to https, or to plain http only when
/// the target is a loopback host and no URL of the chain was https. So keys and
/// metadata fetched over https never continue over plain http.
fn redirect_refusal(previous: &[url::Url], next: &url::Url) -> Option<String> {
    match next.scheme() {
        "https" => None,
        "http" if previous.iter().any(|u| u.scheme() == "https") => Some(format!(
            "refusing a redirect from https to plain http ({next})"
        )),
        "http" if is_loopback(next) => None,
        "http" => Some(format!(
            "refusing a redirect to plain http on a non-loopback host ({next})"
        )),
        other => Some(format!(
            "refusing a redirect to the scheme {other:?} ({next})"
        )),
    }
}

/// Limits applied to every fetch of a remote document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FetchLimits {
    /// TCP connect timeout. Default 5 s.
    pub connect_timeout: Duration,
    /// Whole-request timeout (connect, send, read). Default 10 s.
    pub request_timeout: Duration,
    /// Largest body read; anything longer is refused. Default 256 KiB.
    pub max_body_bytes: usize,
}

impl Default for FetchLimits {
    fn default() -> Self {
        FetchLimits {
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(10),
            max_body_bytes: 256 * 1024,
        }
    }
}

/// A fetched body with what its `Cache-Control` said.
#[derive(Debug)]
pub(crate) struct Fetched {
    pub body: Vec<u8>,
    /// `max-age` in seconds; `Some(0)` for `no-cache`/`no-store`.
    pub max_age: Option<u64>,
}

/// An HTTP client with limits; cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct Fetcher {
    client: reqwest::Client,
    limits: FetchLimits,
}

impl Fetcher {
    pub fn new(limits: FetchLimits) -> Result<Self, ConfigError> {
        let client = reqwest::Client::builder()
            .connect_timeout(limits.connect_timeout)
            .timeout(limits.request_timeout)
            .redirect(redirect_policy())
            .user_agent(concat!("mcp-auth/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ConfigError::invalid("HTTP client", e.to_string()))?;
        Ok(Fetcher { client, limits })
    }

    /// GETs `url`, refusing non-https URLs (plain http only for loopback hosts),
    /// redirects to plain http from https, non-2xx answers and bodies over the cap.
    pub async fn get(&self, url: &str) -> Result<Fetched, FetchError> {
        if let Err(reason) = check_secure_url(url) {
            return Err(FetchError::InsecureUrl {
                url: url.to_owned(),
                reason,
            });
        }
        let http_err = |source| FetchError::Http {
            url: url.to_owned(),
            source,
        };
        let mut resp = self
            .client
            .get(url)
            .header(http::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(http_err)?;
        if !resp.status().is_success() {
            return Err(FetchError::Status {
                url: url.to_owned(),
                status: resp.status().as_u16(),
            });
        }
        let limit = self.limits.max_body_bytes;
        let too_large = || FetchError::TooLarge {
            url: url.to_owned(),
            limit,
        };
        if resp.content_length().is_some_and(|len| len > limit as u64) {
            return Err(too_large());
        }
        let max_age = resp
            .headers()
            .get(CACHE_CONTROL)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_max_age);
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(http_err)? {
            if body.len() + chunk.len() > limit {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Fetched { body, max_age })
    }

    /// GETs `url` and parses it as a JSON object.
    pub async fn get_json_object(
        &self,
        url: &str,
        what: &'static str,
    ) -> Result<(serde_json::Map<String, serde_json::Value>, Option<u64>), FetchError> {
        let fetched = self.get(url).await?;
        let invalid = |detail: String| FetchError::InvalidDocument {
            url: url.to_owned(),
            what,
            detail,
        };
        match serde_json::from_slice(&fetched.body) {
            Ok(serde_json::Value::Object(map)) => Ok((map, fetched.max_age)),
            Ok(_) => Err(invalid("not a JSON object".into())),
            Err(e) => Err(invalid(e.to_string())),
        }
    }
}

/// Reads `max-age` from a `Cache-Control` value; `no-store`/`no-cache` mean 0.
pub(crate) fn parse_max_age(value: &str) -> Option<u64> {
    let mut max_age = None;
    for directive in value.split(',').map(str::trim) {
        let lower = directive.to_ascii_lowercase();
        if lower == "no-store" || lower == "no-cache" {
            return Some(0);
        }
        if let Some(v) = lower.strip_prefix("max-age=") {
            max_age = v.trim_matches('"').parse().ok();
        }
    }
    max_age
}

#[cfg(test)]
mod tests {
    use super::{parse_max_age, redirect_refusal};

    fn url(s: &str) -> url::Url {
        url::Url::parse(s).expect("test URL")
    }

    #[test]
    fn no_redirect_from_https_to_http() {
        let https = [url("https://idp.example.com/jwks")];
        assert!(redirect_refusal(&https, &url("https://cdn.example.com/jwks")).is_none());
        assert!(redirect_refusal(&https, &url("http://cdn.example.com/jwks")).is_some());
        // Not even to a loopback host: the chain started on https.
        assert!(redirect_refusal(&https, &url("http://127.0.0.1/jwks")).is_some());
        let local = [url("http://127.0.0.1:8080/jwks")];
        assert!(redirect_refusal(&local, &url("http://localhost:8081/jwks")).is_none());
        assert!(redirect_refusal(&local, &url("http://idp.example.com/jwks")).is_some());
        assert!(redirect_refusal(&local, &url("file:///etc/passwd")).is_some());
    }

    #[test]
    fn cache_control_max_age() {
        assert_eq!(parse_max_age("public, max-age=300"), Some(300));
        assert_eq!(parse_max_age("max-age=\"60\""), Some(60));
        assert_eq!(parse_max_age("no-store"), Some(0));
        assert_eq!(parse_max_age("public"), None);
        assert_eq!(parse_max_age("max-age=abc"), None);
    }
}
