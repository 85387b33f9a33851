//! Per-thread copies of hot cached tokens, so that threads serving the same token do not write
//! to the same memory on every request.
//!
//! A cache hit hands out shared claims: a reference count goes up (the cached
//! [`VerifiedToken`]) and another one (the claims the caller gets), and down again when they
//! are dropped. When two threads serve one token (a machine-to-machine token of a busy
//! service, say), those counts sit in one cache line that every hit moves between the cores:
//! measured with each thread pinned to its own core, a hit on two threads cost 1.5 times a hit
//! on one (`cache_hit_threads`, BENCHMARKS.md), the time spent in the `lock xadd` of the
//! counts; with these copies, 1.01.
//!
//! So each thread keeps its own copy of the few tokens it serves most: after
//! [`PROMOTE_AFTER`] hits of one token by one thread, the thread copies the verified token
//! (its claims included) once, and its later hits count on the copy, which no other thread
//! touches. A copy is what the shared entry was, and it is checked in full on every use like
//! any cache hit (pool, key, `exp`/`nbf`, token use, client, revocation, rules): a removed key
//! or pool, an expiry or a revocation refuses it as it refuses the shared entry. A failed
//! check drops the copy with the entry.
//!
//! Bounded: [`COPIES`] copies per thread, whatever the number of verifiers (they are told
//! apart by the verifier's id); the counting table is fixed-size and allocates nothing. A
//! promotion allocates once per thread and token (the copy); every later hit allocates
//! nothing. The copies sit outside the token cache's byte budget: at most [`COPIES`] tokens
//! and their claims per thread that served them.

use std::cell::RefCell;

use crate::verified_token::VerifiedToken;

/// Copies kept per thread.
pub(crate) const COPIES: usize = 4;

/// Hits of one token by one thread before the thread copies it.
pub(crate) const PROMOTE_AFTER: u8 = 4;

/// Slots of the hit-counting table (by token hash).
const COUNTERS: usize = 64;

/// One thread's copy of a cached token.
struct Copy {
    verifier: u64,
    token: Box<str>,
    verified: VerifiedToken,
}

struct Local {
    copies: [Option<Copy>; COPIES],
    /// Where the next promotion goes (round robin).
    next: usize,
    /// `(token hash, hits)` by `hash % COUNTERS`; another hash in a slot restarts its count.
    counters: [(u64, u8); COUNTERS],
}

thread_local! {
    static LOCAL: RefCell<Local> = const {
        RefCell::new(Local {
            copies: [const { None }; COPIES],
            next: 0,
            counters: [(0, 0); COUNTERS],
        })
    };
}

/// A cheap hash of a token: its last 16 bytes, which lie in the signature (random for every
/// valid token), mixed.
fn hash(verifier: u64, token: &str) -> u64 {
    let bytes = token.as_bytes();
    let tail = &bytes[bytes.len().saturating_sub(16)..];
    let mut word = [0u8; 16];
    word[..tail.len()].copy_from_slice(tail);
    let (a, b) = word.split_at(8);
    let a = u64::from_le_bytes(a.try_into().unwrap_or_default());
    let b = u64::from_le_bytes(b.try_into().unwrap_or_default());
    let mixed = (a ^ b.rotate_left(29) ^ verifier.wrapping_mul(0x9e37_79b9_7f4a_7c15))
        .wrapping_mul(0xff51_afd7_ed55_8ccd);
    mixed ^ (mixed >> 32) ^ (bytes.len() as u64)
}

/// This thread's copy of `token` verified by `verifier`, if it has one.
pub(crate) fn get(verifier: u64, token: &str) -> Option<VerifiedToken> {
    LOCAL
        .try_with(|local| {
            let local = local.try_borrow().ok()?;
            local
                .copies
                .iter()
                .flatten()
                .find(|copy| copy.verifier == verifier && *copy.token == *token)
                .map(|copy| copy.verified.clone())
        })
        .ok()
        .flatten()
}

/// Counts a hit of the shared entry `shared` by this thread; at the
/// [`PROMOTE_AFTER`]th, keeps a copy of it.
pub(crate) fn saw(verifier: u64, token: &str, shared: &VerifiedToken) {
    let _ = LOCAL.try_with(|local| {
        let Ok(mut local) = local.try_borrow_mut() else {
            return;
        };
        let hash = hash(verifier, token);
        let slot = &mut local.counters[(hash % COUNTERS as u64) as usize];
        if slot.0 != hash {
            *slot = (hash, 0);
        }
        slot.1 = slot.1.saturating_add(1);
        if slot.1 < PROMOTE_AFTER {
            return;
        }
        slot.1 = 0;
        let at = local.next;
        local.next = (at + 1) % COPIES;
        local.copies[at] = Some(Copy {
            verifier,
            token: token.into(),
            verified: shared.private_copy(),
        });
    });
}

/// Drops this thread's copy of `token`, after a check refused it.
pub(crate) fn forget(verifier: u64, token: &str) {
    let _ = LOCAL.try_with(|local| {
        if let Ok(mut local) = local.try_borrow_mut() {
            for slot in &mut local.copies {
                if slot
                    .as_ref()
                    .is_some_and(|copy| copy.verifier == verifier && *copy.token == *token)
                {
                    *slot = None;
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_tell_tokens_and_verifiers_apart() {
        let a = "header.payload.signature-aaaaaaaaaaaaaaaa";
        let b = "header.payload.signature-aaaaaaaaaaaaaaab";
        assert_ne!(hash(1, a), hash(1, b));
        assert_ne!(hash(1, a), hash(2, a));
        assert_eq!(hash(1, a), hash(1, a));
        // Short tokens hash without panicking.
        let _ = hash(1, "");
        let _ = hash(1, "x");
    }
}
