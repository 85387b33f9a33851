//! The pool removals that resolutions in flight must respect: a pool removed while the
//! [`PoolResolver`](super::PoolResolver) was answering for it is not added by that answer
//! (issue 22, finding 8: an offboarded tenant stayed trusted).
//!
//! A removal is logged, and a resolution checks the log as its pool goes in, both under the
//! pool-writes lock: whichever comes second sees the other. Only removals made while a
//! resolution is in flight are remembered, and only until every resolution that started
//! before them has ended, so the log holds at most the removals of a few seconds.

use std::{
    collections::{BTreeMap, HashMap},
    sync::{Arc, Mutex},
};

use super::lock;

/// The log, shared with the resolutions in flight.
#[derive(Debug, Default)]
pub(super) struct RemovalLog(Arc<Mutex<Log>>);

/// A resolution in flight: in the log from its start until it is dropped, however it ends.
#[derive(Debug)]
pub(super) struct ResolutionInFlight {
    log: Arc<Mutex<Log>>,
    started: u64,
}

/// Removals, counted, and the resolutions in flight, by the count when they started.
#[derive(Debug, Default)]
struct Log {
    /// Removals made while a resolution was in flight.
    removals: u64,
    /// Each pool removed while a resolution was in flight, at the count of its latest removal.
    removed: HashMap<Box<str>, u64>,
    /// The count when each resolution in flight started, and how many started at that count.
    in_flight: BTreeMap<u64, usize>,
}

impl RemovalLog {
    /// A resolution starts: removals from now on win over it.
    pub(super) fn resolution_started(&self) -> ResolutionInFlight {
        let mut log = lock(&self.0);
        let started = log.removals;
        *log.in_flight.entry(started).or_default() += 1;
        ResolutionInFlight {
            log: Arc::clone(&self.0),
            started,
        }
    }

    /// The pool `id` is removed (or was not there to remove): no resolution in flight may add
    /// it. Called under the pool-writes lock.
    pub(super) fn pool_removed(&self, id: &str) {
        let mut log = lock(&self.0);
        if log.in_flight.is_empty() {
            return;
        }
        log.removals += 1;
        let at = log.removals;
        log.removed.insert(id.into(), at);
    }
}

impl ResolutionInFlight {
    /// Whether the pool `id` was removed after this resolution started. Called under the
    /// pool-writes lock, just before the pool would go in.
    pub(super) fn removed_since(&self, id: &str) -> bool {
        let log = lock(&self.log);
        log.removed.get(id).is_some_and(|at| *at > self.started)
    }
}

impl Drop for ResolutionInFlight {
    fn drop(&mut self) {
        let mut log = lock(&self.log);
        if let Some(count) = log.in_flight.get_mut(&self.started) {
            *count -= 1;
            if *count == 0 {
                log.in_flight.remove(&self.started);
            }
        }
        // A removal that no resolution in flight started before matters to none of them.
        match log.in_flight.keys().next().copied() {
            Some(oldest) => log.removed.retain(|_, at| *at > oldest),
            None => log.removed.clear(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn removed(log: &RemovalLog) -> usize {
        lock(&log.0).removed.len()
    }

    #[test]
    fn a_removal_binds_only_the_resolutions_that_started_before_it() {
        let log = RemovalLog::default();
        log.pool_removed("a");
        let before = log.resolution_started();
        assert!(!before.removed_since("a"), "removed before it started");
        log.pool_removed("a");
        let after = log.resolution_started();
        assert!(before.removed_since("a"));
        assert!(!after.removed_since("a"));
        assert!(!before.removed_since("b"), "another pool");
        drop(before);
        assert_eq!(
            removed(&log),
            0,
            "no resolution in flight started before it"
        );
        drop(after);
        assert!(lock(&log.0).in_flight.is_empty());
    }

    #[test]
    fn the_log_empties_when_no_resolution_is_in_flight() {
        let log = RemovalLog::default();
        let first = log.resolution_started();
        let second = log.resolution_started();
        for id in ["a", "b", "c"] {
            log.pool_removed(id);
        }
        let third = log.resolution_started();
        log.pool_removed("d");
        drop(second);
        assert_eq!(removed(&log), 4, "the first is still in flight");
        drop(first);
        assert_eq!(removed(&log), 1, "only d came after the third started");
        assert!(third.removed_since("d"));
        drop(third);
        assert_eq!(removed(&log), 0);
        log.pool_removed("e");
        assert_eq!(removed(&log), 0, "no resolution to bind");
    }
}
