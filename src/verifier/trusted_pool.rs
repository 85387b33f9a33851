//! A pool the verifier trusts, built from a [`UserPool`] with the verifier's settings: at
//! build time, and for pools added at run time.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::Duration,
};

use super::{
    config_error::ConfigError,
    user_pool::{AppClients, KeySource, UserPool},
};
use crate::{
    jwks::{
        JwksError, JwksFetcher, KeyClient, KeyLocations, KeySet, KeyStore, KeysRemoved,
        RefreshSettings, redacted_url,
    },
    loopback::is_loopback,
    token_cache::TokenCache,
    verified_token::VerifiedToken,
};

/// The serial of the next pool built; 2^64 pools are not built.
static NEXT_POOL_SERIAL: AtomicU64 = AtomicU64::new(1);

/// A pool as the verification pipeline sees it.
pub(super) struct TrustedPool {
    pub(super) id: Arc<str>,
    /// Tells this pool apart from any other the process builds, a pool removed and added
    /// again included: a cached token is trusted only by the pool that verified it.
    pub(super) serial: u64,
    pub(super) issuers: Vec<String>,
    pub(super) clients: AppClients,
    pub(super) store: Arc<KeyStore>,
    /// Whether a token of this pool has passed the signature check. The pools the application
    /// gives are proven from the start; a pool the pool resolver answers with is not until
    /// then, as the token that named it may be forged: it is the first to go when the table is
    /// full, and goes on its own after a while.
    proven: AtomicBool,
}

/// The verifier's settings that a pool is built with, kept for pools added at run time.
#[derive(Debug, Clone)]
pub(super) struct PoolSettings {
    /// The builder's clients, for pools that name none.
    pub(super) clients: Option<AppClients>,
    pub(super) fetch_timeout: Duration,
    pub(super) max_jwks_bytes: usize,
    pub(super) refresh: RefreshSettings,
    /// Whether a JWKS URL may be `http://` to a host that is not this machine.
    pub(super) plain_http: bool,
    /// The one HTTP client of every pool's fetchers, handed in or built by the first fetch.
    pub(super) client: KeyClient,
}

impl PoolSettings {
    /// Checks `pool` and builds its key store (no fetch yet). Checks against the other pools
    /// are the [pool table's](super::pool_table::PoolTable). A pool not `proven` (one the
    /// resolver answered with) is proven once a token of it passes the signature check.
    pub(super) fn trusted_pool(
        &self,
        pool: &UserPool,
        cache: Option<&Arc<TokenCache<VerifiedToken>>>,
        proven: bool,
    ) -> Result<TrustedPool, ConfigError> {
        if !pool.id_is_valid() {
            return Err(ConfigError::InvalidUserPoolId(pool.id.clone()));
        }
        if let Some(region) = pool.invalid_replica_region() {
            return Err(ConfigError::InvalidReplicaRegion {
                pool: pool.id.clone(),
                region: region.to_owned(),
            });
        }
        // A pool with clients of its own ignores the builder's: say so rather than let the
        // builder's list look as if it applied.
        if pool.clients.is_some() && self.clients.is_some() {
            return Err(ConfigError::ClientIdsIgnored(pool.id.clone()));
        }
        let clients = (pool.clients.clone().or_else(|| self.clients.clone()))
            .filter(|clients| match clients {
                AppClients::Listed(list) => !list.is_empty() && list.iter().all(|c| !c.is_empty()),
                AppClients::Any => true,
            })
            .ok_or_else(|| ConfigError::ClientIdsNotSet(pool.id.clone()))?;
        let id: Arc<str> = pool.id.as_str().into();
        let store = match &pool.keys {
            KeySource::Json(json) => KeyStore::fixed(
                id.clone(),
                self.parse_keys(pool, json)?,
                self.refresh.clone(),
            ),
            KeySource::Default | KeySource::Url(_) | KeySource::Urls(_) => {
                let urls = pool.jwks_locations();
                if urls.is_empty() {
                    return Err(ConfigError::InvalidJwksUrl {
                        pool: pool.id.clone(),
                        url: String::new(),
                    });
                }
                let fetchers = (urls.into_iter())
                    .map(|url| self.fetcher(&pool.id, url))
                    .collect::<Result<_, _>>()?;
                // When keys leave the set, the cached tokens they verified go (a hit checks the
                // key anyway; this frees their memory at once).
                let drop_tokens = cache.map(|cache| -> KeysRemoved {
                    let (cache, pool) = (Arc::clone(cache), Arc::clone(&id));
                    Box::new(move |kids: &[&str]| {
                        cache.retain(|verified| {
                            !(*verified.pool_id() == *pool && kids.contains(&verified.kid()))
                        });
                    })
                });
                let locations = KeyLocations::new(fetchers);
                match &pool.initial_keys {
                    Some(json) => KeyStore::bundled(
                        id.clone(),
                        self.parse_keys(pool, json)?,
                        locations,
                        self.refresh.clone(),
                        drop_tokens,
                    ),
                    None => {
                        KeyStore::remote(id.clone(), locations, self.refresh.clone(), drop_tokens)
                    }
                }
            }
        };
        Ok(TrustedPool {
            id,
            serial: NEXT_POOL_SERIAL.fetch_add(1, Ordering::Relaxed),
            issuers: pool.issuers(),
            clients,
            store,
            proven: AtomicBool::new(proven),
        })
    }

    fn parse_keys(&self, pool: &UserPool, json: &str) -> Result<KeySet, ConfigError> {
        KeySet::parse(json.as_bytes()).map_err(|source| ConfigError::InvalidJwks {
            pool: pool.id.clone(),
            source,
        })
    }

    fn fetcher(&self, pool: &str, url: String) -> Result<JwksFetcher, ConfigError> {
        let parsed = reqwest::Url::parse(&url).ok();
        let Some(parsed) =
            parsed.filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
        else {
            return Err(ConfigError::InvalidJwksUrl {
                pool: pool.to_owned(),
                url: redacted_url(&url),
            });
        };
        if parsed.scheme() == "http" && !self.plain_http && !is_loopback(&parsed) {
            return Err(ConfigError::PlainHttpJwksUrl {
                pool: pool.to_owned(),
                url: redacted_url(&url),
            });
        }
        Ok(JwksFetcher::with_client(
            self.client.clone(),
            url,
            self.fetch_timeout,
            self.max_jwks_bytes,
        ))
    }
}

impl TrustedPool {
    pub(super) fn is_proven(&self) -> bool {
        self.proven.load(Ordering::Relaxed)
    }

    /// On the request path, after a signature verified with one of its keys.
    #[inline]
    pub(super) fn mark_proven(&self) {
        // Read first: once proven, verifications only read the flag, so its cache line stays
        // shared between cores.
        if !self.proven.load(Ordering::Relaxed) {
            self.proven.store(true, Ordering::Relaxed);
        }
    }

    /// The first load of its keys; the error a build reports.
    pub(super) async fn load_keys(&self, fetch_timeout: Duration) -> Result<(), ConfigError> {
        self.store.refresh().await.map_err(|error| {
            let source = error
                .map(|e| (*e).clone())
                .unwrap_or(JwksError::Timeout(fetch_timeout));
            ConfigError::InitialFetch {
                pool: self.id.to_string(),
                source,
            }
        })
    }
}
