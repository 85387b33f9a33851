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
//! - Fetches of `kid`s not yet known share a global budget ([`FetchBudget`]): a `kid` beyond
//!   it is answered at once (503) until the window ends, so a flood of random `kid`s causes at
//!   most the budget's number of fetches per window.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, MutexGuard},
    time::{Duration, Instant},
};

use quick_cache::sync::Cache;
use tokio::sync::watch;

use super::{
    fetch_budget::FetchBudget,
    key_fetch::{KeyFetch, KeyFetcher},
    key_id::AlbKeyId,
    public_key::AlbPublicKey,
};
use crate::{
    error::{Error, ErrorKind},
    jwks::JwksError,
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
    in_flight: Mutex<HashMap<KeySlot, watch::Receiver<Option<Outcome>>>>,
    budget: Mutex<FetchBudget>,
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
            in_flight: Mutex::new(HashMap::new()),
            budget: Mutex::new(FetchBudget::new(
                settings.fetches_per_window,
                settings.window,
            )),
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
        if let Some(key) = self.cached(&slot) {
            return Ok(key);
        }
        let now = Instant::now();
        if let Some(failure) = self.failures.get(&slot).filter(|f| f.until > now) {
            return Err(failure.error(now));
        }
        let mut waiting = {
            let mut in_flight = lock(&self.in_flight);
            match in_flight.get(&slot) {
                Some(flight) => flight.clone(),
                None => {
                    // A fetch that ended between the looks above and the lock left its result:
                    // a key, or a failure whose cooldown holds.
                    if let Some(key) = self.cached(&slot) {
                        return Ok(key);
                    }
                    if let Some(failure) = self.failures.get(&slot).filter(|f| f.until > now) {
                        return Err(failure.error(now));
                    }
                    let taken = lock(&self.budget).take(now);
                    if let Err(left) = taken {
                        return Err(self.over_budget(left));
                    }
                    let (done, flight) = watch::channel(None);
                    in_flight.insert(slot, flight.clone());
                    tokio::spawn(Arc::clone(self).fetch_into_cache(slot, done));
                    flight
                }
            }
        };
        let limit = self.fetcher_timeout() + Duration::from_secs(1);
        let outcome = match tokio::time::timeout(limit, waiting.wait_for(Option::is_some)).await {
            Ok(Ok(outcome)) => outcome.clone(),
            _ => None,
        };
        match outcome {
            Some(Ok(key)) => Ok(key),
            Some(Err(failure)) => Err(failure.error(Instant::now())),
            None => Err(Error::unavailable(
                Some(Arc::new(JwksError::Timeout(self.fetcher_timeout()))),
                Duration::from_secs(1),
            )),
        }
    }

    async fn fetch_into_cache(
        self: Arc<Self>,
        slot: KeySlot,
        done: watch::Sender<Option<Outcome>>,
    ) {
        // However the task ends early (panicked, dropped with its runtime), the kid's fetch in
        // flight is cleared, so that a later request starts afresh instead of joining a fetch
        // that is gone.
        let mut clear = ClearInFlight {
            keys: &self,
            slot,
            armed: true,
        };
        let template = &self.templates[usize::from(slot.0)];
        let fetched = self.fetcher.fetch(template, &slot.1).await;
        let until = Instant::now()
            .checked_add(self.cooldown)
            .unwrap_or_else(|| Instant::now() + Duration::from_secs(365 * 24 * 60 * 60));
        let outcome = match fetched {
            KeyFetch::Key(key) => {
                let key = Arc::new(key);
                self.keys.insert(slot, Arc::clone(&key));
                Ok(key)
            }
            KeyFetch::NoSuchKey(reason) => {
                tracing::debug!(kid = slot.1.as_str(), %reason, "alb: no usable key for kid");
                Err(Failure { until, cause: None })
            }
            KeyFetch::Failed(error) => {
                tracing::warn!(kid = slot.1.as_str(), %error, "alb: key fetch failed");
                Err(Failure {
                    until,
                    cause: Some(Arc::new(error)),
                })
            }
        };
        if let Err(failure) = &outcome {
            self.failures.insert(slot, failure.clone());
        }
        lock(&clear.keys.in_flight).remove(&slot);
        clear.armed = false;
        done.send_replace(Some(outcome));
    }

    fn fetcher_timeout(&self) -> Duration {
        self.fetcher.timeout()
    }

    fn over_budget(&self, left: Duration) -> Error {
        let budget = lock(&self.budget);
        let cause = JwksError::TooManyKeyFetches {
            limit: budget.limit(),
            window: budget.window(),
        };
        Error::unavailable(Some(Arc::new(cause)), left.max(Duration::from_secs(1)))
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

/// Clears a kid's fetch in flight when its task ends.
struct ClearInFlight<'a> {
    keys: &'a AlbKeys,
    slot: KeySlot,
    armed: bool,
}

impl Drop for ClearInFlight<'_> {
    fn drop(&mut self) {
        if self.armed {
            lock(&self.keys.in_flight).remove(&self.slot);
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

impl std::fmt::Debug for AlbKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AlbKeys")
            .field("locations", &self.templates.len())
            .field("keys", &self.keys.len())
            .finish_non_exhaustive()
    }
}
