//! Log events that a client (or a failing dependency) could repeat in bulk, written above DEBUG
//! at most once per [`WINDOW`] per kind: the first at once, the next with the count held back.

use std::{
    sync::{
        OnceLock,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

/// The least time between two events of one kind above DEBUG.
pub(crate) const WINDOW: Duration = Duration::from_secs(10);

/// When the next event of a kind may be written above DEBUG, and how many were held back.
pub(crate) struct RateLimit {
    /// Milliseconds since [`epoch`]; 0 until the first event.
    next_at_ms: AtomicU64,
    held_back: AtomicU64,
}

impl RateLimit {
    pub(crate) const fn new() -> Self {
        Self {
            next_at_ms: AtomicU64::new(0),
            held_back: AtomicU64::new(0),
        }
    }

    /// `Some(held back since the last one)` when this event may be written at its level.
    pub(crate) fn admit(&self, now_ms: u64) -> Option<u64> {
        let next = self.next_at_ms.load(Ordering::Relaxed);
        let window = u64::try_from(WINDOW.as_millis()).unwrap_or(u64::MAX);
        if now_ms >= next
            && self
                .next_at_ms
                .compare_exchange(
                    next,
                    now_ms.saturating_add(window),
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                )
                .is_ok()
        {
            return Some(self.held_back.swap(0, Ordering::Relaxed));
        }
        self.held_back.fetch_add(1, Ordering::Relaxed);
        None
    }
}

/// Milliseconds since the first call in this process.
pub(crate) fn now_ms() -> u64 {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    let epoch = *EPOCH.get_or_init(Instant::now);
    // Never 0 after the first call, so that the first event of a kind is always admitted.
    u64::try_from(epoch.elapsed().as_millis())
        .unwrap_or(u64::MAX)
        .max(1)
}
