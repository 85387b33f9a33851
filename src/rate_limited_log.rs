//! Log events that a client (or a failing dependency) could repeat in bulk, written above DEBUG
//! at most once per [`WINDOW`] per kind: the first at once, the next with the count held back.
//! A [`Budget`] of one event per window, and a count of the events it held back.

use std::{
    sync::atomic::{AtomicU64, Ordering},
    time::Duration,
};

use crate::budget::{Budget, Refill, now_ms};

/// The least time between two events of one kind above DEBUG.
pub(crate) const WINDOW: Duration = Duration::from_secs(10);

/// Whether an event of a kind may be written above DEBUG now, and how many were held back.
pub(crate) struct RateLimit {
    budget: Budget,
    held_back: AtomicU64,
}

impl RateLimit {
    pub(crate) const fn new() -> Self {
        Self {
            budget: Budget::new(1, WINDOW, Refill::WholeWindow),
            held_back: AtomicU64::new(0),
        }
    }

    /// `Some(held back since the last one)` when this event may be written at its level.
    pub(crate) fn admit(&self, now_ms: u64) -> Option<u64> {
        match self.budget.try_take(now_ms) {
            Ok(()) => Some(self.held_back.swap(0, Ordering::Relaxed)),
            Err(_) => {
                self.held_back.fetch_add(1, Ordering::Relaxed);
                None
            }
        }
    }

    /// `message` at WARN when admitted (with the count held back), else at DEBUG.
    pub(crate) fn warn(&self, message: std::fmt::Arguments<'_>) {
        match self.admit(now_ms()) {
            Some(held_back) => tracing::warn!(held_back, "{message}"),
            None => tracing::debug!("{message}"),
        }
    }
}
