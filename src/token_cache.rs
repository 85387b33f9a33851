//! The verified-token cache: a token seen again skips the signature check. One cache for every
//! token family: user-pool tokens keep their [`VerifiedToken`](crate::VerifiedToken), load
//! balancer tokens their `AlbToken`.
//!
//! A Cognito client reuses its token for up to an hour, and the signature check is the only
//! expensive step of verification. The cache maps the token's full text to what its
//! verification found, so that a hit costs a hash, a comparison of the whole token, and the
//! checks a hit runs again.
//!
//! It is exact (the user-pool verifier's hits; a load balancer token's hit checks `exp` again,
//! its key never changes for its `kid`):
//! - A hit needs the whole token to match, byte for byte (the map compares keys; a hash alone
//!   never decides).
//! - A hit runs every check of the [pipeline](crate::verifier::pipeline) but the decoding and
//!   the signature, through the same functions as a full verification: the issuer's pool, the
//!   key (the very key that verified it must still be in its pool's current, non-stale set),
//!   `exp` and `nbf` against this request's clock, token use, app client, then every rule.
//!   Entries of a key that left the set are also dropped when the refresh sees it go.
//! - Only tokens that passed every standard check (signature, `exp`, `nbf`, `iss`, token use,
//!   client) are stored; a token that failed any of them never is. A valid token that a route's
//!   group or scope rule refuses is stored, since the rules run on every hit.
//!
//! A token is hashed by its last 32 characters only, which lie in its signature: hashing a
//! whole 1 KB token was the largest cost of a hit. Two valid tokens never share a signature,
//! and only valid tokens are stored, so no one can fill one bucket without the pool's private
//! key; the lookup still compares the whole token.
//!
//! It is a [`quick_cache`] sync cache, weighed in bytes: well kept, fast, bounded by weight
//! rather than by count (tokens grow with groups), and, with its `sharded-lock` feature, a hit
//! takes only a per-thread share of the shard's lock, so threads hitting the cache do not
//! contend on one lock word. moka was the alternative; its hits cost more (they feed an access
//! log that a housekeeper drains), and the features it has beyond quick_cache (time-based
//! expiry, listeners) are not needed here: expiry is checked against `exp` on every hit.

use std::{
    any::Any,
    hash::{Hash, Hasher},
    sync::{Arc, OnceLock},
};

use quick_cache::{Equivalent, Weighter, sync::Cache};

/// What one entry weighs besides its token text and what [`Weigh`] says: the entry's
/// bookkeeping.
const ENTRY_OVERHEAD_BYTES: u64 = 256;

/// What a verified token occupies, for the cache's weight.
pub(crate) trait Weigh {
    /// Roughly the bytes this value holds on the heap.
    fn weight_bytes(&self) -> u64;
}

/// How many of a token's last bytes its hash reads.
const HASHED_BYTES: usize = 32;

/// A cached token's claims read as the caller's own type (`CognitoClaims<Id, MyClaims>`), read
/// on first use and shared by every later hit: measured over HTTP, reading a 1 KB payload anew
/// on every request cost 13 % of a custom-claims route's throughput (BENCHMARKS.md). One type
/// per token is kept, the first asked for; another type is read anew each time.
#[derive(Default)]
pub(crate) struct ClaimsMemo(OnceLock<Arc<dyn Any + Send + Sync>>);

impl ClaimsMemo {
    /// The kept claims when they are a `C`, else `read()`'s, kept when none are.
    pub(crate) fn get_or_read<C: Send + Sync + 'static, E>(
        &self,
        read: impl FnOnce() -> Result<C, E>,
    ) -> Result<Arc<C>, E> {
        if let Some(kept) = self.0.get()
            && let Ok(claims) = Arc::downcast::<C>(Arc::clone(kept))
        {
            return Ok(claims);
        }
        let claims = Arc::new(read()?);
        // Two threads may both have read it: either is the same.
        let kept = self
            .0
            .get_or_init(|| Arc::clone(&claims) as Arc<dyn Any + Send + Sync>);
        Ok(Arc::downcast::<C>(Arc::clone(kept)).unwrap_or(claims))
    }
}

/// A stored token's text.
#[derive(Clone, PartialEq, Eq)]
struct CachedToken(Arc<str>);

/// A token to look up, hashed as [`CachedToken`] is.
struct Lookup<'t>(&'t str);

/// The part of a token its hash reads: the end of its signature.
pub(crate) fn hashed_part(token: &str) -> &[u8] {
    let bytes = token.as_bytes();
    &bytes[bytes.len().saturating_sub(HASHED_BYTES)..]
}

impl Hash for CachedToken {
    fn hash<H: Hasher>(&self, state: &mut H) {
        hashed_part(&self.0).hash(state);
    }
}

impl Hash for Lookup<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        hashed_part(self.0).hash(state);
    }
}

impl Equivalent<CachedToken> for Lookup<'_> {
    fn equivalent(&self, key: &CachedToken) -> bool {
        *self.0 == *key.0
    }
}

#[derive(Debug, Clone)]
struct ByBytes;

impl<V: Weigh> Weighter<CachedToken, V> for ByBytes {
    fn weight(&self, token: &CachedToken, verified: &V) -> u64 {
        token.0.len() as u64 + verified.weight_bytes() + ENTRY_OVERHEAD_BYTES
    }
}

/// A bounded cache of verified tokens; see the module docs.
pub(crate) struct TokenCache<V> {
    entries: Cache<CachedToken, V, ByBytes>,
}

impl<V: Weigh + Clone> TokenCache<V> {
    /// A cache that holds at most `capacity_bytes` of tokens and what their verification
    /// found; `None` for a capacity of 0 (no cache).
    pub(crate) fn with_capacity(capacity_bytes: u64) -> Option<Self> {
        // A typical entry weighs about 4 KiB; the estimate only sizes the shards.
        let estimated_items = usize::try_from(capacity_bytes / 4096)
            .unwrap_or(usize::MAX)
            .max(16);
        (capacity_bytes > 0).then(|| Self {
            entries: Cache::with_weighter(estimated_items, capacity_bytes, ByBytes),
        })
    }

    pub(crate) fn get(&self, token: &str) -> Option<V> {
        self.entries.get(&Lookup(token))
    }

    pub(crate) fn insert(&self, token: &str, verified: V) {
        self.entries.insert(CachedToken(token.into()), verified);
    }

    pub(crate) fn remove(&self, token: &str) {
        self.entries.remove(&Lookup(token));
    }

    /// Keeps only the entries for which `keep` is true.
    pub(crate) fn retain(&self, keep: impl Fn(&V) -> bool) {
        self.entries.retain(|_, verified| keep(verified));
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// The entries' weight in bytes: what [`Weigh`] says, their tokens, their bookkeeping.
    pub(crate) fn weight(&self) -> u64 {
        self.entries.weight()
    }
}

#[cfg(test)]
mod tests {
    use std::hash::BuildHasher;

    use super::*;

    #[test]
    fn tokens_sharing_their_end_hash_alike_but_are_not_equivalent() {
        let hasher = std::collections::hash_map::RandomState::new();
        let end = "s".repeat(HASHED_BYTES);
        let stored = CachedToken(format!("header.payload.{end}").into());
        let same = Lookup(&stored.0);
        let other = format!("header.other-payload.{end}");
        let other = Lookup(&other);
        assert_eq!(hasher.hash_one(&stored), hasher.hash_one(&same));
        assert_eq!(hasher.hash_one(&stored), hasher.hash_one(&other));
        assert!(same.equivalent(&stored));
        assert!(!other.equivalent(&stored));
        assert!(!Lookup("s").equivalent(&stored));
    }
}
