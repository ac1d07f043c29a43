//! Dynamic client registration requests (RFC 7591): the metadata this crate
//! reads, and the rules every registration endpoint of it applies to what it
//! stores (redirect URIs: https or loopback http, no fragment, at most
//! [`MAX_REDIRECT_URIS`] of at most 2 KiB each; a client name of at most 2 KiB,
//! control characters removed).

use serde::Deserialize;

use super::OAuthError;
use super::params::MAX_STORED_PARAM_BYTES;

/// At most this many redirect URIs per client.
pub const MAX_REDIRECT_URIS: usize = 8;

/// The client metadata this crate reads; the rest is ignored.
#[derive(Debug, Default, Deserialize)]
pub struct RegistrationRequest {
    /// Redirect URIs.
    pub redirect_uris: Option<Vec<String>>,
    /// Grant types.
    pub grant_types: Option<Vec<String>>,
    /// Response types.
    pub response_types: Option<Vec<String>>,
    /// `none`, `client_secret_post` or `client_secret_basic`.
    pub token_endpoint_auth_method: Option<String>,
    /// Human-readable name.
    pub client_name: Option<String>,
    /// Space-separated scopes.
    pub scope: Option<String>,
}

/// Whether a redirect URI is acceptable: https, or http on a loopback host; no fragment.
pub fn is_acceptable_redirect_uri(uri: &str) -> bool {
    let Ok(url) = url::Url::parse(uri) else {
        return false;
    };
    if url.fragment().is_some() {
        return false;
    }
    match url.scheme() {
        "https" => url.host_str().is_some(),
        "http" => matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]")),
        _ => false,
    }
}

/// The redirect URIs to register: at least one, at most [`MAX_REDIRECT_URIS`],
/// each acceptable and at most 2 KiB.
pub fn redirect_uris(uris: Option<&[String]>) -> Result<Vec<String>, OAuthError> {
    let uris = uris.unwrap_or_default();
    if uris.is_empty() {
        return Err(OAuthError::invalid_redirect_uri(
            "at least one redirect_uri is required",
        ));
    }
    if uris.len() > MAX_REDIRECT_URIS {
        return Err(OAuthError::invalid_redirect_uri(format!(
            "at most {MAX_REDIRECT_URIS} redirect_uris are accepted"
        )));
    }
    if let Some(bad) = uris.iter().find(|u| !u.is_ascii()) {
        // Shown on consent pages: a homograph host or a bidi override could
        // pass for another application's URI.
        return Err(OAuthError::invalid_redirect_uri(format!(
            "{bad:?} is not ASCII: use punycode hosts and percent-encoded paths"
        )));
    }
    if uris.iter().any(|u| u.len() > MAX_STORED_PARAM_BYTES) {
        return Err(OAuthError::invalid_redirect_uri(format!(
            "a redirect_uri is longer than {MAX_STORED_PARAM_BYTES} bytes"
        )));
    }
    if let Some(bad) = uris.iter().find(|u| !is_acceptable_redirect_uri(u)) {
        return Err(OAuthError::invalid_redirect_uri(format!(
            "{bad:?} is not an https or loopback http URI without a fragment"
        )));
    }
    Ok(uris.to_vec())
}

/// The name to store and show: at most 2 KiB, control and format characters
/// (bidi overrides, zero-width joiners) removed, `None` when nothing is left.
pub fn client_name(name: Option<&str>) -> Result<Option<String>, OAuthError> {
    let Some(name) = name else {
        return Ok(None);
    };
    if name.len() > MAX_STORED_PARAM_BYTES {
        return Err(OAuthError::invalid_client_metadata(format!(
            "client_name is longer than {MAX_STORED_PARAM_BYTES} bytes"
        )));
    }
    let cleaned: String = name
        .chars()
        .filter(|c| !c.is_control() && !is_format_char(*c))
        .collect();
    let trimmed = cleaned.trim();
    Ok((!trimmed.is_empty()).then(|| trimmed.to_owned()))
}

/// Unicode format characters (general category Cf) that can disguise text:
/// bidi embeddings, overrides and isolates, zero-width characters, the BOM.
fn is_format_char(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}' | '\u{00AD}')
}

/// The scope to store: at most 2 KiB.
pub fn scope(scope: Option<&str>) -> Result<Option<String>, OAuthError> {
    match scope.map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) if s.len() > MAX_STORED_PARAM_BYTES => Err(OAuthError::invalid_client_metadata(
            format!("scope is longer than {MAX_STORED_PARAM_BYTES} bytes"),
        )),
        other => Ok(other.map(str::to_owned)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uri_policy() {
        assert!(is_acceptable_redirect_uri(
            "https://claude.ai/api/mcp/auth_callback"
        ));
        assert!(is_acceptable_redirect_uri(
            "http://127.0.0.1:33418/callback"
        ));
        assert!(is_acceptable_redirect_uri(
            "http://localhost:6274/oauth/callback"
        ));
        assert!(!is_acceptable_redirect_uri("http://evil.example.com/cb"));
        assert!(!is_acceptable_redirect_uri("https://x.example.com/cb#frag"));
        assert!(!is_acceptable_redirect_uri("javascript:alert(1)"));
        assert!(!is_acceptable_redirect_uri("/relative"));
    }

    #[test]
    fn stored_fields_are_capped() {
        let long = format!("https://a.example/{}", "x".repeat(MAX_STORED_PARAM_BYTES));
        assert!(redirect_uris(Some(&[long])).is_err());
        let many: Vec<String> = (0..=MAX_REDIRECT_URIS)
            .map(|i| format!("https://a.example/{i}"))
            .collect();
        assert!(redirect_uris(Some(&many)).is_err());
        assert!(redirect_uris(Some(&many[..2])).is_ok());
        assert!(client_name(Some(&"n".repeat(MAX_STORED_PARAM_BYTES + 1))).is_err());
        assert_eq!(
            client_name(Some(" a\u{7}b ")).expect("name").as_deref(),
            Some("ab")
        );
        assert_eq!(
            client_name(Some("App\u{202E}moc.evil"))
                .expect("name")
                .as_deref(),
            Some("Appmoc.evil"),
            "no bidi override on the consent page"
        );
        assert!(redirect_uris(Some(&["https://\u{441}laude.ai/cb".to_owned()])).is_err());
        assert!(scope(Some(&"s ".repeat(MAX_STORED_PARAM_BYTES))).is_err());
    }
}
