//! The opt-in check with Cognito itself: how it is configured.

use std::time::Duration;

use crate::defaults::{
    DEFAULT_GET_USER_CACHE_ENTRIES, DEFAULT_GET_USER_TIMEOUT, DEFAULT_GET_USER_TTL,
};

/// What a request gets when Cognito could not be asked (timeout, an error answer other than
/// "revoked", unreachable).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum FailurePolicy {
    /// Refuse with [`RevocationUnavailable`](crate::ErrorKind::RevocationUnavailable): HTTP
    /// 503 with `Retry-After`. The default: a revoked token never passes because Cognito was
    /// slow.
    #[default]
    FailClosed,
    /// Accept the token, valid by every other check, as if it had not been revoked: the
    /// service stays up through a Cognito outage, and a token revoked during it passes until
    /// Cognito answers again. The failure is not cached: the next request asks again.
    FailOpen,
}

/// Asks Cognito whether an access token was revoked, by calling the user pool's `GetUser`
/// with it: Cognito answers `NotAuthorizedException` for a token whose user signed out
/// globally (`GlobalSignOut`, `AdminUserGlobalSignOut`), whose token was revoked, or who was
/// disabled, and `UserNotFoundException` for a deleted user; both refuse the token with
/// [`Revoked`](crate::ErrorKind::Revoked) (401). Turned on with
/// [`CognitoVerifierBuilder::get_user_check`](crate::CognitoVerifierBuilder::get_user_check).
///
/// - **Only access tokens.** `GetUser` takes an access token; ID tokens are not checked
///   (Cognito's global sign-out does not invalidate them either). Use the
///   [`RevocationList`](super::RevocationList) for them.
/// - **The call.** `POST https://cognito-idp.{region}.amazonaws.com/` (the region of the
///   token's issuer) with `X-Amz-Target: AWSCognitoIdentityProviderService.GetUser` and
///   `{"AccessToken": ...}`: no AWS credentials, no signature. No redirects, no proxy from
///   the environment, a [timeout](Self::timeout), at most 64 KiB of answer read.
///   [`endpoint`](Self::endpoint) replaces the URL for emulators (moto, LocalStack).
/// - **Cached answers.** An answer is reused for the same token for the [ttl](Self::ttl)
///   (default 60 s, [`DEFAULT_GET_USER_TTL`]), so a revocation is seen within that time.
///   Answers are kept by the SHA-256 of the token's signature (which identifies a verified
///   token), never the token, at most
///   [`max_cached`](Self::max_cached) of them. Concurrent requests with one token share one
///   call. A failed call is never cached.
/// - **Failures** follow the [`FailurePolicy`], by default [`FailurePolicy::FailClosed`].
/// - **Synchronous verification** (`verify_sync` and its twins) never touches the network:
///   it uses a cached answer, and without one applies the failure policy. The
///   [`CognitoAuthLayer`](crate::CognitoAuthLayer) and the extractors ask Cognito when no
///   answer is cached.
///
/// ```
/// use std::time::Duration;
/// use axum_cognito::{CognitoVerifier, TokenUse, revocation::{FailurePolicy, GetUserCheck}};
///
/// let check = GetUserCheck::new()
///     .ttl(Duration::from_secs(30))
///     .failure_policy(FailurePolicy::FailOpen)
///     .endpoint("http://127.0.0.1:5000"); // moto
/// let builder = CognitoVerifier::builder()
///     .user_pool("us-east-1_AbC123456")
///     .client_id("my-app-client")
///     .token_use(TokenUse::Access)
///     .get_user_check(check);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct GetUserCheck {
    pub(crate) endpoint: Option<String>,
    pub(crate) ttl: Duration,
    pub(crate) timeout: Duration,
    pub(crate) max_cached: usize,
    pub(crate) failure_policy: FailurePolicy,
}

impl Default for GetUserCheck {
    fn default() -> Self {
        Self::new()
    }
}

impl GetUserCheck {
    /// Every default: Cognito's regional endpoint, 60 s ttl, 2 s timeout, 10,000 answers,
    /// fail closed.
    pub fn new() -> Self {
        Self {
            endpoint: None,
            ttl: DEFAULT_GET_USER_TTL,
            timeout: DEFAULT_GET_USER_TIMEOUT,
            max_cached: DEFAULT_GET_USER_CACHE_ENTRIES,
            failure_policy: FailurePolicy::FailClosed,
        }
    }

    /// Calls this URL instead of `https://cognito-idp.{region}.amazonaws.com/`: an emulator's,
    /// such as `http://127.0.0.1:5000` for moto. `http://` only to a loopback host (the
    /// request carries the access token); building fails otherwise.
    pub fn endpoint(mut self, url: impl Into<String>) -> Self {
        self.endpoint = Some(url.into());
        self
    }

    /// How long an answer is reused for the same token: the longest a revoked token keeps
    /// passing. Default 60 s ([`DEFAULT_GET_USER_TTL`]); must be above zero.
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// Time limit of one call, connection and answer included. Default 2 s
    /// ([`DEFAULT_GET_USER_TIMEOUT`]).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The most answers kept; the least recently useful go first. Default 10,000
    /// ([`DEFAULT_GET_USER_CACHE_ENTRIES`]).
    pub fn max_cached(mut self, entries: usize) -> Self {
        self.max_cached = entries;
        self
    }

    /// What a request gets when Cognito could not be asked. Default
    /// [`FailurePolicy::FailClosed`].
    pub fn failure_policy(mut self, policy: FailurePolicy) -> Self {
        self.failure_policy = policy;
        self
    }
}
