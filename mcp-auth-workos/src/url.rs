//! Turning a configured domain or URL into a base URL (scheme, host, port).

/// The base URL (`https://host[:port]`, no trailing slash) named by `value`: a bare
/// host (`tenant.auth0.com`, `auth.example.com`) or an `https://` URL without a
/// path. Plain `http://` is accepted only for loopback hosts (a local mock server).
pub(crate) fn base_url(value: &str) -> Result<String, String> {
    let trimmed = value.trim().trim_end_matches('/');
    if trimmed.is_empty() {
        return Err("is empty".into());
    }
    let with_scheme = if trimmed.contains("://") {
        trimmed.to_owned()
    } else {
        format!("https://{trimmed}")
    };
    let url =
        url::Url::parse(&with_scheme).map_err(|e| format!("{value:?} is not a domain: {e}"))?;
    let host = url
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| format!("{value:?} names no host"))?;
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        return Err(format!(
            "{value:?} must be a host name (optionally with https://), without a path"
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!("{value:?} must not carry credentials"));
    }
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(host) => {}
        "http" => {
            return Err(format!(
                "{value:?} must use https (plain http is only accepted for localhost)"
            ));
        }
        other => return Err(format!("{value:?} has the unsupported scheme {other:?}")),
    }
    Ok(url.origin().ascii_serialization())
}

fn is_loopback(host: &str) -> bool {
    matches!(host, "localhost" | "127.0.0.1" | "[::1]" | "::1")
}

#[cfg(test)]
mod tests {
    use super::base_url;

    #[test]
    fn bare_domains_and_https_urls() {
        assert_eq!(
            base_url("tenant.auth0.com").as_deref(),
            Ok("https://tenant.auth0.com")
        );
        assert_eq!(
            base_url(" https://Tenant.EU.auth0.com/ ").as_deref(),
            Ok("https://tenant.eu.auth0.com")
        );
        assert_eq!(
            base_url("login.example.com:8443").as_deref(),
            Ok("https://login.example.com:8443")
        );
        assert_eq!(
            base_url("http://127.0.0.1:4000").as_deref(),
            Ok("http://127.0.0.1:4000")
        );
        assert_eq!(
            base_url("http://localhost:4000/").as_deref(),
            Ok("http://localhost:4000")
        );
    }

    #[test]
    fn malformed_values_are_refused() {
        for bad in [
            "",
            "  ",
            "http://tenant.auth0.com",
            "tenant.auth0.com/api",
            "https://tenant.auth0.com/?x=1",
            "ftp://tenant.auth0.com",
            "user:pw@tenant.auth0.com",
            "has space.auth0.com",
        ] {
            assert!(base_url(bad).is_err(), "{bad:?} accepted");
        }
    }
}
