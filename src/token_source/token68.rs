//! The token68 syntax of RFC 7235 section 2.1, the one check every token source applies.

use super::{FoundToken, TokenProblem};
use crate::byte_scan::{all_bytes, is_ascii_letter};

/// What a source found in the value of the credential it located (`None`: the credential
/// has no value at all): the token when it is a token68, else a malformed credential.
pub(crate) fn found_token68(value: Option<&[u8]>) -> FoundToken<'_> {
    value.and_then(token68).map_or(
        FoundToken::Invalid(TokenProblem::Malformed),
        FoundToken::Present,
    )
}

/// The token, if `bytes` is a token68: one or more of `A-Z a-z 0-9 - . _ ~ + /`, then optional
/// `=` padding at the end only. Borrowed as it is, never decoded.
pub(crate) fn token68(bytes: &[u8]) -> Option<&str> {
    // Padding is only at the end: strip it from the back, then every other byte must be a
    // token68 character. The scan runs on every request, so it has no branch per byte.
    let body_len = bytes
        .iter()
        .rposition(|b| *b != b'=')
        .map_or(0, |last| last + 1);
    let body = &bytes[..body_len];
    let is_token68 = !body.is_empty() && all_token68(body);
    if !is_token68 {
        return None;
    }
    // Every token68 byte is ASCII: this never fails once the scan passed.
    std::str::from_utf8(bytes).ok()
}

/// True when every byte is a token68 character.
fn all_token68(bytes: &[u8]) -> bool {
    all_bytes(bytes, is_token68_byte)
}

/// The token68 characters of RFC 7235, padding aside: `A-Z a-z 0-9 - . _ ~ + /`.
#[inline(always)]
fn is_token68_byte(b: u8) -> bool {
    // `-./0-9` are one run of ASCII (0x2D to 0x39).
    let digit_or_dash_dot_slash = b.wrapping_sub(b'-') <= b'9' - b'-';
    is_ascii_letter(b) | digit_or_dash_dot_slash | (b == b'_') | (b == b'~') | (b == b'+')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_token68() {
        for token in ["a", "a.b.c", "A-Z_a~z.0+9/", "abc=", "abc==", "eyJ.eyJ.sig"] {
            assert_eq!(token68(token.as_bytes()), Some(token), "{token:?}");
        }
    }

    /// The fast scan agrees with the definition for every byte, at every position of a block.
    #[test]
    fn every_byte_is_classified_as_rfc_7235_says() {
        for byte in 0..=255u8 {
            let expected = byte.is_ascii_alphanumeric()
                || matches!(byte, b'-' | b'.' | b'_' | b'~' | b'+' | b'/');
            assert_eq!(is_token68_byte(byte), expected, "{byte:#04x}");
            for len in [1, 31, 32, 33, 64, 70] {
                for at in [0, len / 2, len - 1] {
                    let mut bytes = vec![b'a'; len];
                    bytes[at] = byte;
                    assert_eq!(
                        all_token68(&bytes),
                        expected,
                        "{byte:#04x} at {at} of {len}"
                    );
                }
            }
        }
    }

    #[test]
    fn refuses_everything_else() {
        let cases: &[&[u8]] = &[
            b"",
            b"=",
            b"==",
            b"=abc",
            b"a=b",
            b" abc",
            b"abc ",
            b"a b",
            b"a\tb",
            b"\"abc\"",
            b"a%2Eb",
            b"a;b",
            b"a,b",
            b"a\0b",
            b"a.b.\xc3\xa9",
            b"\xff",
        ];
        for bytes in cases {
            assert_eq!(token68(bytes), None, "{:?}", String::from_utf8_lossy(bytes));
        }
    }
}
