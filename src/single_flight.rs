//! Concurrent callers share one call: the first caller for a key starts it, the others join it
//! and wait for its result.
//!
//! The key store's refetch, the load balancer's key fetch, the `GetUser` call and the pool
//! resolver all need this, with the same three properties, so they live here once:
//!
//! - **Detached.** The call runs in a task of its own: a caller that gives up waiting (its
//!   client went away, its timeout passed) does not cancel the call the others wait for.
//! - **Cleared however the task ends.** The entry leaves the map when the call finishes, when
//!   it panics, and when its task is dropped before it ever ran (a runtime shutting down right
//!   after the spawn): the guard that clears it exists before the task is spawned and is moved
//!   into it. Otherwise every later caller would join a call that is gone.
//! - **Optionally capped.** At most `max_calls` calls in flight; one more is refused at once
//!   ([`Flight::Full`]) rather than queued.
//!
//! What differs per site (a cooldown, a budget, a memory of failures) stays at the site: the
//! `start` closure runs under the map's lock only when no call is in flight, and may decline.

use std::{
    collections::HashMap,
    future::Future,
    hash::Hash,
    sync::{Arc, Mutex},
    time::Duration,
};

use tokio::sync::watch;

use crate::lock::lock;

/// Calls in flight by key, each shared by every caller that asks while it runs.
pub(crate) struct SingleFlight<K, V> {
    calls: Mutex<Calls<K, V>>,
    max_calls: usize,
}

/// Each call's result to come, by key.
type Calls<K, V> = HashMap<K, watch::Receiver<Option<V>>>;

/// What [`SingleFlight::join_or_start`] did.
pub(crate) enum Flight<V, D> {
    /// A call for the key was in flight: this caller waits for it too.
    Joined(Waiting<V>),
    /// This caller started the call.
    Started(Waiting<V>),
    /// No call was in flight and `start` declined to start one, saying why.
    Declined(D),
    /// `max_calls` calls were in flight already.
    Full,
}

/// A place in the queue for a call's result.
pub(crate) struct Waiting<V>(watch::Receiver<Option<V>>);

/// Why a wait ended without the call's result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unanswered {
    /// The call did not end within the wait's limit.
    TimedOut,
    /// The call's task ended without a result: it panicked, or its runtime shut down.
    Abandoned,
}

impl<K, V> SingleFlight<K, V>
where
    K: Eq + Hash + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    /// At most `max_calls` calls in flight at once (`usize::MAX`: no cap).
    pub(crate) fn new(max_calls: usize) -> Self {
        Self {
            calls: Mutex::new(HashMap::new()),
            max_calls,
        }
    }

    /// Joins the call for `key` in flight; else, below the cap, asks `start` for the call and
    /// spawns it. `start` runs under this map's lock: a decision it makes (a cooldown, a
    /// budget) cannot race another caller's for any key.
    ///
    /// # Panics
    ///
    /// When a call must be started outside a Tokio runtime, as `tokio::spawn` does.
    pub(crate) fn join_or_start<D, F>(
        self: &Arc<Self>,
        key: K,
        start: impl FnOnce() -> Result<F, D>,
    ) -> Flight<V, D>
    where
        F: Future<Output = V> + Send + 'static,
    {
        let (call, sender, receiver) = {
            let mut calls = lock(&self.calls);
            if let Some(receiver) = calls.get(&key) {
                return Flight::Joined(Waiting(receiver.clone()));
            }
            if calls.len() >= self.max_calls {
                return Flight::Full;
            }
            let call = match start() {
                Ok(call) => call,
                Err(declined) => return Flight::Declined(declined),
            };
            let (sender, receiver) = watch::channel(None);
            calls.insert(key.clone(), receiver.clone());
            (call, sender, receiver)
        };
        // Made before the spawn and moved into the task: dropping the task, even unpolled,
        // drops it and so clears the entry. The lock is released first, as the guard takes it.
        let entry = Entry {
            flights: Arc::clone(self),
            key,
        };
        tokio::spawn(async move {
            let result = call.await;
            drop(entry);
            // Nobody may be waiting any more; that is fine.
            let _ = sender.send(Some(result));
        });
        Flight::Started(Waiting(receiver))
    }
}

impl<V: Clone> Waiting<V> {
    /// The call's result, waiting at most `limit` for it.
    ///
    /// # Errors
    ///
    /// [`Unanswered`] when the call took longer than `limit`, or ended without a result.
    pub(crate) async fn result(mut self, limit: Duration) -> Result<V, Unanswered> {
        match tokio::time::timeout(limit, self.0.wait_for(Option::is_some)).await {
            Ok(Ok(result)) => result.clone().ok_or(Unanswered::Abandoned),
            Ok(Err(_)) => Err(Unanswered::Abandoned),
            Err(_) => Err(Unanswered::TimedOut),
        }
    }
}

/// Owned by a call's task: takes the call's entry out of the map when the task ends, however
/// it ends.
struct Entry<K: Eq + Hash, V> {
    flights: Arc<SingleFlight<K, V>>,
    key: K,
}

impl<K: Eq + Hash, V> Drop for Entry<K, V> {
    fn drop(&mut self) {
        // Only this call's entry can be under the key: no other call for it starts while it
        // is there.
        lock(&self.flights.calls).remove(&self.key);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    const LIMIT: Duration = Duration::from_secs(5);

    type Never = std::future::Pending<u32>;

    impl<K: Eq + Hash, V> SingleFlight<K, V> {
        /// Calls in flight now.
        fn in_flight(&self) -> usize {
            lock(&self.calls).len()
        }
    }

    fn flights(max_calls: usize) -> Arc<SingleFlight<u8, u32>> {
        Arc::new(SingleFlight::new(max_calls))
    }

    fn waiting<D: std::fmt::Debug>(flight: Flight<u32, D>) -> Waiting<u32> {
        match flight {
            Flight::Joined(waiting) | Flight::Started(waiting) => waiting,
            Flight::Declined(why) => panic!("declined: {why:?}"),
            Flight::Full => panic!("full"),
        }
    }

    #[tokio::test]
    async fn concurrent_callers_share_one_call() {
        let flights = flights(usize::MAX);
        let runs = Arc::new(AtomicUsize::new(0));
        let (release, released) = tokio::sync::oneshot::channel::<()>();
        let counted = Arc::clone(&runs);
        let first = flights.join_or_start(1, || {
            Ok::<_, ()>(async move {
                counted.fetch_add(1, Ordering::Relaxed);
                released.await.unwrap();
                7
            })
        });
        assert!(matches!(first, Flight::Started(_)));
        let second = flights.join_or_start(1, || -> Result<Never, ()> {
            panic!("a call is in flight: not started again")
        });
        assert!(matches!(second, Flight::Joined(_)));
        release.send(()).unwrap();
        assert_eq!(waiting(first).result(LIMIT).await, Ok(7));
        assert_eq!(waiting(second).result(LIMIT).await, Ok(7));
        assert_eq!(runs.load(Ordering::Relaxed), 1);
        assert_eq!(flights.in_flight(), 0, "cleared once done");
    }

    #[tokio::test]
    async fn a_caller_that_gives_up_does_not_cancel_the_call() {
        let flights = flights(usize::MAX);
        let (release, released) = tokio::sync::oneshot::channel::<()>();
        let first = flights.join_or_start(1, || {
            Ok::<_, ()>(async move {
                released.await.unwrap();
                7
            })
        });
        let gave_up = waiting(first).result(Duration::from_millis(10)).await;
        assert_eq!(gave_up, Err(Unanswered::TimedOut));
        let second = flights.join_or_start(1, || Ok::<_, ()>(async { 8 }));
        assert!(matches!(second, Flight::Joined(_)), "still in flight");
        release.send(()).unwrap();
        assert_eq!(waiting(second).result(LIMIT).await, Ok(7));
    }

    #[tokio::test]
    async fn beyond_the_cap_a_call_is_refused_and_start_may_decline() {
        let flights = flights(1);
        let first = flights.join_or_start(1, || Ok::<_, ()>(std::future::pending::<u32>()));
        assert!(matches!(first, Flight::Started(_)));
        let other = flights.join_or_start(2, || Ok::<_, ()>(async { 2 }));
        assert!(matches!(other, Flight::Full));
        assert!(
            matches!(
                flights.join_or_start(1, || Err::<Never, _>("unused")),
                Flight::Joined(_)
            ),
            "joining is never capped"
        );
        let declined = super::tests::flights(1).join_or_start(3, || Err::<Never, _>("no"));
        assert!(matches!(declined, Flight::Declined("no")));
    }

    #[tokio::test]
    async fn a_panicking_call_is_cleared() {
        let flights = flights(usize::MAX);
        let flight = flights.join_or_start(1, || Ok::<_, ()>(async { panic!("the call fails") }));
        assert_eq!(
            waiting(flight).result(LIMIT).await,
            Err(Unanswered::Abandoned)
        );
        assert_eq!(flights.in_flight(), 0);
        let again = flights.join_or_start(1, || Ok::<_, ()>(async { 3 }));
        assert!(matches!(again, Flight::Started(_)));
    }

    /// Issue 22, finding 3: a task dropped before its first poll, with the runtime that was to
    /// run it, clears its entry, and the next caller starts a new call.
    #[test]
    fn a_call_dropped_before_its_first_poll_is_cleared() {
        let flights = flights(usize::MAX);
        let doomed = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let flight = {
            let _inside = doomed.enter();
            flights.join_or_start(1, || Ok::<_, ()>(async { 1 }))
        };
        assert_eq!(flights.in_flight(), 1, "spawned, never polled");
        drop(doomed);
        assert_eq!(flights.in_flight(), 0, "cleared with the task");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            assert_eq!(
                waiting(flight).result(LIMIT).await,
                Err(Unanswered::Abandoned)
            );
            let again = flights.join_or_start(1, || Ok::<_, ()>(async { 2 }));
            assert!(matches!(again, Flight::Started(_)), "a new call starts");
            assert_eq!(waiting(again).result(LIMIT).await, Ok(2));
        });
    }
}
