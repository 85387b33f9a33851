//! The pools a verifier trusts at one moment, looked up by issuer. Replaced whole (behind
//! arc-swap) when a pool is added or removed, so the request path reads it without a lock.

use std::{
    collections::{HashMap, HashSet},
    sync::Arc,
};

use super::{config_error::ConfigError, trusted_pool::TrustedPool};

/// Above this many issuers, lookups go through a hash map; below, a scan is faster.
const SCAN_LIMIT: usize = 16;

/// A snapshot of the trusted pools.
#[derive(Default)]
pub(super) struct PoolTable {
    pools: Vec<Arc<TrustedPool>>,
    /// Issuer to index, for many pools.
    by_issuer: Option<HashMap<Box<str>, usize>>,
}

impl PoolTable {
    /// A table of `pools`, checked: [distinct](check_distinct), at most `max_pools`.
    pub(super) fn new(pools: Vec<Arc<TrustedPool>>, max_pools: usize) -> Result<Self, ConfigError> {
        if pools.len() > max_pools {
            return Err(ConfigError::TooManyPools(max_pools));
        }
        check_distinct(&pools)?;
        Ok(Self::indexed(pools))
    }

    /// A table of pools already checked.
    fn indexed(pools: Vec<Arc<TrustedPool>>) -> Self {
        let issuer_count: usize = pools.iter().map(|p| p.issuers.len()).sum();
        let by_issuer = (issuer_count > SCAN_LIMIT).then(|| {
            pools
                .iter()
                .enumerate()
                .flat_map(|(index, pool)| {
                    pool.issuers.iter().map(move |i| (i.as_str().into(), index))
                })
                .collect()
        });
        Self { pools, by_issuer }
    }

    /// This table with `pool` added. When that makes one pool too many, the oldest pool no token
    /// has proven makes room: it is returned, for the caller to clean up after.
    pub(super) fn with(
        &self,
        pool: Arc<TrustedPool>,
        max_pools: usize,
    ) -> Result<(Self, Option<Arc<TrustedPool>>), ConfigError> {
        let mut pools = self.pools.clone();
        pools.push(pool);
        // Against every pool, the one about to make room included: a pool that is trusted
        // already is a duplicate, not a replacement.
        check_distinct(&pools)?;
        let mut evicted = None;
        if pools.len() > max_pools {
            // Pools keep the order they were added in: the first unproven is the oldest.
            let oldest = pools[..pools.len() - 1]
                .iter()
                .position(|p| !p.is_proven())
                .ok_or(ConfigError::TooManyPools(max_pools))?;
            evicted = Some(pools.remove(oldest));
        }
        Ok((Self::indexed(pools), evicted))
    }

    /// This table without the first pool `which` picks; `None` when it picks none.
    pub(super) fn without(&self, which: impl FnMut(&Arc<TrustedPool>) -> bool) -> Option<Self> {
        let mut pools = self.pools.clone();
        pools.remove(self.pools.iter().position(which)?);
        // Fewer pools than a checked table: still checked.
        Some(Self::indexed(pools))
    }

    /// The index of the pool that accepts `issuer`.
    #[inline]
    pub(super) fn position(&self, issuer: &str) -> Option<usize> {
        match &self.by_issuer {
            Some(map) => map.get(issuer).copied(),
            None => self
                .pools
                .iter()
                .position(|pool| pool.issuers.iter().any(|i| i == issuer)),
        }
    }

    #[inline]
    pub(super) fn get(&self, index: usize) -> &Arc<TrustedPool> {
        &self.pools[index]
    }

    pub(super) fn pools(&self) -> &[Arc<TrustedPool>] {
        &self.pools
    }
}

/// No pool twice, no issuer accepted by two pools (each would trust the other's tokens).
fn check_distinct(pools: &[Arc<TrustedPool>]) -> Result<(), ConfigError> {
    let mut ids: HashSet<&str> = HashSet::new();
    let mut issuers: HashSet<&str> = HashSet::new();
    for pool in pools {
        if !ids.insert(&pool.id) {
            return Err(ConfigError::DuplicateUserPool(pool.id.to_string()));
        }
        for issuer in &pool.issuers {
            if !issuers.insert(issuer) {
                return Err(ConfigError::DuplicateIssuer(issuer.clone()));
            }
        }
    }
    Ok(())
}
