//! The authorization request (RFC 6749 §4.1.1 with PKCE, RFC 7636), validated
//! in two steps for every `/authorize` this crate serves (the dev issuer's, the
//! relay's and the broker's):
//!
//! 1. [`redirect_target`]: the redirect URI, exactly one the client registered.
//!    Until this succeeds an error can only be shown, never redirected: sending
//!    the browser to an unverified URI would be an open redirect.
//! 2. [`AuthorizationRequest::validate`]: the rest (response type, S256 PKCE,
//!    sizes of what will be stored); its errors go back to the client.

use super::params::Params;
use super::{OAuthError, pkce};

/// A validated authorization request.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AuthorizationRequest {
    /// The client.
    pub client_id: String,
    /// One of its registered redirect URIs, exactly.
    pub redirect_uri: String,
    /// The client's state, returned unchanged (at most 2 KiB).
    pub state: Option<String>,
    /// The S256 PKCE challenge.
    pub code_challenge: String,
    /// Requested scopes, space-separated (at most 2 KiB).
    pub scope: Option<String>,
    /// RFC 8707 resource indicator (at most 2 KiB).
    pub resource: Option<String>,
}

/// The redirect URI of the request: the one requested if the client registered
/// it exactly, or the only one registered when none is requested.
pub fn redirect_target(params: &Params, registered: &[String]) -> Result<String, OAuthError> {
    match params.get("redirect_uri") {
        Some(uri) if registered.iter().any(|r| r == uri) => Ok(uri.to_owned()),
        Some(_) => Err(OAuthError::invalid_request(
            "redirect_uri is not registered for this client",
        )),
        None => match registered {
            [only] => Ok(only.clone()),
            _ => Err(OAuthError::invalid_request("redirect_uri is required")),
        },
    }
}

/// The `state` to echo in an error response: the client's, unless it could
/// not have been accepted (too long, not printable ASCII).
pub fn echoed_state(params: &Params) -> Option<&str> {
    params
        .stored("state")
        .ok()
        .flatten()
        .filter(|s| s.bytes().all(|b| (0x20..=0x7e).contains(&b)))
}

impl AuthorizationRequest {
    /// The rest of the request, once `redirect_uri` is trusted.
    pub fn validate(
        params: &Params,
        client_id: &str,
        redirect_uri: String,
    ) -> Result<Self, OAuthError> {
        if params.get("response_type") != Some("code") {
            return Err(OAuthError::new(
                "unsupported_response_type",
                "only response_type=code is supported",
            ));
        }
        let code_challenge = params
            .get("code_challenge")
            .filter(|c| pkce::is_valid_challenge(c))
            .ok_or_else(|| {
                OAuthError::invalid_request("a valid S256 code_challenge is required (PKCE)")
            })?;
        if params.get("code_challenge_method") != Some("S256") {
            return Err(OAuthError::invalid_request(
                "code_challenge_method must be S256",
            ));
        }
        let state = params.stored("state")?;
        if state.is_some_and(|s| !s.bytes().all(|b| (0x20..=0x7e).contains(&b))) {
            return Err(OAuthError::invalid_request(
                "state must be printable ASCII (RFC 6749 Appendix A)",
            ));
        }
        let scope = params.stored("scope")?;
        if scope.is_some_and(|s| {
            !s.bytes().all(|b| {
                b == b' ' || (b == 0x21 || (0x23..=0x5b).contains(&b) || (0x5d..=0x7e).contains(&b))
            })
        }) {
            return Err(OAuthError::invalid_scope(
                "scope tokens must be printable ASCII without quotes or backslashes (RFC 6749 §3.3)",
            ));
        }
        Ok(AuthorizationRequest {
            client_id: client_id.to_owned(),
            redirect_uri,
            state: state.map(str::to_owned),
            code_challenge: code_challenge.to_owned(),
            scope: scope.map(str::to_owned),
            resource: params.stored("resource")?.map(str::to_owned),
        })
    }

    /// The requested scopes, one by one.
    pub fn scopes(&self) -> Vec<String> {
        self.scope
            .as_deref()
            .unwrap_or("")
            .split_whitespace()
            .map(str::to_owned)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    #[test]
    fn the_target_is_an_exact_registered_uri() {
        let registered = vec![
            "https://a.example/cb".to_owned(),
            "http://127.0.0.1:1/cb".to_owned(),
        ];
        let ok = redirect_target(
            &Params::of(&[("redirect_uri", "https://a.example/cb")]),
            &registered,
        );
        assert_eq!(ok.expect("registered"), "https://a.example/cb");
        let prefix = redirect_target(
            &Params::of(&[("redirect_uri", "https://a.example/cb/x")]),
            &registered,
        );
        assert!(prefix.is_err());
        assert!(
            redirect_target(&Params::of(&[]), &registered).is_err(),
            "two registered: required"
        );
        assert!(
            redirect_target(&Params::of(&[]), &registered[..1]).is_ok(),
            "one registered: implied"
        );
    }

    #[test]
    fn pkce_s256_and_stored_sizes_are_required() {
        let good = [
            ("response_type", "code"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ];
        assert!(AuthorizationRequest::validate(&Params::of(&good), "c", "u".into()).is_ok());
        let plain = [good[0], good[1], ("code_challenge_method", "plain")];
        assert!(AuthorizationRequest::validate(&Params::of(&plain), "c", "u".into()).is_err());
        let token = [("response_type", "token"), good[1], good[2]];
        let err = AuthorizationRequest::validate(&Params::of(&token), "c", "u".into())
            .expect_err("token");
        assert_eq!(err.code, "unsupported_response_type");
        let unicode = [good[0], good[1], good[2], ("state", "caf\u{e9}")];
        assert!(AuthorizationRequest::validate(&Params::of(&unicode), "c", "u".into()).is_err());
        let quoted = [good[0], good[1], good[2], ("scope", "read \"x\"")];
        let err = AuthorizationRequest::validate(&Params::of(&quoted), "c", "u".into())
            .expect_err("quote");
        assert_eq!(err.code, "invalid_scope");
        let long = "s".repeat(3000);
        let big = [good[0], good[1], good[2], ("state", long.as_str())];
        assert!(AuthorizationRequest::validate(&Params::of(&big), "c", "u".into()).is_err());
        assert_eq!(echoed_state(&Params::of(&big)), None);
    }
}
