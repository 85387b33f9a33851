//! One log event per decision, at a level that fits whose fault it was, at a rate no client can
//! turn into a flood. Never the token.
//!
//! Refusals a client can cause in bulk and that are logged above DEBUG (503 while the keys are
//! unusable, 403 for a missing group or scope, 500 for a route without a verifier) are written
//! at their level at most once per kind per [`WINDOW`](crate::rate_limited_log::WINDOW): the first at once, the next one with the
//! count of those written at DEBUG in between. Everything else is DEBUG.

use super::{auth_rejection::AuthRejection, kind::RejectionKind};
use crate::{budget::now_ms, rate_limited_log::RateLimit, verified_token::VerifiedToken};

static UNAVAILABLE: RateLimit = RateLimit::new();
static MISCONFIGURED: RateLimit = RateLimit::new();
static FORBIDDEN: RateLimit = RateLimit::new();

/// One event per refused request.
pub(crate) fn log_rejection(rejection: &AuthRejection) {
    let reason = rejection.reason();
    let kind = rejection.kind();
    let limit = match kind {
        RejectionKind::KeysUnavailable => Some(&UNAVAILABLE),
        RejectionKind::MissingVerifier => Some(&MISCONFIGURED),
        RejectionKind::InsufficientScope => Some(&FORBIDDEN),
        _ => None,
    };
    let Some(held_back) = limit.and_then(|limit| limit.admit(now_ms())) else {
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
