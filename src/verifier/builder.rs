//! Building a verifier: pools, clients, token use, limits, and how keys are refreshed.

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use arc_swap::ArcSwap;

use super::{
    CognitoVerifier, Inner,
    pipeline::{AcceptedUse, ClaimPolicy},
    pool_resolver::{IssuerResolution, PoolResolver, ResolverLimits},
    pool_table::PoolTable,
    requirements::TokenRequirements,
    trusted_pool::PoolSettings,
    user_pool::{AppClients, UserPool, client_setters},
};
use crate::{
    config_error::ConfigError,
    defaults::{
        DEFAULT_FIRST_RETRY, DEFAULT_MAX_POOLS, DEFAULT_MAX_REFUSED_ISSUERS, DEFAULT_MAX_RETRY,
        DEFAULT_MAX_STALENESS, DEFAULT_MIN_REFRESH_INTERVAL, DEFAULT_REFRESH_INTERVAL,
        DEFAULT_REFUSED_ISSUER_TTL, DEFAULT_RESOLVER_CALLS, DEFAULT_RESOLVER_WINDOW,
        DEFAULT_UNKNOWN_KID_COOLDOWN,
    },
    jwks::{KeyClient, RefreshSettings},
    limits::{Limits, limit_setters, setters},
    metrics::VerifierMetrics,
    revocation::{GetUserCheck, RevocationCheck, RevocationList, RevocationSettings},
    token_cache::TokenCache,
    token_use::TokenUse,
};

/// The id of the next verifier built; 2^64 builds do not happen.
static NEXT_VERIFIER_ID: AtomicU64 = AtomicU64::new(1);

/// Builds a [`CognitoVerifier`]. Every default is a constant of [`defaults`](crate::defaults)
/// and is named on its setter.
///
/// ```no_run
/// use axum_cognito::{CognitoVerifier, TokenUse};
///
/// # async fn run() -> Result<(), axum_cognito::ConfigError> {
/// let verifier = CognitoVerifier::builder()
///     .user_pool("eu-west-1_AbC123456")
///     .client_id("1example23456789")
///     .token_use(TokenUse::Access)
///     .build()
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
#[must_use]
pub struct CognitoVerifierBuilder {
    pools: Vec<UserPool>,
    clients: Option<AppClients>,
    accepted_use: Option<AcceptedUse>,
    requirements: TokenRequirements,
    limits: Limits,
    refresh: RefreshSettings,
    plain_http: bool,
    max_pools: usize,
    /// Whether building without a pool is allowed (not a mistake).
    without_initial_pools: bool,
    resolver: Option<Arc<dyn PoolResolver>>,
    resolver_limits: ResolverLimits,
    revocation: RevocationSettings,
    http_client: Option<reqwest::Client>,
}

impl std::fmt::Debug for CognitoVerifierBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CognitoVerifierBuilder")
            .field("pools", &self.pools)
            .field("clients", &self.clients)
            .field("accepted_use", &self.accepted_use)
            .field("requirements", &self.requirements)
            .field("max_pools", &self.max_pools)
            .field("pool_resolver", &self.resolver.is_some())
            .finish_non_exhaustive()
    }
}

impl Default for CognitoVerifierBuilder {
    fn default() -> Self {
        Self {
            pools: Vec::new(),
            clients: None,
            accepted_use: None,
            requirements: TokenRequirements::new(),
            limits: Limits::default(),
            refresh: RefreshSettings {
                refresh_interval: DEFAULT_REFRESH_INTERVAL,
                min_refresh_interval: DEFAULT_MIN_REFRESH_INTERVAL,
                first_retry: DEFAULT_FIRST_RETRY,
                max_retry: DEFAULT_MAX_RETRY,
                max_staleness: Some(DEFAULT_MAX_STALENESS),
                unknown_kid_cooldown: DEFAULT_UNKNOWN_KID_COOLDOWN,
            },
            plain_http: false,
            max_pools: DEFAULT_MAX_POOLS,
            without_initial_pools: false,
            resolver: None,
            resolver_limits: ResolverLimits {
                calls: DEFAULT_RESOLVER_CALLS,
                per: DEFAULT_RESOLVER_WINDOW,
                refused_ttl: DEFAULT_REFUSED_ISSUER_TTL,
                max_refused: DEFAULT_MAX_REFUSED_ISSUERS,
            },
            revocation: RevocationSettings::default(),
            http_client: None,
        }
    }
}

impl CognitoVerifierBuilder {
    /// Trusts a user pool: a pool id (`"eu-west-1_AbC123456"`) or a [`UserPool`] with its own
    /// clients or JWKS location. Several pools may be added; a token's `iss` picks its pool.
    pub fn user_pool(mut self, pool: impl Into<UserPool>) -> Self {
        self.pools.push(pool.into());
        self
    }

    client_setters!(
        "every pool that names no clients of its own (a pool with clients of its own would ignore these, so building fails with [`ConfigError::ClientIdsIgnored`] when both are given)"
    );

    setters! {
        /// Accepts only ID tokens or only access tokens. One of this and
        /// [`any_token_use`](Self::any_token_use) must be called.
        pub fn token_use(token_use: TokenUse) => accepted_use = Some(AcceptedUse::Only(token_use));

        /// Accepts both ID and access tokens; each call or route then says which it wants (the
        /// axum extractors `CognitoClaims<Id>` and `CognitoClaims<Access>` do).
        pub fn any_token_use() => accepted_use = Some(AcceptedUse::Both);
    }

    /// Rules every token must meet (groups, scopes, custom checks), on top of per-call ones.
    pub fn require(mut self, requirements: TokenRequirements) -> Self {
        self.requirements = self.requirements.and(&requirements);
        self
    }

    /// Only tokens whose `aud` names `resource` (RFC 8707), for every call and route; see
    /// [`TokenRequirements::resource`].
    pub fn resource(self, resource: impl Into<String>) -> Self {
        self.require(TokenRequirements::new().resource(resource))
    }

    /// Only tokens with an `aud`; see [`TokenRequirements::require_audience`].
    pub fn require_audience(self) -> Self {
        self.require(TokenRequirements::new().require_audience())
    }

    limit_setters!();

    setters! {
        /// Largest accepted JWKS response. Default 64 KiB
        /// ([`DEFAULT_MAX_JWKS_BYTES`](crate::defaults::DEFAULT_MAX_JWKS_BYTES)); Cognito's
        /// is about 1 KB.
        pub fn max_jwks_bytes(bytes: usize) => limits.max_key_bytes = bytes;

        /// Interval between background refreshes. Default 10 minutes
        /// ([`DEFAULT_REFRESH_INTERVAL`]). It bounds how long a key that Cognito removed stays
        /// trusted, so `Cache-Control: max-age` may shorten it (down to
        /// [`min_refresh_interval`](Self::min_refresh_interval)) but never lengthen it.
        pub fn refresh_interval(interval: Duration) => refresh.refresh_interval = interval;

        /// Floor under an interval shortened by `Cache-Control: max-age`. Default 60 s
        /// ([`DEFAULT_MIN_REFRESH_INTERVAL`]). Zero is refused: `max-age=0` would have the keys
        /// fetched back to back.
        pub fn min_refresh_interval(interval: Duration) => refresh.min_refresh_interval = interval;

        /// Retry delays after failed fetches: `first`, doubled after each failure up to `max`.
        /// Defaults 1 s and 60 s ([`DEFAULT_FIRST_RETRY`], [`DEFAULT_MAX_RETRY`]).
        pub fn retry_backoff(first: Duration, max: Duration) =>
            refresh.first_retry = first, refresh.max_retry = max;

        /// How long keys are trusted without a successful fetch; after that, tokens fail with
        /// [`KeysUnavailable`](crate::ErrorKind::KeysUnavailable) (HTTP 503) until a fetch
        /// succeeds. `None` trusts them forever. It must be longer than the
        /// [`refresh_interval`](Self::refresh_interval) (building fails otherwise: the keys
        /// would go stale between two refreshes). Default 24 hours ([`DEFAULT_MAX_STALENESS`]):
        /// long enough to ride out any Cognito or network outage, short enough that keys removed
        /// during one stop being trusted within a day, the longest a Cognito token lives.
        pub fn max_staleness(staleness: Option<Duration>) => refresh.max_staleness = staleness;

        /// After a fetch that an unknown `kid` caused, for this long an unknown `kid` fails at once
        /// without a new fetch. Background refreshes and the first load do not start it, so a key
        /// Cognito adds right after one is still found at once. Default 10 s
        /// ([`DEFAULT_UNKNOWN_KID_COOLDOWN`]): a flood of random key ids causes at
        /// most one fetch per 10 s, while a key Cognito just added is found within 10 s. Zero is
        /// refused: it would remove that bound.
        pub fn unknown_kid_cooldown(cooldown: Duration) => refresh.unknown_kid_cooldown = cooldown;

        /// Accepts `http://` JWKS URLs to hosts other than this machine. Without it, an `http://`
        /// URL is accepted only for a loopback host (`127.0.0.0/8`, `[::1]`, `localhost`), as
        /// emulators and tests use; anywhere else, whoever is on the network path serves the keys.
        pub fn allow_plain_http_jwks() => plain_http = true;

        /// Fetches the keys with this client instead of one of the crate's own, which is built
        /// by the first fetch (a cold start with [bundled keys](crate::UserPool::initial_jwks)
        /// builds none before its first request). The fetch timeout and the size cap still apply
        /// to each fetch; the client's own settings (proxy, redirects, TLS roots) are yours: the
        /// crate's follows no redirect and uses no proxy unless [`proxy`](Self::proxy) names one.
        pub fn http_client(client: reqwest::Client) => http_client = Some(client);

        /// The most pools the verifier holds, those it is built with and those added at run time
        /// ([`add_pool`](CognitoVerifier::add_pool), the [pool resolver](Self::pool_resolver))
        /// together. Default 1,000 ([`DEFAULT_MAX_POOLS`], Cognito's default quota of pools per
        /// account and region); each pool has a key store and a background refresh task. When it
        /// is reached, the oldest pool the resolver added that no token has proven yet makes room
        /// ([pools at run time](crate::verifier#pools-at-run-time)).
        pub fn max_pools(max: usize) => max_pools = max;

        /// Builds a verifier that trusts no pool yet: pools come at run time, from
        /// [`add_pool`](CognitoVerifier::add_pool) or the [pool resolver](Self::pool_resolver).
        /// Without it, building without a pool fails with [`ConfigError::NoUserPool`].
        pub fn without_initial_pools() => without_initial_pools = true;

        /// Asks `resolver` about issuers that no trusted pool accepts, and trusts the pool it
        /// answers with, for good once a token of it verifies; see [`PoolResolver`] for the
        /// contract and the bounds (rate limit, single flight, refusals remembered, unproven
        /// pools).
        pub fn pool_resolver(resolver: impl PoolResolver) => resolver = Some(Arc::new(resolver));

        /// The pool resolver's rate: at most `calls` calls at once, refilled at `calls` per `per`.
        /// Defaults 10 per second ([`DEFAULT_RESOLVER_CALLS`], [`DEFAULT_RESOLVER_WINDOW`]).
        pub fn pool_resolver_rate(calls: u32, per: Duration) =>
            resolver_limits.calls = calls, resolver_limits.per = per;

        /// How long an issuer the pool resolver refused is refused without asking again. Default
        /// 60 s ([`DEFAULT_REFUSED_ISSUER_TTL`]).
        pub fn refused_issuer_ttl(ttl: Duration) => resolver_limits.refused_ttl = ttl;

        /// Refuses the tokens `list` revokes, on every verification and every cache hit, with
        /// [`Revoked`](crate::ErrorKind::Revoked) (HTTP 401); see
        /// [`RevocationList`]. Building fails when the list's
        /// [grace](RevocationList::grace) is shorter than the [`leeway`](Self::leeway).
        pub fn revocation_list(list: RevocationList) => revocation.list = Some(list);

        /// Asks Cognito's `GetUser` whether an access token was revoked, after the other
        /// revocation checks; see [`GetUserCheck`]. Off by default.
        pub fn get_user_check(check: GetUserCheck) => revocation.get_user = Some(check);
    }

    /// Refuses the tokens `check` says are revoked, on every verification and every cache
    /// hit, after the [`revocation_list`](Self::revocation_list); see [`RevocationCheck`].
    /// May be called several times.
    pub fn revocation_check(mut self, check: impl RevocationCheck) -> Self {
        self.revocation.checks.push(Arc::new(check));
        self
    }

    /// Fetches every pool's keys once, then refreshes them in the background.
    ///
    /// Must be called within a Tokio runtime.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] for a configuration mistake, or [`ConfigError::InitialFetch`] when a
    /// pool's keys cannot be loaded.
    pub async fn build(self) -> Result<CognitoVerifier, ConfigError> {
        let fetch_timeout = self.limits.fetch_timeout;
        let verifier = self.assemble()?;
        let table = verifier.inner.pools.load_full();
        for pool in table.pools().iter().filter(|pool| !pool.store.is_loaded()) {
            pool.load_keys(fetch_timeout).await?;
        }
        for pool in table.pools() {
            pool.store.start_background(pool.store.next_refresh());
        }
        Ok(verifier)
    }

    /// Starts without keys and fetches them in the background, retrying with backoff: for
    /// services that must boot while Cognito is unreachable. Until keys load, verification
    /// fails with [`KeysUnavailable`](crate::ErrorKind::KeysUnavailable) (HTTP 503).
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] for a configuration mistake, or [`ConfigError::NoRuntime`] outside a
    /// Tokio runtime.
    pub fn build_lazy(self) -> Result<CognitoVerifier, ConfigError> {
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(ConfigError::NoRuntime);
        }
        let verifier = self.assemble()?;
        for pool in verifier.inner.pools.load().pools() {
            pool.store.start_background(Duration::ZERO);
        }
        Ok(verifier)
    }

    fn assemble(self) -> Result<CognitoVerifier, ConfigError> {
        if self.pools.is_empty() && !self.without_initial_pools {
            return Err(ConfigError::NoUserPool);
        }
        let Some(accepted_use) = self.accepted_use else {
            return Err(ConfigError::TokenUseNotSet);
        };
        self.limits.check()?;
        let refresh = &self.refresh;
        // The two floors of fetching (`min_refresh_interval`, `unknown_kid_cooldown`): at zero,
        // `max-age=0` or a flood of unknown `kid`s would have keys fetched back to back.
        let invalid = [
            (
                refresh
                    .max_staleness
                    .is_some_and(|s| s <= refresh.refresh_interval),
                "max_staleness must be longer than refresh_interval, or keys go stale between refreshes",
            ),
            (
                refresh.first_retry > refresh.max_retry,
                "the first retry delay must not exceed the longest",
            ),
            (
                refresh.refresh_interval.is_zero() || refresh.first_retry.is_zero(),
                "refresh_interval and retry delays must be above zero",
            ),
            (
                refresh.min_refresh_interval.is_zero(),
                "min_refresh_interval must be above zero",
            ),
            (
                refresh.unknown_kid_cooldown.is_zero(),
                "unknown_kid_cooldown must be above zero",
            ),
            (
                (self.revocation.list.as_ref()).is_some_and(|list| list.max_entries() == 0),
                "the revocation list must hold at least 1 entry (RevocationList::new(0) would refuse every revocation)",
            ),
            (self.max_pools == 0, "max_pools must be above zero"),
            (
                self.resolver_limits.calls == 0 || self.resolver_limits.per.is_zero(),
                "the pool resolver's rate must be above zero",
            ),
        ];
        if let Some((_, message)) = invalid.into_iter().find(|(bad, _)| *bad) {
            return Err(ConfigError::InvalidSetting(message));
        }
        let revocation = self
            .revocation
            .step(self.limits.leeway)
            .map_err(ConfigError::InvalidSetting)?;
        if self.revocation.get_user.is_some()
            && self.revocation.list.is_none()
            && accepted_use == AcceptedUse::Both
        {
            // GetUser checks access tokens only: a signed-out user's ID token still passes.
            tracing::warn!(
                "the GetUser check covers access tokens only, and this verifier accepts ID tokens too: a user signed out globally keeps passing with an ID token until it expires"
            );
        }
        // The client is built by the first fetch; a proxy it cannot take is a mistake to tell
        // now.
        if let (Some(proxy), None) = (&self.limits.proxy, &self.http_client) {
            reqwest::Proxy::all(proxy)
                .map_err(|e| ConfigError::HttpClient(format!("proxy: {e}")))?;
        }
        let cache = TokenCache::with_capacity(self.limits.token_cache_bytes).map(Arc::new);
        let pool_settings = PoolSettings {
            clients: self.clients,
            fetch_timeout: self.limits.fetch_timeout,
            max_jwks_bytes: self.limits.max_key_bytes,
            refresh: self.refresh,
            plain_http: self.plain_http,
            client: match self.http_client {
                Some(client) => KeyClient::given(client),
                None => KeyClient::lazy(self.limits.fetch_timeout, self.limits.proxy.clone()),
            },
        };
        let pools = (self.pools.iter())
            .map(|pool| {
                pool_settings
                    .trusted_pool(pool, cache.as_ref(), true)
                    .map(Arc::new)
            })
            .collect::<Result<_, _>>()?;
        let table = PoolTable::new(pools, self.max_pools)?;
        let resolution = self
            .resolver
            .map(|resolver| IssuerResolution::new(resolver, self.resolver_limits));
        Ok(CognitoVerifier {
            inner: Arc::new(Inner {
                id: NEXT_VERIFIER_ID.fetch_add(1, Ordering::Relaxed),
                pools: ArcSwap::from_pointee(table),
                pool_writes: Mutex::new(()),
                pool_settings,
                max_pools: self.max_pools,
                resolution,
                policy: ClaimPolicy {
                    accepted_use,
                    leeway_secs: self.limits.leeway_secs(),
                },
                requirements: self.requirements,
                max_token_bytes: self.limits.max_token_bytes,
                cache,
                revocation,
                metrics: VerifierMetrics::default(),
            }),
        })
    }
}
