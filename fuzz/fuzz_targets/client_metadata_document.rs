//! The Client ID Metadata Document rules: the client id URL check and the
//! document parser, on arbitrary input. Never a panic; what passes keeps the
//! promises the authorization servers rely on.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mcp_auth_core::__private::{check_client_id_url, parse_document};
use mcp_auth_core::oauth::{MAX_CLIENT_ID_URL_BYTES, MAX_DISPLAYED_NAME_CHARS, MAX_DOCUMENT_BYTES};

/// A URL that passes both checks, so that parsing reaches past `client_id`.
const KNOWN_URL: &str = "https://client.example.com/oauth/metadata.json";

fuzz_target!(|data: &[u8]| {
    // Layout: [flags][url bytes up to the first 0xff][document bytes].
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let (url_bytes, body) = match rest.iter().position(|&b| b == 0xff) {
        Some(at) => (&rest[..at], &rest[at + 1..]),
        None => (rest, &[][..]),
    };
    let loopback_allowed = flags & 1 == 1;
    let fuzzed_url = String::from_utf8_lossy(url_bytes);

    if let Ok(url) = check_client_id_url(&fuzzed_url, loopback_allowed) {
        assert_eq!(
            url.as_str(),
            fuzzed_url,
            "a URL passes only in canonical form"
        );
        assert!(fuzzed_url.len() <= MAX_CLIENT_ID_URL_BYTES);
        assert!(url.fragment().is_none() && url.username().is_empty() && url.password().is_none());
        assert!(
            !matches!(url.path(), "" | "/"),
            "a client id URL has a path"
        );
        match url.scheme() {
            "https" => {}
            "http" => assert!(loopback_allowed, "plain http only when loopback is allowed"),
            other => panic!("scheme {other} passed"),
        }
    }

    // The document against the fuzzed URL, or against a known good one so the
    // fuzzer can reach the field rules by writing that `client_id`.
    let url = if flags & 2 == 2 {
        KNOWN_URL
    } else {
        &fuzzed_url
    };
    if let Ok(doc) = parse_document(url, body) {
        assert!(body.len() <= MAX_DOCUMENT_BYTES);
        assert_eq!(
            doc.client_id, url,
            "the document names the URL it came from"
        );
        assert!(!doc.redirect_uris.is_empty() && doc.redirect_uris.len() <= 8);
        assert!(doc.client_name.chars().count() <= MAX_DISPLAYED_NAME_CHARS);
        assert!(
            !doc.client_name.chars().any(char::is_control),
            "control characters reach the consent page"
        );
        assert!(doc.grant_types.iter().any(|g| g == "authorization_code"));
        let client = doc.client_info();
        assert!(client.client_secret.is_none());
        assert_eq!(client.token_endpoint_auth_method, "none");
    }
});
