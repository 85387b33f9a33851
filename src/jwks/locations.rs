//! Where a remote key set comes from: the seam for key sources.
//!
//! A [`KeyStore`](super::KeyStore) never talks to a URL itself; it asks its `KeyLocations` for
//! the set and records which location answered. Today a pool has one location: Cognito's JWKS
//! URL, or the override for an emulator. A pool served from several places (its replica
//! regions, or a list the user gives) becomes more fetchers here, tried in order of
//! preference within the one deadline of [`timeout`](KeyLocations::timeout), without a change
//! to the store. Keys given in memory have no locations at all: the store is fixed.

use std::time::Duration;

use super::{
    JwksError,
    fetch::{Fetched, JwksFetcher},
};

/// The locations of one pool's key set.
#[derive(Debug)]
pub(crate) struct KeyLocations {
    primary: JwksFetcher,
}

impl KeyLocations {
    /// One location.
    pub(crate) fn single(fetcher: JwksFetcher) -> Self {
        Self { primary: fetcher }
    }

    /// The URL of the location that serves the set, for the status and logs.
    pub(crate) fn shown_url(&self) -> &str {
        self.primary.shown_url()
    }

    /// The longest one fetch of the set takes, every location tried included: also the longest
    /// a request waits for an unknown-`kid` refetch.
    pub(crate) fn timeout(&self) -> Duration {
        self.primary.timeout()
    }

    /// Fetches the set, conditionally on `etag`.
    pub(crate) async fn fetch(&self, etag: Option<&str>) -> Result<Fetched, JwksError> {
        self.primary.fetch(etag).await
    }
}
