//! Verified load balancer tokens, found again by their whole text: a hit skips the decoding and
//! the signature check, and checks `exp` again against this request's clock. A key never
//! changes for its `kid` and a verifier's settings never change, so nothing else a full
//! verification checked can change for a token.

use std::sync::Arc;

use quick_cache::{Weighter, sync::Cache};

use super::token::AlbToken;

/// A fixed share per entry for its bookkeeping.
const ENTRY_OVERHEAD_BYTES: u64 = 256;

#[derive(Debug, Clone)]
struct ByBytes;

impl Weighter<Arc<str>, AlbToken> for ByBytes {
    fn weight(&self, token: &Arc<str>, verified: &AlbToken) -> u64 {
        (token.len() + verified.weight()) as u64 + ENTRY_OVERHEAD_BYTES
    }
}

/// A cache of verified tokens bounded in bytes; only tokens that passed every check are
/// stored.
pub(crate) struct AlbTokenCache {
    tokens: Cache<Arc<str>, AlbToken, ByBytes>,
}

impl AlbTokenCache {
    pub(crate) fn new(bytes: u64) -> Self {
        let estimated_items = usize::try_from(bytes / 2048).unwrap_or(usize::MAX).max(1);
        Self {
            tokens: Cache::with_weighter(estimated_items, bytes, ByBytes),
        }
    }

    pub(crate) fn get(&self, token: &str) -> Option<AlbToken> {
        self.tokens.get(token)
    }

    pub(crate) fn insert(&self, token: &str, verified: AlbToken) {
        self.tokens.insert(token.into(), verified);
    }

    pub(crate) fn remove(&self, token: &str) {
        self.tokens.remove(token);
    }

    pub(crate) fn len(&self) -> usize {
        self.tokens.len()
    }
}

impl std::fmt::Debug for AlbTokenCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AlbTokenCache")
            .field("len", &self.len())
            .finish()
    }
}
