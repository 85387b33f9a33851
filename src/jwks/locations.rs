//! Where a remote key set comes from: one location or several, and failover between them.
//!
//! A [`KeyStore`](super::KeyStore) never talks to a URL itself; it asks its `KeyLocations` for
//! the set. A pool has one location (Cognito's JWKS URL, or the override for an emulator) or
//! several that serve one set (its replica regions, or a list the user gave).
//!
//! The rule for several:
//!
//! - One fetch tries them in turn, the one that answered last first, then the others in the
//!   configured order, all within the one deadline of [`timeout`](KeyLocations::timeout): the
//!   first asked gets half of it (all of it when alone), each next one an equal share of what
//!   is left, so a hanging location costs its share, not the whole deadline, and a healthy
//!   but slow first location (a cold cross-region TLS handshake) is not cut short.
//! - Any failure moves on to the next location: connection refused or reset, a timeout, an
//!   HTTP status other than 200 (and 304 to a conditional request), a body over the size
//!   limit, a document without a usable key.
//! - The set comes whole from the one location that answered; two locations' keys are never
//!   mixed into one set. A set that differs from the last one replaces it as any refresh does
//!   (keys that left it stop being trusted; a `kid` listed twice with different keys is
//!   trusted for neither), and the change of location is logged.
//! - A fetch that an unknown `kid` caused asks the first configured location (the primary
//!   region) first, whichever served last: after a failover, a rotation the primary has seen
//!   is found there at once. Which set is taken never depends on whether it holds the `kid`:
//!   the `kid` comes from a token not yet verified, and a set chosen for holding it could be
//!   a lagging replica's that still lists a key the pool removed.
//! - An `ETag` is sent only to the location whose answer the current set is: another
//!   location's 304 would say nothing about it.
//!
//! Keys given in memory have no locations at all: the store is fixed.

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant, SystemTime},
};

use super::{
    JwksError, KeySet,
    fetch::{Fetched, JwksFetcher},
    status::KeyLocationStatus,
};
use crate::lock::lock;

/// The locations of one pool's key set.
#[derive(Debug)]
pub(crate) struct KeyLocations {
    fetchers: Vec<JwksFetcher>,
    /// The deadline of one fetch, every location tried included.
    timeout: Duration,
    state: Mutex<LocationsState>,
}

#[derive(Debug)]
struct LocationsState {
    /// Asked first: the location that answered last.
    preferred: usize,
    /// The location whose answer the current set is.
    serving: Option<usize>,
    each: Vec<LocationState>,
}

#[derive(Debug, Default, Clone)]
struct LocationState {
    fetches: u64,
    last_success: Option<SystemTime>,
    last_error: Option<(SystemTime, Arc<JwksError>)>,
}

/// A fetch's result, and why keys of the document it kept (or the last it read) were skipped.
#[derive(Debug)]
pub(crate) struct LocatedFetch {
    pub(crate) result: Result<Fetched<KeySet>, JwksError>,
    /// `None` when no document was read.
    pub(crate) skipped: Option<Vec<String>>,
}

impl KeyLocations {
    /// These locations, tried in this order at first. `fetchers` must not be empty.
    pub(crate) fn new(fetchers: Vec<JwksFetcher>) -> Self {
        let timeout = fetchers
            .iter()
            .map(JwksFetcher::timeout)
            .max()
            .unwrap_or_default();
        let each = vec![LocationState::default(); fetchers.len()];
        Self {
            fetchers,
            timeout,
            state: Mutex::new(LocationsState {
                preferred: 0,
                serving: None,
                each,
            }),
        }
    }

    /// The URL of the location that serves the current set (before any answer, the first to
    /// be asked), for the status and logs.
    pub(crate) fn shown_url(&self) -> String {
        let state = lock(&self.state);
        let index = state.serving.unwrap_or(state.preferred);
        self.fetchers[index].shown_url().to_owned()
    }

    /// The longest one fetch of the set takes, every location tried included: also the longest
    /// a request waits for an unknown-`kid` refetch.
    pub(crate) fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Each location's state, in the configured order.
    pub(crate) fn status(&self) -> Vec<KeyLocationStatus> {
        let state = lock(&self.state);
        self.fetchers
            .iter()
            .zip(&state.each)
            .enumerate()
            .map(|(index, (fetcher, each))| KeyLocationStatus {
                url: fetcher.shown_url().to_owned(),
                serving: state.serving == Some(index),
                fetches: each.fetches,
                last_success: each.last_success,
                last_error: each.last_error.as_ref().map(|(_, e)| e.to_string()),
                last_error_at: each.last_error.as_ref().map(|(at, _)| *at),
            })
            .collect()
    }

    /// Fetches the set, conditionally on `etag` (from the serving location), failing over as
    /// the module docs say. `for_unknown_kid`: an unknown `kid` caused this fetch.
    pub(crate) async fn fetch(&self, etag: Option<&str>, for_unknown_kid: bool) -> LocatedFetch {
        let started = Instant::now();
        let (order, serving) = {
            let state = lock(&self.state);
            let first = if for_unknown_kid { 0 } else { state.preferred };
            let order: Vec<usize> = std::iter::once(first)
                .chain((0..self.fetchers.len()).filter(|&i| i != first))
                .collect();
            (order, state.serving)
        };
        let mut skipped = None;
        let mut last_error = None;
        for (tried, &index) in order.iter().enumerate() {
            let left = self.timeout.saturating_sub(started.elapsed());
            if left.is_zero() {
                break;
            }
            let share = match (tried, order.len()) {
                (_, 1) => left,
                (0, _) => left / 2,
                (tried, count) => left / u32::try_from(count - tried).unwrap_or(u32::MAX),
            };
            let fetcher = &self.fetchers[index];
            let etag = etag.filter(|_| serving == Some(index));
            let result = fetcher.fetch_within(etag, share).await.and_then(|fetched| {
                let document = fetched.document.map(|body| {
                    let (keys, skipped_here) = KeySet::read(&body);
                    skipped = Some(skipped_here);
                    keys
                });
                Ok(Fetched {
                    document: document.transpose()?,
                    etag: fetched.etag,
                    max_age: fetched.max_age,
                })
            });
            let error = match result {
                Ok(answer) => {
                    self.record(index, None);
                    return LocatedFetch {
                        result: Ok(answer),
                        skipped,
                    };
                }
                Err(error) => Arc::new(error),
            };
            if tried + 1 < order.len() {
                tracing::warn!(url = fetcher.shown_url(), error = %error, "JWKS location failed; trying the next");
            }
            self.record(index, Some(&error));
            last_error = Some(error);
        }
        let error = last_error.map_or(JwksError::Timeout(self.timeout), |e| (*e).clone());
        LocatedFetch {
            result: Err(error),
            skipped,
        }
    }

    /// A fetch from `index` ended with `error`, or well: then the set in use is `index`'s
    /// answer, and `index` is asked first next time.
    fn record(&self, index: usize, error: Option<&Arc<JwksError>>) {
        let mut state = lock(&self.state);
        let each = &mut state.each[index];
        each.fetches += 1;
        let at = SystemTime::now();
        if let Some(error) = error {
            each.last_error = Some((at, Arc::clone(error)));
            return;
        }
        each.last_success = Some(at);
        if let Some(before) = state.serving.filter(|&before| before != index) {
            tracing::warn!(
                from = self.fetchers[before].shown_url(),
                to = self.fetchers[index].shown_url(),
                "JWKS now served by another location"
            );
        }
        state.preferred = index;
        state.serving = Some(index);
    }
}
