//! The cost of the scope policy on `tools/call`, next to the same layer without a
//! policy, measured in the same run. The verifier is a static API key (so the
//! figures show the policy, not signature checks) and the inner service reads the
//! whole body, as rmcp does, in both cases:
//! - `scope_policy/tools_call/<size>/no_policy`: layer without a policy;
//! - `scope_policy/tools_call/<size>/policy`: layer with a policy of 50 tool rules
//!   (the called tool among them), base and method scopes; the token passes.
//! - `scope_policy/tools_call/<size>/policy_refused`: the same policy, a token
//!   without the tool's scope: the 403 is built.
//!
//! `<size>` is the size of the tool's arguments (small: none; 16k: a 16 KiB string).
//!
//! `cargo bench -p mcp-auth-core --bench scope_policy`

use std::convert::Infallible;
use std::hint::black_box;

use axum::body::Body;
use bytes::Bytes;
use criterion::{Criterion, criterion_group, criterion_main};
use http::Request;
use http_body_util::BodyExt;
use mcp_auth_core::{AuthUser, McpAuth, ScopePolicy, StaticApiKeys};
use serde_json::json;
use tower::{Layer, Service, ServiceExt};

fn auth(policy: Option<ScopePolicy>) -> McpAuth {
    let keys = StaticApiKeys::new()
        .key_with_scopes(
            "sk-tools",
            AuthUser::new("alice"),
            ["mcp:read", "mcp:tools"],
        )
        .key_with_scopes(
            "sk-all",
            AuthUser::new("root"),
            ["mcp:read", "mcp:tools", "tool:25"],
        );
    let auth = McpAuth::builder_with_verifier(keys);
    match policy {
        Some(p) => auth.scope_policy(p),
        None => auth,
    }
    .build()
    .expect("configuration")
}

fn policy() -> ScopePolicy {
    (0..50).fold(
        ScopePolicy::new()
            .base(["mcp:read"])
            .method("tools/call", ["mcp:tools"]),
        |p, i| p.tool(format!("tool-{i}"), [format!("tool:{i}")]),
    )
}

/// The MCP service stand-in: reads the whole body, answers its length.
async fn inner(req: Request<Body>) -> Result<http::Response<Body>, Infallible> {
    let len = req
        .into_body()
        .collect()
        .await
        .map(|c| c.to_bytes().len())
        .unwrap_or(0);
    Ok(http::Response::new(Body::from(len.to_string())))
}

fn request(token: &str, body: &Bytes) -> Request<Body> {
    Request::post("/mcp")
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .header("content-length", body.len())
        .body(Body::from(body.clone()))
        .expect("request")
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let bodies = [
        ("small", json!({})),
        ("16k", json!({"text": "x".repeat(16 * 1024)})),
    ];
    let mut group = c.benchmark_group("scope_policy/tools_call");
    for (size, arguments) in bodies {
        let body = Bytes::from(
            json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                   "params": {"name": "tool-25", "arguments": arguments}})
            .to_string(),
        );
        let cases = [
            ("no_policy", auth(None), "sk-all", 200),
            ("policy", auth(Some(policy())), "sk-all", 200),
            ("policy_refused", auth(Some(policy())), "sk-tools", 403),
        ];
        for (name, auth, token, status) in cases {
            let service = auth.layer().layer(tower::service_fn(inner));
            let check = rt.block_on(ServiceExt::<Request<Body>>::oneshot(
                service.clone(),
                request(token, &body),
            ));
            assert_eq!(
                check.map(|r| r.status().as_u16()).ok(),
                Some(status),
                "{name}"
            );
            group.bench_function(format!("{size}/{name}"), |b| {
                b.to_async(&rt).iter(|| {
                    let mut service = service.clone();
                    let req = request(token, &body);
                    async move {
                        let resp = ServiceExt::<Request<Body>>::ready(&mut service)
                            .await
                            .expect("ready")
                            .call(req)
                            .await
                            .expect("infallible");
                        black_box(resp.status())
                    }
                });
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
