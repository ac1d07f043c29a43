//! Reading the bearer token from a request (RFC 6750 §2.1: header only).

use http::HeaderMap;
use http::header::AUTHORIZATION;

/// Why no usable bearer token was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum BearerError {
    /// No `Authorization` header, or one with another scheme (e.g. `Basic`):
    /// no bearer credentials were sent.
    Missing,
    /// The request is malformed (400 `invalid_request`): two `Authorization`
    /// headers, or a token in the query string. The reason is safe to show.
    Malformed(&'static str),
    /// Bearer credentials were sent but the token is malformed (401
    /// `invalid_token`, RFC 6750 §3.1): empty, or with characters outside the
    /// b64token set (non-ASCII bytes included). The reason is for the log.
    InvalidToken(&'static str),
    /// The token is over the size limit (401 `invalid_token`).
    TooLarge(usize),
}

/// Whether `token` is an RFC 6750 §2.1 `b64token`:
/// `1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`.
fn is_b64token(token: &[u8]) -> bool {
    let body_len = token.len() - token.iter().rev().take_while(|&&b| b == b'=').count();
    let body = &token[..body_len];
    !body.is_empty()
        && body.iter().all(|&b| {
            b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/')
        })
}

/// Whether the query string carries an `access_token` parameter (RFC 6750 §2.3).
fn has_query_token(query: Option<&str>) -> bool {
    query.is_some_and(|q| {
        q.split('&')
            .any(|pair| pair.split('=').next() == Some("access_token"))
    })
}

/// The bearer token of a request. The scheme is case-insensitive; the header must
/// appear once; a token in the query string is refused, never used.
///
/// Request-level faults (two headers, a token in the query string) are
/// [`BearerError::Malformed`]; a malformed token after `Bearer` is
/// [`BearerError::InvalidToken`] or [`BearerError::TooLarge`].
pub(crate) fn bearer_token<'a>(
    headers: &'a HeaderMap,
    query: Option<&str>,
    max_len: usize,
) -> Result<&'a str, BearerError> {
    if has_query_token(query) {
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
        (Some(v), None) => v.as_bytes(),
    };
    let (scheme, rest) = match value.iter().position(|&b| b == b' ') {
        Some(i) => (&value[..i], &value[i + 1..]),
        None => (value, &value[value.len()..]),
    };
    if !scheme.eq_ignore_ascii_case(b"bearer") {
        return Err(BearerError::Missing);
    }
    let start = rest.iter().take_while(|&&b| b == b' ').count();
    let end = rest.len()
        - rest[start..]
            .iter()
            .rev()
            .take_while(|&&b| b == b' ')
            .count();
    let token = &rest[start..end];
    if token.is_empty() {
        return Err(BearerError::InvalidToken("the Bearer token is empty"));
    }
    if token.len() > max_len {
        return Err(BearerError::TooLarge(token.len()));
    }
    if !is_b64token(token) {
        return Err(BearerError::InvalidToken(
            "the Bearer token contains characters outside the RFC 6750 b64token set",
        ));
    }
    // A b64token is ASCII, hence UTF-8.
    std::str::from_utf8(token)
        .map_err(|_| BearerError::InvalidToken("the Bearer token is not ASCII"))
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
        for malformed_token in [
            "Bearer",
            "Bearer ",
            "Bearer    ",
            "Bearer a b",
            "Bearer a,b",
            "Bearer ===",
            "Bearer a=b",
            "Bearer a\"b",
            "Bearer a\tb",
        ] {
            assert!(
                matches!(
                    bearer_token(&headers(&[malformed_token]), None, 100),
                    Err(BearerError::InvalidToken(_))
                ),
                "{malformed_token:?}"
            );
        }
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

    #[test]
    fn non_ascii_bytes_in_the_token_are_an_invalid_token() {
        let mut h = HeaderMap::new();
        h.insert(
            AUTHORIZATION,
            HeaderValue::from_bytes(b"Bearer abc\xc3\xa9def").expect("opaque bytes"),
        );
        assert!(matches!(
            bearer_token(&h, None, 100),
            Err(BearerError::InvalidToken(_))
        ));
        // Non-ASCII bytes in another scheme: no bearer credentials.
        h.insert(
            AUTHORIZATION,
            HeaderValue::from_bytes(b"B\xc3\xa9arer abc").expect("opaque bytes"),
        );
        assert_eq!(bearer_token(&h, None, 100), Err(BearerError::Missing));
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        fn header(value: &[u8]) -> Option<HeaderMap> {
            let value = HeaderValue::from_bytes(value).ok()?;
            let mut h = HeaderMap::new();
            h.insert(AUTHORIZATION, value);
            Some(h)
        }

        proptest! {
            /// Whatever the header holds, the parser answers without panicking,
            /// and a token it returns is a non-empty b64token within the limit.
            #[test]
            fn any_header_bytes_parse_without_panicking(
                value in proptest::collection::vec(any::<u8>(), 0..200),
                max in 1usize..100,
            ) {
                if let Some(h) = header(&value)
                    && let Ok(token) = bearer_token(&h, None, max)
                {
                    prop_assert!(!token.is_empty() && token.len() <= max);
                    prop_assert!(is_b64token(token.as_bytes()));
                }
            }

            /// Every b64token comes back unchanged after any casing of `Bearer`
            /// and any run of spaces.
            #[test]
            fn every_b64token_is_accepted(
                token in "[A-Za-z0-9._~+/-]{1,60}={0,2}",
                scheme in "[bB][eE][aA][rR][eE][rR]",
                spaces in 1usize..4,
            ) {
                let value = format!("{scheme}{}{token}", " ".repeat(spaces));
                let h = header(value.as_bytes()).expect("visible ASCII");
                prop_assert_eq!(bearer_token(&h, None, 100), Ok(token.as_str()));
            }

            /// One character outside the b64token set (but still a valid header
            /// byte) makes the token invalid (401), never a 400.
            #[test]
            fn a_character_outside_the_set_is_an_invalid_token(
                before in "[A-Za-z0-9]{1,10}",
                bad in prop::sample::select(vec![b'!', b'"', b'#', b'$', b'%', b'&', b'(', b')', b'*', b',', b':', b';', b'<', b'>', b'?', b'@', b'[', b'\\', b']', b'^', b'`', b'{', b'|', b'}', b'\t', 0x80, 0xc3, 0xff]),
                after in "[A-Za-z0-9]{1,10}",
            ) {
                let mut value = format!("Bearer {before}").into_bytes();
                value.push(bad);
                value.extend_from_slice(after.as_bytes());
                let h = header(&value).expect("valid header bytes");
                prop_assert!(matches!(bearer_token(&h, None, 100), Err(BearerError::InvalidToken(_))));
            }
        }
    }
}
