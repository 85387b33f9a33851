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
//! - Calls are rate-limited by a token bucket: at most
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
//!   as the registry no longer lists the tenant: its next token resolves it again.
//! - Pools count against [`max_pools`](crate::CognitoVerifierBuilder::max_pools).

use std::{
    collections::HashMap,
    future::Future,
    hash::{BuildHasher, RandomState},
    pin::Pin,
    sync::{Arc, Mutex, MutexGuard},
    time::{Duration, Instant},
};

use tokio::sync::watch;

use super::user_pool::UserPool;

/// What a resolver may fail with: the application's own error, logged and answered with 503.
pub type ResolveError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// The future a [`PoolResolver`] returns.
pub type ResolveFuture =
    Pin<Box<dyn Future<Output = Result<Option<UserPool>, ResolveError>> + Send>>;

/// The application's answer for an issuer that no trusted pool accepts: `Ok(Some(pool))` to
/// trust that pool from now on (it must accept the issuer), `Ok(None)` to refuse it,
/// `Err(_)` when the answer is unknown for now (the registry is down).
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
    /// Wait for the resolution in flight.
    Join(watch::Receiver<Option<Resolved>>),
    /// Start the resolution: run the resolver, then [`finish`](IssuerResolution::finish).
    Start(
        watch::Sender<Option<Resolved>>,
        watch::Receiver<Option<Resolved>>,
    ),
}

/// The resolver and the state that bounds its calls.
pub(super) struct IssuerResolution {
    pub(super) resolver: Arc<dyn PoolResolver>,
    limits: ResolverLimits,
    /// Keys the hashes of refused issuers: nobody can aim a collision at a tenant's issuer.
    hasher: RandomState,
    state: Mutex<ResolutionState>,
}

struct ResolutionState {
    in_flight: HashMap<Box<str>, watch::Receiver<Option<Resolved>>>,
    /// Refused issuers (by keyed hash) and when; pruned by age, bounded in count.
    refused: HashMap<u64, Instant>,
    bucket: f64,
    refilled: Instant,
}

impl IssuerResolution {
    pub(super) fn new(resolver: Arc<dyn PoolResolver>, limits: ResolverLimits) -> Self {
        Self {
            resolver,
            limits,
            hasher: RandomState::new(),
            state: Mutex::new(ResolutionState {
                in_flight: HashMap::new(),
                refused: HashMap::new(),
                bucket: f64::from(limits.calls),
                refilled: Instant::now(),
            }),
        }
    }

    /// Decides what a request for `issuer` does: refuse, wait, or start a call.
    pub(super) fn admit(&self, issuer: &str) -> Admission {
        if issuer.len() > MAX_ISSUER_BYTES {
            return Admission::Refused;
        }
        let refused_key = self.hasher.hash_one(issuer);
        let mut state = self.lock_state();
        let now = Instant::now();
        if let Some(at) = state.refused.get(&refused_key) {
            if now.duration_since(*at) < self.limits.refused_ttl {
                return Admission::Refused;
            }
            state.refused.remove(&refused_key);
        }
        if let Some(receiver) = state.in_flight.get(issuer) {
            return Admission::Join(receiver.clone());
        }
        let rate = f64::from(self.limits.calls) / self.limits.per.as_secs_f64().max(1e-9);
        let refill = now.duration_since(state.refilled).as_secs_f64() * rate;
        state.bucket = (state.bucket + refill).min(f64::from(self.limits.calls));
        state.refilled = now;
        if state.bucket < 1.0 {
            return Admission::OverRate;
        }
        state.bucket -= 1.0;
        let (sender, receiver) = watch::channel(None);
        state.in_flight.insert(issuer.into(), receiver.clone());
        Admission::Start(sender, receiver)
    }

    /// Records how the resolution of `issuer` ended and tells the requests waiting for it.
    pub(super) fn finish(
        &self,
        issuer: &str,
        sender: &watch::Sender<Option<Resolved>>,
        resolved: Resolved,
    ) {
        let refused_key = self.hasher.hash_one(issuer);
        {
            let mut state = self.lock_state();
            state.in_flight.remove(issuer);
            if matches!(resolved, Resolved::Refused) {
                let now = Instant::now();
                let ttl = self.limits.refused_ttl;
                if state.refused.len() >= self.limits.max_refused {
                    state.refused.retain(|_, at| now.duration_since(*at) < ttl);
                }
                if state.refused.len() >= self.limits.max_refused {
                    // Still full of live refusals: forget the oldest one.
                    let oldest = state
                        .refused
                        .iter()
                        .min_by_key(|(_, at)| **at)
                        .map(|(key, _)| *key);
                    if let Some(oldest) = oldest {
                        state.refused.remove(&oldest);
                    }
                }
                state.refused.insert(refused_key, now);
            }
        }
        let _ = sender.send(Some(resolved));
    }

    /// Forgets a resolution that ended without [`finish`](Self::finish) (its task was
    /// cancelled with its runtime), so that a later request starts afresh.
    pub(super) fn abandon(&self, issuer: &str) {
        self.lock_state().in_flight.remove(issuer);
    }

    /// Refused issuers remembered now.
    #[cfg(test)]
    pub(super) fn refused_count(&self) -> usize {
        self.lock_state().refused.len()
    }

    fn lock_state(&self) -> MutexGuard<'_, ResolutionState> {
        // Plain maps and numbers updated in one step: a poisoned lock is still usable.
        self.state
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }
}

impl std::fmt::Debug for IssuerResolution {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuerResolution")
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn calls_are_single_flighted_and_rate_limited() {
        let resolution = resolution(2, 10);
        let Admission::Start(sender, _) = resolution.admit("https://a") else {
            panic!("the first call starts")
        };
        assert!(matches!(resolution.admit("https://a"), Admission::Join(_)));
        assert!(matches!(
            resolution.admit("https://b"),
            Admission::Start(..)
        ));
        assert!(matches!(resolution.admit("https://c"), Admission::OverRate));
        resolution.finish("https://a", &sender, Resolved::Refused);
        assert!(matches!(resolution.admit("https://a"), Admission::Refused));
        let long = format!("https://{}", "a".repeat(MAX_ISSUER_BYTES));
        assert!(
            matches!(resolution.admit(&long), Admission::Refused),
            "never asked about"
        );
    }

    #[test]
    fn refusals_are_bounded_in_number() {
        let resolution = resolution(1_000, 3);
        for i in 0..100 {
            let issuer = format!("https://x{i}");
            let Admission::Start(sender, _) = resolution.admit(&issuer) else {
                panic!("{issuer} starts")
            };
            resolution.finish(&issuer, &sender, Resolved::Refused);
            assert!(resolution.refused_count() <= 3);
        }
        assert!(matches!(
            resolution.admit("https://x99"),
            Admission::Refused
        ));
    }
}
