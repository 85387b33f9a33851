//! The headers of tokens this verifier verified, kept as read: a token whose header segment is
//! one of them skips decoding and parsing it again.
//!
//! A user pool signs every token of one key with the same header (`{"kid":"..","alg":"RS256"}`),
//! so the headers a verifier sees are a handful. Identical segments decode and parse to the
//! same header, so reusing the reading is exact; a segment that differs by one byte is read
//! afresh, with every check of step 3. Only the header of a token that passed every standard
//! check is kept (the signature covers it), so a stream of forged tokens cannot push the real
//! headers out; [`KNOWN_HEADERS`] are kept, the oldest replaced first.

use std::sync::Arc;

use arc_swap::ArcSwap;

use crate::algorithm::Algorithm;

/// Headers kept per verifier: a pool's current and next key, and a few pools.
pub(crate) const KNOWN_HEADERS: usize = 4;

/// A header segment and what it reads as.
#[derive(Debug)]
pub(crate) struct KnownHeader {
    segment: Box<str>,
    pub(crate) algorithm: Algorithm,
    pub(crate) kid: Box<str>,
}

/// The headers kept, read without a lock.
#[derive(Debug, Default)]
pub(crate) struct KnownHeaders {
    headers: ArcSwap<Vec<KnownHeader>>,
}

impl KnownHeaders {
    /// The kept headers, to look a segment up in with [`find`].
    pub(crate) fn load(&self) -> arc_swap::Guard<Arc<Vec<KnownHeader>>> {
        self.headers.load()
    }

    /// Keeps the reading of `segment`, a header of a token that passed every standard check.
    pub(crate) fn remember(&self, segment: &str, algorithm: Algorithm, kid: &str) {
        if find(&self.headers.load(), segment).is_some() {
            return;
        }
        self.headers.rcu(|kept| {
            let mut next: Vec<KnownHeader> = Vec::with_capacity(KNOWN_HEADERS);
            let keep_from = (kept.len() + 1).saturating_sub(KNOWN_HEADERS);
            next.extend(kept[keep_from..].iter().map(|known| KnownHeader {
                segment: known.segment.clone(),
                algorithm: known.algorithm,
                kid: known.kid.clone(),
            }));
            if find(&next, segment).is_none() {
                next.push(KnownHeader {
                    segment: segment.into(),
                    algorithm,
                    kid: kid.into(),
                });
            }
            next
        });
    }
}

/// The kept reading of `segment`, if any.
pub(crate) fn find<'k>(kept: &'k [KnownHeader], segment: &str) -> Option<&'k KnownHeader> {
    kept.iter().find(|known| *known.segment == *segment)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_newest_few_and_finds_exact_segments_only() {
        let known = KnownHeaders::default();
        for i in 0..6 {
            known.remember(&format!("segment{i}"), Algorithm::Rs256, &format!("kid{i}"));
        }
        let kept = known.load();
        assert_eq!(kept.len(), KNOWN_HEADERS);
        assert!(find(&kept, "segment0").is_none());
        assert_eq!(&*find(&kept, "segment5").unwrap().kid, "kid5");
        assert!(find(&kept, "segment").is_none());
        assert!(find(&kept, "segment55").is_none());
        // Remembering a kept one changes nothing.
        known.remember("segment5", Algorithm::Rs256, "kid5");
        assert_eq!(known.load().len(), KNOWN_HEADERS);
    }
}
