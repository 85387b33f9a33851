//! The kind of refusal, which decides the status.

use http::StatusCode;

/// The kind of refusal, which decides the status.
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
    /// The signing keys are unusable: 503.
    KeysUnavailable,
    /// An extractor found neither a layer's result nor a verifier: 500.
    MissingVerifier,
}

impl RejectionKind {
    /// The HTTP status.
    pub fn status(self) -> StatusCode {
        match self {
            Self::MissingToken | Self::InvalidRequest | Self::InvalidToken => {
                StatusCode::UNAUTHORIZED
            }
            Self::InsufficientScope => StatusCode::FORBIDDEN,
            Self::KeysUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::MissingVerifier => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A short code: the RFC 6750 error code where there is one.
    pub fn code(self) -> &'static str {
        match self {
            Self::MissingToken => "missing_token",
            Self::InvalidRequest => "invalid_request",
            Self::InvalidToken => "invalid_token",
            Self::InsufficientScope => "insufficient_scope",
            Self::KeysUnavailable => "temporarily_unavailable",
            Self::MissingVerifier => "server_misconfigured",
        }
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
        }
    }
}
