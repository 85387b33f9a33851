//! One log event per decision, at a level that fits whose fault it was, at a rate no client can
//! turn into a flood. Never the token.
//!
//! Refusals a client can cause in bulk and that are logged above DEBUG (503 while the keys are
//! unusable, 403 for a missing group or scope, 500 for a route without a verifier) are written
//! at their level at most once per kind per [`WINDOW`]: the first at once, the next one with the
//! count of those written at DEBUG in between. Everything else is DEBUG.

use std::{
    sync::{
        OnceLock,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use super::{auth_rejection::AuthRejection, kind::RejectionKind};
use crate::verified_token::VerifiedToken;

/// The least time between two events of one kind above DEBUG.
const WINDOW: Duration = Duration::from_secs(10);

/// When the next event of a kind may be written above DEBUG, and how many were held back.
struct RateLimit {
    /// Milliseconds since [`epoch`]; 0 until the first event.
    next_at_ms: AtomicU64,
    held_back: AtomicU64,
}

impl RateLimit {
    const fn new() -> Self {
        Self {
            next_at_ms: AtomicU64::new(0),
            held_back: AtomicU64::new(0),
        }
    }

    /// `Some(held back since the last one)` when this event may be written at its level.
    fn admit(&self, now_ms: u64) -> Option<u64> {
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

static UNAVAILABLE: RateLimit = RateLimit::new();
static MISCONFIGURED: RateLimit = RateLimit::new();
static FORBIDDEN: RateLimit = RateLimit::new();

fn now_ms() -> u64 {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    let epoch = *EPOCH.get_or_init(Instant::now);
    // Never 0 after the first call, so that the first event of a kind is always admitted.
    u64::try_from(epoch.elapsed().as_millis())
        .unwrap_or(u64::MAX)
        .max(1)
}

/// One event per refused request.
pub(crate) fn log_rejection(rejection: &AuthRejection) {
    let reason = rejection.reason();
    let kind = rejection.kind();
    let limit = match kind {
        RejectionKind::KeysUnavailable => &UNAVAILABLE,
        RejectionKind::MissingVerifier => &MISCONFIGURED,
        RejectionKind::InsufficientScope => &FORBIDDEN,
        _ => {
            tracing::debug!(reason = %reason, kind = ?kind, "cognito: request refused");
            return;
        }
    };
    let Some(held_back) = limit.admit(now_ms()) else {
        tracing::debug!(reason = %reason, kind = ?kind, "cognito: request refused");
        return;
    };
    match kind {
        RejectionKind::KeysUnavailable => tracing::warn!(
            reason = %reason,
            since_last = held_back,
            "cognito: keys unavailable, answering 503"
        ),
        RejectionKind::MissingVerifier => tracing::error!(
            reason = %reason,
            since_last = held_back,
            "cognito: misconfigured route"
        ),
        _ => tracing::info!(
            reason = %reason,
            since_last = held_back,
            "cognito: token lacks a required group or scope"
        ),
    }
}

/// One event per accepted token.
pub(crate) fn log_accepted(token: &VerifiedToken) {
    tracing::debug!(
        sub = token.sub(),
        username = token.username().unwrap_or_default(),
        token_use = %token.token_use(),
        "cognito: token accepted"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_event_per_window_with_the_count_held_back() {
        let limit = RateLimit::new();
        assert_eq!(limit.admit(1), Some(0), "the first is written at once");
        for ms in 2..1000 {
            assert_eq!(limit.admit(ms), None);
        }
        assert_eq!(limit.admit(10_000), None, "still within the window");
        assert_eq!(limit.admit(10_001), Some(999));
        assert_eq!(limit.admit(10_002), None);
        assert_eq!(
            limit.admit(u64::MAX),
            Some(1),
            "no overflow at the end of time"
        );
    }
}
