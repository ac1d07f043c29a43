//! Error types. Each error names what went wrong in terms a user can act on.
//!
//! Errors that reach HTTP clients are turned into responses in one place,
//! the `http::challenge` module; the detailed reason of a refused token is logged
//! with `tracing` and never put in a response body.

use std::time::Duration;

/// Why a bearer token was refused. Logged at `debug`/`info`, never sent to the client:
/// the client only learns `invalid_token`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenRejection {
    /// The token is not three base64url segments with a JSON header and payload.
    #[error("token is not a well-formed JWS compact serialization: {0}")]
    Malformed(String),
    /// The token is larger than the configured maximum.
    #[error("token is {len} bytes, over the {max}-byte limit")]
    TooLarge {
        /// Length of the presented token.
        len: usize,
        /// Configured limit.
        max: usize,
    },
    /// The header names an algorithm outside the verifier's allowlist (this includes `none`).
    #[error("algorithm {0:?} is not in the verifier's allowlist")]
    AlgorithmNotAllowed(String),
    /// The header carries a `crit` parameter; no critical extension is understood.
    #[error("header lists critical extensions {0:?}, none of which is understood")]
    CriticalHeader(String),
    /// No key of the issuer's key set is bound to this `kid` and algorithm.
    #[error("no key with kid {kid:?} is bound to algorithm {alg} in the issuer's key set")]
    UnknownKey {
        /// The `kid` of the token header, if any.
        kid: Option<String>,
        /// The algorithm of the token header.
        alg: String,
    },
    /// The signature does not verify with the selected key.
    #[error("signature does not verify")]
    BadSignature,
    /// `exp` is in the past (beyond the leeway).
    #[error("token expired at {exp} (now {now}, leeway {leeway}s)")]
    Expired {
        /// `exp` claim.
        exp: u64,
        /// Current time.
        now: u64,
        /// Leeway in seconds.
        leeway: u64,
    },
    /// `nbf` is in the future (beyond the leeway).
    #[error("token not valid before {nbf} (now {now}, leeway {leeway}s)")]
    NotYetValid {
        /// `nbf` claim.
        nbf: u64,
        /// Current time.
        now: u64,
        /// Leeway in seconds.
        leeway: u64,
    },
    /// A required claim is absent.
    #[error("required claim {0:?} is missing")]
    MissingClaim(&'static str),
    /// A claim has the wrong JSON type.
    #[error("claim {0:?} has the wrong type")]
    InvalidClaim(&'static str),
    /// `iss` is not the configured issuer.
    #[error("issuer {found:?} is not the expected {expected:?}")]
    WrongIssuer {
        /// What the token says.
        found: String,
        /// What the verifier expects.
        expected: String,
    },
    /// `aud` does not contain any accepted audience.
    #[error("audience {found} does not contain any of {expected:?}")]
    WrongAudience {
        /// The `aud` claim as JSON.
        found: String,
        /// Accepted audiences.
        expected: Vec<String>,
    },
    /// Strict access-token mode: `typ` is not `at+jwt`.
    #[error("header typ {0:?} is not at+jwt (strict access-token mode)")]
    WrongType(Option<String>),
    /// A static API key verifier did not know the key.
    #[error("unknown API key")]
    UnknownApiKey,
    /// A user-supplied verifier refused the token.
    #[error("{0}")]
    Custom(String),
}

/// The outcome of a failed verification.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The token was refused: the client gets 401 `invalid_token`.
    #[error("token refused: {0}")]
    Rejected(#[from] TokenRejection),
    /// The verifier could not obtain the keys it needs (identity provider down and
    /// nothing cached): the client gets 503 with `Retry-After`, not a 401, so an
    /// identity-provider hiccup does not send it into a new login.
    #[error("signing keys unavailable: {source}")]
    KeysUnavailable {
        /// What failed.
        #[source]
        source: std::sync::Arc<FetchError>,
        /// How long the client should wait before retrying.
        retry_after: Duration,
    },
}

/// A failed fetch of a remote document (JWKS, discovery metadata).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    /// The request could not be sent or the connection failed or timed out.
    #[error("request to {url} failed: {source}")]
    Http {
        /// Requested URL.
        url: String,
        /// Underlying error.
        #[source]
        source: reqwest::Error,
    },
    /// The server answered with a non-success status.
    #[error("{url} answered HTTP {status}")]
    Status {
        /// Requested URL.
        url: String,
        /// Status code.
        status: u16,
    },
    /// The body exceeded the size cap.
    #[error("{url} sent more than {limit} bytes; refusing to read further")]
    TooLarge {
        /// Requested URL.
        url: String,
        /// The cap.
        limit: usize,
    },
    /// The body is not the JSON document expected.
    #[error("{url} did not return a valid {what}: {detail}")]
    InvalidDocument {
        /// Requested URL.
        url: String,
        /// What was expected ("JWKS", "OpenID configuration", ...).
        what: &'static str,
        /// Parse error.
        detail: String,
    },
    /// A JWKS parsed, but not one key in it is usable.
    #[error("{url} holds no usable signing key ({skipped} skipped)")]
    NoUsableKeys {
        /// Requested URL.
        url: String,
        /// Number of keys skipped.
        skipped: usize,
    },
    /// A discovery document names a different issuer than the one configured.
    #[error("discovery document at {url} names issuer {found:?}, expected {expected:?}")]
    IssuerMismatch {
        /// Requested URL.
        url: String,
        /// Issuer in the document.
        found: String,
        /// Configured issuer.
        expected: String,
    },
    /// A previous attempt failed recently and the retry back-off has not elapsed.
    #[error("not retrying before the back-off elapses; last error: {0}")]
    BackingOff(String),
    /// The URL is not https (plain http is fetched from loopback hosts only).
    #[error("refusing to fetch {url}: {reason}")]
    InsecureUrl {
        /// Requested URL.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// A configuration error: a missing or malformed setting, named.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// Environment variables that must be set are not.
    #[error("missing environment variable{}: {}", if .0.len() > 1 { "s" } else { "" }, .0.join(", "))]
    MissingVars(Vec<String>),
    /// A variable or setting is present but malformed.
    #[error("{name} is invalid: {reason}")]
    Invalid {
        /// Variable or setting name.
        name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Several problems at once; each is listed.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Several(Vec<ConfigError>),
}

impl ConfigError {
    /// A malformed setting.
    pub fn invalid(name: impl Into<String>, reason: impl Into<String>) -> Self {
        ConfigError::Invalid {
            name: name.into(),
            reason: reason.into(),
        }
    }
}
