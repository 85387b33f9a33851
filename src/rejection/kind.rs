//! The kind of refusal, which decides the status.

use http::StatusCode;

/// The kind of refusal, which decides the status.
///
/// ```
/// use axum_cognito::{AuthRejection, RejectionKind};
///
/// let rejection = AuthRejection::missing_token();
/// assert_eq!(rejection.kind(), RejectionKind::MissingToken);
/// assert_eq!(rejection.kind().status(), 401);
/// assert_eq!(rejection.kind().grpc_status(), 16);
/// assert_eq!(RejectionKind::InsufficientScope.code(), "insufficient_scope");
/// ```
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RejectionKind {
    /// No `Authorization` header: 401.
    MissingToken,
    /// An `Authorization` header that is not one well-formed Bearer credential: 401.
    InvalidRequest,
    /// A token that failed a check: 401.
    InvalidToken,
    /// A valid token without a required group or scope: 403.
    InsufficientScope,
    /// The signing keys are unusable, or the revocation check with Cognito failed under the
    /// fail-closed policy: 503.
    KeysUnavailable,
    /// An extractor found neither a layer's result nor a verifier: 500.
    MissingVerifier,
}

impl RejectionKind {
    /// The HTTP status, the gRPC status and the code of this kind: the one table of them.
    fn row(self) -> (StatusCode, u16, &'static str) {
        match self {
            Self::MissingToken => (StatusCode::UNAUTHORIZED, 16, "missing_token"),
            Self::InvalidRequest => (StatusCode::UNAUTHORIZED, 16, "invalid_request"),
            Self::InvalidToken => (StatusCode::UNAUTHORIZED, 16, "invalid_token"),
            Self::InsufficientScope => (StatusCode::FORBIDDEN, 7, "insufficient_scope"),
            Self::KeysUnavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                14,
                "temporarily_unavailable",
            ),
            Self::MissingVerifier => (
                StatusCode::INTERNAL_SERVER_ERROR,
                13,
                "server_misconfigured",
            ),
        }
    }

    /// The HTTP status.
    pub fn status(self) -> StatusCode {
        self.row().0
    }

    /// The gRPC status code a gRPC client sees: 16 (unauthenticated) for 401, 7 (permission
    /// denied) for 403, 14 (unavailable) for 503, 13 (internal) for 500.
    pub fn grpc_status(self) -> u16 {
        self.row().1
    }

    /// A short code: the RFC 6750 error code where there is one.
    pub fn code(self) -> &'static str {
        self.row().2
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses() {
        use RejectionKind::*;
        for (kind, status) in [
            (MissingToken, 401),
            (InvalidRequest, 401),
            (InvalidToken, 401),
            (InsufficientScope, 403),
            (KeysUnavailable, 503),
            (MissingVerifier, 500),
        ] {
            assert_eq!(kind.status().as_u16(), status, "{kind:?}");
            let grpc = match status {
                401 => 16,
                403 => 7,
                503 => 14,
                _ => 13,
            };
            assert_eq!(kind.grpc_status(), grpc, "{kind:?}");
        }
    }
}
