//! The user pools' signing keys: parsed JWKs, the HTTP fetch, and the self-refreshing store.
//!
//! - `key.rs`: one RSA public key, checked and parsed once when its set is loaded.
//! - `key_set.rs`: a JWKS document read into usable keys, skipping the ones that are not.
//! - `fetch.rs`: the HTTP GET, bounded in time and size.
//! - `store.rs`: the key set behind arc-swap, background refresh, single-flight refetch on an
//!   unknown `kid`, cooldown, staleness.
//! - `status.rs`: the snapshot a health endpoint shows.

mod error;
mod fetch;
mod key;
mod key_set;
mod status;
mod store;

pub use error::JwksError;
pub(crate) use fetch::JwksFetcher;
pub(crate) use key::VerifyingKey;
pub(crate) use key_set::KeySet;
pub use status::KeyStoreStatus;
pub(crate) use store::{KeyLookup, KeyStore, RefetchOutcome, RefreshSettings};
