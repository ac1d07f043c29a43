//! For the load benchmark: generates an RS256 and an ES256 key, writes their JWKS
//! to `<dir>/jwks.json`, and prints shell assignments of tokens for `<issuer>` and
//! `<audience>`: `RS256_TOKEN`, `ES256_TOKEN` and `BAD_SIG_TOKEN` (a valid token
//! signed by a key the JWKS does not hold, under a published kid).
//!
//! `mint <dir> <issuer> <audience>`

use mcp_auth_testkit::Algorithm;
use mcp_auth_testkit::{TestKey, claims, jwks};

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let [_, dir, issuer, audience] = args.as_slice() else {
        eprintln!("usage: mint <dir> <issuer> <audience>");
        return std::process::ExitCode::from(2);
    };
    let rsa = TestKey::rsa("rs", Algorithm::RS256);
    let ec = TestKey::ec_p256("ec");
    let impostor = TestKey::rsa("rs", Algorithm::RS256);
    let mut c = claims(issuer, audience, "bench-user");
    c["exp"] = serde_json::json!(mcp_auth_testkit::now() + 86_400);
    if let Err(e) = std::fs::write(
        format!("{dir}/jwks.json"),
        jwks(&[rsa.jwk(), ec.jwk()]).to_string(),
    ) {
        eprintln!("cannot write {dir}/jwks.json: {e}");
        return std::process::ExitCode::from(1);
    }
    println!("RS256_TOKEN={}", rsa.sign(&c));
    println!("ES256_TOKEN={}", ec.sign(&c));
    println!("BAD_SIG_TOKEN={}", impostor.sign(&c));
    std::process::ExitCode::SUCCESS
}
