//! A budget of permits per window: what bounds the work a flood can cause.
//!
//! Three places need one: fetches of load balancer keys not yet known, calls to the pool
//! resolver, and log lines a client can cause in bulk. They differ only in how spent permits
//! come back ([`Refill`]), so that is an option of the one type:
//!
//! - [`Refill::WholeWindow`]: a window opens with the first permit taken after the last one
//!   ended; at most `permits` are taken until it ends, then all come back. Two windows can
//!   meet inside a short span, so over any span `T` at most `permits × (1 + ⌈T / window⌉)`
//!   are taken. One permit per window is a log line at most once per window.
//! - [`Refill::Evenly`]: a token bucket of `permits`, one coming back every
//!   `window / permits`; over any span `T` at most `permits + permits × T / window` are taken.
//!
//! Time is read as milliseconds of one process-wide monotonic clock ([`now_ms`]), so that a
//! budget can be a `static` and its tests can pass any time they like.

use std::{
    sync::{Mutex, OnceLock},
    time::{Duration, Instant},
};

use crate::lock::lock;

/// How spent permits come back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refill {
    /// All at once, when the window that the first of them opened ends.
    WholeWindow,
    /// One at a time, one every `window / permits`.
    Evenly,
}

/// At most `permits` per `window`.
#[derive(Debug)]
pub(crate) struct Budget {
    permits: u32,
    window: Duration,
    refill: Refill,
    spent: Mutex<Spent>,
}

#[derive(Debug)]
struct Spent {
    /// Permits taken and not yet back.
    taken: u32,
    /// Nanoseconds of [`now_ms`]'s clock since which permits come back.
    since: u64,
}

impl Budget {
    pub(crate) const fn new(permits: u32, window: Duration, refill: Refill) -> Self {
        Self {
            permits,
            window,
            refill,
            spent: Mutex::new(Spent { taken: 0, since: 0 }),
        }
    }

    /// Takes a permit at `now_ms` (of [`now_ms`]'s clock).
    ///
    /// # Errors
    ///
    /// How long until a permit comes back, when none is left.
    pub(crate) fn try_take(&self, now_ms: u64) -> Result<(), Duration> {
        let now = now_ms.saturating_mul(1_000_000);
        let window = u64::try_from(self.window.as_nanos()).unwrap_or(u64::MAX);
        // Every `step`, `per_step` permits come back.
        let (step, per_step) = match self.refill {
            Refill::WholeWindow => (window, self.permits),
            Refill::Evenly => (window / u64::from(self.permits.max(1)), 1),
        };
        // A tiny lock: a few integer operations, never held across an await.
        let mut spent = lock(&self.spent);
        let steps = now.saturating_sub(spent.since).checked_div(step);
        let back = steps.map_or(u64::MAX, |steps| steps.saturating_mul(u64::from(per_step)));
        if back >= u64::from(spent.taken) {
            *spent = Spent {
                taken: 0,
                since: now,
            };
        } else if let Some(steps) = steps {
            spent.taken -= u32::try_from(back).unwrap_or(u32::MAX);
            spent.since += steps * step;
        }
        if spent.taken >= self.permits {
            let back_at = spent.since.saturating_add(step);
            return Err(Duration::from_nanos(back_at.saturating_sub(now)));
        }
        spent.taken += 1;
        Ok(())
    }
}

/// Milliseconds since the first reading in this process, never 0.
pub(crate) fn now_ms() -> u64 {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    let epoch = *EPOCH.get_or_init(Instant::now);
    u64::try_from(epoch.elapsed().as_millis())
        .unwrap_or(u64::MAX)
        .max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEN_S: Duration = Duration::from_secs(10);

    #[test]
    fn a_whole_window_holds_its_permits_until_it_ends() {
        let budget = Budget::new(3, TEN_S, Refill::WholeWindow);
        for ms in [1_000, 1_001, 1_002] {
            assert_eq!(budget.try_take(ms), Ok(()));
        }
        assert_eq!(budget.try_take(5_000), Err(Duration::from_secs(6)));
        assert_eq!(budget.try_take(10_999), Err(Duration::from_millis(1)));
        // The next window opens with the next permit taken.
        for ms in [11_000, 11_001, 11_002] {
            assert_eq!(budget.try_take(ms), Ok(()));
        }
        assert!(budget.try_take(20_999).is_err());
        assert_eq!(budget.try_take(60_000), Ok(()));
        assert_eq!(budget.try_take(60_001), Ok(()));
    }

    #[test]
    fn evenly_is_a_token_bucket() {
        let budget = Budget::new(2, Duration::from_secs(1), Refill::Evenly);
        assert_eq!(budget.try_take(1_000), Ok(()));
        assert_eq!(budget.try_take(1_000), Ok(()));
        assert_eq!(budget.try_take(1_100), Err(Duration::from_millis(400)));
        // One permit every 500 ms.
        assert_eq!(budget.try_take(1_500), Ok(()));
        assert!(budget.try_take(1_999).is_err());
        assert_eq!(budget.try_take(2_000), Ok(()));
        // Long idle: a full bucket, never more.
        for _ in 0..2 {
            assert_eq!(budget.try_take(9_000), Ok(()));
        }
        assert!(budget.try_take(9_000).is_err());
    }

    #[test]
    fn one_per_window_is_a_log_line_per_window() {
        let budget = Budget::new(1, TEN_S, Refill::WholeWindow);
        assert_eq!(budget.try_take(1), Ok(()));
        assert!(budget.try_take(10_000).is_err());
        assert_eq!(budget.try_take(10_001), Ok(()));
        assert_eq!(
            budget.try_take(u64::MAX),
            Ok(()),
            "no overflow at the end of time"
        );
        assert!(budget.try_take(u64::MAX).is_err());
    }

    #[test]
    fn no_permits_never_admits_and_no_window_always_does() {
        for refill in [Refill::WholeWindow, Refill::Evenly] {
            assert!(Budget::new(0, TEN_S, refill).try_take(1).is_err());
            let unbounded = Budget::new(1, Duration::ZERO, refill);
            assert!((0..5).all(|_| unbounded.try_take(7).is_ok()));
        }
    }

    #[test]
    fn the_clock_never_reads_zero() {
        assert!(now_ms() >= 1);
    }
}
