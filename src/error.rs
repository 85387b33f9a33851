//! Why a token was not accepted.
//!
//! [`Error`] carries an [`ErrorKind`] that says which check failed, and tells whose fault it
//! was: [`Error::is_unavailable`] is true when the token could not be checked because the
//! signing keys are unusable (the JWKS is unreachable or too stale). That is the server's
//! fault, and the HTTP layer answers 503 for it instead of 401.
//!
//! The common failures read as users of the Python `cognitojwt` library know them:
//! "Token is expired", "Invalid signature", "Invalid 'aud' claim", "Invalid 'iss' claim".

use std::{fmt, sync::Arc, time::Duration};

/// The cause of a [`ErrorKind::KeysUnavailable`]: a key fetch's error (for user pools, a
/// [`JwksError`](crate::jwks::JwksError)), reachable through [`std::error::Error::source`].
pub(crate) type KeysUnavailableCause = Arc<dyn std::error::Error + Send + Sync + 'static>;

/// Which check a token failed. Each check of the verifier has its own kind.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The token is longer than the configured maximum
    /// ([`CognitoVerifierBuilder::max_token_bytes`](crate::CognitoVerifierBuilder::max_token_bytes)).
    TokenTooLarge,
    /// The token is not three unpadded base64url segments.
    Malformed,
    /// The header is not a JSON object with string `alg` and `kid`.
    InvalidHeader,
    /// The header's `alg` is not one the token's family is signed with (`RS256` for user-pool
    /// tokens: the only algorithm Cognito signs with).
    UnsupportedAlgorithm,
    /// The header has a `crit` member; no extension is understood, so none may be critical.
    CriticalHeader,
    /// The header has no `kid`.
    MissingKeyId,
    /// The `kid` is not in the user pool's key set, even after a refetch.
    UnknownKeyId,
    /// The signature does not match the key named by `kid`.
    InvalidSignature,
    /// The payload is not a JSON object of the expected shape (a claim of the wrong type, a
    /// duplicate member name, or claims that do not fit the requested claims type).
    InvalidClaims,
    /// A required claim (`token_use`, `exp`, `iss`, `sub`, and `aud` or `client_id`) is missing.
    MissingClaim,
    /// `exp` is in the past, beyond the leeway.
    Expired,
    /// `nbf` is in the future, beyond the leeway.
    NotYetValid,
    /// `iss` does not name a configured user pool.
    InvalidIssuer,
    /// `token_use` is not one the verifier or route accepts.
    InvalidTokenUse,
    /// The ID token's `aud` is not an allowed app client.
    InvalidAudience,
    /// The access token's `client_id` (or a load balancer token's `client` header) is not an
    /// allowed app client.
    InvalidClientId,
    /// A load balancer token's `signer` is not one of the configured load balancers.
    InvalidSigner,
    /// The token carries none of the required `cognito:groups`.
    MissingGroup,
    /// The token carries none of the required scopes.
    MissingScope,
    /// The custom check rejected the verified claims (HTTP 401).
    CustomCheck,
    /// A custom check forbade the valid token (HTTP 403): a token of the wrong tenant, say.
    Forbidden,
    /// The signing keys are unusable: never loaded, too stale, or a refetch failed. The server's
    /// fault, not the caller's.
    KeysUnavailable,
    /// The token was revoked: by the [`RevocationList`](crate::revocation::RevocationList), a
    /// [`RevocationCheck`](crate::revocation::RevocationCheck) of the application, or Cognito's
    /// `GetUser` answer (HTTP 401).
    Revoked,
    /// Cognito's `GetUser` could not be asked whether the token was revoked (timeout, an
    /// error answer, unreachable) and the [failure
    /// policy](crate::revocation::FailurePolicy) is to fail closed: the server's fault, HTTP
    /// 503.
    RevocationUnavailable,
}

impl ErrorKind {
    /// A short, fixed description, safe to send to a client.
    pub fn description(self) -> &'static str {
        match self {
            Self::TokenTooLarge => "Token is too large",
            Self::Malformed => "Token is malformed",
            Self::InvalidHeader => "Invalid token header",
            Self::UnsupportedAlgorithm => "Unsupported algorithm",
            Self::CriticalHeader => "Unsupported critical header",
            Self::MissingKeyId => "Missing 'kid' header",
            Self::UnknownKeyId => "Unknown signing key",
            Self::InvalidSignature => "Invalid signature",
            Self::InvalidClaims => "Invalid claims",
            Self::MissingClaim => "Missing required claim",
            Self::Expired => "Token is expired",
            Self::NotYetValid => "Token is not yet valid",
            Self::InvalidIssuer => "Invalid 'iss' claim",
            Self::InvalidTokenUse => "Invalid 'token_use' claim",
            Self::InvalidAudience => "Invalid 'aud' claim",
            Self::InvalidClientId => "Invalid 'client_id' claim",
            Self::InvalidSigner => "Invalid 'signer' header",
            Self::MissingGroup => "Missing required group",
            Self::MissingScope => "Missing required scope",
            Self::CustomCheck => "Custom claims check failed",
            Self::Forbidden => "Forbidden by a custom check",
            Self::KeysUnavailable => "Signing keys are unavailable",
            Self::Revoked => "Token has been revoked",
            Self::RevocationUnavailable => "Revocation check is unavailable",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.description())
    }
}

/// A token was not accepted.
///
/// `Display` gives a short sentence ("Token is expired", "Missing 'sub' claim"); the kind gives
/// the check. When the signature was valid and a later claim check failed, the verified claims
/// are reachable through [`Error::verified_claims_json`] for logging. They are never kept for a
/// token whose signature was not verified.
#[derive(Clone)]
pub struct Error {
    kind: ErrorKind,
    detail: Detail,
    verified_claims: Option<Arc<str>>,
    source: Option<KeysUnavailableCause>,
    retry_after: Option<Duration>,
}

#[derive(Clone)]
enum Detail {
    None,
    Claim(&'static str),
    Message(Arc<str>),
}

impl Error {
    pub(crate) fn new(kind: ErrorKind) -> Self {
        Self {
            kind,
            detail: Detail::None,
            verified_claims: None,
            source: None,
            retry_after: None,
        }
    }

    pub(crate) fn missing_claim(name: &'static str) -> Self {
        Self {
            detail: Detail::Claim(name),
            ..Self::new(ErrorKind::MissingClaim)
        }
    }

    /// [`ErrorKind::InvalidClaims`] for the claim `name`, of the wrong type or shape.
    #[cfg(feature = "lambda")]
    pub(crate) fn invalid_claim(name: &'static str) -> Self {
        Self {
            detail: Detail::Claim(name),
            ..Self::new(ErrorKind::InvalidClaims)
        }
    }

    pub(crate) fn custom_of(kind: ErrorKind, message: String) -> Self {
        Self {
            detail: Detail::Message(message.into()),
            ..Self::new(kind)
        }
    }

    pub(crate) fn unavailable(source: Option<KeysUnavailableCause>, retry_after: Duration) -> Self {
        Self {
            source,
            retry_after: Some(retry_after),
            ..Self::new(ErrorKind::KeysUnavailable)
        }
    }

    /// A failed revocation check under the fail-closed policy: retry after `retry_after`.
    pub(crate) fn revocation_unavailable(retry_after: Duration) -> Self {
        Self {
            retry_after: Some(retry_after),
            ..Self::new(ErrorKind::RevocationUnavailable)
        }
    }

    pub(crate) fn with_verified_claims(mut self, payload: &[u8]) -> Self {
        // The payload was decoded from base64 and parsed as JSON, so it is UTF-8.
        if let Ok(text) = std::str::from_utf8(payload) {
            self.verified_claims = Some(text.into());
        }
        self
    }

    /// Which check failed.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// True when the token could not be checked because the signing keys are unusable, or
    /// because the revocation check with Cognito failed under the fail-closed policy: the
    /// server's fault. HTTP answers 503 for it.
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self.kind,
            ErrorKind::KeysUnavailable | ErrorKind::RevocationUnavailable
        )
    }

    /// True when the token is valid but lacks a required group or scope, or a custom check
    /// forbade it. HTTP answers 403.
    pub fn is_forbidden(&self) -> bool {
        matches!(
            self.kind,
            ErrorKind::MissingGroup | ErrorKind::MissingScope | ErrorKind::Forbidden
        )
    }

    /// For [`ErrorKind::KeysUnavailable`] and [`ErrorKind::RevocationUnavailable`], how long a client should wait before it tries again.
    pub fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }

    /// For [`ErrorKind::MissingClaim`], the name of the missing claim.
    pub fn missing_claim_name(&self) -> Option<&'static str> {
        self.claim_name()
            .filter(|_| self.kind == ErrorKind::MissingClaim)
    }

    /// For [`ErrorKind::MissingClaim`], and for [`ErrorKind::InvalidClaims`] when one claim is
    /// to blame (a non-numeric `exp` from API Gateway, say), the claim's name.
    pub fn claim_name(&self) -> Option<&'static str> {
        match self.detail {
            Detail::Claim(name) => Some(name),
            _ => None,
        }
    }

    /// The JSON text of the claims, when the signature was valid and a later check failed.
    ///
    /// Meant for logs and audits. It is `None` for every failure up to and including the
    /// signature check, so an attacker's unverified claims never reach it.
    pub fn verified_claims_json(&self) -> Option<&str> {
        self.verified_claims.as_deref()
    }

    /// The verified claims parsed into a JSON value; see [`Error::verified_claims_json`].
    pub fn verified_claims(&self) -> Option<serde_json::Value> {
        serde_json::from_str(self.verified_claims.as_deref()?).ok()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.detail {
            Detail::Claim(name) if self.kind == ErrorKind::InvalidClaims => {
                write!(f, "Invalid '{name}' claim")
            }
            Detail::Claim(name) => write!(f, "Missing '{name}' claim"),
            Detail::Message(message) => write!(f, "{}: {message}", self.kind),
            Detail::None => fmt::Display::fmt(&self.kind, f),
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The claims are left out: a debug print in a log should not copy a user's profile.
        f.debug_struct("Error")
            .field("kind", &self.kind)
            .field("message", &self.to_string())
            .field("has_verified_claims", &self.verified_claims.is_some())
            .field("source", &self.source)
            .finish()
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_match_what_python_users_know() {
        assert_eq!(
            Error::new(ErrorKind::Expired).to_string(),
            "Token is expired"
        );
        assert_eq!(
            Error::new(ErrorKind::InvalidSignature).to_string(),
            "Invalid signature"
        );
        assert_eq!(
            Error::new(ErrorKind::InvalidAudience).to_string(),
            "Invalid 'aud' claim"
        );
        assert_eq!(
            Error::new(ErrorKind::InvalidIssuer).to_string(),
            "Invalid 'iss' claim"
        );
        assert_eq!(
            Error::missing_claim("sub").to_string(),
            "Missing 'sub' claim"
        );
    }

    #[test]
    fn only_key_trouble_is_unavailable() {
        assert!(Error::unavailable(None, Duration::from_secs(1)).is_unavailable());
        assert!(!Error::new(ErrorKind::UnknownKeyId).is_unavailable());
        assert!(Error::revocation_unavailable(Duration::from_secs(1)).is_unavailable());
        assert!(!Error::new(ErrorKind::Revoked).is_unavailable());
        assert!(!Error::new(ErrorKind::Revoked).is_forbidden());
        assert!(Error::new(ErrorKind::MissingScope).is_forbidden());
        assert!(!Error::new(ErrorKind::Expired).is_forbidden());
    }
}
