//! Why a JWKS could not be fetched or used.

/// Why fetching or reading a JWKS failed. The last one is kept in the key store's status, and
/// is the source of an [`Error`](crate::Error) of kind
/// [`KeysUnavailable`](crate::ErrorKind::KeysUnavailable).
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwksError {
    /// No complete answer within the fetch timeout.
    #[error("JWKS fetch timed out after {0:?}")]
    Timeout(std::time::Duration),
    /// The request failed before an answer (connection refused, DNS, TLS).
    #[error("JWKS request failed: {0}")]
    Request(String),
    /// The answer's status was not 200 (or 304 to a conditional request).
    #[error("JWKS endpoint answered HTTP {0}")]
    Status(u16),
    /// The body was larger than the configured limit.
    #[error("JWKS response exceeds {limit} bytes")]
    TooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// The body was not a JSON object with a `keys` array.
    #[error("JWKS is not valid: {0}")]
    InvalidDocument(String),
    /// The set held no key that can verify Cognito tokens (RSA, 2048 to 8192 bits, RS256).
    #[error("JWKS has no usable RS256 key ({skipped} skipped)")]
    NoUsableKeys {
        /// How many keys were skipped as unusable.
        skipped: usize,
    },
    /// A load balancer key was not fetched: the fetches of keys not yet known reached their
    /// limit for this window (a flood of unknown `kid`s).
    #[error("{limit} key fetches in {window:?} already: no more until the window ends")]
    TooManyKeyFetches {
        /// The fetches allowed per window.
        limit: u32,
        /// The window.
        window: std::time::Duration,
    },
}

impl JwksError {
    /// The `result` label of a failed fetch in the metrics.
    pub(crate) fn metric_label(&self) -> &'static str {
        match self {
            Self::Timeout(_) => "timeout",
            Self::Request(_) => "request",
            Self::Status(_) => "status",
            Self::TooLarge { .. } => "too_large",
            Self::InvalidDocument(_) => "invalid_document",
            Self::NoUsableKeys { .. } => "no_usable_keys",
            Self::TooManyKeyFetches { .. } => "too_many_key_fetches",
        }
    }
}
