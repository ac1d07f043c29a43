//! Reading the bearer token from a request (RFC 6750 §2.1: header only).

use http::HeaderMap;
use http::header::AUTHORIZATION;

/// Why no usable bearer token was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum BearerError {
    /// No `Authorization` header, or one with another scheme (e.g. `Basic`):
    /// no bearer credentials were sent.
    Missing,
    /// The request is malformed (400 `invalid_request`): the reason is safe to show.
    Malformed(&'static str),
    /// The token is over the size limit (401 `invalid_token`).
    TooLarge(usize),
}

fn is_token68(token: &str) -> bool {
    let body = token.trim_end_matches('=');
    !body.is_empty()
        && body.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/')
        })
}

/// The bearer token of a request. The scheme is case-insensitive; the header must
/// appear once; a token in the query string is refused, never used.
pub(crate) fn bearer_token<'a>(
    headers: &'a HeaderMap,
    query: Option<&str>,
    max_len: usize,
) -> Result<&'a str, BearerError> {
    if query.is_some_and(|q| {
        q.split('&')
            .any(|pair| pair.split('=').next() == Some("access_token"))
    }) {
        return Err(BearerError::Malformed(
            "access tokens are accepted only in the Authorization header",
        ));
    }
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let value = match (values.next(), values.next()) {
        (None, _) => return Err(BearerError::Missing),
        (Some(_), Some(_)) => {
            return Err(BearerError::Malformed(
                "the Authorization header must appear once",
            ));
        }
        (Some(v), None) => v,
    };
    let value = value
        .to_str()
        .map_err(|_| BearerError::Malformed("the Authorization header is not visible ASCII"))?;
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(BearerError::Missing);
    }
    let token = rest.trim_matches(' ');
    if token.is_empty() {
        return Err(BearerError::Malformed("the Bearer token is empty"));
    }
    if token.len() > max_len {
        return Err(BearerError::TooLarge(token.len()));
    }
    if !is_token68(token) {
        return Err(BearerError::Malformed(
            "the Bearer token contains characters outside token68",
        ));
    }
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(
                AUTHORIZATION,
                HeaderValue::from_str(v).expect("valid header"),
            );
        }
        h
    }

    #[test]
    fn scheme_is_case_insensitive() {
        for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
            assert_eq!(
                bearer_token(&headers(&[&format!("{scheme} abc.def-ghi")]), None, 100),
                Ok("abc.def-ghi")
            );
        }
    }

    #[test]
    fn malformed_headers() {
        assert_eq!(
            bearer_token(&headers(&[]), None, 100),
            Err(BearerError::Missing)
        );
        assert_eq!(
            bearer_token(&headers(&["Basic dXNlcjpwdw=="]), None, 100),
            Err(BearerError::Missing)
        );
        assert!(matches!(
            bearer_token(&headers(&["Bearer a", "Bearer b"]), None, 100),
            Err(BearerError::Malformed(_))
        ));
        assert!(matches!(
            bearer_token(&headers(&["Bearer"]), None, 100),
            Err(BearerError::Malformed(_))
        ));
        assert!(matches!(
            bearer_token(&headers(&["Bearer    "]), None, 100),
            Err(BearerError::Malformed(_))
        ));
        assert!(matches!(
            bearer_token(&headers(&["Bearer a b"]), None, 100),
            Err(BearerError::Malformed(_))
        ));
        assert!(matches!(
            bearer_token(&headers(&["Bearer a,b"]), None, 100),
            Err(BearerError::Malformed(_))
        ));
        assert_eq!(
            bearer_token(&headers(&["Bearer abcdef"]), None, 5),
            Err(BearerError::TooLarge(6))
        );
        assert!(matches!(
            bearer_token(&headers(&["Bearer abc"]), Some("x=1&access_token=abc"), 100),
            Err(BearerError::Malformed(_))
        ));
        assert_eq!(
            bearer_token(&headers(&["Bearer abc=="]), Some("q=access_tokens"), 100),
            Ok("abc==")
        );
    }
}
