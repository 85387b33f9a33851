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
//!
//! When the schedule fetches is decided in `schedule.rs`, where the set comes from in
//! `locations.rs`; the store ties them together and reports the key ids that left a set to
//! whoever asked (the verifier drops the cached tokens they verified).

use std::{
    future::Future,
    hash::{BuildHasher, RandomState},
    sync::{
        Arc, Mutex, Weak,
        atomic::{AtomicU8, Ordering},
    },
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use arc_swap::ArcSwap;
use tokio::sync::oneshot;

use super::{
    JwksError, KeySet, KeyStoreStatus, VerifyingKey,
    fetch::Fetched,
    locations::KeyLocations,
    schedule::{self, RefreshSettings},
};
use crate::{
    error::Error,
    lock::lock,
    metrics,
    single_flight::{Flight, SingleFlight, Unanswered, Waiting},
};

/// Told the key ids that left a pool's set (removed, or replaced under the same `kid`).
pub(crate) type KeysRemoved = Box<dyn Fn(&[&str]) + Send + Sync>;

type FetchOutcome = Result<(), Arc<JwksError>>;

#[derive(Clone)]
struct Loaded {
    keys: Arc<KeySet>,
    /// Wall-clock time, as the token checks read it: one clock read per verification serves
    /// both. `None`: never stale. Keys not loaded yet are stale from the start.
    stale_at: Option<SystemTime>,
}

impl Loaded {
    /// Keys not loaded yet are stale since the epoch; no loaded set is.
    fn is_loaded(&self) -> bool {
        self.stale_at != Some(UNIX_EPOCH)
    }
}

#[derive(Default)]
struct State {
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

/// Why [`KeyStore::with_key`] handed out no key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyLookup {
    /// The keys are usable but hold no key of that id.
    Unknown,
    /// The keys are older than the maximum staleness.
    Unavailable,
    /// No key set was ever loaded: a fetch may bring the first.
    NotLoaded,
}

/// What [`KeyStore::refetch`] did.
#[derive(Debug)]
pub(crate) enum RefetchOutcome {
    /// A fetch finished (this one or one joined) and loaded keys: look again.
    Refreshed,
    /// A fetch finished less than the cooldown ago and loaded keys; none was started. Look
    /// again: that fetch may have finished after the first look.
    CoolingDown,
    /// The fetch failed, or the last one (within the cooldown) did.
    Failed(Option<Arc<JwksError>>),
    /// The keys were given in memory: there is nothing to fetch.
    Fixed,
}

/// One user pool's signing keys.
pub(crate) struct KeyStore {
    pool_id: Arc<str>,
    /// `None`: the keys were given in memory.
    locations: Option<KeyLocations>,
    settings: RefreshSettings,
    current: ArcSwap<Loaded>,
    state: Mutex<State>,
    /// The fetch in flight, shared by every caller: one key, as a store fetches one set.
    fetches: Arc<SingleFlight<(), FetchOutcome>>,
    on_keys_removed: Option<KeysRemoved>,
    /// Dropped with the store, which wakes the background task so it ends.
    stop_background: Mutex<Option<oneshot::Sender<()>>>,
    /// Whether the background task runs; see [`Background`].
    background: AtomicU8,
    /// This store, for a task started from `&self` (reviving the background task).
    myself: Weak<KeyStore>,
}

impl std::fmt::Debug for KeyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let jwks_url = self.locations.as_ref().map(KeyLocations::shown_url);
        f.debug_struct("KeyStore")
            .field("pool_id", &self.pool_id)
            .field("jwks_url", &jwks_url)
            .finish_non_exhaustive()
    }
}

impl KeyStore {
    /// A store that fetches from `locations`, with no keys yet. `on_keys_removed` hears of
    /// every key that leaves the set.
    pub(crate) fn remote(
        pool_id: Arc<str>,
        locations: KeyLocations,
        settings: RefreshSettings,
        on_keys_removed: Option<KeysRemoved>,
    ) -> Arc<Self> {
        Self::new(
            pool_id,
            Some(locations),
            KeySet::default(),
            settings,
            on_keys_removed,
        )
    }

    /// A store that starts with `keys` (bundled with the program), usable at once as if just
    /// fetched, then refreshed from `locations` on the usual schedule.
    pub(crate) fn bundled(
        pool_id: Arc<str>,
        keys: KeySet,
        locations: KeyLocations,
        settings: RefreshSettings,
        on_keys_removed: Option<KeysRemoved>,
    ) -> Arc<Self> {
        let store = Self::new(pool_id, Some(locations), keys, settings, on_keys_removed);
        let mut loaded = Loaded::clone(&store.current.load());
        loaded.stale_at = schedule::stale_at(&store.settings, SystemTime::now());
        store.current.store(Arc::new(loaded));
        let mut state = lock(&store.state);
        (state.last_success, state.next_refresh) =
            (Some(SystemTime::now()), store.settings.refresh_interval);
        drop(state);
        store
    }

    /// True once a key set was loaded (given, bundled or fetched).
    pub(crate) fn is_loaded(&self) -> bool {
        self.current.load().is_loaded()
    }

    /// A store of keys given in memory: never refreshed, never stale.
    pub(crate) fn fixed(pool_id: Arc<str>, keys: KeySet, settings: RefreshSettings) -> Arc<Self> {
        Self::new(pool_id, None, keys, settings, None)
    }

    /// Without `locations`, `keys` are loaded for good; with them, they wait for a fetch.
    fn new(
        pool_id: Arc<str>,
        locations: Option<KeyLocations>,
        keys: KeySet,
        settings: RefreshSettings,
        on_keys_removed: Option<KeysRemoved>,
    ) -> Arc<Self> {
        let fixed = locations.is_none();
        let state = State {
            retry_delay: settings.first_retry,
            last_success: fixed.then(SystemTime::now),
            ..State::default()
        };
        Arc::new_cyclic(|myself| Self {
            pool_id,
            locations,
            settings,
            current: ArcSwap::from_pointee(Loaded {
                keys: Arc::new(keys),
                stale_at: (!fixed).then_some(UNIX_EPOCH),
            }),
            state: Mutex::new(state),
            fetches: Arc::new(SingleFlight::new(1)),
            on_keys_removed,
            stop_background: Mutex::new(None),
            background: AtomicU8::new(Background::NotStarted as u8),
            myself: myself.clone(),
        })
    }

    /// Runs `f` with the key named `kid`, if the keys are usable at `now` (the request's one
    /// clock read). The request path: no lock, no await, no network.
    pub(crate) fn with_key<R>(
        &self,
        kid: &str,
        now: SystemTime,
        f: impl FnOnce(&Arc<VerifyingKey>) -> R,
    ) -> Result<R, KeyLookup> {
        self.revive_background();
        // One atomic load, no lock, no clock read of its own.
        let loaded = self.current.load();
        if !loaded.is_loaded() {
            return Err(KeyLookup::NotLoaded);
        }
        if loaded.stale_at.is_some_and(|at| now >= at) {
            return Err(KeyLookup::Unavailable);
        }
        loaded.keys.get(kid).map(f).ok_or(KeyLookup::Unknown)
    }

    /// Called once per verification for a `kid` that [`with_key`](Self::with_key) did not
    /// know: joins the fetch in flight, or starts one unless the last fetch an unknown `kid`
    /// caused finished less than the cooldown ago. Waits at most the fetch timeout. The whole
    /// set is fetched, whatever the `kid`: a set holds every key.
    ///
    /// Only fetches caused by unknown kids start the cooldown: a key Cognito adds right after
    /// a background refresh or the first load is still found at once.
    pub(crate) async fn refetch(self: &Arc<Self>, _kid: &str) -> RefetchOutcome {
        if self.locations.is_none() {
            return RefetchOutcome::Fixed;
        }
        let waiting = {
            let mut state = lock(&self.state);
            let cooldown = self.settings.unknown_kid_cooldown;
            let flight = self
                .fetches
                .join_or_start((), || match &state.last_on_demand {
                    Some((finished, outcome)) if finished.elapsed() < cooldown => {
                        Err(match outcome {
                            Ok(()) => RefetchOutcome::CoolingDown,
                            Err(e) => RefetchOutcome::Failed(Some(e.clone())),
                        })
                    }
                    _ => Ok(self.fetch(&mut state, true)),
                });
            let (waiting, result) = match flight {
                Flight::Joined(waiting) => {
                    state.in_flight_on_demand = true;
                    (waiting, "joined")
                }
                Flight::Started(waiting) => (waiting, "started"),
                Flight::Declined(outcome) => {
                    tracing::debug!(pool = %self.pool_id, "unknown kid during cooldown; not fetching");
                    metrics::unknown_kid_refetch(&self.pool_id, "cooldown");
                    return outcome;
                }
                // Not with one key and room for one call.
                Flight::Full => return RefetchOutcome::Failed(None),
            };
            metrics::unknown_kid_refetch(&self.pool_id, result);
            waiting
        };
        match self.wait(waiting).await {
            Ok(()) => RefetchOutcome::Refreshed,
            Err(e) => RefetchOutcome::Failed(e),
        }
    }

    /// Fetches now (or joins the fetch in flight) and waits for it.
    pub(crate) async fn refresh(self: &Arc<Self>) -> Result<(), Option<Arc<JwksError>>> {
        if self.locations.is_none() {
            return Ok(());
        }
        let flight = {
            let mut state = lock(&self.state);
            self.fetches
                .join_or_start((), || Ok::<_, ()>(self.fetch(&mut state, false)))
        };
        match flight {
            Flight::Joined(waiting) | Flight::Started(waiting) => self.wait(waiting).await,
            // Neither: it never declines, and one call fits.
            Flight::Declined(()) | Flight::Full => Err(None),
        }
    }

    /// Starts the background refresh task; its first fetch comes after `first_delay`.
    pub(crate) fn start_background(self: &Arc<Self>, first_delay: Duration) {
        if self.locations.is_none() {
            return;
        }
        let (stop, stopped) = oneshot::channel();
        *lock(&self.stop_background) = Some(stop);
        self.background
            .store(Background::Running as u8, Ordering::Release);
        let running = BackgroundRunning(Arc::downgrade(self));
        tokio::spawn(background_refresh(running, stopped, first_delay));
    }

    /// On the request path: when the background task died with its runtime, starts it again
    /// on the runtime of this request, with a fetch at once. One relaxed load when it runs.
    fn revive_background(&self) {
        let died = self.background.load(Ordering::Relaxed) == Background::Died as u8;
        if !died || tokio::runtime::Handle::try_current().is_err() {
            return;
        }
        // One request revives it; the others see it running.
        let revived = self.background.compare_exchange(
            Background::Died as u8,
            Background::Running as u8,
            Ordering::AcqRel,
            Ordering::Relaxed,
        );
        if let (Ok(_), Some(store)) = (revived, self.myself.upgrade()) {
            tracing::warn!(pool = %self.pool_id, "JWKS background refresh had stopped with its runtime; restarting it");
            store.start_background(Duration::ZERO);
        }
    }

    /// The delay before the next scheduled refresh, as the last fetch set it.
    pub(crate) fn next_refresh(&self) -> Duration {
        lock(&self.state).next_refresh
    }

    /// The error for a request that found the keys unusable, with the cause and a retry hint.
    pub(crate) fn unavailable(&self, cause: Option<Arc<JwksError>>) -> Error {
        let state = lock(&self.state);
        let source = cause.or_else(|| state.last_error.as_ref().map(|(_, e)| e.clone()));
        // Until the next retry, and while a failed refetch's cooldown lasts, asking again
        // gets the same answer.
        let cooldown_left = match &state.last_on_demand {
            Some((finished, Err(_))) => self
                .settings
                .unknown_kid_cooldown
                .saturating_sub(finished.elapsed()),
            _ => Duration::ZERO,
        };
        let hint = schedule::retry_hint(state.retry_delay, cooldown_left);
        Error::unavailable(source.map(|e| e as _), hint)
    }

    /// A snapshot for health endpoints.
    pub(crate) fn status(&self) -> KeyStoreStatus {
        let loaded = self.current.load();
        let usable = loaded.stale_at.is_none_or(|at| SystemTime::now() < at);
        let state = lock(&self.state);
        let locations = self.locations.as_ref();
        KeyStoreStatus {
            user_pool_id: self.pool_id.to_string(),
            jwks_url: locations.map(KeyLocations::shown_url),
            usable,
            keys_loaded: loaded.keys.len(),
            key_ids: loaded.keys.kids(),
            skipped_keys: state.skipped_keys.clone(),
            last_refresh: state.last_success,
            last_error: state.last_error.as_ref().map(|(_, e)| e.to_string()),
            last_error_at: state.last_error.as_ref().map(|(at, _)| *at),
            consecutive_failures: state.consecutive_failures,
            fetches: state.fetches,
            refreshing_in_background: self.background.load(Ordering::Acquire)
                == Background::Running as u8,
            locations: locations.map(KeyLocations::status).unwrap_or_default(),
        }
    }

    /// A fetch to start; `on_demand` when an unknown `kid` causes it.
    fn fetch(
        self: &Arc<Self>,
        state: &mut State,
        on_demand: bool,
    ) -> impl Future<Output = FetchOutcome> + Send + 'static {
        state.in_flight_on_demand = on_demand;
        state.fetches += 1;
        let (store, etag) = (Arc::clone(self), state.etag.clone());
        async move {
            let outcome = store.fetch_and_apply(etag.as_deref(), on_demand).await;
            let mut state = lock(&store.state);
            if std::mem::take(&mut state.in_flight_on_demand) {
                state.last_on_demand = Some((Instant::now(), outcome.clone()));
            }
            outcome
        }
    }

    async fn wait(&self, waiting: Waiting<FetchOutcome>) -> Result<(), Option<Arc<JwksError>>> {
        // The fetch itself ends within the fetch timeout; the margin covers scheduling.
        let timeout = self
            .locations
            .as_ref()
            .map_or(Duration::ZERO, KeyLocations::timeout);
        let limit = timeout.saturating_add(Duration::from_millis(250));
        match waiting.result(limit).await {
            Ok(outcome) => outcome.map_err(Some),
            Err(Unanswered::Abandoned) => Err(None),
            Err(Unanswered::TimedOut) => Err(Some(Arc::new(JwksError::Timeout(limit)))),
        }
    }

    async fn fetch_and_apply(&self, etag: Option<&str>, on_demand: bool) -> FetchOutcome {
        let Some(locations) = &self.locations else {
            return Ok(());
        };
        tracing::debug!(pool = %self.pool_id, url = %locations.shown_url(), "fetching JWKS");
        let started = Instant::now();
        let fetched = locations.fetch(etag, on_demand).await;
        if let Some(skipped) = fetched.skipped {
            lock(&self.state).skipped_keys = skipped;
        }
        let (result, outcome) = match fetched.result {
            Ok(answer) => (self.apply_success(answer), Ok(())),
            Err(error) => {
                let error = Arc::new(error);
                self.apply_failure(&error);
                (error.metric_label(), Err(error))
            }
        };
        // The key-health gauges as the fetch left them.
        metrics::key_fetch(&self.pool_id, result, started.elapsed(), || {
            let status = self.status();
            (status.usable, status.last_refresh)
        });
        outcome
    }

    /// Returns the fetch's metric label: `ok`, or `not_modified` for a 304.
    fn apply_success(&self, answer: Fetched<KeySet>) -> &'static str {
        let stale_at = schedule::stale_at(&self.settings, SystemTime::now());
        let previous = self.current.load_full();
        // `None`: a 304, the set is unchanged.
        let full_answer = answer.document.is_some();
        let keys = match answer.document {
            Some(keys) => {
                let keys = keys.keeping_unchanged(&previous.keys);
                let removed: Vec<&str> = previous.keys.removed_in(&keys).collect();
                if let (Some(on_keys_removed), false) = (&self.on_keys_removed, removed.is_empty())
                {
                    on_keys_removed(&removed);
                }
                // The first load too: a set read holds at least one key.
                if !removed.is_empty() || previous.keys.len() != keys.len() {
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
        self.current.store(Arc::new(Loaded { keys, stale_at }));
        let mut state = lock(&self.state);
        // A full answer's ETag (or its absence) replaces the last one: an ETag belongs to the
        // answer, and the answer may come from another location.
        if full_answer {
            state.etag = answer.etag;
        }
        if full_answer || answer.max_age.is_some() {
            state.max_age = answer.max_age;
        }
        let max_age = state.max_age;
        state.last_success = Some(SystemTime::now());
        state.consecutive_failures = 0;
        state.retry_delay = self.settings.first_retry;
        let random = RandomState::new().hash_one(Instant::now());
        state.next_refresh = schedule::with_jitter(
            schedule::interval_after_success(&self.settings, max_age),
            random,
        );
        if full_answer { "ok" } else { "not_modified" }
    }

    fn apply_failure(&self, error: &Arc<JwksError>) {
        let mut state = lock(&self.state);
        state.consecutive_failures += 1;
        state.last_error = Some((SystemTime::now(), error.clone()));
        let delay = state.retry_delay;
        state.next_refresh = delay;
        state.retry_delay = schedule::next_retry_delay(&self.settings, delay);
        tracing::warn!(
            pool = %self.pool_id,
            error = %error,
            failures = state.consecutive_failures,
            retry_in = ?delay,
            "JWKS fetch failed; keeping the last good keys"
        );
    }
}

/// Whether a store's background task runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum Background {
    /// Keys given in memory, or a store not yet started.
    NotStarted,
    Running,
    /// The task ended while the store lives: its runtime shut down (a verifier built in one
    /// runtime and used from another), or it panicked.
    Died,
}

/// Held by the background task: marks it dead when the task ends without being told to stop
/// (its runtime shut down, or it panicked), unless the store went first.
struct BackgroundRunning(Weak<KeyStore>);

impl Drop for BackgroundRunning {
    fn drop(&mut self) {
        if let Some(store) = self.0.upgrade() {
            store
                .background
                .store(Background::Died as u8, Ordering::Release);
        }
    }
}

async fn background_refresh(
    mut running: BackgroundRunning,
    mut stopped: oneshot::Receiver<()>,
    first_delay: Duration,
) {
    let store = running.0.clone();
    let mut delay = first_delay;
    loop {
        tokio::select! {
            _ = &mut stopped => {
                // Told to stop (the store is going, or a new task replaced this one): not a
                // death to report.
                running.0 = Weak::new();
                break;
            }
            () = tokio::time::sleep(delay) => {}
        }
        let Some(strong) = store.upgrade() else { break };
        // Failures are recorded in the store's status and logged there.
        let _ = strong.refresh().await;
        delay = strong.next_refresh();
    }
    tracing::debug!("JWKS background refresh stopped");
}
