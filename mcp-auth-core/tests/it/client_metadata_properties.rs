//! Property tests of the Client ID Metadata Document parser and URL rules
//! (checklist item 16), the entry points the fuzz target calls: any input is
//! accepted or refused with a typed error, never a panic, and whatever is
//! accepted keeps every rule.

use std::net::{IpAddr, Ipv4Addr};

use mcp_auth_core::__private::is_acceptable_redirect_uri;
use mcp_auth_core::__private::{check_client_id_url, is_allowed_address, parse_document};
use mcp_auth_core::oauth::{MAX_DISPLAYED_NAME_CHARS, MAX_DOCUMENT_BYTES};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

const URL: &str = "https://app.example.com/oauth/client.json";

/// A JSON value for a member of a document: what documents carry, and junk.
fn member() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        Just(json!(URL)),
        Just(json!("none")),
        Just(json!("client_secret_basic")),
        Just(json!(["authorization_code", "refresh_token"])),
        Just(json!(["client_credentials"])),
        Just(json!(["code"])),
        Just(json!([
            "https://app.example.com/cb",
            "http://127.0.0.1:1/cb"
        ])),
        Just(json!(["http://evil.example.com/cb"])),
        "\\PC{0,60}".prop_map(Value::from),
        prop::collection::vec("\\PC{0,40}".prop_map(Value::from), 0..10).prop_map(Value::from),
    ]
}

/// Valid documents with up to four members replaced or added: each rule is
/// exercised, and many documents are still accepted.
fn document() -> impl Strategy<Value = Value> {
    let names = prop::sample::select(vec![
        "client_id",
        "client_name",
        "redirect_uris",
        "grant_types",
        "response_types",
        "token_endpoint_auth_method",
        "scope",
        "client_secret",
        "client_secret_expires_at",
        "logo_uri",
    ]);
    prop::collection::vec((names, member()), 0..4).prop_map(|pairs| {
        let mut doc = Map::new();
        doc.insert("client_id".into(), json!(URL));
        doc.insert("client_name".into(), json!("Example"));
        doc.insert(
            "redirect_uris".into(),
            json!(["https://app.example.com/cb"]),
        );
        for (k, v) in pairs {
            doc.insert(k.to_owned(), v);
        }
        Value::Object(doc)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Arbitrary bytes: a typed result, never a panic.
    #[test]
    fn any_bytes_are_parsed_or_refused(body in prop::collection::vec(any::<u8>(), 0..2048)) {
        let _ = parse_document(URL, &body);
    }

    /// Whatever is accepted is a public client of exactly this URL, with
    /// redirect URIs registration accepts, a name fit for display, and only
    /// the grants served to such clients.
    #[test]
    fn accepted_documents_keep_every_rule(doc in document()) {
        let body = serde_json::to_vec(&doc).expect("json");
        let accepted = parse_document(URL, &body);
        if let Ok(parsed) = accepted {
            prop_assert!(body.len() <= MAX_DOCUMENT_BYTES);
            prop_assert_eq!(doc["client_id"].as_str(), Some(URL));
            prop_assert!(doc.get("client_secret").is_none());
            prop_assert!(doc.get("client_secret_expires_at").is_none());
            prop_assert!(doc.get("token_endpoint_auth_method").is_none_or(|m| m == "none"));
            prop_assert!(!parsed.redirect_uris.is_empty());
            prop_assert!(parsed.redirect_uris.iter().all(|u| is_acceptable_redirect_uri(u)));
            prop_assert!(parsed.client_name.chars().count() <= MAX_DISPLAYED_NAME_CHARS);
            prop_assert!(!parsed.client_name.chars().any(char::is_control));
            prop_assert!(parsed.grant_types.iter().any(|g| g == "authorization_code"));
            prop_assert!(parsed
                .grant_types
                .iter()
                .all(|g| g == "authorization_code" || g == "refresh_token"));
            let client = parsed.client_info();
            prop_assert_eq!(client.client_secret, None);
            prop_assert_eq!(client.token_endpoint_auth_method, "none");
        }
    }

    /// A URL is accepted only if it is https (or loopback http when allowed)
    /// with a path, without fragment or credentials, and exactly as parsed.
    #[test]
    fn accepted_client_id_urls_keep_the_url_rules(
        scheme in prop::sample::select(vec!["https", "http", "ftp", "HTTPS"]),
        host in prop::sample::select(vec![
            "app.example.com", "127.0.0.1", "localhost", "10.0.0.1", "[::1]", "[fe80::1]", "",
        ]),
        path in "(/[a-z.%2E]{0,8}){0,3}",
        suffix in prop::sample::select(vec!["", "?x=1", "#f"]),
        loopback_allowed in any::<bool>(),
    ) {
        let id = format!("{scheme}://{host}{path}{suffix}");
        if let Ok(url) = check_client_id_url(&id, loopback_allowed) {
            prop_assert_eq!(url.as_str(), id.as_str());
            prop_assert!(url.fragment().is_none());
            prop_assert!(url.path() != "/" && !url.path().is_empty());
            prop_assert!(!url.path().split('/').any(|s| s == "." || s == ".."));
            let loopback = matches!(host, "127.0.0.1" | "localhost" | "[::1]");
            prop_assert!(scheme == "https" || (loopback && loopback_allowed));
            prop_assert!(!loopback || loopback_allowed);
            prop_assert!(!matches!(host, "10.0.0.1" | "[fe80::1]"));
        }
    }

    /// No RFC 1918 address is ever connected to.
    #[test]
    fn private_ipv4_addresses_are_never_allowed(b in any::<u8>(), c in any::<u8>(), d in any::<u8>(), lb in any::<bool>()) {
        for ip in [
            Ipv4Addr::new(10, b, c, d),
            Ipv4Addr::new(172, 16 | (b & 0x0f), c, d),
            Ipv4Addr::new(192, 168, c, d),
            Ipv4Addr::new(169, 254, c, d),
        ] {
            prop_assert!(!is_allowed_address(IpAddr::V4(ip), lb), "{ip}");
            prop_assert!(!is_allowed_address(IpAddr::V6(ip.to_ipv6_mapped()), lb), "{ip}");
            // Its 6to4 (2002:V4ADDR::/48) and IPv4-translated (::ffff:0:V4ADDR) forms.
            let [o1, o2, o3, o4] = ip.octets();
            let (hi, lo) = (u16::from_be_bytes([o1, o2]), u16::from_be_bytes([o3, o4]));
            let six_to_four = std::net::Ipv6Addr::new(0x2002, hi, lo, 0, 0, 0, 0, 1);
            prop_assert!(!is_allowed_address(IpAddr::V6(six_to_four), lb), "{six_to_four}");
            let translated = std::net::Ipv6Addr::new(0, 0, 0, 0, 0xffff, 0, hi, lo);
            prop_assert!(!is_allowed_address(IpAddr::V6(translated), lb), "{translated}");
        }
    }
}

/// The documents above start valid: the properties look at accepted ones too.
#[test]
fn the_unchanged_document_is_accepted() {
    let doc = json!({
        "client_id": URL,
        "client_name": "Example",
        "redirect_uris": ["https://app.example.com/cb"],
    });
    let body = serde_json::to_vec(&doc).expect("json");
    assert!(parse_document(URL, &body).is_ok());
}

/// Found by the `client_metadata_document` fuzz target: a long name came out
/// one character over the documented cap, the ellipsis added after the cut.
#[test]
fn a_long_client_name_is_cut_to_the_cap_ellipsis_included() {
    let long = format!("Ee:{}", "u".repeat(200));
    let body = json!({
        "client_id": URL,
        "client_name": long,
        "redirect_uris": ["https://app.example.com/callback"],
    });
    let parsed = parse_document(URL, &serde_json::to_vec(&body).expect("json")).expect("accepted");
    assert_eq!(parsed.client_name.chars().count(), MAX_DISPLAYED_NAME_CHARS);
    assert!(parsed.client_name.ends_with('…'));
    let exact = "n".repeat(MAX_DISPLAYED_NAME_CHARS);
    let body = json!({
        "client_id": URL,
        "client_name": exact,
        "redirect_uris": ["https://app.example.com/callback"],
    });
    let parsed = parse_document(URL, &serde_json::to_vec(&body).expect("json")).expect("accepted");
    assert_eq!(
        parsed.client_name, exact,
        "a name at the cap is shown whole"
    );
}
