//! Authorization responses (RFC 6749 §4.1.2): the browser goes back to the
//! client's redirect URI with a code or an error, the client's `state`, and
//! this server's issuer as RFC 9207 `iss`, so a client can tell which
//! authorization server answered (mix-up defence). Every authorization
//! response this crate sends is built here.

use axum::response::{IntoResponse, Redirect, Response};

use super::{OAuthError, no_store};

/// Longest upstream `error_description` passed on to a client.
const MAX_DESCRIPTION_CHARS: usize = 200;

/// `redirect_uri` with `params`, the client's `state` and `iss` appended.
/// `None` when `redirect_uri` is not an absolute URL.
pub fn authorization_response_url(
    redirect_uri: &str,
    params: &[(&str, &str)],
    state: Option<&str>,
    issuer: &str,
) -> Option<String> {
    let mut url = url::Url::parse(redirect_uri).ok()?;
    {
        let mut q = url.query_pairs_mut();
        for (k, v) in params {
            q.append_pair(k, v);
        }
        if let Some(state) = state {
            q.append_pair("state", state);
        }
        q.append_pair("iss", issuer);
    }
    Some(url.into())
}

/// The redirect carrying an authorization response, never cached. A redirect
/// URI that is not a URL (registered URIs are parsed at registration, so this
/// does not happen) is a 500 page instead of a redirect.
pub fn authorization_response(
    redirect_uri: &str,
    params: &[(&str, &str)],
    state: Option<&str>,
    issuer: &str,
) -> Response {
    match authorization_response_url(redirect_uri, params, state, issuer) {
        Some(url) => no_store(Redirect::to(&url).into_response()),
        None => {
            OAuthError::server_error("the registered redirect URI is not a URL").into_response()
        }
    }
}

/// An error authorization response.
pub fn error_response(
    redirect_uri: &str,
    error: &OAuthError,
    state: Option<&str>,
    issuer: &str,
) -> Response {
    authorization_response(
        redirect_uri,
        &[
            ("error", error.code),
            ("error_description", &error.description),
        ],
        state,
        issuer,
    )
}

/// An upstream's refusal (`access_denied`, ...) passed on to the client, as long
/// as it is a well-formed error code (RFC 6749 §4.1.2.1), else `server_error`;
/// the description is kept only when well-formed, and cut.
pub fn relayed_error(
    redirect_uri: &str,
    error: &str,
    description: Option<&str>,
    state: Option<&str>,
    issuer: &str,
) -> Response {
    let valid = |s: &str| {
        s.bytes()
            .all(|b| matches!(b, 0x20..=0x7e) && b != b'"' && b != b'\\')
    };
    let code = if valid(error) && error.len() <= 64 {
        error
    } else {
        "server_error"
    };
    let description: Option<String> = description
        .filter(|d| valid(d))
        .map(|d| d.chars().take(MAX_DESCRIPTION_CHARS).collect());
    let mut params = vec![("error", code)];
    if let Some(d) = &description {
        params.push(("error_description", d));
    }
    authorization_response(redirect_uri, &params, state, issuer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_response_carries_state_and_iss() {
        let url = authorization_response_url(
            "https://c.example.com/cb?x=1",
            &[("code", "abc")],
            Some("s t"),
            "http://localhost:3000",
        );
        assert_eq!(
            url.as_deref(),
            Some(
                "https://c.example.com/cb?x=1&code=abc&state=s+t&iss=http%3A%2F%2Flocalhost%3A3000"
            )
        );
    }

    #[test]
    fn a_malformed_upstream_error_becomes_server_error() {
        let resp = relayed_error(
            "https://c.example.com/cb",
            "bad\"code",
            Some("d\n"),
            None,
            "https://as",
        );
        let location = resp.headers()["location"]
            .to_str()
            .expect("ascii")
            .to_owned();
        assert!(location.contains("error=server_error"), "{location}");
        assert!(!location.contains("error_description"), "{location}");
        assert!(location.ends_with("iss=https%3A%2F%2Fas"), "{location}");
    }
}
