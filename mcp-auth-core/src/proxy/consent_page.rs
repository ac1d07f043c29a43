//! The consent page of proxy mode (the broker's, and the relay's for clients
//! identified by URL): the client named, where the browser goes back to, what
//! it asks for; approve or deny. Everything the client chose is HTML-escaped.

use crate::oauth::client_metadata_document::{display_name, is_client_id_url, redirect_host};

/// What the consent page shows.
pub(super) struct ConsentView<'a> {
    /// The client's registered name, if any.
    pub client_name: Option<&'a str>,
    /// The client id (a URL for a client identified by its metadata document).
    pub client_id: &'a str,
    /// Whether every redirect URI of the client is on this machine (loopback).
    pub loopback_only: bool,
    /// Where the browser goes back to.
    pub redirect_uri: &'a str,
    /// Requested scopes, if any.
    pub scope: Option<&'a str>,
    /// This server (the issuer).
    pub server: &'a str,
    /// The pending consent's id.
    pub consent_id: &'a str,
    /// The browser's CSRF token.
    pub csrf_token: &'a str,
}

/// The consent page: the client named, the host its redirect URI goes to
/// shown prominently (and the whole URI), a warning for a client that only
/// redirects to this machine, approve or deny.
pub(super) fn page(view: &ConsentView<'_>) -> String {
    let name = display_name(view.client_name.unwrap_or("An unnamed application"));
    let name = name.as_str();
    let identity = if is_client_id_url(view.client_id) {
        format!(
            "<p>The application is identified by its metadata document <code>{}</code>.</p>",
            escape(view.client_id)
        )
    } else {
        format!("<p>Client id <code>{}</code>.</p>", escape(view.client_id))
    };
    let warning = if view.loopback_only {
        "<p><strong>Warning:</strong> this application's redirect URIs are all on your own machine (loopback): approve only if you started this from an application running on this computer.</p>"
    } else {
        ""
    };
    let scope = view.scope.map_or_else(String::new, |s| {
        format!("<p>It asks for: <code>{}</code></p>", escape(s))
    });
    format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Authorize {name_e}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem}}code{{word-break:break-all}}button{{font-size:1rem;margin-right:1rem;padding:.5rem 1.2rem}}</style>
</head><body>
<h1>Authorize {name_e}?</h1>
<p><strong>{name_e}</strong> wants to access <code>{server}</code> on your behalf.</p>
{identity}
<p>After you log in, you will be sent to:</p>
<p style="font-size:1.5rem"><strong>{host}</strong></p>
<p><small><code>{redirect}</code></small></p>
{warning}
{scope}
<p>Only approve if you started this from that application and you trust it.</p>
<form method="post" action="/oauth/consent">
<input type="hidden" name="consent_id" value="{consent}">
<input type="hidden" name="csrf_token" value="{csrf}">
<button type="submit" name="decision" value="approve">Approve</button>
<button type="submit" name="decision" value="deny">Deny</button>
</form>
</body></html>
"#,
        name_e = escape(name),
        host = escape(&redirect_host(view.redirect_uri)),
        server = escape(view.server),
        redirect = escape(view.redirect_uri),
        consent = escape(view.consent_id),
        csrf = escape(view.csrf_token),
    )
}

/// HTML-escapes text for element content and quoted attribute values.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_escapes_what_the_client_chose() {
        let html = page(&ConsentView {
            client_name: Some("<script>alert(1)</script>"),
            client_id: "id\"",
            loopback_only: false,
            redirect_uri: "https://x.example.com/cb?a=1&b=2",
            scope: Some("read"),
            server: "https://mcp.example.com",
            consent_id: "cid",
            csrf_token: "tok",
        });
        assert!(!html.contains("<script>"));
        assert!(html.contains("&lt;script&gt;"));
        assert!(html.contains("https://x.example.com/cb?a=1&amp;b=2"));
        assert!(html.contains(r#"name="csrf_token" value="tok""#));
    }
}
