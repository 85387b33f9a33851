//! The verified-token cache: a token seen again skips the signature check.
//!
//! A Cognito client reuses its token for up to an hour, and the RSA signature check is the only
//! expensive step of verification. The cache maps the token's full text to what its
//! verification found ([`VerifiedToken`]), so that a hit costs a hash, a comparison of the
//! whole token, and the rule checks.
//!
//! It is exact:
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
    hash::{Hash, Hasher},
    sync::Arc,
};

use quick_cache::{Equivalent, Weighter, sync::Cache};

use crate::verified_token::VerifiedToken;

/// What one entry weighs: the token text, its claims JSON, and a fixed share for the entry's
/// bookkeeping and owned claims.
const ENTRY_OVERHEAD_BYTES: u64 = 256;

/// How many of a token's last bytes its hash reads.
const HASHED_BYTES: usize = 32;

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

impl Weighter<CachedToken, VerifiedToken> for ByBytes {
    fn weight(&self, token: &CachedToken, verified: &VerifiedToken) -> u64 {
        token.0.len() as u64 + verified.weight_bytes() + ENTRY_OVERHEAD_BYTES
    }
}

/// A bounded cache of verified tokens; see the module docs.
pub(crate) struct TokenCache {
    entries: Cache<CachedToken, VerifiedToken, ByBytes>,
}

impl TokenCache {
    /// A cache that holds at most `capacity_bytes` of tokens and claims.
    pub(crate) fn new(capacity_bytes: u64) -> Self {
        // A typical entry weighs about 4 KiB; the estimate only sizes the shards.
        let estimated_items = usize::try_from(capacity_bytes / 4096)
            .unwrap_or(usize::MAX)
            .max(16);
        Self {
            entries: Cache::with_weighter(estimated_items, capacity_bytes, ByBytes),
        }
    }

    pub(crate) fn get(&self, token: &str) -> Option<VerifiedToken> {
        self.entries.get(&Lookup(token))
    }

    pub(crate) fn insert(&self, token: &str, verified: VerifiedToken) {
        self.entries.insert(CachedToken(token.into()), verified);
    }

    pub(crate) fn remove(&self, token: &str) {
        self.entries.remove(&Lookup(token));
    }

    /// Drops the entries verified by the keys `kids` of the pool `pool`.
    pub(crate) fn remove_signed_by(&self, pool: &str, kids: &[&str]) {
        self.entries
            .retain(|_, verified| !(verified.pool_id() == pool && kids.contains(&verified.kid())));
    }

    /// Drops the entries of the pool `pool` (removed from the verifier).
    pub(crate) fn remove_pool(&self, pool: &str) {
        self.entries
            .retain(|_, verified| verified.pool_id() != pool);
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }
}

impl std::fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenCache")
            .field("entries", &self.entries.len())
            .field("weight", &self.entries.weight())
            .field("capacity", &self.entries.capacity())
            .finish()
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
