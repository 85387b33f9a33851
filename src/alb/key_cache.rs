//! The load balancer keys, one per `kid`, fetched on first use.
//!
//! - A known `kid` is a lookup in a bounded map ([`quick_cache`], which evicts the least
//!   recently and least frequently used): no lock held across an await, no network, so a
//!   token of a known key never waits behind fetches of others.
//! - A `kid` not known is fetched once: concurrent requests for it join the one fetch in flight
//!   (single flight), which runs in a task of its own, so a request that gives up does not
//!   cancel it for the others.
//! - A fetch that found no key, or failed, is remembered for the cooldown: requests for that
//!   `kid` are answered at once without a new fetch.
//! - Fetches of `kid`s not yet known share a global [`Budget`] of fetches per window: a `kid`
//!   beyond it is answered at once (503) until the window ends, so a flood of random `kid`s
//!   causes at most the budget's number of fetches per window (twice that where two windows
//!   meet).

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use quick_cache::sync::Cache;

use super::{
    key_fetch::{KeyFetch, KeyFetcher},
    key_id::AlbKeyId,
    public_key::AlbPublicKey,
};
use crate::{
    budget::{Budget, Refill, now_ms},
    error::{Error, ErrorKind},
    jwks::JwksError,
    single_flight::{Flight, SingleFlight},
};

/// How many failed `kid`s are remembered: far more than the fetch budget lets fail per
/// cooldown.
const REMEMBERED_FAILURES: usize = 1024;

/// A key's place: which key location (one per region, or the configured override), which
/// `kid`.
pub(crate) type KeySlot = (u16, AlbKeyId);

/// Why a `kid` has no key, until when this is believed.
#[derive(Debug, Clone)]
struct Failure {
    until: Instant,
    cause: Option<Arc<JwksError>>,
}

type Outcome = Result<Arc<AlbPublicKey>, Failure>;

/// The settings of [`AlbKeys`].
#[derive(Debug)]
pub(crate) struct KeyCacheSettings {
    pub(crate) capacity: usize,
    pub(crate) cooldown: Duration,
    pub(crate) fetches_per_window: u32,
    pub(crate) window: Duration,
}

/// The keys of a verifier's load balancers.
pub(crate) struct AlbKeys {
    /// Key URLs, `{kid}` standing for the key id, by location.
    templates: Vec<String>,
    fetcher: KeyFetcher,
    keys: Cache<KeySlot, Arc<AlbPublicKey>>,
    failures: Cache<KeySlot, Failure>,
    fetches: Arc<SingleFlight<KeySlot, Outcome>>,
    budget: Budget,
    /// Why a `kid` beyond the budget is not fetched.
    over_budget: Arc<JwksError>,
    cooldown: Duration,
}

impl AlbKeys {
    pub(crate) fn new(
        templates: Vec<String>,
        fetcher: KeyFetcher,
        settings: &KeyCacheSettings,
    ) -> Self {
        Self {
            templates,
            fetcher,
            keys: Cache::new(settings.capacity.max(1)),
            failures: Cache::new(REMEMBERED_FAILURES),
            fetches: Arc::new(SingleFlight::new(usize::MAX)),
            budget: Budget::new(
                settings.fetches_per_window,
                settings.window,
                Refill::WholeWindow,
            ),
            over_budget: Arc::new(JwksError::TooManyKeyFetches {
                limit: settings.fetches_per_window,
                window: settings.window,
            }),
            cooldown: settings.cooldown,
        }
    }

    /// The key of `slot` if it is known: the request path, no await.
    pub(crate) fn cached(&self, slot: &KeySlot) -> Option<Arc<AlbPublicKey>> {
        self.keys.get(slot)
    }

    /// How many keys are kept.
    pub(crate) fn len(&self) -> usize {
        self.keys.len()
    }

    /// The key of `slot`: known, fetched, or the fetch in flight joined. Ends within the fetch
    /// timeout.
    ///
    /// # Errors
    ///
    /// [`UnknownKeyId`](ErrorKind::UnknownKeyId) when the endpoint has no P-256 key of that id
    /// (now, or at a fetch within the cooldown);
    /// [`KeysUnavailable`](ErrorKind::KeysUnavailable) when it could not be asked, or the
    /// budget of fetches is spent.
    pub(crate) async fn fetch(self: &Arc<Self>, slot: KeySlot) -> Result<Arc<AlbPublicKey>, Error> {
        // `Err(answer)` when the answer is known without a fetch: a key, or a remembered failure.
        let known = |now| match self.cached(&slot) {
            Some(key) => Err(Ok(key)),
            None => match self.failures.get(&slot).filter(|f| f.until > now) {
                Some(failure) => Err(Err(failure.error(now))),
                None => Ok(()),
            },
        };
        let now = Instant::now();
        if let Err(known) = known(now) {
            return known;
        }
        let flight = self.fetches.join_or_start(slot, || {
            // A fetch that ended between the look above and this one left its result: a key,
            // or a failure whose cooldown holds.
            known(now)?;
            match self.budget.try_take(now_ms()) {
                Ok(()) => Ok(Arc::clone(self).fetch_into_cache(slot)),
                Err(left) => Err(Err(Error::unavailable(
                    Some(Arc::clone(&self.over_budget) as _),
                    left.max(Duration::from_secs(1)),
                ))),
            }
        });
        let waiting = match flight {
            Flight::Joined(waiting) | Flight::Started(waiting) => waiting,
            Flight::Declined(answer) => return answer,
            // Not with this map, which has no cap.
            Flight::Full => return Err(Error::unavailable(None, Duration::from_secs(1))),
        };
        match waiting
            .result(self.fetcher.timeout() + Duration::from_secs(1))
            .await
        {
            Ok(Ok(key)) => Ok(key),
            Ok(Err(failure)) => Err(failure.error(Instant::now())),
            Err(_) => Err(Error::unavailable(
                Some(Arc::new(JwksError::Timeout(self.fetcher.timeout()))),
                Duration::from_secs(1),
            )),
        }
    }

    async fn fetch_into_cache(self: Arc<Self>, slot: KeySlot) -> Outcome {
        let template = &self.templates[usize::from(slot.0)];
        let fetched = self.fetcher.fetch(template, &slot.1).await;
        let until = Instant::now()
            .checked_add(self.cooldown)
            .unwrap_or_else(|| Instant::now() + Duration::from_secs(365 * 24 * 60 * 60));
        let cause = match fetched {
            KeyFetch::Key(key) => {
                let key = Arc::new(key);
                self.keys.insert(slot, Arc::clone(&key));
                return Ok(key);
            }
            KeyFetch::NoSuchKey(reason) => {
                tracing::debug!(kid = slot.1.as_str(), %reason, "alb: no usable key for kid");
                None
            }
            KeyFetch::Failed(error) => {
                tracing::warn!(kid = slot.1.as_str(), %error, "alb: key fetch failed");
                Some(Arc::new(error))
            }
        };
        let failure = Failure { until, cause };
        self.failures.insert(slot, failure.clone());
        Err(failure)
    }
}

impl Failure {
    fn error(&self, now: Instant) -> Error {
        match &self.cause {
            None => Error::new(ErrorKind::UnknownKeyId),
            Some(cause) => Error::unavailable(
                Some(Arc::clone(cause) as _),
                self.until
                    .saturating_duration_since(now)
                    .max(Duration::from_secs(1)),
            ),
        }
    }
}

impl std::fmt::Debug for AlbKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AlbKeys")
            .field("locations", &self.templates.len())
            .field("keys", &self.keys.len())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 22, finding 3: a fetch task dropped before its first poll (its runtime shut down)
    /// must not leave the `kid` waiting on a fetch that is gone.
    #[test]
    fn a_fetch_dropped_before_its_first_poll_does_not_wedge_its_kid() {
        let fetcher = KeyFetcher::new(Duration::from_secs(2), 4096, None).unwrap();
        let settings = KeyCacheSettings {
            capacity: 4,
            cooldown: Duration::from_secs(60),
            fetches_per_window: 10,
            window: Duration::from_secs(10),
        };
        // Nothing listens on port 1: a fetch that runs fails at once and is remembered.
        let keys = Arc::new(AlbKeys::new(
            vec!["http://127.0.0.1:1/{kid}".into()],
            fetcher,
            &settings,
        ));
        let kid = AlbKeyId::parse("0a1b2c3d-4e5f-4a6b-8c7d-8e9f0a1b2c3d").unwrap();
        let slot = (0, kid);
        let doomed = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        // Polls the fetch once (it spawns its task), then shuts the runtime down before the
        // task ever runs.
        doomed.block_on(async {
            tokio::select! {
                biased;
                _ = keys.fetch(slot) => panic!("the fetch cannot end without running"),
                () = std::future::ready(()) => {}
            }
        });
        drop(doomed);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let error = runtime.block_on(keys.fetch(slot)).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::KeysUnavailable);
        assert!(
            keys.failures.get(&slot).is_some(),
            "a new fetch ran and failed: {error:?}"
        );
    }
}
