//! The global bound on fetches of keys not yet known: at most `limit` per `window`, whatever
//! the `kid`s. It is what makes a flood of random `kid`s cheap: every `kid` beyond the budget
//! is answered at once, without a fetch, until the window ends.

use std::time::{Duration, Instant};

/// A fixed window that opens with its first fetch: at most `limit` fetches start from then
/// until `window` later. Two windows can meet inside a short span (the end of one, the start
/// of the next), so over any span of time `T` at most `limit × (1 + ⌈T / window⌉)` fetches
/// start: 20 in any 10 s with the defaults.
#[derive(Debug)]
pub(crate) struct FetchBudget {
    limit: u32,
    window: Duration,
    opened: Option<Instant>,
    used: u32,
}

impl FetchBudget {
    pub(crate) fn new(limit: u32, window: Duration) -> Self {
        Self {
            limit,
            window,
            opened: None,
            used: 0,
        }
    }

    /// Takes one fetch at `now`: `Err(time until the window ends)` when none is left.
    pub(crate) fn take(&mut self, now: Instant) -> Result<(), Duration> {
        let open = self
            .opened
            .is_some_and(|opened| now.saturating_duration_since(opened) < self.window);
        if !open {
            self.opened = Some(now);
            self.used = 0;
        }
        if self.used >= self.limit {
            let opened = self.opened.unwrap_or(now);
            return Err(self
                .window
                .saturating_sub(now.saturating_duration_since(opened)));
        }
        self.used += 1;
        Ok(())
    }

    pub(crate) fn limit(&self) -> u32 {
        self.limit
    }

    pub(crate) fn window(&self) -> Duration {
        self.window
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_most_limit_per_window() {
        let start = Instant::now();
        let at = |ms: u64| start + Duration::from_millis(ms);
        let mut budget = FetchBudget::new(3, Duration::from_secs(10));
        for ms in [0, 1, 2] {
            assert_eq!(budget.take(at(ms)), Ok(()));
        }
        assert_eq!(budget.take(at(4_000)), Err(Duration::from_secs(6)));
        assert_eq!(budget.take(at(9_999)), Err(Duration::from_millis(1)));
        // The next window opens with the next fetch.
        assert_eq!(budget.take(at(10_000)), Ok(()));
        assert_eq!(budget.take(at(10_001)), Ok(()));
        assert_eq!(budget.take(at(10_002)), Ok(()));
        assert!(budget.take(at(19_999)).is_err());
        assert_eq!(budget.take(at(60_000)), Ok(()));
    }

    #[test]
    fn a_limit_of_zero_never_fetches() {
        let mut budget = FetchBudget::new(0, Duration::from_secs(1));
        assert!(budget.take(Instant::now()).is_err());
    }
}
