//! Client ID Metadata Documents (CIMD, the MCP authorization spec's
//! recommended registration since 2025-11-25): a client identifies itself by
//! an https URL, and the document at that URL is its registration.
//!
//! One module for every authorization server of this crate (the dev issuer,
//! the relay and the broker of proxy mode):
//!
//! - [`is_client_id_url`]: which `client_id`s are URLs (an `http(s)://` URL);
//!   any other id is a client registered here, as before.
//! - [`check_client_id_url`]: the URL rules (https, a path, no fragment, no
//!   credentials, no dot segments; plain http only for a loopback host, and
//!   only when this server itself is on loopback).
//! - [`parse_document`]: a pure function from bytes to a validated document or
//!   a typed error (fuzzed and property-tested).
//! - [`ClientMetadataResolver`]: the fetch, guarded against SSRF (no redirects,
//!   connect and total timeouts, a 5 KiB cap read incrementally, a DNS resolver
//!   that only ever hands the connection public addresses), cached per
//!   `Cache-Control` within bounds, failures cached briefly, one fetch per URL
//!   however many requests wait for it; while every fetch slot is taken, a
//!   URL fetched within the maximum TTL gets its last good document.
//!
//! A failure is never redirected anywhere (the redirect URI comes from the
//! document that failed): `/authorize` shows an error page and `/token`
//! answers 401 `invalid_client`; the reason is logged, not sent.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use moka::Expiry;
use serde_json::{Map, Value};
use tokio::sync::Semaphore;

use super::registration;
use super::{ClientInfo, OAuthError};
use crate::error::ConfigError;
use crate::fetch::parse_max_age;

/// Largest document accepted: 5 KiB (read incrementally; never buffered beyond).
pub const MAX_DOCUMENT_BYTES: usize = 5 * 1024;
/// Longest client id URL looked up: 2 KiB.
pub const MAX_CLIENT_ID_URL_BYTES: usize = 2048;
/// Client names are shown with at most this many characters (the rest is cut).
pub const MAX_DISPLAYED_NAME_CHARS: usize = 80;
/// Members that would make the client confidential: a document carrying one
/// is refused (anyone can read the document).
const SECRET_FIELDS: &[&str] = &["client_secret", "client_secret_expires_at"];

/// Why a client id URL or its document cannot be used. The message is for the
/// log; clients only learn that the document was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientMetadataError {
    /// The client id is not a URL this server fetches.
    #[error("client_id {url:?} is not a usable client metadata URL: {reason}")]
    InvalidUrl {
        /// The client id.
        url: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// Plain http for a host that is not loopback, or while this server is not on loopback.
    #[error(
        "client_id {url:?} uses plain http: only https is fetched (http only for a loopback host while this server runs on loopback)"
    )]
    InsecureScheme {
        /// The client id.
        url: String,
    },
    /// The host is, or resolves only to, an address this server never connects to.
    #[error(
        "client_id {url:?}: its host {host} is (or resolves only to) a private, link-local, loopback or otherwise non-public address"
    )]
    ForbiddenAddress {
        /// The client id.
        url: String,
        /// The host.
        host: String,
    },
    /// Connecting or reading failed (DNS, TLS, refused, reset).
    #[error("fetching {url:?} failed: {reason}")]
    Fetch {
        /// The client id.
        url: String,
        /// What failed.
        reason: String,
    },
    /// The fetch took longer than allowed.
    #[error("fetching {url:?} timed out")]
    Timeout {
        /// The client id.
        url: String,
    },
    /// The answer is not `200 OK` (redirects are not followed).
    #[error("fetching {url:?} answered HTTP {status} (200 required, redirects are not followed)")]
    Status {
        /// The client id.
        url: String,
        /// The status.
        status: u16,
    },
    /// The document is larger than [`MAX_DOCUMENT_BYTES`].
    #[error("the document at {url:?} is larger than {MAX_DOCUMENT_BYTES} bytes")]
    TooLarge {
        /// The client id.
        url: String,
    },
    /// The document is not a JSON object.
    #[error("the document at {url:?} is not a JSON object: {detail}")]
    NotJsonObject {
        /// The client id.
        url: String,
        /// The parser's complaint.
        detail: String,
    },
    /// The document's `client_id` differs from its URL.
    #[error(
        "the document at {url:?} names another client_id ({found:?}); they must be equal exactly"
    )]
    ClientIdMismatch {
        /// The client id.
        url: String,
        /// What the document says (cut to 200 characters).
        found: String,
    },
    /// A required member is absent or has the wrong type.
    #[error("the document at {url:?} lacks a valid {field}")]
    MissingField {
        /// The client id.
        url: String,
        /// The member.
        field: &'static str,
    },
    /// A member has a value this server refuses.
    #[error("the document at {url:?} has an unacceptable {field}: {reason}")]
    InvalidField {
        /// The client id.
        url: String,
        /// The member.
        field: &'static str,
        /// Why.
        reason: String,
    },
    /// The document carries a secret: a document anyone can read cannot.
    #[error("the document at {url:?} carries {field}: clients identified by URL are public")]
    SecretField {
        /// The client id.
        url: String,
        /// The member.
        field: &'static str,
    },
    /// Too many documents are being fetched at once; not cached, retry later.
    #[error("too many client metadata documents are being fetched at once ({url:?} not fetched)")]
    Busy {
        /// The client id.
        url: String,
    },
}

impl ClientMetadataError {
    /// The error page `/authorize` shows (never a redirect: the redirect URI
    /// came from the document that failed). The reason goes to the log only.
    pub fn authorize_refusal(&self) -> OAuthError {
        tracing::warn!(error = %self, "client metadata document refused at /authorize");
        OAuthError::invalid_request(
            "the client_id is a URL whose client metadata document cannot be used; the reason is in the authorization server's log",
        )
    }

    /// The 401 `invalid_client` the token endpoint answers. The reason goes to
    /// the log only.
    pub fn token_refusal(&self) -> OAuthError {
        tracing::warn!(error = %self, "client metadata document refused at /token");
        OAuthError::invalid_client("the client metadata document cannot be used")
    }
}

/// Whether `client_id` names a client by URL (`http://` or `https://`): such
/// an id is resolved as a client metadata document (and refused when the URL
/// breaks the rules of [`check_client_id_url`]); any other id is a client
/// registered here.
pub fn is_client_id_url(client_id: &str) -> bool {
    let lower = |prefix: &str| {
        client_id
            .get(..prefix.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(prefix))
    };
    lower("https://") || lower("http://")
}

/// Checks a client id URL: https (plain http only for a loopback host, and only
/// when `loopback_allowed`, i.e. this server itself is on loopback), a host, a
/// path other than `/`, no fragment, no user name or password, no `.` or `..`
/// segment, at most [`MAX_CLIENT_ID_URL_BYTES`], and exactly as a URL parser
/// writes it (so the document's `client_id` can be compared byte for byte). A
/// host that is an IP address must be a public one (or loopback, when allowed).
pub fn check_client_id_url(
    client_id: &str,
    loopback_allowed: bool,
) -> Result<url::Url, ClientMetadataError> {
    let invalid = |reason| ClientMetadataError::InvalidUrl {
        url: cut(client_id),
        reason,
    };
    if client_id.len() > MAX_CLIENT_ID_URL_BYTES {
        return Err(invalid("longer than 2048 bytes"));
    }
    // Dot segments are removed by the parser: look at the raw path.
    let raw_path = client_id
        .split_once("://")
        .and_then(|(_, rest)| rest.find('/').map(|at| &rest[at..]))
        .unwrap_or("");
    let raw_path = raw_path.split(['?', '#']).next().unwrap_or("");
    if raw_path
        .split('/')
        .map(|seg| seg.to_ascii_lowercase().replace("%2e", "."))
        .any(|seg| seg == "." || seg == "..")
    {
        return Err(invalid("a path with . or .. segments"));
    }
    let url = url::Url::parse(client_id).map_err(|_| invalid("not a URL"))?;
    if url.as_str() != client_id {
        return Err(invalid(
            "not in canonical form (lowercase scheme and host, no default port, percent-encoded)",
        ));
    }
    if url.fragment().is_some() {
        return Err(invalid("a fragment"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid("a user name or password"));
    }
    if matches!(url.path(), "" | "/") {
        return Err(invalid("no path"));
    }
    let host = url.host().ok_or_else(|| invalid("no host"))?;
    let loopback_host = crate::env::is_loopback(&url);
    match url.scheme() {
        "https" => {}
        "http" if loopback_host && loopback_allowed => {}
        "http" => {
            return Err(ClientMetadataError::InsecureScheme {
                url: cut(client_id),
            });
        }
        _ => return Err(invalid("not an http(s) URL")),
    }
    let literal = match host {
        url::Host::Ipv4(ip) => Some(IpAddr::V4(ip)),
        url::Host::Ipv6(ip) => Some(IpAddr::V6(ip)),
        url::Host::Domain(_) => None,
    };
    let forbidden = match literal {
        Some(ip) => !is_allowed_address(ip, loopback_allowed),
        // `localhost` resolves to loopback addresses: the resolver refuses
        // them too, this only says so early.
        None => loopback_host && !loopback_allowed,
    };
    if forbidden {
        return Err(ClientMetadataError::ForbiddenAddress {
            url: cut(client_id),
            host: url.host_str().unwrap_or_default().to_owned(),
        });
    }
    Ok(url)
}

/// Whether this server may connect to `ip` to fetch a document: a public
/// unicast address, or a loopback one when `loopback_allowed`. Never private
/// (RFC 1918, unique local), shared (100.64/10), link-local, unspecified,
/// multicast, broadcast, documentation or benchmarking ranges, nor an
/// IPv4-mapped, IPv4-translated, NAT64 or 6to4 form of one; never local-use
/// NAT64 nor Teredo.
pub fn is_allowed_address(ip: IpAddr, loopback_allowed: bool) -> bool {
    match ip {
        IpAddr::V4(v4) => is_allowed_v4(v4, loopback_allowed),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_allowed_v4(v4, loopback_allowed);
            }
            let s = v6.segments();
            let embedded = |hi: u16, lo: u16| {
                let [a, b] = hi.to_be_bytes();
                let [c, d] = lo.to_be_bytes();
                is_allowed_v4(Ipv4Addr::new(a, b, c, d), loopback_allowed)
            };
            // NAT64 (64:ff9b::/96) and IPv4-translated addresses
            // (::ffff:0:0/96) end with an IPv4 address; 6to4 (2002::/16)
            // carries one after its prefix.
            if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] || s[..6] == [0, 0, 0, 0, 0xffff, 0] {
                return embedded(s[6], s[7]);
            }
            if s[0] == 0x2002 {
                return embedded(s[1], s[2]);
            }
            // Local-use NAT64 (64:ff9b:1::/48, RFC 8215) reaches whatever
            // IPv4 network the operator chose; Teredo (2001::/32) tunnels to
            // any address.
            let local_nat64 = s[..3] == [0x64, 0xff9b, 1];
            let teredo = s[..2] == [0x2001, 0];
            if local_nat64 || teredo {
                return false;
            }
            if v6.is_loopback() {
                return loopback_allowed;
            }
            let unique_local = (s[0] & 0xfe00) == 0xfc00;
            let link_local = (s[0] & 0xffc0) == 0xfe80;
            let site_local = (s[0] & 0xffc0) == 0xfec0;
            let documentation = s[0] == 0x2001 && s[1] == 0x0db8;
            let ipv4_compatible = s[..6] == [0; 6];
            !(v6.is_unspecified()
                || v6.is_multicast()
                || unique_local
                || link_local
                || site_local
                || documentation
                || ipv4_compatible)
        }
    }
}

fn is_allowed_v4(ip: Ipv4Addr, loopback_allowed: bool) -> bool {
    if ip.is_loopback() {
        return loopback_allowed;
    }
    let [a, b, c, _] = ip.octets();
    let shared = a == 100 && (64..128).contains(&b);
    let this_network = a == 0;
    let benchmarking = a == 198 && (b == 18 || b == 19);
    let protocol_assignments = a == 192 && b == 0 && c == 0;
    let reserved = a >= 240;
    !(ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_multicast()
        || ip.is_broadcast()
        || ip.is_documentation()
        || shared
        || this_network
        || benchmarking
        || protocol_assignments
        || reserved)
}

/// A client's metadata document, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientMetadataDocument {
    /// The client id: the document's URL.
    pub client_id: String,
    /// The client's name, control and format characters removed, cut to
    /// [`MAX_DISPLAYED_NAME_CHARS`] characters.
    pub client_name: String,
    /// Its redirect URIs (https, or http on a loopback host; at most 8).
    pub redirect_uris: Vec<String>,
    /// `authorization_code`, and `refresh_token` unless the document leaves it out.
    pub grant_types: Vec<String>,
    /// The scopes it asks for by default, if any.
    pub scope: Option<String>,
}

impl ClientMetadataDocument {
    /// The client as the authorization servers of this crate see it: public
    /// (`none`, no secret), never stored.
    pub fn client_info(&self) -> ClientInfo {
        ClientInfo {
            client_id: self.client_id.clone(),
            client_secret: None,
            redirect_uris: self.redirect_uris.clone(),
            grant_types: self.grant_types.clone(),
            token_endpoint_auth_method: "none".into(),
            client_name: Some(self.client_name.clone()),
            scope: self.scope.clone(),
            client_id_issued_at: 0,
        }
    }
}

/// Parses and validates the document fetched from `url` (the client id):
/// at most [`MAX_DOCUMENT_BYTES`]; a JSON object; `client_id` equal to `url`
/// exactly; a `client_name` (cleaned as at registration, cut for display);
/// `redirect_uris` as registration accepts them; no `client_secret` nor
/// `client_secret_expires_at`; `token_endpoint_auth_method` absent or `none`;
/// `grant_types`, if given, among `authorization_code` and `refresh_token`
/// and including the former; `response_types`, if given, only `code`.
///
/// A pure function of its input (no I/O), for fuzzing and property tests.
pub fn parse_document(
    url: &str,
    body: &[u8],
) -> Result<ClientMetadataDocument, ClientMetadataError> {
    let u = || cut(url);
    if body.len() > MAX_DOCUMENT_BYTES {
        return Err(ClientMetadataError::TooLarge { url: u() });
    }
    let doc: Map<String, Value> = match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => map,
        Ok(_) => {
            return Err(ClientMetadataError::NotJsonObject {
                url: u(),
                detail: "a JSON value other than an object".into(),
            });
        }
        Err(e) => {
            return Err(ClientMetadataError::NotJsonObject {
                url: u(),
                detail: e.to_string(),
            });
        }
    };
    match doc.get("client_id") {
        Some(Value::String(id)) if id == url => {}
        Some(Value::String(id)) => {
            return Err(ClientMetadataError::ClientIdMismatch {
                url: u(),
                found: id.chars().take(200).collect(),
            });
        }
        _ => {
            return Err(ClientMetadataError::MissingField {
                url: u(),
                field: "client_id",
            });
        }
    }
    if let Some(field) = SECRET_FIELDS.iter().find(|f| doc.contains_key(**f)) {
        return Err(ClientMetadataError::SecretField { url: u(), field });
    }
    let invalid = |field: &'static str, reason: String| ClientMetadataError::InvalidField {
        url: u(),
        field,
        reason,
    };
    match doc.get("token_endpoint_auth_method") {
        None => {}
        Some(Value::String(m)) if m == "none" => {}
        Some(other) => {
            return Err(invalid(
                "token_endpoint_auth_method",
                format!(
                    "{} (clients identified by URL are public: none)",
                    short(other)
                ),
            ));
        }
    }
    let missing = |field| ClientMetadataError::MissingField { url: u(), field };
    let name = doc
        .get("client_name")
        .and_then(Value::as_str)
        .ok_or_else(|| missing("client_name"))?;
    let client_name = registration::client_name(Some(name))
        .map_err(|e| invalid("client_name", e.description))?
        .ok_or_else(|| missing("client_name"))?;
    let client_name = display_name(&client_name);
    let redirect_uris = strings(&doc, "redirect_uris")
        .map_err(|reason| invalid("redirect_uris", reason))?
        .ok_or_else(|| missing("redirect_uris"))?;
    let redirect_uris = registration::redirect_uris(Some(&redirect_uris))
        .map_err(|e| invalid("redirect_uris", e.description))?;
    let grant_types = match strings(&doc, "grant_types").map_err(|r| invalid("grant_types", r))? {
        None => vec!["authorization_code".to_owned(), "refresh_token".to_owned()],
        Some(grants) => {
            if let Some(bad) = grants
                .iter()
                .find(|g| !matches!(g.as_str(), "authorization_code" | "refresh_token"))
            {
                return Err(invalid(
                    "grant_types",
                    format!(
                        "{} is not served to clients identified by URL",
                        short(&Value::from(bad.as_str()))
                    ),
                ));
            }
            if !grants.iter().any(|g| g == "authorization_code") {
                return Err(invalid(
                    "grant_types",
                    "authorization_code is missing".into(),
                ));
            }
            let mut grants = grants;
            grants.dedup();
            grants
        }
    };
    if let Some(types) =
        strings(&doc, "response_types").map_err(|r| invalid("response_types", r))?
        && types.iter().any(|t| t != "code")
    {
        return Err(invalid("response_types", "only code is supported".into()));
    }
    let scope = match doc.get("scope") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => {
            registration::scope(Some(s)).map_err(|e| invalid("scope", e.description))?
        }
        Some(other) => {
            return Err(invalid(
                "scope",
                format!("{} is not a string", short(other)),
            ));
        }
    };
    Ok(ClientMetadataDocument {
        client_id: url.to_owned(),
        client_name,
        redirect_uris,
        grant_types,
        scope,
    })
}

/// A member that must be an array of strings: `Ok(None)` when absent.
fn strings(doc: &Map<String, Value>, field: &str) -> Result<Option<Vec<String>>, String> {
    match doc.get(field) {
        None => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| format!("{} is not a string", short(v)))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(other) => Err(format!("{} is not an array of strings", short(other))),
    }
}

/// A JSON value for a log line, cut.
fn short(v: &Value) -> String {
    let text = v.to_string();
    text.chars().take(80).collect()
}

/// A URL for a log line, cut.
fn cut(url: &str) -> String {
    url.chars().take(200).collect()
}

/// A name as consent pages show it: at most [`MAX_DISPLAYED_NAME_CHARS`]
/// characters, `…` when cut.
pub fn display_name(name: &str) -> String {
    if name.chars().count() <= MAX_DISPLAYED_NAME_CHARS {
        return name.to_owned();
    }
    // The ellipsis counts: the name shown is never longer than the cap.
    let shown: String = name.chars().take(MAX_DISPLAYED_NAME_CHARS - 1).collect();
    format!("{}…", shown.trim_end())
}

/// The host (and port, if any) of a redirect URI, as consent pages show it
/// prominently; the whole URI when it has no host.
pub fn redirect_host(redirect_uri: &str) -> String {
    match url::Url::parse(redirect_uri) {
        Ok(url) => match (url.host_str(), url.port()) {
            (Some(host), Some(port)) => format!("{host}:{port}"),
            (Some(host), None) => host.to_owned(),
            (None, _) => redirect_uri.to_owned(),
        },
        Err(_) => redirect_uri.to_owned(),
    }
}

/// Whether every redirect URI goes to this machine (a loopback host): anyone
/// can publish a document naming loopback URIs, so consent pages warn that the
/// application is whatever runs on the user's machine.
pub fn all_loopback(redirect_uris: &[String]) -> bool {
    !redirect_uris.is_empty()
        && redirect_uris
            .iter()
            .all(|u| url::Url::parse(u).is_ok_and(|url| crate::env::is_loopback(&url)))
}

/// Limits and cache settings of a [`ClientMetadataResolver`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClientMetadataConfig {
    /// Connecting gives up after this long. Default 3 s.
    pub connect_timeout: Duration,
    /// A whole fetch gives up after this long. Default 5 s.
    pub timeout: Duration,
    /// How long a document without `Cache-Control: max-age` is cached. Default 5 min.
    pub default_ttl: Duration,
    /// The longest a document is cached, whatever its `max-age`. Default 1 h.
    pub max_ttl: Duration,
    /// How long a failure (fetch or validation) is remembered, so a failing
    /// URL is not fetched on every request. Default 30 s.
    pub negative_ttl: Duration,
    /// At most this many documents and failures are cached (the least used go
    /// first), and as many last good documents are kept. Default 1,000 (at
    /// most about 10 MiB of documents).
    pub max_entries: u64,
    /// At most this many fetches run at once; beyond, a request is refused
    /// (not cached) until one ends, unless its document was fetched within
    /// `max_ttl` (that document is used). Default 32.
    pub max_concurrent_fetches: usize,
    /// Whether documents may be fetched over plain http from loopback hosts,
    /// and from loopback addresses at all: only when this server's own
    /// resource URL is a loopback one (local development and tests). Set by
    /// [`ClientMetadataConfig::for_resource`].
    pub loopback_allowed: bool,
}

impl Default for ClientMetadataConfig {
    fn default() -> Self {
        ClientMetadataConfig {
            connect_timeout: Duration::from_secs(3),
            timeout: Duration::from_secs(5),
            default_ttl: Duration::from_secs(300),
            max_ttl: Duration::from_secs(3600),
            negative_ttl: Duration::from_secs(30),
            max_entries: 1_000,
            max_concurrent_fetches: 32,
            loopback_allowed: false,
        }
    }
}

impl ClientMetadataConfig {
    /// The defaults, with loopback allowed exactly when `resource` (this
    /// server's resource URL) is on a loopback host.
    pub fn for_resource(resource: &str) -> Self {
        ClientMetadataConfig {
            loopback_allowed: url::Url::parse(resource).is_ok_and(|u| crate::env::is_loopback(&u)),
            ..Self::default()
        }
    }
}

/// A cached resolution: the document or the failure, for how long.
#[derive(Clone)]
struct Cached {
    result: Result<Arc<ClientMetadataDocument>, ClientMetadataError>,
    ttl: Duration,
}

struct CachedExpiry;

impl Expiry<String, Cached> for CachedExpiry {
    fn expire_after_create(&self, _key: &String, value: &Cached, _at: Instant) -> Option<Duration> {
        Some(value.ttl)
    }
}

/// A DNS resolver that hands the connection only addresses
/// [`is_allowed_address`] accepts: the check and the connection use the same
/// addresses, so a name that resolves to a public address for a check and to
/// a private one for the connection (DNS rebinding) gets nowhere.
struct PublicAddresses {
    loopback_allowed: bool,
}

impl reqwest::dns::Resolve for PublicAddresses {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let loopback_allowed = self.loopback_allowed;
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| is_allowed_address(a.ip(), loopback_allowed))
                .collect();
            if addrs.is_empty() {
                return Err(
                    Box::new(ForbiddenHost(host)) as Box<dyn std::error::Error + Send + Sync>
                );
            }
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// The resolver's refusal, recognised in the error chain.
#[derive(Debug, thiserror::Error)]
#[error("{0} resolves to no public address")]
struct ForbiddenHost(String);

/// Fetches, validates and caches client metadata documents. Cheap to share
/// (`Arc`); one per authorization server.
pub struct ClientMetadataResolver {
    http: reqwest::Client,
    config: ClientMetadataConfig,
    cache: moka::future::Cache<String, Cached>,
    /// The last document fetched for each URL, for `max_ttl` after its fetch:
    /// served when every fetch slot is taken, so slow documents of an
    /// attacker (which hold the slots up to the timeout) cannot lock out the
    /// clients already known.
    last_good: moka::future::Cache<String, Arc<ClientMetadataDocument>>,
    fetches: Semaphore,
}

impl std::fmt::Debug for ClientMetadataResolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientMetadataResolver")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl ClientMetadataResolver {
    /// A resolver with `config`.
    pub fn new(config: ClientMetadataConfig) -> Result<Self, ConfigError> {
        let http = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .timeout(config.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .dns_resolver(Arc::new(PublicAddresses {
                loopback_allowed: config.loopback_allowed,
            }))
            .user_agent(concat!("mcp-auth/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ConfigError::invalid("client metadata HTTP client", e.to_string()))?;
        let cache = moka::future::Cache::builder()
            .max_capacity(config.max_entries)
            .expire_after(CachedExpiry)
            .build();
        let last_good = moka::future::Cache::builder()
            .max_capacity(config.max_entries)
            .time_to_live(config.max_ttl)
            .build();
        Ok(ClientMetadataResolver {
            http,
            last_good,
            fetches: Semaphore::new(config.max_concurrent_fetches),
            config,
            cache,
        })
    }

    /// The settings.
    pub fn config(&self) -> &ClientMetadataConfig {
        &self.config
    }

    /// The validated document of `client_id` (an https URL with a path): from
    /// the cache, else fetched once however many requests wait for it.
    pub async fn resolve(
        &self,
        client_id: &str,
    ) -> Result<Arc<ClientMetadataDocument>, ClientMetadataError> {
        let url = check_client_id_url(client_id, self.config.loopback_allowed)?;
        self.cache
            .get_with_by_ref(client_id, self.load(url))
            .await
            .result
    }

    /// The client of `client_id` as [`ClientInfo`], or the refusal.
    pub async fn client(&self, client_id: &str) -> Result<ClientInfo, ClientMetadataError> {
        self.resolve(client_id).await.map(|doc| doc.client_info())
    }

    async fn load(&self, url: url::Url) -> Cached {
        let Ok(_permit) = self.fetches.try_acquire() else {
            if let Some(doc) = self.last_good.get(url.as_str()).await {
                tracing::warn!(client_id = %url, "every client metadata fetch slot is taken: the last document fetched is used");
                return Cached {
                    result: Ok(doc),
                    ttl: Duration::ZERO,
                };
            }
            return Cached {
                result: Err(ClientMetadataError::Busy {
                    url: cut(url.as_str()),
                }),
                ttl: Duration::ZERO,
            };
        };
        match self.fetch(&url).await {
            Ok((doc, max_age)) => {
                let ttl = max_age
                    .map_or(self.config.default_ttl, Duration::from_secs)
                    .min(self.config.max_ttl);
                tracing::debug!(client_id = %url, ttl = ?ttl, "client metadata document fetched");
                let doc = Arc::new(doc);
                self.last_good
                    .insert(url.as_str().to_owned(), Arc::clone(&doc))
                    .await;
                Cached {
                    result: Ok(doc),
                    ttl,
                }
            }
            Err(error) => {
                // A document withdrawn or broken is not served stale either.
                self.last_good.invalidate(url.as_str()).await;
                Cached {
                    result: Err(error),
                    ttl: self.config.negative_ttl,
                }
            }
        }
    }

    async fn fetch(
        &self,
        url: &url::Url,
    ) -> Result<(ClientMetadataDocument, Option<u64>), ClientMetadataError> {
        let id = url.as_str();
        let failed = |e: reqwest::Error| request_error(id, &e);
        let mut resp = self
            .http
            .get(url.clone())
            .header(http::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(failed)?;
        if resp.status() != http::StatusCode::OK {
            return Err(ClientMetadataError::Status {
                url: cut(id),
                status: resp.status().as_u16(),
            });
        }
        if resp
            .content_length()
            .is_some_and(|len| len > MAX_DOCUMENT_BYTES as u64)
        {
            return Err(ClientMetadataError::TooLarge { url: cut(id) });
        }
        let max_age = resp
            .headers()
            .get(http::header::CACHE_CONTROL)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_max_age);
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(failed)? {
            if body.len() + chunk.len() > MAX_DOCUMENT_BYTES {
                return Err(ClientMetadataError::TooLarge { url: cut(id) });
            }
            body.extend_from_slice(&chunk);
        }
        Ok((parse_document(id, &body)?, max_age))
    }
}

/// A reqwest failure as a typed error: the resolver's refusal, a timeout, or
/// any other failure with its causes.
fn request_error(url: &str, error: &reqwest::Error) -> ClientMetadataError {
    let mut source: Option<&dyn std::error::Error> = Some(error);
    while let Some(e) = source {
        if let Some(ForbiddenHost(host)) = e.downcast_ref::<ForbiddenHost>() {
            return ClientMetadataError::ForbiddenAddress {
                url: cut(url),
                host: host.clone(),
            };
        }
        source = e.source();
    }
    if error.is_timeout() {
        return ClientMetadataError::Timeout { url: cut(url) };
    }
    let mut reason = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(e) = source {
        reason.push_str(": ");
        reason.push_str(&e.to_string());
        source = e.source();
    }
    ClientMetadataError::Fetch {
        url: cut(url),
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const URL: &str = "https://app.example.com/oauth/client.json";

    fn doc(extra: serde_json::Value) -> Vec<u8> {
        let mut base = serde_json::json!({
            "client_id": URL,
            "client_name": "Example App",
            "redirect_uris": ["https://app.example.com/cb", "http://127.0.0.1:33418/cb"],
        });
        if let (Some(b), Some(e)) = (base.as_object_mut(), extra.as_object()) {
            for (k, v) in e {
                b.insert(k.clone(), v.clone());
            }
        }
        serde_json::to_vec(&base).expect("json")
    }

    #[test]
    fn a_valid_document_is_a_public_client() {
        let parsed = parse_document(
            URL,
            &doc(serde_json::json!({"token_endpoint_auth_method": "none"})),
        )
        .expect("valid");
        let client = parsed.client_info();
        assert_eq!(client.client_id, URL);
        assert_eq!(client.client_secret, None);
        assert_eq!(client.token_endpoint_auth_method, "none");
        assert_eq!(client.grant_types, ["authorization_code", "refresh_token"]);
    }

    #[test]
    fn each_document_rule_has_its_error() {
        let err = |extra| parse_document(URL, &doc(extra)).expect_err("refused");
        assert!(matches!(
            err(serde_json::json!({"client_id": "https://app.example.com/other.json"})),
            ClientMetadataError::ClientIdMismatch { .. }
        ));
        assert!(matches!(
            err(serde_json::json!({"client_secret": "s"})),
            ClientMetadataError::SecretField {
                field: "client_secret",
                ..
            }
        ));
        assert!(matches!(
            err(serde_json::json!({"client_secret_expires_at": 0})),
            ClientMetadataError::SecretField { .. }
        ));
        assert!(matches!(
            err(serde_json::json!({"token_endpoint_auth_method": "private_key_jwt"})),
            ClientMetadataError::InvalidField {
                field: "token_endpoint_auth_method",
                ..
            }
        ));
        assert!(matches!(
            err(serde_json::json!({"client_name": "\u{202e}"})),
            ClientMetadataError::MissingField {
                field: "client_name",
                ..
            }
        ));
        assert!(matches!(
            err(serde_json::json!({"redirect_uris": ["http://evil.example.com/cb"]})),
            ClientMetadataError::InvalidField {
                field: "redirect_uris",
                ..
            }
        ));
        assert!(matches!(
            err(serde_json::json!({"grant_types": ["client_credentials"]})),
            ClientMetadataError::InvalidField {
                field: "grant_types",
                ..
            }
        ));
        assert!(matches!(
            err(serde_json::json!({"response_types": ["token"]})),
            ClientMetadataError::InvalidField {
                field: "response_types",
                ..
            }
        ));
        assert!(matches!(
            parse_document(URL, b"[1]"),
            Err(ClientMetadataError::NotJsonObject { .. })
        ));
        assert!(matches!(
            parse_document(URL, &vec![b' '; MAX_DOCUMENT_BYTES + 1]),
            Err(ClientMetadataError::TooLarge { .. })
        ));
    }

    #[test]
    fn names_are_cleaned_and_cut_for_display() {
        let long = "N".repeat(300);
        let parsed = parse_document(
            URL,
            &doc(serde_json::json!({"client_name": format!("Ev\u{202e}il{long}")})),
        )
        .expect("valid");
        assert!(parsed.client_name.starts_with("EvilN"));
        assert_eq!(
            parsed.client_name.chars().count(),
            MAX_DISPLAYED_NAME_CHARS,
            "the ellipsis counts"
        );
        assert!(parsed.client_name.ends_with('…'));
    }

    #[test]
    fn client_id_url_rules() {
        let ok = |u: &str, lb| check_client_id_url(u, lb).is_ok();
        assert!(ok(URL, false));
        assert!(!ok("https://app.example.com", false), "no path");
        assert!(!ok("https://app.example.com/", false), "no path");
        assert!(!ok("https://app.example.com/a#f", false), "fragment");
        assert!(!ok("https://u:p@app.example.com/a", false), "credentials");
        assert!(!ok("https://app.example.com/a/../b", false), "dot segment");
        assert!(!ok("https://APP.example.com/a", false), "not canonical");
        assert!(matches!(
            check_client_id_url("http://app.example.com/c.json", true),
            Err(ClientMetadataError::InsecureScheme { .. })
        ));
        assert!(matches!(
            check_client_id_url("http://127.0.0.1:8080/c.json", false),
            Err(ClientMetadataError::InsecureScheme { .. })
        ));
        assert!(ok("http://127.0.0.1:8080/c.json", true));
        for private in [
            "https://10.0.0.1/c.json",
            "https://192.168.1.1/c.json",
            "https://172.16.0.1/c.json",
            "https://169.254.169.254/latest/meta-data",
            "https://[fd00::1]/c.json",
            "https://[fe80::1]/c.json",
            "https://[::ffff:a00:1]/c.json",
            "https://0.0.0.0/c.json",
            "https://127.0.0.1/c.json",
            "https://localhost/c.json",
        ] {
            assert!(
                matches!(
                    check_client_id_url(private, false),
                    Err(ClientMetadataError::ForbiddenAddress { .. })
                ),
                "{private}"
            );
        }
        assert!(ok("https://93.184.215.14/c.json", false));
    }

    #[test]
    fn ipv6_forms_that_reach_ipv4_networks_are_checked_or_refused() {
        let allowed = |s: &str| is_allowed_address(s.parse().expect("ip"), false);
        // 6to4 and IPv4-translated addresses embed an IPv4 address: a private
        // one is refused, a public one is not.
        assert!(!allowed("2002:a00:1::1"), "6to4 of 10.0.0.1");
        assert!(!allowed("2002:a9fe:a9fe::"), "6to4 of 169.254.169.254");
        assert!(allowed("2002:5db8:d70e::1"), "6to4 of a public address");
        assert!(!allowed("::ffff:0:a00:1"), "IPv4-translated 10.0.0.1");
        assert!(!allowed("::ffff:0:7f00:1"), "IPv4-translated 127.0.0.1");
        // Local-use NAT64 (RFC 8215) translates to whatever the network
        // chooses, private networks included; Teredo tunnels to any address.
        assert!(!allowed("64:ff9b:1::a00:1"), "local-use NAT64");
        assert!(!allowed("64:ff9b:1:ffff::5db8:d70e"), "local-use NAT64");
        assert!(!allowed("2001:0:4136:e378:8000:63bf:3fff:fdd2"), "Teredo");
        assert!(allowed("2001:4860:4860::8888"), "a public address");
        assert!(
            matches!(
                check_client_id_url("https://[2002:c0a8:101::]/c.json", false),
                Err(ClientMetadataError::ForbiddenAddress { .. })
            ),
            "6to4 of 192.168.1.1 as a literal host"
        );
    }

    #[tokio::test]
    async fn the_resolver_hands_out_loopback_addresses_only_when_allowed() {
        use reqwest::dns::Resolve as _;
        let name = |n: &str| n.parse::<reqwest::dns::Name>().expect("name");
        let strict = PublicAddresses {
            loopback_allowed: false,
        };
        assert!(strict.resolve(name("localhost")).await.is_err());
        let local = PublicAddresses {
            loopback_allowed: true,
        };
        let addrs: Vec<SocketAddr> = local
            .resolve(name("localhost"))
            .await
            .expect("loopback allowed")
            .collect();
        assert!(!addrs.is_empty() && addrs.iter().all(|a| a.ip().is_loopback()));
    }

    #[test]
    fn only_http_urls_are_client_id_urls() {
        assert!(is_client_id_url(URL));
        assert!(is_client_id_url("HTTP://x/y"));
        assert!(!is_client_id_url("Zk3c9aQ"));
        assert!(!is_client_id_url("urn:x"));
    }

    #[test]
    fn redirect_hosts_and_loopback_warning() {
        assert_eq!(
            redirect_host("https://app.example.com/cb?x=1"),
            "app.example.com"
        );
        assert_eq!(
            redirect_host("http://127.0.0.1:33418/cb"),
            "127.0.0.1:33418"
        );
        assert!(all_loopback(&[
            "http://127.0.0.1:1/cb".into(),
            "http://localhost/cb".into()
        ]));
        assert!(!all_loopback(&[
            "http://127.0.0.1:1/cb".into(),
            "https://a.example/cb".into()
        ]));
    }
}
