//! Checks that every byte of a token is of an alphabet, at vector speed: the checks run over
//! every byte of every request's token (token68 in the `Authorization` header, base64url for
//! every token verified in full).

/// True when `is` holds for every byte. Folded 32 bytes at a time without a branch, so that
/// with an `is` made of comparisons (not a table lookup) the compiler checks a block with a few
/// vector instructions: a table lookup per byte was 14 % of a cached request through the layer
/// (`perf`, BENCHMARKS.md).
#[inline(always)]
pub(crate) fn all_bytes(bytes: &[u8], is: impl Fn(u8) -> bool + Copy) -> bool {
    let mut blocks = bytes.chunks_exact(32);
    let blocks_ok = blocks.by_ref().fold(true, |ok, block| {
        ok & block.iter().fold(true, |ok, b| ok & is(*b))
    });
    blocks_ok && blocks.remainder().iter().fold(true, |ok, b| ok & is(*b))
}

/// `A-Z` or `a-z`: setting bit 5 maps `A-Z` onto `a-z` and nothing else into that range.
#[inline(always)]
pub(crate) fn is_ascii_letter(b: u8) -> bool {
    (b | 0x20).wrapping_sub(b'a') < 26
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_byte_and_every_place_of_a_block_is_checked() {
        for len in [1, 31, 32, 33, 64, 70] {
            for at in 0..len {
                let mut bytes = vec![b'a'; len];
                assert!(all_bytes(&bytes, is_ascii_letter));
                bytes[at] = b'!';
                assert!(!all_bytes(&bytes, is_ascii_letter), "{at} of {len}");
            }
        }
        for byte in 0..=255u8 {
            assert_eq!(
                is_ascii_letter(byte),
                byte.is_ascii_alphabetic(),
                "{byte:#04x}"
            );
        }
    }
}
