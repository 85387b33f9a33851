//! The token68 syntax of RFC 7235 section 2.1, the one check every token source applies.

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
    let is_token68 = !body.is_empty()
        && body
            .iter()
            .fold(true, |ok, b| ok & TOKEN68[usize::from(*b)]);
    if !is_token68 {
        return None;
    }
    // Every token68 byte is ASCII: this never fails once the scan passed.
    std::str::from_utf8(bytes).ok()
}

/// The token68 characters of RFC 7235, padding aside: `A-Z a-z 0-9 - . _ ~ + /`.
static TOKEN68: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] =
            c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~' | b'+' | b'/');
        b += 1;
    }
    table
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_token68() {
        for token in ["a", "a.b.c", "A-Z_a~z.0+9/", "abc=", "abc==", "eyJ.eyJ.sig"] {
            assert_eq!(token68(token.as_bytes()), Some(token), "{token:?}");
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
