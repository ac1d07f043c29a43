//! Not public API, no stability: workspace plumbing for the fuzz targets, the
//! tests and the expansions of this crate's macros (`secret_type!`,
//! `jwt_provider_newtype!`). Any release may change or remove it.

pub use crate::oauth::client_auth::{AuthMethod, ClientCredentials};
pub use crate::oauth::client_metadata_document::{
    check_client_id_url, is_allowed_address, parse_document,
};
pub use crate::oauth::registration::is_acceptable_redirect_uri;
pub use crate::secret::fmt_redacted;
pub use serde;
