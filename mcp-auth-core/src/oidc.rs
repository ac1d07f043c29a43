//! Authorization-server metadata of an upstream issuer: OpenID Connect discovery
//! (`{issuer}/.well-known/openid-configuration`) and RFC 8414
//! (`/.well-known/oauth-authorization-server`), fetched once and cached.

use std::sync::Arc;

use serde_json::{Map, Value};
use tokio::sync::OnceCell;

use crate::error::FetchError;
use crate::fetch::Fetcher;

/// The candidate metadata URLs for an issuer, in the order they are tried:
/// OpenID discovery, then RFC 8414 with the issuer's path inserted after the
/// well-known prefix.
pub fn metadata_urls(issuer: &str) -> Vec<String> {
    let trimmed = issuer.trim_end_matches('/');
    let mut urls = vec![format!("{trimmed}/.well-known/openid-configuration")];
    if let Ok(url) = url::Url::parse(issuer) {
        let path = url.path().trim_end_matches('/');
        let origin = url.origin().ascii_serialization();
        urls.push(format!(
            "{origin}/.well-known/oauth-authorization-server{path}"
        ));
    }
    urls
}

/// Every endpoint a metadata document names (`*_endpoint`, `jwks_uri`, and the
/// RFC 8705 `mtls_endpoint_aliases`) must be https, plain http only on a
/// loopback host ([`crate::env::check_secure_url`]): the MCP authorization spec
/// requires every authorization-server endpoint on https, and a document
/// naming one in clear text is refused whole, so no such URL is used here nor
/// passed on to clients. The error names the member.
pub(crate) fn check_endpoints(doc: &Map<String, Value>) -> Result<(), String> {
    let aliases = doc
        .get("mtls_endpoint_aliases")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(name, value)| (format!("mtls_endpoint_aliases.{name}"), value));
    let endpoints = doc
        .iter()
        .filter(|(name, _)| name.ends_with("_endpoint") || *name == "jwks_uri")
        .map(|(name, value)| (name.clone(), value))
        .chain(aliases);
    for (name, value) in endpoints {
        let Some(url) = value.as_str() else {
            return Err(format!("{name} is not a string"));
        };
        crate::env::check_secure_url(url).map_err(|reason| format!("{name} {reason}"))?;
    }
    Ok(())
}

/// An upstream issuer's metadata document, fetched on first use and then cached.
/// A failed fetch is not cached: the next call tries again.
#[derive(Debug)]
pub(crate) struct IssuerMetadata {
    issuer: String,
    fetcher: Fetcher,
    doc: OnceCell<Arc<Map<String, Value>>>,
}

impl IssuerMetadata {
    pub fn new(issuer: impl Into<String>, fetcher: Fetcher) -> Self {
        IssuerMetadata {
            issuer: issuer.into(),
            fetcher,
            doc: OnceCell::new(),
        }
    }

    /// The document; its `issuer` must equal the configured issuer exactly, and
    /// every endpoint it names must pass [`check_endpoints`].
    pub async fn get(&self) -> Result<Arc<Map<String, Value>>, FetchError> {
        self.doc.get_or_try_init(|| self.fetch()).await.cloned()
    }

    async fn fetch(&self) -> Result<Arc<Map<String, Value>>, FetchError> {
        let mut last_err = None;
        for url in metadata_urls(&self.issuer) {
            match self
                .fetcher
                .get_json_object(&url, "authorization server metadata")
                .await
            {
                Ok((doc, _)) => {
                    let found = doc
                        .get("issuer")
                        .and_then(Value::as_str)
                        .unwrap_or_default();
                    if found != self.issuer {
                        return Err(FetchError::IssuerMismatch {
                            url,
                            found: found.to_owned(),
                            expected: self.issuer.clone(),
                        });
                    }
                    if let Err(detail) = check_endpoints(&doc) {
                        return Err(FetchError::InvalidDocument {
                            url,
                            what: "authorization server metadata",
                            detail,
                        });
                    }
                    return Ok(Arc::new(doc));
                }
                Err(e) => {
                    tracing::debug!(%url, error = %e, "metadata candidate failed");
                    last_err = Some(e);
                }
            }
        }
        Err(last_err
            .unwrap_or_else(|| FetchError::BackingOff("no metadata URL could be built".into())))
    }

    /// `jwks_uri` from the document: an https URL (plain http only for a loopback
    /// host, as for the issuer itself).
    pub async fn jwks_uri(&self) -> Result<String, FetchError> {
        let doc = self.get().await?;
        let invalid = |detail: String| FetchError::InvalidDocument {
            url: metadata_urls(&self.issuer).remove(0),
            what: "authorization server metadata",
            detail,
        };
        let uri = doc
            .get("jwks_uri")
            .and_then(Value::as_str)
            .ok_or_else(|| invalid("no jwks_uri".into()))?;
        crate::env::check_secure_url(uri)
            .map_err(|reason| invalid(format!("jwks_uri {reason}")))?;
        Ok(uri.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Map, Value, json};

    use super::{check_endpoints, metadata_urls};

    fn doc(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => unreachable!("test documents are objects"),
        }
    }

    #[test]
    fn every_endpoint_is_https_or_loopback() {
        let ok = doc(json!({
            "issuer": "https://idp.example.com",
            "authorization_endpoint": "https://idp.example.com/authorize",
            "token_endpoint": "http://127.0.0.1:8080/token",
            "jwks_uri": "http://localhost/jwks",
            "mtls_endpoint_aliases": {"token_endpoint": "https://mtls.idp.example.com/token"},
            "op_policy_uri": "http://idp.example.com/policy.html",
        }));
        assert_eq!(check_endpoints(&ok), Ok(()));
        for (member, value) in [
            ("token_endpoint", json!("http://idp.example.com/token")),
            ("userinfo_endpoint", json!("http://10.0.0.8/userinfo")),
            (
                "registration_endpoint",
                json!("ftp://idp.example.com/register"),
            ),
            ("jwks_uri", json!("http://idp.example.com/jwks")),
            ("revocation_endpoint", json!(42)),
            (
                "mtls_endpoint_aliases",
                json!({"token_endpoint": "http://mtls.idp.example.com/token"}),
            ),
        ] {
            let mut bad = ok.clone();
            bad.insert(member.into(), value);
            let err = check_endpoints(&bad).expect_err(member);
            assert!(err.starts_with(member), "{member}: {err}");
        }
    }

    #[test]
    fn candidate_urls() {
        assert_eq!(
            metadata_urls("https://idp.example.com/realms/x"),
            [
                "https://idp.example.com/realms/x/.well-known/openid-configuration",
                "https://idp.example.com/.well-known/oauth-authorization-server/realms/x"
            ]
        );
        assert_eq!(
            metadata_urls("https://t.auth0.com/"),
            [
                "https://t.auth0.com/.well-known/openid-configuration",
                "https://t.auth0.com/.well-known/oauth-authorization-server"
            ]
        );
    }
}
