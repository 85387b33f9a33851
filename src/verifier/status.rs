//! The state of a verifier's key stores, for a health endpoint.

use serde::Serialize;

use crate::jwks::KeyStoreStatus;

/// The state of every pool's key store, for a health endpoint.
///
/// ```
/// use axum_cognito::test_util::TestIssuer;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let issuer = TestIssuer::start().await;
/// let verifier = issuer.verifier_builder().build().await.unwrap();
/// let status = verifier.status();
/// assert!(status.usable);
/// assert_eq!(status.pools[0].user_pool_id, issuer.pool_id());
/// let json = serde_json::to_value(&status).unwrap();
/// assert_eq!(json["usable"], true);
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct VerifierStatus {
    /// True when every pool's keys are usable.
    pub usable: bool,
    /// One entry per pool, in the order they were added.
    pub pools: Vec<KeyStoreStatus>,
    /// Tokens in the verified-token cache.
    pub cached_tokens: usize,
    /// The verified-token cache's weight, in bytes: what its entries hold on the heap, within
    /// 2x; at most the capacity set with `token_cache_bytes`.
    pub cached_token_bytes: u64,
    /// The revocation list's sharing through Redis, when it is shared (feature `redis`).
    #[cfg(feature = "redis")]
    pub revocation_redis: Option<crate::revocation::RedisSyncStatus>,
}
