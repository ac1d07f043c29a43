//! The cookies proxy mode sets, all `HttpOnly`, `SameSite=Lax`, `Path=/`, and
//! on https `Secure` with the `__Host-` prefix (on loopback http, where
//! browsers refuse both, the same names without the prefix):
//!
//! - the *binding* cookie: a random value naming this browser. Every flow this
//!   server starts toward the upstream stores a MAC of it, and the callback
//!   completes the flow only for the browser holding it. A link to the upstream
//!   that an attacker started in their own browser and sends to a victim is
//!   therefore refused at our callback, and the victim's code is never redeemed.
//! - the *consent* cookie (broker): the clients this browser approved, each with
//!   an expiry, MACed.
//! - the *CSRF* cookie (broker): a random token the consent form repeats.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::header::COOKIE;
use http::{HeaderMap, HeaderValue};
use serde::{Deserialize, Serialize};

use super::ProxyError;
use super::clock::now;
use super::state_key::{StateKey, hashed_id, same};
use crate::oauth::client_metadata_document::is_client_id_url;
use crate::oauth::random::random_token;

/// How long a consent is remembered.
const CONSENT_MAX_AGE: u64 = 30 * 86_400;
/// How long a binding cookie lives (renewed with every flow).
const BINDING_MAX_AGE: u64 = 86_400;
/// How many approved clients one cookie remembers (the most recent ones).
const MAX_REMEMBERED: usize = 16;

/// One approved client, for the scopes the user saw.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Approval {
    /// Client id.
    c: String,
    /// Expiry, seconds since the epoch.
    e: u64,
    /// The scopes approved.
    #[serde(default)]
    s: Vec<String>,
}

/// Reads and writes proxy mode's cookies.
pub(crate) struct Cookies {
    secure: bool,
    binding_name: &'static str,
    consent_name: &'static str,
    csrf_name: &'static str,
}

impl Cookies {
    /// Cookies for a server at `base`: `__Host-` names and `Secure` on https.
    pub(crate) fn new(base: &str) -> Self {
        let secure = base.starts_with("https://");
        let pick = |secure_name, plain_name| if secure { secure_name } else { plain_name };
        Cookies {
            secure,
            binding_name: pick("__Host-mcp-auth-binding", "mcp-auth-binding"),
            consent_name: pick("__Host-mcp-auth-consent", "mcp-auth-consent"),
            csrf_name: pick("__Host-mcp-auth-csrf", "mcp-auth-csrf"),
        }
    }

    /// This browser's binding for a new flow: the MAC to store with the flow,
    /// and the `Set-Cookie` to send with the redirect upstream (always sent, so
    /// that its lifetime is renewed).
    pub(crate) fn bind(
        &self,
        key: &StateKey,
        headers: &HeaderMap,
    ) -> Result<(String, HeaderValue), ProxyError> {
        let value = cookie_values(headers, self.binding_name)
            .find(|v| is_token_shaped(v))
            .map_or_else(|| random_token(32), str::to_owned);
        let cookie = self.set_cookie(self.binding_name, &value, Some(BINDING_MAX_AGE))?;
        Ok((key.mac("browser binding", &value), cookie))
    }

    /// Whether this browser holds the binding whose MAC a flow stored.
    pub(crate) fn is_bound(&self, key: &StateKey, headers: &HeaderMap, stored_mac: &str) -> bool {
        cookie_values(headers, self.binding_name)
            .any(|v| key.verify("browser binding", v, stored_mac))
    }

    /// Whether this browser approved `client_id` for at least `scopes`, and the
    /// approval has not expired. A request for a scope the user did not see
    /// asks again.
    pub(crate) fn approves(
        &self,
        key: &StateKey,
        headers: &HeaderMap,
        client_id: &str,
        scopes: &[String],
    ) -> bool {
        let client = approval_key(client_id);
        self.approvals(key, headers)
            .iter()
            .any(|a| a.c == client && scopes.iter().all(|s| a.s.contains(s)))
    }

    /// The `Set-Cookie` value that records this browser's approval of
    /// `client_id` for `scopes` (with the scopes it approved before).
    pub(crate) fn remember(
        &self,
        key: &StateKey,
        headers: &HeaderMap,
        client_id: &str,
        scopes: &[String],
    ) -> Result<HeaderValue, ProxyError> {
        let client_id = approval_key(client_id);
        let client_id = client_id.as_str();
        let mut approved: Vec<String> = self
            .approvals(key, headers)
            .into_iter()
            .filter(|a| a.c == client_id)
            .flat_map(|a| a.s)
            .collect();
        approved.extend(scopes.iter().cloned());
        approved.sort_unstable();
        approved.dedup();
        let mut approvals: Vec<Approval> = self
            .approvals(key, headers)
            .into_iter()
            .filter(|a| a.c != client_id)
            .collect();
        approvals.push(Approval {
            c: client_id.to_owned(),
            e: now() + CONSENT_MAX_AGE,
            s: approved,
        });
        let excess = approvals.len().saturating_sub(MAX_REMEMBERED);
        approvals.drain(..excess);
        let payload = serde_json::to_vec(&approvals).map_err(ProxyError::Corrupt)?;
        let payload = URL_SAFE_NO_PAD.encode(payload);
        let tag = key.mac("consent cookie", &payload);
        self.set_cookie(
            self.consent_name,
            &format!("{payload}.{tag}"),
            Some(CONSENT_MAX_AGE),
        )
    }

    /// This browser's CSRF token, and the `Set-Cookie` value to send when it
    /// had none yet. One token per browser, so two consent tabs both work.
    pub(crate) fn csrf_token(
        &self,
        headers: &HeaderMap,
    ) -> Result<(String, Option<HeaderValue>), ProxyError> {
        if let Some(token) = cookie_values(headers, self.csrf_name).find(|v| is_token_shaped(v)) {
            return Ok((token.to_owned(), None));
        }
        let token = random_token(32);
        let cookie = self.set_cookie(self.csrf_name, &token, None)?;
        Ok((token, Some(cookie)))
    }

    /// Whether this browser's CSRF cookie holds `token` (constant-time compare).
    pub(crate) fn csrf_matches(&self, headers: &HeaderMap, token: &str) -> bool {
        cookie_values(headers, self.csrf_name).any(|v| same(v, token))
    }

    /// The unexpired approvals of every validly signed consent cookie sent.
    fn approvals(&self, key: &StateKey, headers: &HeaderMap) -> Vec<Approval> {
        let now = now();
        cookie_values(headers, self.consent_name)
            .filter_map(|v| {
                let (payload, tag) = v.split_once('.')?;
                if !key.verify("consent cookie", payload, tag) {
                    return None;
                }
                serde_json::from_slice::<Vec<Approval>>(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()
            })
            .flatten()
            .filter(|a| a.e > now)
            .collect()
    }

    fn set_cookie(
        &self,
        name: &str,
        value: &str,
        max_age: Option<u64>,
    ) -> Result<HeaderValue, ProxyError> {
        let mut cookie = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
        if let Some(age) = max_age {
            cookie.push_str(&format!("; Max-Age={age}"));
        }
        if self.secure {
            cookie.push_str("; Secure");
        }
        HeaderValue::from_str(&cookie).map_err(|_| ProxyError::Internal("invalid cookie value"))
    }
}

/// How the consent cookie names a client: its id, or for a client identified
/// by URL (a metadata document, up to 2 KiB) the URL's hash, so that 16
/// approvals always fit in one cookie. Either way the approval is keyed by the
/// client id exactly.
fn approval_key(client_id: &str) -> String {
    if is_client_id_url(client_id) {
        format!("url:{}", hashed_id(client_id))
    } else {
        client_id.to_owned()
    }
}

/// The values of every cookie called `name` in the request.
fn cookie_values<'a>(headers: &'a HeaderMap, name: &'a str) -> impl Iterator<Item = &'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|h| h.to_str().ok())
        .flat_map(|h| h.split(';'))
        .filter_map(move |pair| {
            let (k, v) = pair.trim().split_once('=')?;
            (k == name).then_some(v)
        })
}

/// A value of the shape [`random_token`] makes (43 base64url characters).
fn is_token_shaped(value: &str) -> bool {
    value.len() == 43
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_cookie(cookie: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(COOKIE, HeaderValue::from_str(cookie).expect("ascii"));
        headers
    }

    fn cookie_pair(set_cookie: &HeaderValue) -> String {
        let text = set_cookie.to_str().expect("ascii");
        text.split(';').next().expect("pair").to_owned()
    }

    #[test]
    fn a_binding_holds_only_for_the_browser_that_has_the_cookie() {
        let key = StateKey::random().expect("key");
        let cookies = Cookies::new("http://localhost:3000");
        let (mac, set) = cookies.bind(&key, &HeaderMap::new()).expect("bind");
        let text = set.to_str().expect("ascii");
        assert!(text.starts_with("mcp-auth-binding=") && text.contains("HttpOnly"));
        assert!(text.contains("SameSite=Lax") && !text.contains("Secure"));
        let browser = with_cookie(&cookie_pair(&set));
        assert!(cookies.is_bound(&key, &browser, &mac));
        assert!(
            !cookies.is_bound(&key, &HeaderMap::new(), &mac),
            "no cookie"
        );
        let (_, other) = cookies.bind(&key, &HeaderMap::new()).expect("bind");
        assert!(
            !cookies.is_bound(&key, &with_cookie(&cookie_pair(&other)), &mac),
            "another browser"
        );
        let (again, _) = cookies.bind(&key, &browser).expect("bind");
        assert_eq!(again, mac, "one binding per browser: two tabs both work");
        let https = Cookies::new("https://mcp.example.com");
        let (_, secure) = https.bind(&key, &HeaderMap::new()).expect("bind");
        let text = secure.to_str().expect("ascii");
        assert!(text.starts_with("__Host-mcp-auth-binding=") && text.ends_with("; Secure"));
    }

    #[test]
    fn a_signed_approval_is_read_back_and_a_forged_one_is_not() {
        let key = StateKey::random().expect("key");
        let cookies = Cookies::new("http://localhost:3000");
        let read = vec!["read".to_owned()];
        let set = cookies
            .remember(&key, &HeaderMap::new(), "client-a", &read)
            .expect("cookie");
        let headers = with_cookie(&cookie_pair(&set));
        assert!(cookies.approves(&key, &headers, "client-a", &read));
        assert!(cookies.approves(&key, &headers, "client-a", &[]));
        assert!(
            !cookies.approves(&key, &headers, "client-a", &["read".into(), "admin".into()]),
            "a scope the user did not see asks again"
        );
        assert!(!cookies.approves(&key, &headers, "client-b", &[]));
        let other = StateKey::random().expect("key");
        assert!(!cookies.approves(&other, &headers, "client-a", &[]));
        let forged_payload = URL_SAFE_NO_PAD.encode(r#"[{"c":"client-b","e":99999999999}]"#);
        let pair = cookie_pair(&set);
        let (_, tag) = pair.split_once('.').expect("dot");
        let forged = with_cookie(&format!("mcp-auth-consent={forged_payload}.{tag}"));
        assert!(!cookies.approves(&key, &forged, "client-b", &[]));
    }

    #[test]
    fn https_keeps_the_most_recent_approvals() {
        let key = StateKey::random().expect("key");
        let cookies = Cookies::new("https://mcp.example.com");
        let mut headers = HeaderMap::new();
        for i in 0..(MAX_REMEMBERED + 2) {
            let set = cookies
                .remember(&key, &headers, &format!("c{i}"), &[])
                .expect("cookie");
            let text = set.to_str().expect("ascii").to_owned();
            assert!(text.starts_with("__Host-mcp-auth-consent=") && text.ends_with("; Secure"));
            headers = with_cookie(&cookie_pair(&set));
        }
        assert!(
            !cookies.approves(&key, &headers, "c0", &[]),
            "oldest dropped"
        );
        assert!(cookies.approves(&key, &headers, &format!("c{}", MAX_REMEMBERED + 1), &[]));
    }

    #[test]
    fn csrf_token_is_reused_from_the_cookie() {
        let cookies = Cookies::new("http://localhost:3000");
        let (token, set) = cookies.csrf_token(&HeaderMap::new()).expect("token");
        let set = set.expect("a new browser gets a cookie");
        let headers = with_cookie(&format!("other=1; {}", cookie_pair(&set)));
        let (again, none) = cookies.csrf_token(&headers).expect("token");
        assert_eq!(again, token);
        assert!(none.is_none());
        assert!(cookies.csrf_matches(&headers, &token));
        assert!(!cookies.csrf_matches(&headers, &random_token(32)));
    }
}
