//! The default of every verifier setting, in one place. Each is named on its
//! [`CognitoVerifierBuilder`](crate::CognitoVerifierBuilder) setter, with the reason for it.
//!
//! ```
//! use axum_cognito::defaults;
//! use std::time::Duration;
//!
//! assert_eq!(defaults::DEFAULT_LEEWAY, Duration::from_secs(60));
//! assert_eq!(defaults::DEFAULT_MAX_TOKEN_BYTES, 16 * 1024);
//! ```

use std::time::Duration;

/// Default clock-skew leeway for `exp` and `nbf`.
pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(60);
/// The largest leeway a builder accepts: 5 minutes, Cognito's shortest token lifetime.
pub const MAX_LEEWAY: Duration = Duration::from_secs(5 * 60);
/// Default largest accepted token, in bytes.
pub const DEFAULT_MAX_TOKEN_BYTES: usize = 16 * 1024;
/// The longest fetch timeout a builder accepts: a request may wait this long for a key.
pub const MAX_FETCH_TIMEOUT: Duration = Duration::from_secs(5 * 60);
/// Default time limit for one JWKS fetch, body included.
pub const DEFAULT_FETCH_TIMEOUT: Duration = Duration::from_secs(3);
/// Default largest accepted JWKS response, in bytes.
pub const DEFAULT_MAX_JWKS_BYTES: usize = 64 * 1024;
/// Default interval between background refreshes.
pub const DEFAULT_REFRESH_INTERVAL: Duration = Duration::from_secs(10 * 60);
/// Default floor under a refresh interval shortened by `Cache-Control: max-age`.
pub const DEFAULT_MIN_REFRESH_INTERVAL: Duration = Duration::from_secs(60);
/// Default first retry delay after a failed fetch (doubled after each further failure).
pub const DEFAULT_FIRST_RETRY: Duration = Duration::from_secs(1);
/// Default longest retry delay after failed fetches.
pub const DEFAULT_MAX_RETRY: Duration = Duration::from_secs(60);
/// Default maximum staleness: how long keys are trusted without a successful fetch.
pub const DEFAULT_MAX_STALENESS: Duration = Duration::from_secs(24 * 60 * 60);
/// Default cooldown after a fetch that an unknown `kid` caused, during which an unknown `kid`
/// fails without a new fetch.
pub const DEFAULT_UNKNOWN_KID_COOLDOWN: Duration = Duration::from_secs(10);
/// Default capacity of the verified-token cache, in bytes of tokens and claims.
pub const DEFAULT_TOKEN_CACHE_BYTES: u64 = 16 * 1024 * 1024;
/// Default largest number of user pools one verifier holds, added at build or at run time.
pub const DEFAULT_MAX_POOLS: usize = 1_000;
/// Default number of pool-resolver calls for unknown issuers allowed at once (a burst), and
/// refilled per [`DEFAULT_RESOLVER_WINDOW`].
pub const DEFAULT_RESOLVER_CALLS: u32 = 10;
/// Default time in which [`DEFAULT_RESOLVER_CALLS`] resolver calls are refilled.
pub const DEFAULT_RESOLVER_WINDOW: Duration = Duration::from_secs(1);
/// Default time an issuer the resolver refused is refused without asking again.
pub const DEFAULT_REFUSED_ISSUER_TTL: Duration = Duration::from_secs(60);
/// Default number of refused issuers remembered (the least recently seen are forgotten first).
pub const DEFAULT_MAX_REFUSED_ISSUERS: usize = 10_000;

// Load balancer (`x-amzn-oidc-data`) tokens: see `AlbVerifierBuilder`.

/// Default number of load balancer public keys kept, one per `kid`.
pub const DEFAULT_ALB_KEY_CACHE_KEYS: usize = 256;
/// Default largest number of fetches of keys not yet known in one
/// [`DEFAULT_ALB_KEY_FETCH_WINDOW`]: a flood of random `kid`s causes no more.
pub const DEFAULT_ALB_KEY_FETCHES_PER_WINDOW: u32 = 10;
/// Default window over which [`DEFAULT_ALB_KEY_FETCHES_PER_WINDOW`] is counted.
pub const DEFAULT_ALB_KEY_FETCH_WINDOW: Duration = Duration::from_secs(10);
/// Default largest number of entries of a
/// [`RevocationList`](crate::revocation::RevocationList).
pub const DEFAULT_REVOCATION_LIST_MAX_ENTRIES: usize = 100_000;
/// The longest a Cognito ID or access token lives: a
/// [`revoke_user_before`](crate::revocation::RevocationList::revoke_user_before) entry is kept
/// this long past the last `iat` it covers (plus the grace), after which every token it covers
/// has expired.
pub const COGNITO_MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(24 * 60 * 60);
/// Default time a `GetUser` answer is reused for the same access token.
pub const DEFAULT_GET_USER_TTL: Duration = Duration::from_secs(60);
/// Default time limit of one `GetUser` call.
pub const DEFAULT_GET_USER_TIMEOUT: Duration = Duration::from_secs(2);
/// Default largest number of `GetUser` answers kept.
pub const DEFAULT_GET_USER_CACHE_ENTRIES: usize = 10_000;
