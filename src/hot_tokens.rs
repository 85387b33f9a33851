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
//! So a thread that keeps finding a token's shared entry in use elsewhere at the same time
//! (its reference counts above what the cache and this hit hold) keeps its own copy: after
//! [`PROMOTE_AFTER`] such hits, it copies the verified token (its claims included) once, and
//! its later hits count on the copy, which no other thread touches. A token served by one
//! thread at a time, the common case of one user's token, is never copied. A copy is what the
//! shared entry was, and it is checked in full on every use like any cache hit (pool, key,
//! `exp`/`nbf`, token use, client, revocation, rules): a removed key or pool, an expiry or a
//! revocation refuses it as it refuses the shared entry. A copy that fails a check is dropped
//! and the shared entry decides (another thread may have verified the token again).
//!
//! Bounded: [`COPIES`] copies per thread, whatever the number of verifiers (they are told
//! apart by the verifier's id); a copy used since the last promotion gets a second chance
//! before it is replaced. The counting table is fixed-size and allocates nothing. A promotion
//! allocates once (the copy); hits on the copy allocate nothing. The copies sit outside the
//! token cache's byte budget (at most [`COPIES`] tokens and their claims per thread that served
//! them), and a thread keeps its copies until it replaces them or ends, also after their
//! verifier is dropped (they are refused by no one, since no one asks for them).

use std::cell::{Cell, RefCell};

use crate::{token_cache::hashed_part, verified_token::VerifiedToken};

/// Copies kept per thread.
pub(crate) const COPIES: usize = 4;

/// Hits of one token by one thread, each while the shared entry was in use elsewhere, before
/// the thread copies it.
pub(crate) const PROMOTE_AFTER: u8 = 4;

/// Slots of the hit-counting table (by token hash).
const COUNTERS: usize = 64;

/// One thread's copy of a cached token.
struct Copy {
    verifier: u64,
    token: Box<str>,
    verified: VerifiedToken,
    /// Used since the last promotion looked at it: spared once.
    used: Cell<bool>,
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

/// A cheap hash of a token's end (as the token cache hashes it: random for every valid
/// token) and its verifier.
fn hash(verifier: u64, token: &str) -> u64 {
    hashed_part(token).chunks(8).fold(
        verifier.wrapping_mul(0x9e37_79b9_7f4a_7c15),
        |hash, word| {
            let mut bytes = [0u8; 8];
            bytes[..word.len()].copy_from_slice(word);
            (hash ^ u64::from_le_bytes(bytes)).wrapping_mul(0xff51_afd7_ed55_8ccd)
        },
    )
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
                .map(|copy| {
                    copy.used.set(true);
                    copy.verified.clone()
                })
        })
        .ok()
        .flatten()
}

/// Counts a hit of the shared entry `shared` by this thread when the entry is in use elsewhere
/// at the same time; at the [`PROMOTE_AFTER`]th, keeps a copy of it.
pub(crate) fn saw(verifier: u64, token: &str, shared: &VerifiedToken) {
    if !shared.in_use_elsewhere() {
        return;
    }
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
        let at = local.victim();
        local.copies[at] = Some(Copy {
            verifier,
            token: token.into(),
            verified: shared.private_copy(),
            used: Cell::new(false),
        });
    });
}

impl Local {
    /// The slot a promotion takes: a free one, else the first from `next` on not used since
    /// the last look (the used ones are spared once, their mark cleared).
    fn victim(&mut self) -> usize {
        for _ in 0..2 * COPIES {
            let at = self.next;
            self.next = (at + 1) % COPIES;
            match &self.copies[at] {
                None => return at,
                Some(copy) if copy.used.replace(false) => {}
                Some(_) => return at,
            }
        }
        self.next
    }
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
