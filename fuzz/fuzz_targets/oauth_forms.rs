//! OAuth request parsing of `/authorize` (query and form), `/token` (form) and
//! `/register` (JSON), through the public routes over a stateless authorization
//! server. Never a panic and never a 5xx: every malformed request is a 4xx (or the
//! redirect an authorization response is).
#![no_main]

use axum::body::Body;
use libfuzzer_sys::fuzz_target;
use mcp_auth_fuzz::{oauth_app, status_of};

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    let req = match which % 4 {
        0 => {
            let Ok(uri) = format!("/authorize?{text}").parse::<http::Uri>() else {
                return;
            };
            http::Request::get(uri).body(Body::empty())
        }
        1 => http::Request::post("/authorize")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(rest.to_vec())),
        2 => http::Request::post("/token")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(rest.to_vec())),
        _ => http::Request::post("/register")
            .header("content-type", "application/json")
            .body(Body::from(rest.to_vec())),
    };
    let Ok(req) = req else {
        return;
    };
    let status = status_of(oauth_app(), req);
    assert!(
        (200..500).contains(&status),
        "unexpected status {status} for request kind {}",
        which % 4
    );
});
