//! One user pool's key store: the key set behind arc-swap, refreshed in the background, with a
//! single-flight refetch for unknown key ids.
//!
//! The request path only loads the current set from the `ArcSwap`: no lock, no await, no
//! network. Everything that changes the set runs in spawned tasks:
//!
//! - A background task refreshes on an interval (`Cache-Control: max-age` may shorten it, never
//!   below a floor), and retries with exponential backoff after a failure. A failed or
//!   malformed fetch keeps the last good keys.
//! - An unknown `kid` starts one fetch that every concurrent request joins. When a fetch that
//!   an unknown `kid` caused finished less than the cooldown ago, an unknown `kid` fails at
//!   once: the set was just read and did not hold it. So a flood of random key ids causes at
//!   most one fetch per cooldown window.
//! - Keys older than the maximum staleness (no successful fetch for that long) are no longer
//!   trusted: the store reports itself unavailable until a fetch succeeds.
//! - The background task holds only a weak reference and a stop signal: it ends as soon as the
//!   last verifier handle is dropped.

use std::{
    hash::{BuildHasher, RandomState},
    sync::{Arc, Mutex, MutexGuard, Weak},
    time::{Duration, Instant, SystemTime},
};

use arc_swap::ArcSwap;
use tokio::sync::{oneshot, watch};

use super::{JwksError, JwksFetcher, KeySet, KeyStoreStatus, VerifyingKey, fetch::Fetched};
use crate::{Error, token_cache::TokenCache};

/// How a remote key store refreshes; defaults are documented on the builder.
#[derive(Debug, Clone)]
pub(crate) struct RefreshSettings {
    pub(crate) refresh_interval: Duration,
    pub(crate) min_refresh_interval: Duration,
    pub(crate) first_retry: Duration,
    pub(crate) max_retry: Duration,
    pub(crate) max_staleness: Option<Duration>,
    pub(crate) unknown_kid_cooldown: Duration,
    pub(crate) fetch_timeout: Duration,
}

/// Why a key was not handed out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyLookup {
    /// The set is usable but has no such key id.
    Unknown,
    /// The set was never loaded, or is older than the maximum staleness.
    Unavailable,
}

/// What an unknown-kid refetch did.
#[derive(Debug)]
pub(crate) enum RefetchOutcome {
    /// A fetch finished (this one or one joined) and loaded a set.
    Refreshed,
    /// A fetch finished less than the cooldown ago and loaded a set; none was started.
    CoolingDown,
    /// The fetch failed, or the last one (within the cooldown) did.
    Failed(Option<Arc<JwksError>>),
    /// The keys were given in memory: there is nothing to fetch.
    Fixed,
}

type FetchOutcome = Result<(), Arc<JwksError>>;

struct Loaded {
    keys: Arc<KeySet>,
    loaded: bool,
    stale_at: Option<Instant>,
}

#[derive(Default)]
struct State {
    in_flight: Option<watch::Receiver<Option<FetchOutcome>>>,
    /// Whether an unknown `kid` started or joined the fetch in flight.
    in_flight_on_demand: bool,
    /// When the last fetch an unknown `kid` started or joined finished, and how.
    last_on_demand: Option<(Instant, FetchOutcome)>,
    etag: Option<String>,
    /// `Cache-Control: max-age` of the last full answer: a 304 without one keeps it, as HTTP
    /// caches do.
    max_age: Option<Duration>,
    next_refresh: Duration,
    retry_delay: Duration,
    last_success: Option<SystemTime>,
    last_error: Option<(SystemTime, Arc<JwksError>)>,
    consecutive_failures: u32,
    fetches: u64,
    /// Why keys of the last document read were skipped.
    skipped_keys: Vec<String>,
}

/// One user pool's signing keys.
pub(crate) struct KeyStore {
    pool_id: Arc<str>,
    fetcher: Option<JwksFetcher>,
    settings: RefreshSettings,
    current: ArcSwap<Loaded>,
    state: Mutex<State>,
    /// Told which keys left the set, so that it drops the tokens they verified.
    cache: Option<Arc<TokenCache>>,
    /// Dropped with the store, which wakes the background task so it ends.
    stop_background: Mutex<Option<oneshot::Sender<()>>>,
}

impl std::fmt::Debug for KeyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyStore")
            .field("pool_id", &self.pool_id)
            .field("jwks_url", &self.fetcher.as_ref().map(JwksFetcher::url))
            .finish_non_exhaustive()
    }
}

impl KeyStore {
    /// A store that fetches from `fetcher`, with no keys yet.
    pub(crate) fn remote(
        pool_id: Arc<str>,
        fetcher: JwksFetcher,
        settings: RefreshSettings,
        cache: Option<Arc<TokenCache>>,
    ) -> Arc<Self> {
        let retry_delay = settings.first_retry;
        Arc::new(Self {
            pool_id,
            fetcher: Some(fetcher),
            settings,
            current: ArcSwap::from_pointee(Loaded {
                keys: Arc::new(KeySet::default()),
                loaded: false,
                stale_at: None,
            }),
            state: Mutex::new(State {
                retry_delay,
                ..State::default()
            }),
            cache,
            stop_background: Mutex::new(None),
        })
    }

    /// A store of keys given in memory: never refreshed, never stale.
    pub(crate) fn fixed(pool_id: Arc<str>, keys: KeySet, settings: RefreshSettings) -> Arc<Self> {
        Arc::new(Self {
            pool_id,
            fetcher: None,
            settings,
            current: ArcSwap::from_pointee(Loaded {
                keys: Arc::new(keys),
                loaded: true,
                stale_at: None,
            }),
            state: Mutex::new(State {
                last_success: Some(SystemTime::now()),
                ..State::default()
            }),
            cache: None,
            stop_background: Mutex::new(None),
        })
    }

    /// Runs `f` with the key named `kid`. The request path: one atomic load, no lock.
    pub(crate) fn with_key<R>(
        &self,
        kid: &str,
        f: impl FnOnce(&Arc<VerifyingKey>) -> R,
    ) -> Result<R, KeyLookup> {
        let loaded = self.current.load();
        if !loaded.loaded || loaded.stale_at.is_some_and(|at| Instant::now() >= at) {
            return Err(KeyLookup::Unavailable);
        }
        match loaded.keys.get(kid) {
            Some(key) => Ok(f(key)),
            None => Err(KeyLookup::Unknown),
        }
    }

    /// The error for a request that found the keys unusable: it carries the last fetch error
    /// and a retry hint.
    pub(crate) fn unavailable(&self, last: Option<Arc<JwksError>>) -> Error {
        let state = self.lock_state();
        let source = last.or_else(|| state.last_error.as_ref().map(|(_, e)| e.clone()));
        // Until the next retry, and while a failed refetch's cooldown lasts, asking again
        // gets the same answer.
        let cooldown_left = match &state.last_on_demand {
            Some((finished, Err(_))) => self
                .settings
                .unknown_kid_cooldown
                .saturating_sub(finished.elapsed()),
            _ => Duration::ZERO,
        };
        let hint = state
            .retry_delay
            .max(cooldown_left)
            .clamp(Duration::from_secs(1), Duration::from_secs(60));
        Error::unavailable(source, hint)
    }

    /// Called on an unknown `kid`: joins the fetch in flight, or starts one unless the last
    /// fetch an unknown `kid` caused finished less than the cooldown ago. Waits at most the
    /// fetch timeout.
    ///
    /// Only fetches caused by unknown kids start the cooldown: a key Cognito adds right after
    /// a background refresh or the first load is still found at once.
    pub(crate) async fn refetch_for_unknown_kid(self: &Arc<Self>) -> RefetchOutcome {
        if self.fetcher.is_none() {
            return RefetchOutcome::Fixed;
        }
        let receiver = {
            let mut state = self.lock_state();
            match (&state.in_flight, &state.last_on_demand) {
                (Some(receiver), _) => {
                    let receiver = receiver.clone();
                    state.in_flight_on_demand = true;
                    receiver
                }
                (None, Some((finished, outcome)))
                    if finished.elapsed() < self.settings.unknown_kid_cooldown =>
                {
                    tracing::debug!(pool = %self.pool_id, "unknown kid during cooldown; not fetching");
                    return match outcome {
                        Ok(()) => RefetchOutcome::CoolingDown,
                        Err(e) => RefetchOutcome::Failed(Some(e.clone())),
                    };
                }
                (None, _) => self.start_fetch(&mut state, true),
            }
        };
        match self.wait(receiver).await {
            Ok(()) => RefetchOutcome::Refreshed,
            Err(e) => RefetchOutcome::Failed(e),
        }
    }

    /// Fetches now (or joins the fetch in flight) and waits for it.
    pub(crate) async fn refresh(self: &Arc<Self>) -> Result<(), Option<Arc<JwksError>>> {
        if self.fetcher.is_none() {
            return Ok(());
        }
        let receiver = {
            let mut state = self.lock_state();
            match &state.in_flight {
                Some(receiver) => receiver.clone(),
                None => self.start_fetch(&mut state, false),
            }
        };
        self.wait(receiver).await
    }

    /// Starts the background refresh task; its first fetch comes after `first_delay`.
    pub(crate) fn start_background(self: &Arc<Self>, first_delay: Duration) {
        if self.fetcher.is_none() {
            return;
        }
        let (stop, stopped) = oneshot::channel();
        *self
            .stop_background
            .lock()
            .unwrap_or_else(|poison| poison.into_inner()) = Some(stop);
        tokio::spawn(background_refresh(
            Arc::downgrade(self),
            stopped,
            first_delay,
        ));
    }

    /// The delay before the next scheduled refresh, as the last fetch set it.
    pub(crate) fn next_refresh(&self) -> Duration {
        self.lock_state().next_refresh
    }

    /// A snapshot for health endpoints.
    pub(crate) fn status(&self) -> KeyStoreStatus {
        let loaded = self.current.load();
        let usable = loaded.loaded && loaded.stale_at.is_none_or(|at| Instant::now() < at);
        let state = self.lock_state();
        KeyStoreStatus {
            user_pool_id: self.pool_id.to_string(),
            jwks_url: self.fetcher.as_ref().map(|f| f.url().to_owned()),
            usable,
            keys_loaded: loaded.keys.len(),
            key_ids: loaded.keys.kids(),
            skipped_keys: state.skipped_keys.clone(),
            last_refresh: state.last_success,
            last_error: state.last_error.as_ref().map(|(_, e)| e.to_string()),
            last_error_at: state.last_error.as_ref().map(|(at, _)| *at),
            consecutive_failures: state.consecutive_failures,
            fetches: state.fetches,
        }
    }

    fn lock_state(&self) -> MutexGuard<'_, State> {
        // The state is plain data updated in one step; a panic elsewhere cannot leave it half
        // written, so a poisoned lock is still usable.
        self.state
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    fn start_fetch(
        self: &Arc<Self>,
        state: &mut State,
        on_demand: bool,
    ) -> watch::Receiver<Option<FetchOutcome>> {
        let (sender, receiver) = watch::channel(None);
        state.in_flight = Some(receiver.clone());
        state.in_flight_on_demand = on_demand;
        state.fetches += 1;
        let etag = state.etag.clone();
        let store = Arc::clone(self);
        // A spawned task, so that a request that gives up waiting does not cancel the fetch
        // the others are waiting for.
        tokio::spawn(async move {
            let outcome = store.fetch_and_apply(etag.as_deref()).await;
            {
                let mut state = store.lock_state();
                state.in_flight = None;
                if std::mem::take(&mut state.in_flight_on_demand) {
                    state.last_on_demand = Some((Instant::now(), outcome.clone()));
                }
            }
            // Nobody may be waiting any more; that is fine.
            let _ = sender.send(Some(outcome));
        });
        receiver
    }

    async fn wait(
        &self,
        mut receiver: watch::Receiver<Option<FetchOutcome>>,
    ) -> Result<(), Option<Arc<JwksError>>> {
        // The fetch itself ends within the fetch timeout; the margin covers scheduling.
        let limit = self.settings.fetch_timeout + Duration::from_millis(250);
        let waited = tokio::time::timeout(limit, receiver.wait_for(Option::is_some)).await;
        match waited {
            Ok(Ok(outcome)) => outcome
                .clone()
                .unwrap_or(Err(Arc::new(JwksError::Timeout(limit))))
                .map_err(Some),
            Ok(Err(_)) => Err(None),
            Err(_) => Err(Some(Arc::new(JwksError::Timeout(limit)))),
        }
    }

    async fn fetch_and_apply(&self, etag: Option<&str>) -> FetchOutcome {
        let Some(fetcher) = &self.fetcher else {
            return Ok(());
        };
        tracing::debug!(pool = %self.pool_id, url = fetcher.url(), "fetching JWKS");
        let fetched = fetcher.fetch(etag).await;
        let result = fetched.and_then(|fetched| match fetched {
            Fetched::NotModified { max_age } => Ok((None, None, max_age)),
            Fetched::Document {
                body,
                etag,
                max_age,
            } => {
                let (keys, skipped) = KeySet::read(&body);
                self.lock_state().skipped_keys = skipped;
                keys.map(|keys| (Some(keys), etag, max_age))
            }
        });
        match result {
            Ok((keys, etag, max_age)) => {
                self.apply_success(keys, etag, max_age);
                Ok(())
            }
            Err(error) => {
                let error = Arc::new(error);
                self.apply_failure(&error);
                Err(error)
            }
        }
    }

    fn apply_success(&self, keys: Option<KeySet>, etag: Option<String>, max_age: Option<Duration>) {
        let now = Instant::now();
        let stale_at = self.settings.max_staleness.and_then(|s| now.checked_add(s));
        let previous = self.current.load_full();
        // `None`: a 304, the set is unchanged.
        let full_answer = keys.is_some();
        let keys = match keys {
            Some(keys) => {
                let removed: Vec<&str> = previous.keys.removed_in(&keys).collect();
                if let Some(cache) = self.cache.as_ref().filter(|_| !removed.is_empty()) {
                    cache.remove_signed_by(&self.pool_id, &removed);
                }
                if !removed.is_empty() || previous.keys.len() != keys.len() || !previous.loaded {
                    tracing::info!(
                        pool = %self.pool_id,
                        keys = ?keys.kids(),
                        removed = ?removed,
                        "JWKS loaded"
                    );
                }
                Arc::new(keys)
            }
            None => {
                tracing::debug!(pool = %self.pool_id, "JWKS not modified");
                previous.keys.clone()
            }
        };
        self.current.store(Arc::new(Loaded {
            keys,
            loaded: true,
            stale_at,
        }));
        let mut state = self.lock_state();
        if etag.is_some() {
            state.etag = etag;
        }
        if full_answer || max_age.is_some() {
            state.max_age = max_age;
        }
        let max_age = state.max_age;
        state.last_success = Some(SystemTime::now());
        state.consecutive_failures = 0;
        state.retry_delay = self.settings.first_retry;
        state.next_refresh = with_jitter(refresh_interval(&self.settings, max_age));
    }

    fn apply_failure(&self, error: &Arc<JwksError>) {
        let mut state = self.lock_state();
        state.consecutive_failures += 1;
        state.last_error = Some((SystemTime::now(), error.clone()));
        let delay = state.retry_delay;
        state.next_refresh = delay;
        state.retry_delay = (delay * 2).min(self.settings.max_retry);
        tracing::warn!(
            pool = %self.pool_id,
            error = %error,
            failures = state.consecutive_failures,
            retry_in = ?delay,
            "JWKS fetch failed; keeping the last good keys"
        );
    }
}

/// The delay before the next refresh after a success. The configured interval bounds how long a
/// removed key stays trusted, so it is never lengthened, not even to the floor; `max-age` may
/// only shorten it, and not below the floor.
fn refresh_interval(settings: &RefreshSettings, max_age: Option<Duration>) -> Duration {
    match max_age {
        Some(max_age) => max_age
            .max(settings.min_refresh_interval)
            .min(settings.refresh_interval),
        None => settings.refresh_interval,
    }
}

/// Takes up to a tenth off an interval, so that many instances started together do not
/// refresh in step.
fn with_jitter(interval: Duration) -> Duration {
    let random = RandomState::new().hash_one(Instant::now());
    let tenth = interval / 10;
    let nanos = u64::try_from(tenth.as_nanos()).unwrap_or(u64::MAX).max(1);
    interval - Duration::from_nanos(random % nanos)
}

async fn background_refresh(
    store: Weak<KeyStore>,
    mut stopped: oneshot::Receiver<()>,
    first_delay: Duration,
) {
    let mut delay = first_delay;
    loop {
        tokio::select! {
            _ = &mut stopped => break,
            () = tokio::time::sleep(delay) => {}
        }
        let Some(strong) = store.upgrade() else { break };
        // Failures are recorded in the store's status and logged there.
        let _ = strong.refresh().await;
        delay = strong.next_refresh();
    }
    tracing::debug!("JWKS background refresh stopped");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(refresh_secs: u64, floor_secs: u64) -> RefreshSettings {
        RefreshSettings {
            refresh_interval: Duration::from_secs(refresh_secs),
            min_refresh_interval: Duration::from_secs(floor_secs),
            first_retry: Duration::from_secs(1),
            max_retry: Duration::from_secs(60),
            max_staleness: None,
            unknown_kid_cooldown: Duration::from_secs(10),
            fetch_timeout: Duration::from_secs(3),
        }
    }

    #[test]
    fn max_age_only_shortens_the_interval_down_to_the_floor() {
        let secs = Duration::from_secs;
        let s = settings(600, 60);
        assert_eq!(refresh_interval(&s, None), secs(600));
        assert_eq!(refresh_interval(&s, Some(secs(120))), secs(120));
        assert_eq!(refresh_interval(&s, Some(secs(1))), secs(60));
        assert_eq!(refresh_interval(&s, Some(secs(86_400))), secs(600));
        // An interval configured below the floor is kept as it is.
        let short = settings(30, 60);
        assert_eq!(refresh_interval(&short, None), secs(30));
        assert_eq!(refresh_interval(&short, Some(secs(1))), secs(30));
    }
}
