//! Mode and discovery documents of the Supabase preset, served by `McpAuth` on a
//! real local server, and the protected route end to end.

use crate::common;

use axum::routing::post;
use common::{SECRET, legacy_token, serve, start_project, user_claims};
use mcp_auth_core::{AuthContext, AuthProvider, Mode};
use mcp_auth_supabase::{SupabaseClaims, SupabaseConfig, SupabaseJwtSecret, SupabaseProvider};
use mcp_auth_testkit::{call_mcp, endpoints};
use serde_json::json;

async fn whoami(who: AuthContext) -> String {
    format!("{} {}", who.user().user_id, who.aal().unwrap_or("-"))
}

#[test]
fn provider_metadata_names_supabases_oauth_server() {
    let p = SupabaseProvider::new(SupabaseConfig::for_project("abcdefghijklmnopqrst"))
        .expect("provider");
    let m = p.metadata();
    let issuer = "https://abcdefghijklmnopqrst.supabase.co/auth/v1";
    assert_eq!(m.issuer, issuer);
    assert_eq!(m.mode, Mode::Proxy);
    assert_eq!(
        endpoints(m),
        [
            Some(format!("{issuer}/oauth/authorize").as_str()),
            Some(format!("{issuer}/oauth/token").as_str()),
            Some(format!("{issuer}/oauth/clients/register").as_str()),
            Some(format!("{issuer}/.well-known/jwks.json").as_str()),
        ]
    );
    assert_eq!(m.scopes_supported, ["openid", "email", "profile", "phone"]);
    assert_eq!(
        m.grant_types_supported,
        ["authorization_code", "refresh_token"]
    );
    let mut no_dcr = SupabaseConfig::for_project("abcdefghijklmnopqrst");
    no_dcr.dynamic_client_registration = false;
    assert_eq!(
        SupabaseProvider::new(no_dcr)
            .expect("provider")
            .metadata()
            .registration_endpoint,
        None
    );
}

#[tokio::test]
async fn proxy_mode_names_this_server_as_the_authorization_server() {
    let project = start_project(json!({"keys": []})).await;
    let server = serve(SupabaseConfig::for_url(project.base()), post(whoami)).await;
    let base = server.base.clone();

    let prm = server
        .get_json("/.well-known/oauth-protected-resource/mcp")
        .await;
    assert_eq!(prm["resource"], format!("{base}/mcp"));
    assert_eq!(prm["authorization_servers"], json!([base]));
    assert_eq!(
        prm["scopes_supported"],
        json!(["openid", "email", "profile", "phone"])
    );

    let asm = server
        .get_json("/.well-known/oauth-authorization-server")
        .await;
    assert_eq!(asm["issuer"], base);
    assert_eq!(asm["authorization_endpoint"], format!("{base}/authorize"));
    assert_eq!(asm["token_endpoint"], format!("{base}/token"));
    assert_eq!(asm["registration_endpoint"], format!("{base}/register"));
    assert_eq!(
        asm["grant_types_supported"],
        json!(["authorization_code", "refresh_token"])
    );
    assert_eq!(asm["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(
        project.discovery_hits(),
        0,
        "proxy mode serves its own document"
    );
}

#[tokio::test]
async fn direct_mode_names_the_supabase_issuer_and_relays_its_metadata() {
    let project = start_project(json!({"keys": []})).await;
    let mut config = SupabaseConfig::for_url(project.base());
    config.mode = Mode::Direct;
    let server = serve(config, post(whoami)).await;

    let prm = server
        .get_json("/.well-known/oauth-protected-resource/mcp")
        .await;
    assert_eq!(prm["authorization_servers"], json!([project.issuer()]));

    let asm = server
        .get_json("/.well-known/oauth-authorization-server")
        .await;
    assert_eq!(asm["issuer"], project.issuer());
    assert_eq!(
        asm["authorization_endpoint"],
        format!("{}/oauth/authorize", project.issuer())
    );
    assert!(project.discovery_hits() >= 1);
}

#[tokio::test]
async fn the_protected_route_needs_a_supabase_token() {
    let project = start_project(json!({"keys": []})).await;
    let mut config = SupabaseConfig::for_url(project.base());
    config.jwt_secret = Some(SupabaseJwtSecret::new(SECRET));
    let addr = serve(config, post(whoami)).await.addr;
    let client = reqwest::Client::new();
    let base = format!("http://{addr}");
    let url = format!("{base}/mcp");

    let resp = client.post(&url).send().await.expect("POST");
    assert_eq!(resp.status(), 401);
    let challenge = mcp_auth_testkit::challenge(&resp);
    assert!(
        challenge.contains(&format!(
            "resource_metadata=\"http://{addr}/.well-known/oauth-protected-resource/mcp\""
        )),
        "{challenge}"
    );

    let token = legacy_token(SECRET, &user_claims(&project.issuer()));
    let resp = call_mcp(&base, &token).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.text().await.expect("body"),
        "8d5c9a52-0d4e-4f4f-9a57-3a1f0c6e2b11 aal1"
    );

    let mut anon = user_claims(&project.issuer());
    anon["aud"] = json!("anon");
    let resp = call_mcp(&base, &legacy_token(SECRET, &anon)).await;
    assert_eq!(resp.status(), 401);
}
