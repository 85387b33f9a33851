//! Pools added and removed on a running verifier, by the application or by its
//! [`PoolResolver`](super::PoolResolver).
//!
//! The request path reads the pool table through arc-swap, without a lock; a change builds a
//! new table and swaps it in. A pool that leaves the table (removed, or an unproven one
//! dropped) has its cached tokens dropped at once (a cache hit re-checks its pool anyway), and
//! its key store, with its background refresh, ends when the last request that was using it
//! finishes.
//!
//! A pool the resolver answers with is unproven until a token of it passes the signature
//! check (issue 22, finding 1: tokens that never verify filled the table): when the table is
//! full, the oldest unproven pool makes room for a new one, and an unproven pool goes on its
//! own after [`UNPROVEN_POOL_TTL`]. Pools the application gives are proven from the start.

use std::{sync::Arc, time::Duration};

use super::{
    CognitoVerifier,
    config_error::ConfigError,
    lock,
    pool_resolver::{Admission, Resolved},
    removal_log::ResolutionInFlight,
    trusted_pool::TrustedPool,
    user_pool::UserPool,
};
use crate::{
    error::{Error, ErrorKind},
    rate_limited_log::RateLimit,
};

/// How long a pool the resolver added stays while no token of it passes the signature check:
/// far longer than the token that asked for it takes to be verified right after, short enough
/// that the pools a flood of forged tokens named do not linger (each has a background
/// refresh).
const UNPROVEN_POOL_TTL: Duration = Duration::from_secs(300);

impl CognitoVerifier {
    /// Trusts one more user pool from now on, without a restart: its keys are loaded first,
    /// then its tokens are accepted, then refreshed in the background like the others'. The
    /// verifier's settings (token use, leeway, limits, the builder's client ids) apply.
    ///
    /// At [`max_pools`](crate::CognitoVerifierBuilder::max_pools), the oldest pool that the
    /// [pool resolver](crate::CognitoVerifierBuilder::pool_resolver) added and no token has
    /// proven yet makes room for it.
    ///
    /// # Errors
    ///
    /// As [`build`](crate::CognitoVerifierBuilder::build) for this pool (its id, clients, JWKS
    /// URL, [`InitialFetch`](ConfigError::InitialFetch)), and
    /// [`DuplicateUserPool`](ConfigError::DuplicateUserPool),
    /// [`DuplicateIssuer`](ConfigError::DuplicateIssuer) against the pools trusted now,
    /// [`TooManyPools`](ConfigError::TooManyPools) at
    /// [`max_pools`](crate::CognitoVerifierBuilder::max_pools) when every pool is proven.
    ///
    /// ```
    /// use axum_cognito::{CognitoVerifier, ErrorKind, TokenUse, test_util::TestIssuer};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let first = TestIssuer::start().await;
    /// let tenant = TestIssuer::start_with("eu-west-1_Tenant0002", "tenant-client").await;
    /// let verifier = first.verifier_builder().build().await.unwrap();
    /// let token = tenant.access_token().sign();
    /// assert_eq!(verifier.verify_access(&token).await.unwrap_err().kind(), ErrorKind::InvalidIssuer);
    ///
    /// verifier.add_pool(tenant.user_pool()).await.unwrap();
    /// assert!(verifier.verify_access(&token).await.is_ok());
    ///
    /// assert!(verifier.remove_pool(tenant.pool_id()));
    /// assert_eq!(verifier.verify_access(&token).await.unwrap_err().kind(), ErrorKind::InvalidIssuer);
    /// # }
    /// ```
    pub async fn add_pool(&self, pool: impl Into<UserPool>) -> Result<(), ConfigError> {
        self.add_trusted_pool(&pool.into(), None).await.map(drop)
    }

    /// Stops trusting the pool `id`: its tokens fail with
    /// [`InvalidIssuer`](crate::ErrorKind::InvalidIssuer) from now on, cached ones included,
    /// and its background refresh ends. Returns whether the verifier trusted it.
    ///
    /// A resolution of the pool that started before the call does not add it afterwards. With
    /// a [pool resolver](crate::CognitoVerifierBuilder::pool_resolver), the pool's next token
    /// puts its issuer to the resolver again: take the tenant out of the registry the resolver
    /// reads first, or the pool comes back.
    pub fn remove_pool(&self, id: &str) -> bool {
        let inner = &*self.inner;
        {
            let _writing = lock(&inner.pool_writes);
            if let Some(resolution) = &inner.resolution {
                // Whether the table holds it or not: a resolution in flight may be about to
                // add it.
                resolution.removals.pool_removed(id);
            }
            let Some(table) = inner.pools.load().without(|p| &*p.id == id) else {
                return false;
            };
            inner.pools.store(Arc::new(table));
        }
        self.drop_cached_tokens(id);
        tracing::info!(pool = %id, "user pool removed");
        true
    }

    /// The ids of the pools trusted now, in the order they were added.
    pub fn pool_ids(&self) -> Vec<String> {
        let table = self.inner.pools.load();
        table.pools().iter().map(|p| p.id.to_string()).collect()
    }

    /// Puts `issuer`, which no pool accepts, to the resolver (see the
    /// [resolver docs](super::PoolResolver)); `Ok` when a pool that accepts it was added.
    pub(super) async fn resolve_issuer(&self, issuer: &str) -> Result<(), Error> {
        let Some(resolution) = &self.inner.resolution else {
            return Err(Error::new(ErrorKind::InvalidIssuer));
        };
        // A task of its own: a request that stops waiting does not cancel the call the others
        // wait for.
        let admission = resolution.admit(issuer, || {
            // Noted before the task runs: a removal from now on wins over this resolution.
            let in_flight = resolution.removals.resolution_started();
            let (verifier, issuer) = (self.clone(), Box::<str>::from(issuer));
            async move { verifier.run_resolver(&issuer, &in_flight).await }
        });
        let waiting = match admission {
            Admission::Refused => return Err(Error::new(ErrorKind::InvalidIssuer)),
            // Not a refusal: the issuer may be a tenant's; asking again later may find it.
            Admission::OverRate => {
                return Err(resolver_unavailable("the pool resolver's rate is reached"));
            }
            Admission::Wait(waiting) => waiting,
        };
        let fetch_timeout = self.inner.pool_settings.fetch_timeout;
        // The call, then the new pool's first fetch, each bounded by the fetch timeout; the
        // margin covers scheduling, so that a pool added in time is not reported late.
        let limit = fetch_timeout
            .saturating_mul(2)
            .saturating_add(Duration::from_secs(1));
        match waiting.result(limit).await {
            Ok(Resolved::Added) => Ok(()),
            Ok(Resolved::Refused) => Err(Error::new(ErrorKind::InvalidIssuer)),
            Ok(Resolved::Unavailable(why)) => Err(resolver_unavailable(&why)),
            Err(_) => Err(resolver_unavailable(
                "the pool resolver did not answer in time",
            )),
        }
    }

    /// Runs the resolver for `issuer` and adds the pool it answers with, unless a removal of
    /// that pool came after `in_flight` started.
    async fn run_resolver(&self, issuer: &str, in_flight: &ResolutionInFlight) -> Resolved {
        let Some(resolution) = &self.inner.resolution else {
            return Resolved::Refused;
        };
        let timeout = self.inner.pool_settings.fetch_timeout;
        let answer = tokio::time::timeout(timeout, resolution.resolver.resolve(issuer)).await;
        let pool = match answer {
            Ok(Ok(Some(pool))) => pool,
            Ok(Ok(None)) => return Resolved::Refused,
            Ok(Err(error)) => {
                RESOLVER_WARNINGS.warn(format_args!("pool resolver failed: {error}"));
                return Resolved::Unavailable("the pool resolver failed".into());
            }
            Err(_) => {
                RESOLVER_WARNINGS.warn(format_args!("pool resolver timed out after {timeout:?}"));
                return Resolved::Unavailable("the pool resolver timed out".into());
            }
        };
        if !pool.issuers().iter().any(|i| i == issuer) {
            RESOLVER_WARNINGS.warn(format_args!(
                "pool resolver answered with pool {} that does not accept the issuer asked about; refusing it",
                pool.id()
            ));
            return Resolved::Refused;
        }
        match self.add_trusted_pool(&pool, Some(in_flight)).await {
            Ok(true) => Resolved::Added,
            Ok(false) => {
                tracing::info!(pool = %pool.id(), "pool from the resolver not added: removed while it was resolved");
                Resolved::Refused
            }
            // Added by someone else meanwhile.
            Err(ConfigError::DuplicateUserPool(_) | ConfigError::DuplicateIssuer(_))
                if self.inner.pools.load().position(issuer).is_some() =>
            {
                Resolved::Added
            }
            Err(error @ (ConfigError::InitialFetch { .. } | ConfigError::TooManyPools(_))) => {
                RESOLVER_WARNINGS.warn(format_args!("pool from the resolver not added: {error}"));
                Resolved::Unavailable(error.to_string().into())
            }
            Err(error) => {
                RESOLVER_WARNINGS.warn(format_args!(
                    "pool resolver answered with a pool that cannot be trusted, refusing it: {error}"
                ));
                Resolved::Refused
            }
        }
    }

    /// Loads the keys of `pool` and puts it in the table; the oldest unproven pool makes room
    /// when the table is full. A pool the resolver answered with (`in_flight`) goes in unproven;
    /// `Ok(false)` when a removal of it came after `in_flight` started.
    async fn add_trusted_pool(
        &self,
        pool: &UserPool,
        in_flight: Option<&ResolutionInFlight>,
    ) -> Result<bool, ConfigError> {
        let inner = &*self.inner;
        let proven = in_flight.is_none();
        let trusted = (inner.pool_settings).trusted_pool(pool, inner.cache.as_ref(), proven)?;
        let trusted = Arc::new(trusted);
        // Refused before any fetch when the table refuses it now; checked again when it goes
        // in, as another pool may have been added meanwhile.
        (inner.pools.load()).with(Arc::clone(&trusted), inner.max_pools)?;
        trusted.load_keys(inner.pool_settings.fetch_timeout).await?;
        let writing = lock(&inner.pool_writes);
        if in_flight.is_some_and(|in_flight| in_flight.removed_since(&trusted.id)) {
            return Ok(false);
        }
        let (table, evicted) = (inner.pools.load()).with(Arc::clone(&trusted), inner.max_pools)?;
        inner.pools.store(Arc::new(table));
        drop(writing);
        trusted.store.start_background(trusted.store.next_refresh());
        tracing::info!(pool = %trusted.id, proven = trusted.is_proven(), "user pool added");
        if let Some(evicted) = evicted {
            self.drop_cached_tokens(&evicted.id);
            tracing::info!(pool = %evicted.id, "unproven user pool dropped to make room: no token of it verified");
        }
        if !trusted.is_proven() {
            self.expire_unless_proven(&trusted);
        }
        Ok(true)
    }

    /// Drops `pool` after [`UNPROVEN_POOL_TTL`] unless a token of it verified by then.
    fn expire_unless_proven(&self, pool: &Arc<TrustedPool>) {
        // Weak: the wait keeps neither the verifier nor the pool alive.
        let (inner, pool) = (Arc::downgrade(&self.inner), Arc::downgrade(pool));
        tokio::spawn(async move {
            tokio::time::sleep(UNPROVEN_POOL_TTL).await;
            if let (Some(inner), Some(pool)) = (inner.upgrade(), pool.upgrade()) {
                CognitoVerifier { inner }.drop_if_unproven(&pool);
            }
        });
    }

    /// Takes `pool` out of the table if it is there and no token of it verified yet.
    fn drop_if_unproven(&self, pool: &TrustedPool) {
        let inner = &*self.inner;
        {
            let _writing = lock(&inner.pool_writes);
            let Some(table) =
                (inner.pools.load()).without(|p| p.serial == pool.serial && !p.is_proven())
            else {
                return;
            };
            inner.pools.store(Arc::new(table));
        }
        self.drop_cached_tokens(&pool.id);
        tracing::info!(pool = %pool.id, "unproven user pool dropped: no token of it verified in {UNPROVEN_POOL_TTL:?}");
    }

    /// After a pool left the table: its cached tokens go now rather than at their next hit.
    fn drop_cached_tokens(&self, id: &str) {
        if let Some(cache) = &self.inner.cache {
            cache.retain(|verified| verified.pool_id() != id);
        }
    }
}

/// The resolver's warnings, at most one per window whatever the rate of unknown issuers.
static RESOLVER_WARNINGS: RateLimit = RateLimit::new();

fn resolver_unavailable(why: &str) -> Error {
    let source: Box<dyn std::error::Error + Send + Sync> = why.into();
    Error::unavailable(Some(Arc::from(source)), Duration::from_secs(1))
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::{token_use::TokenUse, verifier::pool_resolver::ResolveError};

    /// Issue 22, finding 3: a resolution whose task is dropped before its first poll (its
    /// runtime shut down) must not leave the issuer waiting on a resolution that is gone.
    #[test]
    fn a_resolution_dropped_before_its_first_poll_does_not_wedge_its_issuer() {
        let calls = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&calls);
        let runtime = || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
        };
        let verifier = runtime().block_on(async {
            CognitoVerifier::builder()
                .without_initial_pools()
                .pool_resolver(move |_issuer: String| {
                    counted.fetch_add(1, Ordering::Relaxed);
                    async { Ok::<_, ResolveError>(None) }
                })
                .token_use(TokenUse::Access)
                .build()
                .await
                .unwrap()
        });
        let issuer = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Unknown01";
        let doomed = runtime();
        // Polls the resolution once (it spawns its task), then shuts the runtime down before
        // the task ever runs.
        doomed.block_on(async {
            tokio::select! {
                biased;
                _ = verifier.resolve_issuer(issuer) => panic!("cannot end without running"),
                () = std::future::ready(()) => {}
            }
        });
        drop(doomed);
        let error = runtime()
            .block_on(verifier.resolve_issuer(issuer))
            .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidIssuer, "{error:?}");
        assert_eq!(calls.load(Ordering::Relaxed), 1, "asked afresh");
    }

    #[cfg(feature = "test-util")]
    mod unproven {
        use super::*;
        use crate::test_util::{SigningKey, TestIssuer};

        /// A verifier whose resolver knows `tenants`, holding at most `max_pools`.
        async fn resolving(tenants: &[&TestIssuer], max_pools: usize) -> CognitoVerifier {
            let registry: Arc<Vec<(String, UserPool)>> = Arc::new(
                tenants
                    .iter()
                    .map(|t| (t.issuer(), t.user_pool()))
                    .collect(),
            );
            CognitoVerifier::builder()
                .without_initial_pools()
                .pool_resolver(move |issuer: String| {
                    let registry = Arc::clone(&registry);
                    async move {
                        let pool = registry.iter().find(|(i, _)| *i == issuer);
                        Ok::<_, ResolveError>(pool.map(|(_, pool)| pool.clone()))
                    }
                })
                .pool_resolver_rate(100, Duration::from_secs(1))
                .max_pools(max_pools)
                .any_token_use()
                .build()
                .await
                .unwrap()
        }

        async fn tenant(n: u32) -> TestIssuer {
            TestIssuer::start_with(&format!("eu-west-1_Unproven{n:02}"), &format!("client-{n}"))
                .await
        }

        fn forged(tenant: &TestIssuer) -> String {
            let attacker = SigningKey::generate();
            tenant.access_token().signed_with(&attacker).sign()
        }

        /// Issue 22, finding 1: a full table makes room by dropping its oldest unproven pool,
        /// for the resolver and for `add_pool` alike, never a proven one; once every pool is
        /// proven, a new one is refused.
        #[tokio::test]
        async fn a_full_table_drops_its_oldest_unproven_pool_never_a_proven_one() {
            let t = tenants(6).await;
            let verifier = resolving(&[&t[0], &t[1], &t[2], &t[3]], 3).await;
            assert!(verifier.verify(&forged(&t[0])).await.is_err());
            assert!(verifier.verify(&forged(&t[1])).await.is_err());
            let valid = t[2].access_token().sign();
            verifier.verify(&valid).await.unwrap();
            assert_eq!(
                verifier.pool_ids(),
                [t[0].pool_id(), t[1].pool_id(), t[2].pool_id()]
            );

            assert!(verifier.verify(&forged(&t[3])).await.is_err());
            assert_eq!(
                verifier.pool_ids(),
                [t[1].pool_id(), t[2].pool_id(), t[3].pool_id()]
            );
            verifier.add_pool(t[4].user_pool()).await.unwrap();
            assert_eq!(
                verifier.pool_ids(),
                [t[2].pool_id(), t[3].pool_id(), t[4].pool_id()]
            );
            assert_eq!(
                verifier.status().cached_tokens,
                1,
                "a proven pool's tokens stay"
            );

            // A forged token naming a pool already there (unproven) costs no call and proves
            // nothing; a valid one proves it.
            assert!(verifier.verify(&forged(&t[3])).await.is_err());
            verifier.verify(&t[3].access_token().sign()).await.unwrap();
            let full = verifier.add_pool(t[5].user_pool()).await.unwrap_err();
            assert!(matches!(full, ConfigError::TooManyPools(3)), "{full}");
            let error = verifier.verify(&forged(&t[0])).await.unwrap_err();
            assert!(error.is_unavailable(), "{error:?}");
            assert_eq!(
                verifier.pool_ids(),
                [t[2].pool_id(), t[3].pool_id(), t[4].pool_id()]
            );
        }

        /// Issue 22, finding 1: an unproven pool goes on its own after its time; a proven one
        /// stays.
        #[tokio::test]
        async fn an_unproven_pool_goes_after_its_time_and_a_proven_one_stays() {
            let (unproven, proven) = (tenant(10).await, tenant(11).await);
            let verifier = resolving(&[&unproven, &proven], 10).await;
            assert!(verifier.verify(&forged(&unproven)).await.is_err());
            verifier
                .verify(&proven.access_token().sign())
                .await
                .unwrap();
            assert_eq!(verifier.pool_ids().len(), 2);

            tokio::time::pause();
            tokio::time::advance(UNPROVEN_POOL_TTL - Duration::from_secs(1)).await;
            assert_eq!(verifier.pool_ids().len(), 2, "not yet");
            tokio::time::advance(Duration::from_secs(2)).await;
            for _ in 0..10 {
                tokio::task::yield_now().await;
            }
            assert_eq!(verifier.pool_ids(), [proven.pool_id()]);
        }

        async fn tenants(count: u32) -> Vec<TestIssuer> {
            let mut tenants = Vec::new();
            for n in 0..count {
                tenants.push(tenant(n).await);
            }
            tenants
        }
    }
}
