//! The `Authorization` header parser, through the auth layer: arbitrary header
//! bytes (one or two headers) and query string. Never a panic, never a 5xx;
//! only 200 (the known key), 400 (request-level fault) or 401.
#![no_main]

use axum::body::Body;
use libfuzzer_sys::fuzz_target;
use mcp_auth_fuzz::{protected_app, status_of};

fuzz_target!(|data: &[u8]| {
    // Layout: [flags][query len][query bytes][header bytes...] with the headers
    // split at the first 0xff when flag bit 0 asks for two.
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let Some((&qlen, rest)) = rest.split_first() else {
        return;
    };
    let qlen = usize::from(qlen).min(rest.len());
    let (query, headers) = rest.split_at(qlen);
    let values: Vec<&[u8]> = if flags & 1 == 1 {
        headers.splitn(2, |&b| b == 0xff).collect()
    } else {
        vec![headers]
    };
    let mut uri = String::from("/mcp");
    if flags & 2 == 2 {
        uri.push('?');
        uri.push_str(&String::from_utf8_lossy(query));
    }
    let Ok(uri) = uri.parse::<http::Uri>() else {
        return;
    };
    let mut req = http::Request::post(uri);
    for value in values {
        let Ok(value) = http::HeaderValue::from_bytes(value) else {
            return;
        };
        req = req.header(http::header::AUTHORIZATION, value);
    }
    let Ok(req) = req.body(Body::empty()) else {
        return;
    };
    let status = status_of(protected_app(), req);
    assert!(
        matches!(status, 200 | 400 | 401),
        "unexpected status {status}"
    );
});
