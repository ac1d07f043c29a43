//! The CSRF token of a browser, for the consent forms an authorization server
//! of this crate shows: a random value in an `HttpOnly`, `SameSite=Lax`
//! cookie (`__Host-` and `Secure` on https), repeated by the form in a hidden
//! field and compared with the cookie when the form comes back. A form posted
//! by another browser (another cookie jar), or by a cross-site page (a
//! `SameSite=Lax` cookie is not sent with a cross-site POST), is refused.

use http::header::COOKIE;
use http::{HeaderMap, HeaderValue};

use super::random::random_token;

/// How long the cookie lives (renewed with every consent page).
const MAX_AGE_SECS: u64 = 86_400;

/// The CSRF cookie of one authorization server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BrowserCsrf {
    name: &'static str,
    secure: bool,
}

impl BrowserCsrf {
    /// The cookie for a server whose issuer is `issuer`: `__Host-` and
    /// `Secure` on https; on loopback http (where browsers refuse both) the
    /// plain name.
    pub fn for_issuer(issuer: &str) -> Self {
        let secure = issuer.starts_with("https://");
        BrowserCsrf {
            name: if secure {
                "__Host-mcp-auth-consent-csrf"
            } else {
                "mcp-auth-consent-csrf"
            },
            secure,
        }
    }

    /// This browser's token, and the `Set-Cookie` value that (re)sets it: the
    /// one the browser sent when it is well-formed, else a new one.
    pub fn token(&self, headers: &HeaderMap) -> (String, Option<HeaderValue>) {
        let token = self
            .sent(headers)
            .next()
            .map_or_else(|| random_token(32), str::to_owned);
        let attributes = if self.secure { "; Secure" } else { "" };
        let cookie = HeaderValue::from_str(&format!(
            "{}={token}; Path=/; Max-Age={MAX_AGE_SECS}; HttpOnly; SameSite=Lax{attributes}",
            self.name
        ))
        .ok();
        (token, cookie)
    }

    /// Whether this browser's cookie holds `expected` (compared in constant time).
    /// Only the dev issuer's consent form checks it.
    #[cfg(any(test, feature = "dev-issuer"))]
    pub fn matches(&self, headers: &HeaderMap, expected: &str) -> bool {
        self.sent(headers).any(|v| {
            aws_lc_rs::constant_time::verify_slices_are_equal(v.as_bytes(), expected.as_bytes())
                .is_ok()
        })
    }

    /// The well-formed values of this cookie the browser sent.
    fn sent<'h>(&self, headers: &'h HeaderMap) -> impl Iterator<Item = &'h str> + 'h {
        let name = self.name;
        headers
            .get_all(COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(move |pair| {
                let (k, v) = pair.trim().split_once('=')?;
                (k == name).then_some(v)
            })
            .filter(|v| {
                (32..=64).contains(&v.len())
                    && v.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sent_token_is_kept_and_checked() {
        let csrf = BrowserCsrf::for_issuer("http://127.0.0.1:3000");
        let (fresh, cookie) = csrf.token(&HeaderMap::new());
        let cookie = cookie.expect("set-cookie");
        assert!(
            cookie
                .to_str()
                .expect("ascii")
                .contains("HttpOnly; SameSite=Lax")
        );
        let mut headers = HeaderMap::new();
        headers.insert(
            COOKIE,
            HeaderValue::from_str(&format!("a=b; mcp-auth-consent-csrf={fresh}")).expect("ascii"),
        );
        assert_eq!(csrf.token(&headers).0, fresh);
        assert!(csrf.matches(&headers, &fresh));
        assert!(!csrf.matches(&headers, &random_token(32)));
        assert!(!csrf.matches(&HeaderMap::new(), &fresh));
        let https = BrowserCsrf::for_issuer("https://as.example.com");
        let (_, cookie) = https.token(&HeaderMap::new());
        let cookie = cookie.expect("set-cookie");
        let cookie = cookie.to_str().expect("ascii");
        assert!(cookie.starts_with("__Host-") && cookie.ends_with("; Secure"));
    }
}
