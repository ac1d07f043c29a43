//! Client authentication at a token endpoint (RFC 6749 §2.3.1): HTTP Basic
//! (`client_secret_basic`) or form parameters (`client_secret_post`), read by
//! one parser for every route of this crate.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http::HeaderMap;
use http::header::AUTHORIZATION;

use super::OAuthError;
use super::params::Params;

/// How the client presented itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    /// HTTP Basic with the client id and secret.
    Basic,
    /// `client_id` and `client_secret` in the form.
    Post,
    /// `client_id` alone in the form (a public client).
    None,
}

/// The client a token request names, and the secret it presents if any.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientCredentials {
    /// The client id.
    pub client_id: String,
    /// The secret presented, if any.
    pub secret: Option<crate::ClientSecret>,
    /// Where they came from.
    pub method: AuthMethod,
}

impl std::fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientCredentials")
            .field("client_id", &self.client_id)
            .field("secret", &self.secret)
            .field("method", &self.method)
            .finish()
    }
}

/// The credentials of a token request. Refused with `invalid_client`: a
/// scheme other than Basic, malformed Basic credentials, no client id at all.
/// Refused with `invalid_request`: two methods at once (RFC 6749 §2.3), or a
/// form `client_id` naming another client than the Basic credentials.
pub fn client_credentials(
    headers: &HeaderMap,
    params: &Params,
) -> Result<ClientCredentials, OAuthError> {
    let form_id = params.get("client_id");
    let form_secret = params.get("client_secret");
    let mut authorization = headers.get_all(AUTHORIZATION).iter();
    let first = authorization.next();
    if authorization.next().is_some() {
        return Err(OAuthError::invalid_request(
            "more than one Authorization header",
        ));
    }
    let Some(value) = first else {
        let client_id = form_id
            .ok_or_else(|| OAuthError::invalid_client("client authentication is required"))?;
        return Ok(ClientCredentials {
            client_id: client_id.to_owned(),
            secret: form_secret.map(crate::ClientSecret::new),
            method: if form_secret.is_some() {
                AuthMethod::Post
            } else {
                AuthMethod::None
            },
        });
    };
    let (id, secret) = basic(value)?;
    if form_secret.is_some() {
        return Err(OAuthError::invalid_request(
            "the client authenticated twice (Basic and client_secret)",
        ));
    }
    if form_id.is_some_and(|f| f != id) {
        return Err(OAuthError::invalid_client(
            "client_id differs from the Basic credentials",
        ));
    }
    Ok(ClientCredentials {
        client_id: id,
        secret: secret.map(crate::ClientSecret::new),
        method: AuthMethod::Basic,
    })
}

/// `(client_id, secret)` of an HTTP Basic header, each form-urlencoded; an
/// empty secret counts as none.
fn basic(value: &http::HeaderValue) -> Result<(String, Option<String>), OAuthError> {
    let malformed = || OAuthError::invalid_client("malformed Basic credentials");
    let text = value.to_str().map_err(|_| malformed())?;
    let encoded = text
        .get(..6)
        .filter(|scheme| scheme.eq_ignore_ascii_case("basic "))
        .and_then(|_| text.get(6..))
        .ok_or_else(|| OAuthError::invalid_client("unsupported client authentication scheme"))?;
    let decoded = STANDARD
        .decode(encoded.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(malformed)?;
    let (id, secret) = decoded.split_once(':').ok_or_else(malformed)?;
    let unescape = |s: &str| {
        url::form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .filter(|v| !v.is_empty())
    };
    let id = unescape(id).ok_or_else(malformed)?;
    Ok((id, unescape(secret)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn with_basic(id: &str, secret: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        let value = format!("Basic {}", STANDARD.encode(format!("{id}:{secret}")));
        h.insert(AUTHORIZATION, HeaderValue::from_str(&value).expect("ascii"));
        h
    }

    #[test]
    fn basic_post_and_public_clients_are_read() {
        let c = client_credentials(&with_basic("a%3Ab", "s"), &Params::of(&[])).expect("basic");
        assert_eq!(
            (
                c.client_id.as_str(),
                c.secret.as_ref().map(crate::ClientSecret::secret)
            ),
            ("a:b", Some("s"))
        );
        assert_eq!(c.method, AuthMethod::Basic);
        let c = client_credentials(
            &HeaderMap::new(),
            &Params::of(&[("client_id", "c"), ("client_secret", "s")]),
        )
        .expect("post");
        assert_eq!(c.method, AuthMethod::Post);
        let c = client_credentials(&HeaderMap::new(), &Params::of(&[("client_id", "c")]))
            .expect("public");
        assert_eq!((c.method, c.secret), (AuthMethod::None, None));
    }

    #[test]
    fn two_methods_two_ids_or_no_id_are_refused() {
        let both = client_credentials(
            &with_basic("a", "s"),
            &Params::of(&[("client_secret", "s")]),
        );
        assert_eq!(both.expect_err("two methods").code, "invalid_request");
        let other = client_credentials(&with_basic("a", "s"), &Params::of(&[("client_id", "b")]));
        assert_eq!(other.expect_err("two ids").code, "invalid_client");
        let none = client_credentials(&HeaderMap::new(), &Params::of(&[]));
        assert_eq!(none.expect_err("no id").code, "invalid_client");
        let mut bearer = HeaderMap::new();
        bearer.insert(AUTHORIZATION, HeaderValue::from_static("Bearer x"));
        let scheme = client_credentials(&bearer, &Params::of(&[("client_id", "a")]));
        assert_eq!(scheme.expect_err("scheme").code, "invalid_client");
        let c = format!("Basic {}", STANDARD.encode("nocolon"));
        let mut h = HeaderMap::new();
        h.insert(AUTHORIZATION, HeaderValue::from_str(&c).expect("ascii"));
        let malformed = client_credentials(&h, &Params::of(&[]));
        assert_eq!(malformed.expect_err("malformed").code, "invalid_client");
    }
}
