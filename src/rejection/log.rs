//! One log event per decision, at a level that fits whose fault it was. Never the token.

use super::{auth_rejection::AuthRejection, kind::RejectionKind};
use crate::verified_token::VerifiedToken;

/// One event per refused request.
pub(crate) fn log_rejection(rejection: &AuthRejection) {
    let reason = rejection.reason();
    match rejection.kind() {
        RejectionKind::KeysUnavailable => {
            tracing::warn!(reason = %reason, "cognito: keys unavailable, answering 503")
        }
        RejectionKind::MissingVerifier => {
            tracing::error!(reason = %reason, "cognito: misconfigured route")
        }
        RejectionKind::InsufficientScope => {
            tracing::info!(reason = %reason, "cognito: token lacks a required group or scope")
        }
        _ => {
            tracing::debug!(reason = %reason, kind = ?rejection.kind(), "cognito: request refused")
        }
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
