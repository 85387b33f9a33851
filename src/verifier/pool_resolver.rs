//! Pools resolved at run time: the application's answer for an issuer no pool accepts.
//!
//! A multi-tenant service with a user pool per tenant cannot list its pools at start-up. The
//! shortcut in sample code, fetching keys from whatever `iss` a token names, lets anyone mint
//! tokens for a pool of their own. Here the token never decides: a [`PoolResolver`] that the
//! application provides (its tenant registry) is asked about the issuer, and answers with the
//! pool's configuration, or "no".
//!
//! Bounded against floods of tokens naming random issuers:
//!
//! - Calls are rate-limited by a token bucket (a [`Budget`] refilled evenly): at most
//!   [`pool_resolver_rate`](crate::CognitoVerifierBuilder::pool_resolver_rate)'s `calls` at
//!   once, refilled at `calls` per `per` (defaults 10 and 1 s,
//!   [`DEFAULT_RESOLVER_CALLS`](crate::defaults::DEFAULT_RESOLVER_CALLS)). Over `t` seconds
//!   the resolver is called at most `calls + calls × t / per` times, whatever the tokens name.
//!   A token whose issuer finds the bucket empty is answered at once with
//!   [`KeysUnavailable`](crate::ErrorKind::KeysUnavailable) (HTTP 503, `Retry-After: 1`): the
//!   issuer may be a real tenant's, whose client should retry rather than give up; pools
//!   already known are not affected. (During such a flood the flood's own tokens get 503 too,
//!   logged at most once per 10 s.)
//! - Concurrent tokens naming one issuer share one call.
//! - An issuer the resolver refused is refused without a call for
//!   [`refused_issuer_ttl`](crate::CognitoVerifierBuilder::refused_issuer_ttl) (default
//!   60 s), remembering at most
//!   [`DEFAULT_MAX_REFUSED_ISSUERS`](crate::defaults::DEFAULT_MAX_REFUSED_ISSUERS).
//! - An issuer longer than 1,024 bytes is refused without a call (a Cognito issuer is under
//!   150); refusals are remembered by a keyed hash of the issuer (a few dozen bytes each, not
//!   the issuer's text).
//! - No key is fetched for a refused issuer: keys are fetched only for the pool the resolver
//!   answers with, and only when that pool accepts the issuer asked about.
//! - A call is bounded by the fetch timeout, and the new pool's first key fetch by the fetch
//!   timeout again; a resolver that fails or times out answers 503 for that token
//!   ([`KeysUnavailable`](crate::ErrorKind::KeysUnavailable)), and is asked again by a later
//!   token (within the rate). Resolver failures are logged at WARN at most once per 10 s.
//! - A token whose pool was just resolved and whose `kid` the new key set lacks fails at once
//!   ([`UnknownKeyId`](crate::ErrorKind::UnknownKeyId)): a request waits at most twice the
//!   fetch timeout (plus a second of scheduling margin) on a resolution.
//! - With a resolver, [`remove_pool`](crate::CognitoVerifier::remove_pool) lasts only as long
//!   as the registry no longer lists the tenant: its next token resolves it again. A
//!   resolution already in flight when the pool is removed does not add it.
//! - The resolver is asked before the token's signature is checked, so the pool it answers
//!   with is unproven until a token of it passes that check: tokens that never verify (forged,
//!   naming tenants' public pool ids) cannot fill the table. When the table is full at
//!   [`max_pools`](crate::CognitoVerifierBuilder::max_pools), the oldest unproven pool makes
//!   room; an unproven pool is dropped 5 minutes after it was added (its keys, its background
//!   refresh). A real tenant's token is verified right after its pool is added, which proves
//!   it; until then the new pool is the last unproven one to make room. Only when every pool
//!   is proven is a new tenant refused (503).

use std::{
    collections::HashMap,
    future::Future,
    hash::{BuildHasher, RandomState},
    pin::Pin,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use super::{lock, removal_log::RemovalLog, user_pool::UserPool};
use crate::{
    budget::{Budget, Refill, now_ms},
    single_flight::{Flight, SingleFlight, Waiting},
};

/// What a resolver may fail with: the application's own error, logged and answered with 503.
pub type ResolveError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// The future a [`PoolResolver`] returns.
pub type ResolveFuture =
    Pin<Box<dyn Future<Output = Result<Option<UserPool>, ResolveError>> + Send>>;

/// The application's answer for an issuer that no trusted pool accepts: `Ok(Some(pool))` to
/// trust that pool (it must accept the issuer), `Ok(None)` to refuse it, `Err(_)` when the
/// answer is unknown for now (the registry is down). The pool stays once a token of it passes
/// the signature check; until then it is unproven, and goes first when the table is full, or
/// after 5 minutes ([pools at run time](crate::verifier#pools-at-run-time)).
///
/// Any `Fn(String) -> impl Future<Output = Result<Option<UserPool>, ResolveError>>` is one.
/// The issuer comes from a token that has not been verified yet: look it up, never trust it.
///
/// ```
/// use axum_cognito::{CognitoVerifier, TokenUse, UserPool};
///
/// # async fn run() -> Result<(), axum_cognito::ConfigError> {
/// // The tenant registry: issuer -> (pool id, app client id).
/// let tenants = std::sync::Arc::new(std::collections::HashMap::from([(
///     "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Tenant0001".to_owned(),
///     ("eu-west-1_Tenant0001".to_owned(), "tenant-one-client".to_owned()),
/// )]));
/// let verifier = CognitoVerifier::builder()
///     .without_initial_pools()
///     .pool_resolver(move |issuer: String| {
///         let tenants = tenants.clone();
///         async move {
///             Ok(tenants
///                 .get(&issuer)
///                 .map(|(pool, client)| UserPool::new(pool.as_str()).client_id(client.as_str())))
///         }
///     })
///     .token_use(TokenUse::Access)
///     .build()
///     .await?;
/// # Ok(()) }
/// ```
pub trait PoolResolver: Send + Sync + 'static {
    /// The pool for `issuer`, or `None` to refuse it.
    fn resolve(&self, issuer: &str) -> ResolveFuture;
}

impl<F, Fut> PoolResolver for F
where
    F: Fn(String) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Option<UserPool>, ResolveError>> + Send + 'static,
{
    fn resolve(&self, issuer: &str) -> ResolveFuture {
        Box::pin(self(issuer.to_owned()))
    }
}

/// The longest issuer put to the resolver.
const MAX_ISSUER_BYTES: usize = 1024;

/// How resolutions are bounded.
#[derive(Debug, Clone, Copy)]
pub(super) struct ResolverLimits {
    pub(super) calls: u32,
    pub(super) per: Duration,
    pub(super) refused_ttl: Duration,
    pub(super) max_refused: usize,
}

/// How one resolution ended, as the requests that waited for it see it.
#[derive(Debug, Clone)]
pub(super) enum Resolved {
    /// The pool is trusted now: verify again.
    Added,
    /// The resolver refused the issuer (or answered with a pool that does not accept it).
    Refused,
    /// No answer for now: the resolver failed or timed out, the pool's keys could not be
    /// loaded, or the verifier is full.
    Unavailable(Arc<str>),
}

/// Whether a request may ask the resolver, and how.
pub(super) enum Admission {
    /// Refused before: refuse again.
    Refused,
    /// Over the rate: refuse.
    OverRate,
    /// Wait for the resolution in flight, started by this request or another.
    Wait(Waiting<Resolved>),
}

/// The resolver and the state that bounds its calls.
pub(super) struct IssuerResolution {
    pub(super) resolver: Arc<dyn PoolResolver>,
    limits: ResolverLimits,
    /// Keys the hashes of refused issuers: nobody can aim a collision at a tenant's issuer.
    hasher: RandomState,
    /// Refused issuers (by keyed hash) and when; pruned by age, bounded in count.
    refused: Arc<Mutex<HashMap<u64, Instant>>>,
    resolutions: Arc<SingleFlight<Box<str>, Resolved>>,
    rate: Budget,
    /// Pools removed while a resolution was in flight, which it must not add.
    pub(super) removals: RemovalLog,
}

impl IssuerResolution {
    pub(super) fn new(resolver: Arc<dyn PoolResolver>, limits: ResolverLimits) -> Self {
        Self {
            resolver,
            limits,
            hasher: RandomState::new(),
            refused: Arc::default(),
            resolutions: Arc::new(SingleFlight::new(usize::MAX)),
            rate: Budget::new(limits.calls, limits.per, Refill::Evenly),
            removals: RemovalLog::default(),
        }
    }

    /// Decides what a request for `issuer` does: refuse, wait for the resolution in flight,
    /// or start `resolve()` and wait for it. A refusal it ends with is remembered.
    pub(super) fn admit<F>(&self, issuer: &str, resolve: impl FnOnce() -> F) -> Admission
    where
        F: Future<Output = Resolved> + Send + 'static,
    {
        if issuer.len() > MAX_ISSUER_BYTES {
            return Admission::Refused;
        }
        let refused_key = self.hasher.hash_one(issuer);
        let flight = self.resolutions.join_or_start(issuer.into(), || {
            let now = Instant::now();
            {
                let mut refused = lock(&self.refused);
                if let Some(at) = refused.get(&refused_key) {
                    if now.duration_since(*at) < self.limits.refused_ttl {
                        return Err(Admission::Refused);
                    }
                    refused.remove(&refused_key);
                }
            }
            if self.rate.try_take(now_ms()).is_err() {
                return Err(Admission::OverRate);
            }
            let (refused, limits, resolution) = (Arc::clone(&self.refused), self.limits, resolve());
            Ok(async move {
                let resolved = resolution.await;
                if matches!(resolved, Resolved::Refused) {
                    remember_refusal(&mut lock(&refused), refused_key, limits);
                }
                resolved
            })
        });
        match flight {
            Flight::Joined(waiting) | Flight::Started(waiting) => Admission::Wait(waiting),
            Flight::Declined(admission) => admission,
            // Not with this map, which has no cap.
            Flight::Full => Admission::OverRate,
        }
    }

    /// Refused issuers remembered now.
    #[cfg(test)]
    pub(super) fn refused_count(&self) -> usize {
        lock(&self.refused).len()
    }
}

/// Remembers the refusal of the issuer hashed to `key`, forgetting the oldest when full.
fn remember_refusal(refused: &mut HashMap<u64, Instant>, key: u64, limits: ResolverLimits) {
    let now = Instant::now();
    if refused.len() >= limits.max_refused {
        refused.retain(|_, at| now.duration_since(*at) < limits.refused_ttl);
    }
    if refused.len() >= limits.max_refused {
        // Still full of live refusals: forget the oldest one.
        let oldest = refused
            .iter()
            .min_by_key(|(_, at)| **at)
            .map(|(key, _)| *key);
        if let Some(oldest) = oldest {
            refused.remove(&oldest);
        }
    }
    refused.insert(key, now);
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMIT: Duration = Duration::from_secs(5);

    fn resolution(calls: u32, max_refused: usize) -> IssuerResolution {
        let resolver: Arc<dyn PoolResolver> =
            Arc::new(|_issuer: String| async { Ok::<_, ResolveError>(None) });
        IssuerResolution::new(
            resolver,
            ResolverLimits {
                calls,
                per: Duration::from_secs(3600),
                refused_ttl: Duration::from_secs(3600),
                max_refused,
            },
        )
    }

    fn refused(resolution: &IssuerResolution, issuer: &str) -> Admission {
        resolution.admit(issuer, || async { Resolved::Refused })
    }

    #[tokio::test]
    async fn calls_are_single_flighted_and_rate_limited() {
        let resolution = resolution(2, 10);
        let (release, released) = tokio::sync::oneshot::channel::<()>();
        let Admission::Wait(first) = resolution.admit("https://a", || async {
            released.await.unwrap();
            Resolved::Refused
        }) else {
            panic!("the first call starts")
        };
        let joined = resolution.admit("https://a", || -> std::future::Ready<Resolved> {
            panic!("joins the call in flight")
        });
        assert!(matches!(joined, Admission::Wait(_)));
        assert!(matches!(
            refused(&resolution, "https://b"),
            Admission::Wait(_)
        ));
        assert!(matches!(
            refused(&resolution, "https://c"),
            Admission::OverRate
        ));
        release.send(()).unwrap();
        assert!(matches!(first.result(LIMIT).await, Ok(Resolved::Refused)));
        assert!(matches!(
            refused(&resolution, "https://a"),
            Admission::Refused
        ));
        let long = format!("https://{}", "a".repeat(MAX_ISSUER_BYTES));
        assert!(
            matches!(refused(&resolution, &long), Admission::Refused),
            "never asked about"
        );
    }

    #[tokio::test]
    async fn refusals_are_bounded_in_number() {
        let resolution = resolution(1_000, 3);
        for i in 0..100 {
            let issuer = format!("https://x{i}");
            let Admission::Wait(waiting) = refused(&resolution, &issuer) else {
                panic!("{issuer} starts")
            };
            assert!(matches!(waiting.result(LIMIT).await, Ok(Resolved::Refused)));
            assert!(resolution.refused_count() <= 3);
        }
        assert!(matches!(
            refused(&resolution, "https://x99"),
            Admission::Refused
        ));
    }
}
