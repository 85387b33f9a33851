//! The verifier: every check of a Cognito token, against the keys of its user pool.
//!
//! - [`CognitoVerifier`]: the handle, cheap to clone, async and synchronous `verify*` twins.
//! - [`CognitoVerifierBuilder`]: pools, app clients, token use, limits, the refresh schedule;
//!   [`ConfigError`] when a setting is wrong. Each setter names its default and the reason
//!   for it.
//! - [`UserPool`]: one pool's id, region, replica regions, clients and key locations.
//! - Pools at run time: [`CognitoVerifier::add_pool`], [`CognitoVerifier::remove_pool`], and a
//!   [`PoolResolver`] asked about issuers no pool accepts (multi-tenant services).
//! - [`TokenRequirements`]: rules on top of the standard checks (token use, groups, scopes,
//!   custom checks).
//! - [The checks, in order](#the-checks-in-order), shared by full verifications and cache
//!   hits: below.
//! - [`VerifierStatus`]: the key stores' state, for a health endpoint.
//!
//! ```
//! use axum_cognito::{CognitoVerifier, ErrorKind, TokenUse, test_util::TestIssuer};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let issuer = TestIssuer::start().await;
//! let verifier = CognitoVerifier::builder()
//!     .user_pool(issuer.user_pool())
//!     .token_use(TokenUse::Id)
//!     .build()
//!     .await
//!     .unwrap();
//! let claims = verifier.verify_id(&issuer.id_token().username("alice").sign()).await.unwrap();
//! assert_eq!(claims.username, "alice");
//!
//! let error = verifier.verify_sync(&issuer.access_token().sign()).unwrap_err();
//! assert_eq!(error.kind(), ErrorKind::InvalidTokenUse);
//! # }
//! ```
//!
//! # Choices the builder asks for
//!
//! - App clients and token use are explicit: [`client_id`](CognitoVerifierBuilder::client_id)
//!   or [`any_client`](CognitoVerifierBuilder::any_client), and
//!   [`token_use`](CognitoVerifierBuilder::token_use) or
//!   [`any_token_use`](CognitoVerifierBuilder::any_token_use); building without them fails.
//! - Several pools: call [`user_pool`](CognitoVerifierBuilder::user_pool) once per pool; a
//!   token's `iss` picks its pool, in either of Cognito's issuer forms.
//! - Emulators (moto, LocalStack, cognito-local) serve keys elsewhere while their tokens keep
//!   the AWS issuer: [`UserPool::jwks_url`]. Hosts without a way out: [`UserPool::jwks_json`].
//! - [`build_lazy`](CognitoVerifierBuilder::build_lazy) starts without keys, for a service
//!   that must boot while Cognito is unreachable (503 until the keys load).
//!
//! # Calling it without axum
//!
//! Every `verify*` method has a synchronous twin that never touches the network:
//! [`verify`](CognitoVerifier::verify) / [`verify_sync`](CognitoVerifier::verify_sync),
//! `verify_id` / `verify_id_sync`, `verify_access` / `verify_access_sync`, `verify_as` /
//! `verify_as_sync`. An error's [`kind`](crate::Error::kind) says which check failed;
//! [`is_unavailable`](crate::Error::is_unavailable) is true when the fault is the server's
//! (keys unusable: try again), which HTTP answers with 503.
//!
//! Claims are shared, not copied: `verify_id` and `verify_access` return `Arc<IdClaims>` and
//! `Arc<AccessClaims>`, and a cache hit hands out the claims its first verification read
//! (`Arc::unwrap_or_clone` gives an owned value). A claims type of your own
//! ([`verify_as`](CognitoVerifier::verify_as)) is read from the claims' JSON on each call;
//! through the extractor `CognitoClaims<Id, MyClaims>` it is read once per cached token.
//!
//! # The verified-token cache
//!
//! A token seen again is served from the verified-token cache, skipping the decoding and the
//! signature check: the whole token must match, and every other check and rule runs again on
//! each hit ([the checks](#the-checks-in-order) say which). An entry dies with the token's `exp`, with
//! its key leaving the key set, with stale keys and with its pool's removal. Only tokens that
//! passed verification are stored. Its size is
//! [`token_cache_bytes`](CognitoVerifierBuilder::token_cache_bytes) (`0` turns it off).
//!
//! # Pools at run time
//!
//! [`add_pool`](CognitoVerifier::add_pool) trusts one more pool without a restart (its keys
//! are loaded first); [`remove_pool`](CognitoVerifier::remove_pool) stops trusting one, its
//! cached tokens included. The read path stays lock-free. For a pool per tenant, a
//! [`PoolResolver`] answers from the application's tenant registry for an issuer no pool
//! accepts: the token never decides where keys come from.
//!
//! The resolver is asked before any signature is checked, and tenants' pool ids are public:
//! a pool it adds is *unproven* until a token of it passes the signature check. Unproven pools
//! are the first to go when the table is full (oldest first), and go on their own 5 minutes
//! after they were added, so tokens that never verify cannot fill the table. Pools given to
//! the builder or to `add_pool` are proven from the start.
//!
//! | situation | what happens |
//! |---|---|
//! | an issuer the resolver knows | one call (concurrent tokens share it), the pool's keys loaded, the token verified; later tokens need no call |
//! | a forged token naming a tenant's issuer | the same call and key load; the pool stays unproven: later tokens need no call, and it goes after 5 minutes unless one of them verifies |
//! | an issuer the resolver refuses | 401 [`InvalidIssuer`](crate::ErrorKind::InvalidIssuer), remembered for [`refused_issuer_ttl`](CognitoVerifierBuilder::refused_issuer_ttl) (60 s, at most 10,000 issuers); no key fetch ever |
//! | a flood of tokens naming random issuers | at most `calls + calls × t / per` resolver calls over `t` (default 10 per second, [`pool_resolver_rate`](CognitoVerifierBuilder::pool_resolver_rate)); past the rate, 503 with `Retry-After: 1` at once (the issuer may be a real tenant's); known pools unaffected |
//! | the resolver fails or takes longer than the fetch timeout | 503 for that token; asked again by a later one |
//! | the resolver's pool does not accept the issuer asked about, or is invalid | refused (401), logged |
//! | [`max_pools`](CognitoVerifierBuilder::max_pools) (1,000) reached | the oldest unproven pool makes room for the new one (a resolved pool is dropped only after every unproven pool added before it); when every pool is proven, 503 for the new tenant's token and `add_pool` fails with [`ConfigError::TooManyPools`] |
//! | a pool removed | its tokens 401 at once, cached ones included; a pool added again under the same id never trusts the old pool's cache entries. With a resolver, take the tenant out of the registry first, or its next token resolves it again |
//! | a pool removed while the resolver is answering for it | the removal wins: that resolution does not add it, and its token is refused (401) like one the resolver refused |
//! | a just-resolved pool's token with a `kid` its fresh key set lacks | 401 [`UnknownKeyId`](crate::ErrorKind::UnknownKeyId) at once: a request waits at most two fetch timeouts on a resolution |
//!
//! `status().usable` is false while any pool's keys are unusable: a multi-tenant health check
//! should read each pool's `status().pools[i].usable` instead.
//!
#![doc = include_str!("checks.md")]

mod builder;
pub(crate) mod pipeline;
mod pool_resolver;
mod pool_table;
mod removal_log;
mod requirements;
mod run_time_pools;
mod status;
mod trusted_pool;
mod user_pool;
mod verification;

use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;
use serde::de::DeserializeOwned;

pub use crate::config_error::ConfigError;
pub use builder::CognitoVerifierBuilder;
// The verifier's modules name it `super::config_error::ConfigError`.
use crate::config_error;
pub use pool_resolver::{PoolResolver, ResolveError, ResolveFuture};
pub use requirements::TokenRequirements;
pub use status::VerifierStatus;
pub use user_pool::UserPool;

use crate::{
    claims::{AccessClaims, IdClaims, TokenClaims},
    error::Error,
    jwks::KeyStoreStatus,
    lock::lock,
    metrics::VerifierMetrics,
    revocation::RevocationStep,
    token_cache::TokenCache,
    token_use::TokenUse,
    verified_token::VerifiedToken,
};
use pipeline::ClaimPolicy;
use pool_resolver::IssuerResolution;
use pool_table::PoolTable;
use trusted_pool::PoolSettings;
pub(crate) use verification::{FirstPass, Later};
use verification::{deserialize_claims, shared_claims, token_claims};

/// Verifies Cognito user-pool tokens. Cheap to clone: clones share one key store per pool.
///
/// Build it with [`CognitoVerifier::builder`]. The background refresh tasks end when the last
/// clone is dropped.
///
/// Every `verify*` method has a synchronous twin, `verify*_sync`, that never touches the
/// network: an unknown `kid` fails with [`UnknownKeyId`](crate::ErrorKind::UnknownKeyId)
/// instead of causing a refetch.
///
/// | claims | async | synchronous |
/// |---|---|---|
/// | [`TokenClaims`], either use | [`verify`](Self::verify) | [`verify_sync`](Self::verify_sync) |
/// | [`IdClaims`] | [`verify_id`](Self::verify_id) | [`verify_id_sync`](Self::verify_id_sync) |
/// | [`AccessClaims`] | [`verify_access`](Self::verify_access) | [`verify_access_sync`](Self::verify_access_sync) |
/// | your type, your rules | [`verify_as`](Self::verify_as) | [`verify_as_sync`](Self::verify_as_sync) |
///
/// ```no_run
/// use axum_cognito::{CognitoVerifier, TokenUse};
///
/// # async fn run(token: &str) -> Result<(), Box<dyn std::error::Error>> {
/// let verifier = CognitoVerifier::builder()
///     .user_pool("eu-west-1_AbC123456")
///     .client_id("1example23456789")
///     .token_use(TokenUse::Id)
///     .build()
///     .await?;
///
/// let claims = verifier.verify_id(token).await?;
/// println!("hello {} ({})", claims.username, claims.sub);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct CognitoVerifier {
    inner: Arc<Inner>,
}

struct Inner {
    /// Who verified a token, told apart for as long as the process runs: a number never given
    /// twice, not an address that a later verifier could reuse.
    id: u64,
    /// The pools trusted now: read without a lock, replaced whole by a change.
    pools: ArcSwap<PoolTable>,
    /// Held while a change builds the next table, so that two changes do not lose one.
    pool_writes: Mutex<()>,
    pool_settings: PoolSettings,
    max_pools: usize,
    resolution: Option<IssuerResolution>,
    policy: ClaimPolicy,
    requirements: TokenRequirements,
    max_token_bytes: usize,
    cache: Option<Arc<TokenCache<VerifiedToken>>>,
    /// `None` when no revocation is configured: the step then costs one branch.
    revocation: Option<RevocationStep>,
    metrics: VerifierMetrics,
}

impl CognitoVerifier {
    /// A builder with every default; see [`CognitoVerifierBuilder`].
    pub fn builder() -> CognitoVerifierBuilder {
        CognitoVerifierBuilder::default()
    }

    /// Verifies an ID or access token, as the verifier's token use allows.
    ///
    /// An unknown `kid` causes one refetch of the pool's keys, shared with every concurrent
    /// request and skipped during the cooldown; the wait is bounded by the fetch timeout.
    ///
    /// # Errors
    ///
    /// An [`Error`] whose [`kind`](Error::kind) names the failed check.
    pub async fn verify(&self, token: &str) -> Result<TokenClaims, Error> {
        self.verify_with(token, &TokenRequirements::new(), &token_claims)
            .await
    }

    /// Verifies an ID token.
    ///
    /// # Errors
    ///
    /// As [`verify`](Self::verify); an access token fails with
    /// [`InvalidTokenUse`](crate::ErrorKind::InvalidTokenUse).
    pub async fn verify_id(&self, token: &str) -> Result<Arc<IdClaims>, Error> {
        self.verify_with(token, &only(TokenUse::Id), &shared_claims)
            .await
    }

    /// Verifies an access token.
    ///
    /// # Errors
    ///
    /// As [`verify`](Self::verify); an ID token fails with
    /// [`InvalidTokenUse`](crate::ErrorKind::InvalidTokenUse).
    pub async fn verify_access(&self, token: &str) -> Result<Arc<AccessClaims>, Error> {
        self.verify_with(token, &only(TokenUse::Access), &shared_claims)
            .await
    }

    /// Verifies a token against the verifier's rules and `requirements`, and reads its claims
    /// as `C`: [`IdClaims`], [`AccessClaims`], [`TokenClaims`], or a type of your own.
    ///
    /// # Errors
    ///
    /// As [`verify`](Self::verify).
    pub async fn verify_as<C: DeserializeOwned>(
        &self,
        token: &str,
        requirements: &TokenRequirements,
    ) -> Result<C, Error> {
        self.verify_with(token, requirements, &deserialize_claims::<C>)
            .await
    }

    /// [`verify`](Self::verify) with the keys already loaded, never touching the network (the
    /// Python library's synchronous mode).
    ///
    /// # Errors
    ///
    /// As [`verify`](Self::verify); an unknown `kid` fails with
    /// [`UnknownKeyId`](crate::ErrorKind::UnknownKeyId), keys never loaded or too stale with
    /// [`KeysUnavailable`](crate::ErrorKind::KeysUnavailable).
    pub fn verify_sync(&self, token: &str) -> Result<TokenClaims, Error> {
        self.verify_now(token, &TokenRequirements::new(), &token_claims)
    }

    /// [`verify_id`](Self::verify_id) with the keys already loaded, never touching the network.
    ///
    /// # Errors
    ///
    /// As [`verify_sync`](Self::verify_sync).
    pub fn verify_id_sync(&self, token: &str) -> Result<Arc<IdClaims>, Error> {
        self.verify_now(token, &only(TokenUse::Id), &shared_claims)
    }

    /// [`verify_access`](Self::verify_access) with the keys already loaded, never touching the
    /// network.
    ///
    /// # Errors
    ///
    /// As [`verify_sync`](Self::verify_sync).
    pub fn verify_access_sync(&self, token: &str) -> Result<Arc<AccessClaims>, Error> {
        self.verify_now(token, &only(TokenUse::Access), &shared_claims)
    }

    /// [`verify_as`](Self::verify_as) with the keys already loaded, never touching the
    /// network.
    ///
    /// # Errors
    ///
    /// As [`verify_sync`](Self::verify_sync).
    pub fn verify_as_sync<C: DeserializeOwned>(
        &self,
        token: &str,
        requirements: &TokenRequirements,
    ) -> Result<C, Error> {
        self.verify_now(token, requirements, &deserialize_claims::<C>)
    }

    /// Fetches every pool's keys now, joining a fetch in flight.
    ///
    /// # Errors
    ///
    /// [`KeysUnavailable`](crate::ErrorKind::KeysUnavailable), with the fetch error as its
    /// source, when a pool's fetch failed; its last good keys are kept.
    pub async fn refresh(&self) -> Result<(), Error> {
        let table = self.inner.pools.load_full();
        for pool in table.pools() {
            (pool.store.refresh().await).map_err(|error| pool.store.unavailable(error))?;
        }
        Ok(())
    }

    /// The key stores' state, for a health endpoint.
    pub fn status(&self) -> VerifierStatus {
        let table = self.inner.pools.load();
        let pools: Vec<KeyStoreStatus> = table.pools().iter().map(|p| p.store.status()).collect();
        VerifierStatus {
            usable: pools.iter().all(|p| p.usable),
            pools,
            cached_tokens: self.inner.cache.as_ref().map_or(0, |c| c.len()),
            cached_token_bytes: self.inner.cache.as_ref().map_or(0, |c| c.weight()),
            #[cfg(feature = "redis")]
            revocation_redis: self
                .inner
                .revocation
                .as_ref()
                .and_then(|r| r.redis_status()),
        }
    }

    /// True when every pool's keys are usable (a verifier without pools is).
    pub fn is_usable(&self) -> bool {
        self.status().usable
    }

    /// Identifies this verifier and its clones; no other verifier of the process has it.
    pub(crate) fn id(&self) -> u64 {
        self.inner.id
    }
}

fn only(token_use: TokenUse) -> TokenRequirements {
    TokenRequirements::new().token_use(token_use)
}

impl std::fmt::Debug for CognitoVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CognitoVerifier")
            .field("pools", &self.pool_ids())
            .field("accepted_use", &self.inner.policy.accepted_use)
            .field("requirements", &self.inner.requirements)
            .finish_non_exhaustive()
    }
}
