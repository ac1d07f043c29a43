//! Typed secrets: one mechanism for every value that must never be printed
//! (client secrets, HMAC keys, API keys, access and refresh tokens).
//!
//! Each secret is its own type, made by [`secret_type!`](crate::secret_type), in
//! the style of the `oauth2` crate: `new`, `secret()` to read it where it is
//! used, `Clone` and `Eq`, a `Debug` that prints only the type name and
//! `[redacted]`, and no `Display`. String secrets (de)serialize as the bare
//! string, so a secret that travels on the wire keeps its wire form.
//!
//! ```
//! use mcp_auth_core::ClientSecret;
//! let secret = ClientSecret::new("s3cr3t");
//! assert_eq!(secret.secret(), "s3cr3t");
//! assert_eq!(format!("{secret:?}"), "ClientSecret([redacted])");
//! ```

/// Writes the redacted form every secret type prints: `Name([redacted])`.
pub fn fmt_redacted(f: &mut std::fmt::Formatter<'_>, name: &str) -> std::fmt::Result {
    write!(f, "{name}([redacted])")
}

/// Defines a secret type over a `String` (`struct Name(String);`, serialized as
/// the bare string) or over bytes (`struct Name([u8]);`, cheap to clone). Used by
/// core and the vendor crates; see the `secret` module docs.
#[doc(hidden)]
#[macro_export]
macro_rules! secret_type {
    ($(#[$meta:meta])* $vis:vis struct $name:ident(String);) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq)]
        $vis struct $name(::std::string::String);

        impl $name {
            /// Wraps a secret.
            pub fn new(secret: impl ::std::convert::Into<::std::string::String>) -> Self {
                $name(secret.into())
            }

            /// The secret itself, for the one place that must send or check it.
            pub fn secret(&self) -> &str {
                &self.0
            }
        }

        impl ::std::fmt::Debug for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                $crate::__private::fmt_redacted(f, stringify!($name))
            }
        }

        impl $crate::__private::serde::Serialize for $name {
            fn serialize<S: $crate::__private::serde::Serializer>(
                &self,
                serializer: S,
            ) -> ::std::result::Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }

        impl<'de> $crate::__private::serde::Deserialize<'de> for $name {
            fn deserialize<D: $crate::__private::serde::Deserializer<'de>>(
                deserializer: D,
            ) -> ::std::result::Result<Self, D::Error> {
                <::std::string::String as $crate::__private::serde::Deserialize>::deserialize(
                    deserializer,
                )
                .map($name)
            }
        }
    };
    ($(#[$meta:meta])* $vis:vis struct $name:ident([u8]);) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq)]
        $vis struct $name(::std::sync::Arc<[u8]>);

        impl $name {
            /// Wraps the secret bytes.
            pub fn new(secret: impl ::std::convert::AsRef<[u8]>) -> Self {
                $name(::std::sync::Arc::from(secret.as_ref()))
            }

            /// The secret bytes, for the one place that must use them.
            pub fn secret(&self) -> &[u8] {
                &self.0
            }

            /// The length of the secret in bytes.
            pub fn len(&self) -> usize {
                self.0.len()
            }

            /// Whether the secret is empty.
            pub fn is_empty(&self) -> bool {
                self.0.is_empty()
            }
        }

        impl ::std::fmt::Debug for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                $crate::__private::fmt_redacted(f, stringify!($name))
            }
        }
    };
}

secret_type! {
    /// An OAuth client secret: of a client pre-registered at the provider, or one
    /// issued by this server's registration endpoint. `Debug` never prints it.
    pub struct ClientSecret(String);
}

secret_type! {
    /// A shared HMAC secret for HS256/384/512. `Debug` never prints it.
    pub struct HmacSecret([u8]);
}

impl HmacSecret {
    /// The shortest secret a verifier accepts: 32 bytes, the output of SHA-256.
    /// HS384 and HS512 need 48 and 64 bytes (RFC 7518 §3.2); a shorter secret is
    /// refused when [`JwtVerifier::new`](crate::jwt::JwtVerifier::new) builds the verifier.
    pub const MIN_BYTES: usize = 32;
}

secret_type! {
    /// The value of an OAuth refresh token. `Debug` never prints it.
    pub struct RefreshTokenSecret(String);
}

secret_type! {
    /// The value of an OAuth authorization code. `Debug` never prints it.
    pub struct AuthorizationCodeSecret(String);
}
