//! The user pools' signing keys: parsed JWKs, where they are fetched from, when, and the
//! self-refreshing store the verifier reads them from.
//!
//! - `key.rs`: one public key, checked and parsed once when its set is loaded, bound to its
//!   [`Algorithm`](crate::Algorithm).
//! - `key_set.rs`: a JWKS document read into usable keys, skipping the ones that are not.
//! - `fetch.rs`: one HTTP GET, bounded in time and size, no redirects.
//! - `locations.rs`: where a pool's set is fetched from, and failover between several
//!   locations of one set.
//! - `schedule.rs`: when to fetch: interval, `max-age`, jitter, backoff, staleness, as pure
//!   functions.
//! - `store.rs`: the key set behind arc-swap, background refresh, single-flight refetch on an
//!   unknown `kid`, cooldown, staleness; what the verifier asks of keys (a key by `kid`
//!   without waiting, a refetch on an unknown one, the error when they are unusable).
//! - `status.rs`: the snapshot a health endpoint shows ([`KeyStoreStatus`]).
//!
//! Public here: [`JwksError`], why a fetch failed (the [`source`](std::error::Error::source)
//! of a [`KeysUnavailable`](crate::ErrorKind::KeysUnavailable) error), [`KeyStoreStatus`] and
//! [`KeyLocationStatus`].
//!
//! # The store
//!
//! Each pool has a store. A token whose `kid` is known takes no lock and never waits on the
//! network: the set sits behind arc-swap and each key was parsed when the set was loaded. An
//! unknown `kid` starts one fetch that every concurrent request shares (10,000 concurrent
//! requests with a new `kid` cause one GET), and after such a fetch unknown `kid`s fail at once
//! for the cooldown, so a flood of random `kid`s causes at most one fetch per cooldown. A
//! background task refreshes the set on the refresh interval (`Cache-Control: max-age` may
//! shorten it), retries a failed fetch with backoff and keeps the last good set until the
//! maximum staleness, after which verification answers 503. It ends when the last handle of
//! the verifier is dropped. [`CognitoVerifier::status`](crate::CognitoVerifier::status) is a
//! snapshot for a health endpoint: usable, keys loaded, last refresh, last error, consecutive
//! failures, and each location. The settings and the reason for each default are on the
//! [builder](crate::CognitoVerifierBuilder).
//!
//! # Which keys are used
//!
//! A JWK of a fetched set is used only when it is an RSA key (`kty`), for signatures (`use`
//! absent or `sig`), for RS256 (`alg` absent or `RS256`), of 2048 to 8192 bits, with an odd
//! exponent from 3 to 2^64 (an exponent of 1 would make every message its own signature). A
//! `kid` listed twice with different keys is trusted for neither. The others are skipped, and
//! [`KeyStoreStatus::skipped_keys`] says why; a document with no usable key is a failed fetch,
//! and the last good keys stay.
//!
//! # Several locations
//!
//! A pool replicated to other regions has one location per region
//! ([`UserPool::replica_regions`](crate::UserPool::replica_regions)), and
//! [`UserPool::jwks_urls`](crate::UserPool::jwks_urls) gives any list. One fetch asks the
//! location that answered last, then the others in order, all within one fetch timeout: the
//! first asked gets half of it, each next one an equal share of what is left, so a hanging
//! region costs its share, not the whole deadline. The set comes whole from one location, never
//! a mix of two, and which set is taken never depends on a token's `kid`; a fetch that an
//! unknown `kid` caused asks the first configured location (the primary region) first, so a
//! rotation it has seen is found at once after a failover. When every location fails, the last
//! good keys serve until the maximum staleness.
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
mod schedule;
mod status;
mod store;

pub use error::JwksError;
#[cfg(feature = "alb")]
pub(crate) use fetch::key_client;
pub(crate) use fetch::{
    JwksFetcher, KeyClient, client_builder, read_capped, redacted_url, request_error,
};
pub(crate) use key::VerifyingKey;
pub(crate) use key_set::KeySet;
pub(crate) use locations::KeyLocations;
pub(crate) use schedule::RefreshSettings;
pub use status::{KeyLocationStatus, KeyStoreStatus};
pub(crate) use store::{KeyLookup, KeyStore, KeysRemoved, RefetchOutcome};
