//! When a key store fetches: the refresh interval, `Cache-Control: max-age`, jitter, backoff
//! after failures, the staleness deadline and the retry hint a refused client gets. Pure
//! functions of the settings and the last outcome, so that every rule is a unit test.

use std::time::{Duration, SystemTime};

/// The retry hint given to clients (`Retry-After`) is kept within these bounds: under a second
/// is not expressible, over a minute tells clients to give up on a service that may be back
/// sooner.
const RETRY_HINT_MIN: Duration = Duration::from_secs(1);
const RETRY_HINT_MAX: Duration = Duration::from_secs(60);

/// How a remote key store refreshes; the defaults are in [`defaults`](crate::defaults).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RefreshSettings {
    pub(crate) refresh_interval: Duration,
    pub(crate) min_refresh_interval: Duration,
    pub(crate) first_retry: Duration,
    pub(crate) max_retry: Duration,
    pub(crate) max_staleness: Option<Duration>,
    pub(crate) unknown_kid_cooldown: Duration,
}

/// The delay before the next refresh after a success. The configured interval bounds how long a
/// removed key stays trusted, so it is never lengthened, not even to the floor; `max-age` may
/// only shorten it, and not below the floor.
pub(crate) fn interval_after_success(
    settings: &RefreshSettings,
    max_age: Option<Duration>,
) -> Duration {
    match max_age {
        Some(max_age) => max_age
            .max(settings.min_refresh_interval)
            .min(settings.refresh_interval),
        None => settings.refresh_interval,
    }
}

/// The retry delay after one more failure: doubled, up to the maximum, never overflowing.
pub(crate) fn next_retry_delay(settings: &RefreshSettings, current: Duration) -> Duration {
    current.saturating_mul(2).min(settings.max_retry)
}

/// When keys loaded `now` stop being trusted; `None` when they never do (or the deadline is
/// past what the clock can represent). Wall-clock time, as the token checks read it, so that a
/// verification reads the clock once for both.
pub(crate) fn stale_at(settings: &RefreshSettings, now: SystemTime) -> Option<SystemTime> {
    settings.max_staleness.and_then(|s| now.checked_add(s))
}

/// What a client refused for unusable keys is told to wait: until the next retry, or the rest
/// of a failed refetch's cooldown, whichever is longer, within a second and a minute.
pub(crate) fn retry_hint(retry_delay: Duration, cooldown_left: Duration) -> Duration {
    retry_delay
        .max(cooldown_left)
        .clamp(RETRY_HINT_MIN, RETRY_HINT_MAX)
}

/// Takes up to a tenth off an interval, by `random`, so that many instances started together
/// do not refresh in step.
pub(crate) fn with_jitter(interval: Duration, random: u64) -> Duration {
    let tenth = interval / 10;
    let nanos = u64::try_from(tenth.as_nanos()).unwrap_or(u64::MAX).max(1);
    interval.saturating_sub(Duration::from_nanos(random % nanos))
}

#[cfg(test)]
mod tests {
    use super::*;

    const fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    fn settings(refresh_secs: u64, floor_secs: u64) -> RefreshSettings {
        RefreshSettings {
            refresh_interval: secs(refresh_secs),
            min_refresh_interval: secs(floor_secs),
            first_retry: secs(1),
            max_retry: secs(60),
            max_staleness: Some(secs(3600)),
            unknown_kid_cooldown: secs(10),
        }
    }

    #[test]
    fn max_age_only_shortens_the_interval_down_to_the_floor() {
        let s = settings(600, 60);
        let cases = [
            (None, 600),
            (Some(120), 120),
            (Some(1), 60),
            (Some(0), 60),
            (Some(86_400), 600),
        ];
        for (max_age, expected) in cases {
            assert_eq!(
                interval_after_success(&s, max_age.map(secs)),
                secs(expected),
                "{max_age:?}"
            );
        }
        // An interval configured below the floor is kept as it is.
        let short = settings(30, 60);
        assert_eq!(interval_after_success(&short, None), secs(30));
        assert_eq!(interval_after_success(&short, Some(secs(1))), secs(30));
    }

    #[test]
    fn backoff_doubles_up_to_the_maximum_and_never_overflows() {
        let s = settings(600, 60);
        let mut delay = s.first_retry;
        let mut seen = Vec::new();
        for _ in 0..8 {
            seen.push(delay.as_secs());
            delay = next_retry_delay(&s, delay);
        }
        assert_eq!(seen, [1, 2, 4, 8, 16, 32, 60, 60]);
        let unbounded = RefreshSettings {
            max_retry: Duration::MAX,
            ..s
        };
        let mut delay = secs(1);
        for _ in 0..200 {
            delay = next_retry_delay(&unbounded, delay);
        }
        assert_eq!(delay, Duration::MAX);
    }

    #[test]
    fn staleness_deadline() {
        let now = SystemTime::now();
        assert_eq!(stale_at(&settings(600, 60), now), Some(now + secs(3600)));
        let forever = RefreshSettings {
            max_staleness: None,
            ..settings(600, 60)
        };
        assert_eq!(stale_at(&forever, now), None);
        let beyond = RefreshSettings {
            max_staleness: Some(Duration::MAX),
            ..settings(600, 60)
        };
        assert_eq!(stale_at(&beyond, now), None);
    }

    #[test]
    fn retry_hints_stay_within_a_second_and_a_minute() {
        let cases = [
            (0, 0, 1),
            (1, 0, 1),
            (4, 7, 7),
            (8, 2, 8),
            (120, 0, 60),
            (0, 3600, 60),
        ];
        for (retry, cooldown, expected) in cases {
            assert_eq!(
                retry_hint(secs(retry), secs(cooldown)),
                secs(expected),
                "{retry} {cooldown}"
            );
        }
    }

    #[test]
    fn jitter_takes_at_most_a_tenth() {
        let interval = secs(600);
        for random in [0, 1, 59_999_999_999, 60_000_000_000, u64::MAX] {
            let jittered = with_jitter(interval, random);
            assert!(jittered <= interval && jittered > secs(540), "{random}");
        }
        assert_eq!(with_jitter(interval, 0), interval);
        assert_eq!(with_jitter(Duration::ZERO, 7), Duration::ZERO);
    }
}
