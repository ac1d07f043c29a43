//! The parameters of an OAuth request (a query string or a form body), read
//! once and strictly: a repeated parameter is refused (RFC 6749 §3.1), and a
//! value this server would store is capped in size before anything is stored.
//! Every OAuth route of this crate (the dev issuer's and proxy mode's) reads
//! its parameters here.

use std::collections::HashMap;

use axum::extract::{Form, FromRequest, Query, Request};
use axum::response::{IntoResponse, Response};
use http::{Method, StatusCode};

use super::{OAuthError, no_store};

/// Longest value of a parameter this server stores (`state`, `scope`,
/// `resource`, a redirect URI, a client name): 2 KiB. Longer is a 400
/// `invalid_request`, and nothing is stored.
pub const MAX_STORED_PARAM_BYTES: usize = 2048;

/// Request parameters, each present at most once.
#[derive(Debug, Default, Clone)]
pub struct Params(HashMap<String, String>);

impl Params {
    /// Reads name/value pairs; a name that appears twice is `invalid_request`.
    pub fn from_pairs(pairs: Vec<(String, String)>) -> Result<Self, OAuthError> {
        let mut map = HashMap::with_capacity(pairs.len());
        for (name, value) in pairs {
            if map.contains_key(&name) {
                return Err(OAuthError::invalid_request(format!(
                    "parameter {name} appears more than once"
                )));
            }
            map.insert(name, value);
        }
        Ok(Params(map))
    }

    /// The parameter, unless absent or empty (RFC 6749 §3.1: a parameter sent
    /// without a value is treated as omitted).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// The parameter, for a value this server will store: over
    /// [`MAX_STORED_PARAM_BYTES`] it is `invalid_request`.
    pub fn stored(&self, name: &str) -> Result<Option<&str>, OAuthError> {
        match self.get(name) {
            Some(v) if v.len() > MAX_STORED_PARAM_BYTES => Err(OAuthError::invalid_request(
                format!("{name} is longer than {MAX_STORED_PARAM_BYTES} bytes"),
            )),
            other => Ok(other),
        }
    }

    /// Every parameter, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

#[cfg(test)]
impl Params {
    /// Parameters for a unit test; panics on a repeated name.
    pub(crate) fn of(pairs: &[(&str, &str)]) -> Self {
        Self::from_pairs(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
        .expect("no repeated parameter")
    }
}

/// Why a request's parameters were refused: unreadable (413 for a body too
/// large, else 400), or a parameter repeated (400 `invalid_request`).
#[derive(Debug, thiserror::Error)]
pub enum ParamsRejection {
    /// The query or form body cannot be read; the status says why.
    #[error("the request parameters cannot be read (HTTP {0})")]
    Unreadable(StatusCode),
    /// A parameter appears more than once.
    #[error(transparent)]
    Invalid(#[from] OAuthError),
}

impl IntoResponse for ParamsRejection {
    fn into_response(self) -> Response {
        match self {
            ParamsRejection::Unreadable(status) => unreadable(status),
            ParamsRejection::Invalid(e) => e.into_response(),
        }
    }
}

/// The parameters of an OAuth request: the query string of a `GET`, the form
/// body of anything else.
impl<S: Send + Sync> FromRequest<S> for Params {
    type Rejection = ParamsRejection;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let pairs = if req.method() == Method::GET {
            Query::<Vec<(String, String)>>::from_request(req, state)
                .await
                .map(|Query(pairs)| pairs)
                .map_err(|r| ParamsRejection::Unreadable(r.status()))?
        } else {
            Form::<Vec<(String, String)>>::from_request(req, state)
                .await
                .map(|Form(pairs)| pairs)
                .map_err(|r| ParamsRejection::Unreadable(r.status()))?
        };
        Ok(Params::from_pairs(pairs)?)
    }
}

/// The answer to a query or body that could not be read: 413 for one too large,
/// else 400 `invalid_request`; JSON either way, never cached.
pub fn unreadable(status: StatusCode) -> Response {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        let body = serde_json::json!({
            "error": "invalid_request",
            "error_description": "the request body is too large",
        });
        return no_store((status, axum::Json(body)).into_response());
    }
    OAuthError::invalid_request("the request parameters cannot be read").into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn a_repeated_parameter_is_invalid_request() {
        let err = Params::from_pairs(pairs(&[("grant_type", "a"), ("grant_type", "b")]))
            .expect_err("repeated");
        assert_eq!(err.code, "invalid_request");
    }

    #[test]
    fn empty_values_count_as_absent_and_stored_values_are_capped() {
        let long = "x".repeat(MAX_STORED_PARAM_BYTES + 1);
        let params = Params::from_pairs(pairs(&[("state", ""), ("scope", &long), ("ok", "1")]))
            .expect("params");
        assert_eq!(params.get("state"), None);
        assert_eq!(params.stored("ok").expect("short"), Some("1"));
        assert_eq!(
            params.stored("scope").expect_err("too long").code,
            "invalid_request"
        );
    }
}
