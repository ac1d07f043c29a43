//! The consent page and its two cookies.
//!
//! - The *consent* cookie lists the clients this browser approved, with an expiry
//!   each, signed with HMAC-SHA256 under a per-process random key. `HttpOnly`,
//!   `SameSite=Lax` (it must come along on the top-level navigation to
//!   `/authorize`), and `__Host-` with `Secure` when the server is on https.
//! - The *CSRF* cookie holds a random token that the consent form must repeat
//!   and that the pending consent record stores: a consent form can only be
//!   answered from the browser that was shown it.

use aws_lc_rs::hmac;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::HeaderMap;
use http::HeaderValue;
use http::header::COOKIE;
use serde::{Deserialize, Serialize};

use super::{BrokerError, now};
use crate::error::ConfigError;
use crate::oauth::routes::random_token;

/// How long a consent is remembered.
const CONSENT_MAX_AGE: u64 = 30 * 86_400;
/// How many approved clients one cookie remembers (the most recent ones).
const MAX_REMEMBERED: usize = 16;
/// Domain separation for the cookie MAC.
const MAC_CONTEXT: &[u8] = b"mcp-auth consent cookie v1\0";

/// One approved client.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Approval {
    /// Client id.
    c: String,
    /// Expiry, seconds since the epoch.
    e: u64,
}

/// Signs, reads and writes the consent and CSRF cookies.
pub(super) struct ConsentCookies {
    key: hmac::Key,
    secure: bool,
    consent_name: &'static str,
    csrf_name: &'static str,
}

impl ConsentCookies {
    /// Cookies for a server at `base`, under a fresh random key. `__Host-`
    /// names and `Secure` on https; plain names on http (localhost development),
    /// where browsers refuse `__Host-` cookies.
    pub(super) fn new(base: &str) -> Result<Self, ConfigError> {
        let mut secret = [0u8; 32];
        aws_lc_rs::rand::fill(&mut secret).map_err(|_| {
            ConfigError::invalid(
                "consent cookie key",
                "the system random number generator failed",
            )
        })?;
        let secure = base.starts_with("https://");
        Ok(ConsentCookies {
            key: hmac::Key::new(hmac::HMAC_SHA256, &secret),
            secure,
            consent_name: if secure {
                "__Host-mcp-auth-consent"
            } else {
                "mcp-auth-consent"
            },
            csrf_name: if secure {
                "__Host-mcp-auth-csrf"
            } else {
                "mcp-auth-csrf"
            },
        })
    }

    /// Whether this browser approved `client_id` and the approval has not expired.
    pub(super) fn approves(&self, headers: &HeaderMap, client_id: &str) -> bool {
        self.approvals(headers).iter().any(|a| a.c == client_id)
    }

    /// The `Set-Cookie` value that adds `client_id` to this browser's approvals.
    pub(super) fn remember(
        &self,
        headers: &HeaderMap,
        client_id: &str,
    ) -> Result<HeaderValue, BrokerError> {
        let mut approvals: Vec<Approval> = self
            .approvals(headers)
            .into_iter()
            .filter(|a| a.c != client_id)
            .collect();
        approvals.push(Approval {
            c: client_id.to_owned(),
            e: now() + CONSENT_MAX_AGE,
        });
        let excess = approvals.len().saturating_sub(MAX_REMEMBERED);
        approvals.drain(..excess);
        let payload = serde_json::to_vec(&approvals).map_err(BrokerError::Corrupt)?;
        let payload = URL_SAFE_NO_PAD.encode(payload);
        let tag = URL_SAFE_NO_PAD.encode(self.mac(&payload).as_ref());
        self.set_cookie(
            self.consent_name,
            &format!("{payload}.{tag}"),
            Some(CONSENT_MAX_AGE),
        )
    }

    /// This browser's CSRF token, and the `Set-Cookie` value to send when it
    /// had none yet. One token per browser, so two consent tabs both work.
    pub(super) fn csrf_token(
        &self,
        headers: &HeaderMap,
    ) -> Result<(String, Option<HeaderValue>), BrokerError> {
        if let Some(token) = cookie_values(headers, self.csrf_name).find(|v| is_token_shaped(v)) {
            return Ok((token.to_owned(), None));
        }
        let token = random_token(32);
        let cookie = self.set_cookie(self.csrf_name, &token, None)?;
        Ok((token, Some(cookie)))
    }

    /// Whether this browser's CSRF cookie holds `token` (constant-time compare).
    pub(super) fn csrf_matches(&self, headers: &HeaderMap, token: &str) -> bool {
        cookie_values(headers, self.csrf_name).any(|v| same(v, token))
    }

    fn mac(&self, payload: &str) -> hmac::Tag {
        let mut ctx = hmac::Context::with_key(&self.key);
        ctx.update(MAC_CONTEXT);
        ctx.update(payload.as_bytes());
        ctx.sign()
    }

    /// The unexpired approvals of every validly signed consent cookie sent.
    fn approvals(&self, headers: &HeaderMap) -> Vec<Approval> {
        let now = now();
        cookie_values(headers, self.consent_name)
            .filter_map(|v| self.verify(v))
            .flatten()
            .filter(|a| a.e > now)
            .collect()
    }

    fn verify(&self, value: &str) -> Option<Vec<Approval>> {
        let (payload, tag) = value.split_once('.')?;
        let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
        let mut signed = MAC_CONTEXT.to_vec();
        signed.extend_from_slice(payload.as_bytes());
        hmac::verify(&self.key, &signed, &tag).ok()?;
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()
    }

    fn set_cookie(
        &self,
        name: &str,
        value: &str,
        max_age: Option<u64>,
    ) -> Result<HeaderValue, BrokerError> {
        let mut cookie = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
        if let Some(age) = max_age {
            cookie.push_str(&format!("; Max-Age={age}"));
        }
        if self.secure {
            cookie.push_str("; Secure");
        }
        HeaderValue::from_str(&cookie).map_err(|_| BrokerError::Internal("invalid cookie value"))
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

/// Constant-time equality of two secrets.
pub(super) fn same(a: &str, b: &str) -> bool {
    aws_lc_rs::constant_time::verify_slices_are_equal(a.as_bytes(), b.as_bytes()).is_ok()
}

/// What the consent page shows.
pub(super) struct ConsentView<'a> {
    /// The client's registered name, if any.
    pub client_name: Option<&'a str>,
    /// The client id.
    pub client_id: &'a str,
    /// Where the browser goes back to.
    pub redirect_uri: &'a str,
    /// Requested scopes, if any.
    pub scope: Option<&'a str>,
    /// This server (the issuer).
    pub server: &'a str,
    /// The pending consent's id.
    pub consent_id: &'a str,
    /// The browser's CSRF token.
    pub csrf_token: &'a str,
}

/// The consent page: the client named, its redirect URI shown, approve or deny.
pub(super) fn page(view: &ConsentView<'_>) -> String {
    let name = view.client_name.unwrap_or("An unnamed application");
    let scope = view.scope.map_or_else(String::new, |s| {
        format!("<p>It asks for: <code>{}</code></p>", escape(s))
    });
    format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Authorize {name_e}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem}}code{{word-break:break-all}}button{{font-size:1rem;margin-right:1rem;padding:.5rem 1.2rem}}</style>
</head><body>
<h1>Authorize {name_e}?</h1>
<p><strong>{name_e}</strong> (client id <code>{id}</code>) wants to access <code>{server}</code> on your behalf.</p>
<p>After you log in, you will be sent back to:<br><code>{redirect}</code></p>
{scope}
<p>Only approve if you started this from that application and you trust it.</p>
<form method="post" action="/oauth/consent">
<input type="hidden" name="consent_id" value="{consent}">
<input type="hidden" name="csrf_token" value="{csrf}">
<button type="submit" name="decision" value="approve">Approve</button>
<button type="submit" name="decision" value="deny">Deny</button>
</form>
</body></html>
"#,
        name_e = escape(name),
        id = escape(view.client_id),
        server = escape(view.server),
        redirect = escape(view.redirect_uri),
        consent = escape(view.consent_id),
        csrf = escape(view.csrf_token),
    )
}

/// HTML-escapes text for element content and quoted attribute values.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
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
    fn a_signed_approval_is_read_back_and_a_forged_one_is_not() {
        let cookies = ConsentCookies::new("http://localhost:3000").expect("key");
        let set = cookies
            .remember(&HeaderMap::new(), "client-a")
            .expect("cookie");
        let text = set.to_str().expect("ascii");
        assert!(text.starts_with("mcp-auth-consent="));
        assert!(text.contains("HttpOnly") && text.contains("SameSite=Lax"));
        assert!(!text.contains("Secure"));
        let headers = with_cookie(&cookie_pair(&set));
        assert!(cookies.approves(&headers, "client-a"));
        assert!(!cookies.approves(&headers, "client-b"));

        // The same payload under another key, or with an altered payload, is ignored.
        let other = ConsentCookies::new("http://localhost:3000").expect("key");
        assert!(!other.approves(&headers, "client-a"));
        let forged_payload = URL_SAFE_NO_PAD.encode(r#"[{"c":"client-b","e":99999999999}]"#);
        let (_, tag) = cookie_pair(&set)
            .split_once('.')
            .map(|(p, t)| (p.to_owned(), t.to_owned()))
            .expect("dot");
        let forged = with_cookie(&format!("mcp-auth-consent={forged_payload}.{tag}"));
        assert!(!cookies.approves(&forged, "client-b"));
    }

    #[test]
    fn https_uses_host_prefixed_secure_cookies_and_keeps_recent_approvals() {
        let cookies = ConsentCookies::new("https://mcp.example.com").expect("key");
        let mut headers = HeaderMap::new();
        for i in 0..(MAX_REMEMBERED + 2) {
            let set = cookies
                .remember(&headers, &format!("c{i}"))
                .expect("cookie");
            let text = set.to_str().expect("ascii").to_owned();
            assert!(text.starts_with("__Host-mcp-auth-consent=") && text.ends_with("; Secure"));
            headers = with_cookie(&cookie_pair(&set));
        }
        assert!(!cookies.approves(&headers, "c0"), "oldest dropped");
        assert!(cookies.approves(&headers, &format!("c{}", MAX_REMEMBERED + 1)));
    }

    #[test]
    fn csrf_token_is_reused_from_the_cookie() {
        let cookies = ConsentCookies::new("http://localhost:3000").expect("key");
        let (token, set) = cookies.csrf_token(&HeaderMap::new()).expect("token");
        let set = set.expect("a new browser gets a cookie");
        let headers = with_cookie(&format!("other=1; {}", cookie_pair(&set)));
        let (again, none) = cookies.csrf_token(&headers).expect("token");
        assert_eq!(again, token);
        assert!(none.is_none());
        assert!(cookies.csrf_matches(&headers, &token));
        assert!(!cookies.csrf_matches(&headers, &random_token(32)));
    }

    #[test]
    fn page_escapes_what_the_client_chose() {
        let html = page(&ConsentView {
            client_name: Some("<script>alert(1)</script>"),
            client_id: "id\"",
            redirect_uri: "https://x.example.com/cb?a=1&b=2",
            scope: Some("read"),
            server: "https://mcp.example.com",
            consent_id: "cid",
            csrf_token: "tok",
        });
        assert!(!html.contains("<script>"));
        assert!(html.contains("&lt;script&gt;"));
        assert!(html.contains("https://x.example.com/cb?a=1&amp;b=2"));
        assert!(html.contains(r#"name="csrf_token" value="tok""#));
    }
}
