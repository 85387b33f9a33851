//! The user pools' signing keys: parsed JWKs, where they are fetched from, when, and the
//! self-refreshing store the verifier reads them from.
//!
//! - `key.rs`: one public key, checked and parsed once when its set is loaded, bound to its
//!   [`Algorithm`](crate::Algorithm).
//! - `key_set.rs`: a JWKS document read into usable keys, skipping the ones that are not.
//! - `fetch.rs`: one HTTP GET, bounded in time and size, no redirects.
//! - `locations.rs`: where a pool's set is fetched from (the key-source seam), and failover
//!   between several locations of one set.
//! - `schedule.rs`: when to fetch: interval, `max-age`, jitter, backoff, staleness, as pure
//!   functions.
//! - `provider.rs`: what the verification pipeline asks of keys (the seam a per-`kid` key
//!   source plugs into).
//! - `store.rs`: the key set behind arc-swap, background refresh, single-flight refetch on an
//!   unknown `kid`, cooldown, staleness.
//! - `status.rs`: the snapshot a health endpoint shows ([`KeyStoreStatus`]).
//!
//! Public here: [`JwksError`], why a fetch failed (the [`source`](std::error::Error::source)
//! of a [`KeysUnavailable`](crate::ErrorKind::KeysUnavailable) error), [`KeyStoreStatus`] and
//! [`KeyLocationStatus`].
//!
//! ```
//! use axum_cognito::{CognitoVerifier, ErrorKind, jwks::JwksError, test_util::TestIssuer};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let issuer = TestIssuer::start().await;
//! let verifier = issuer.verifier_builder().build().await.unwrap();
//! let status = &verifier.status().pools[0];
//! assert!(status.usable);
//! assert_eq!(status.key_ids, issuer.published_kids());
//!
//! issuer.stop().await; // the JWKS endpoint goes away
//! let error = verifier.refresh().await.unwrap_err();
//! assert_eq!(error.kind(), ErrorKind::KeysUnavailable);
//! let cause = std::error::Error::source(&error).and_then(|e| e.downcast_ref::<JwksError>());
//! assert!(matches!(cause, Some(JwksError::Request(_))));
//! # }
//! ```

mod error;
mod fetch;
mod key;
mod key_set;
mod locations;
mod provider;
mod schedule;
mod status;
mod store;

pub use error::JwksError;
pub(crate) use fetch::{JwksFetcher, key_client, read_capped, request_error, without_userinfo};
pub(crate) use key::VerifyingKey;
pub(crate) use key_set::KeySet;
pub(crate) use locations::KeyLocations;
pub(crate) use provider::{KeyLookup, KeyProvider, RefetchOutcome};
pub(crate) use schedule::RefreshSettings;
pub use status::{KeyLocationStatus, KeyStoreStatus};
pub(crate) use store::{KeyStore, KeysRemoved};
