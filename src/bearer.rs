//! Reading the Bearer token from `Authorization` (RFC 6750 section 2.1, RFC 7235).

use http::{HeaderMap, header::AUTHORIZATION};

/// What the `Authorization` header holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BearerToken<'a> {
    /// No `Authorization` header.
    Absent,
    /// A well-formed `Bearer` credential.
    Present(&'a str),
    /// An `Authorization` header that is not a well-formed `Bearer` credential.
    Invalid(BearerProblem),
}

/// Why an `Authorization` header was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BearerProblem {
    /// More than one `Authorization` header: which one counts is ambiguous.
    Repeated,
    /// A scheme other than `Bearer`.
    OtherScheme,
    /// `Bearer` without exactly one space and a non-empty token of token68 characters.
    Malformed,
}

impl BearerProblem {
    pub(crate) fn description(self) -> &'static str {
        match self {
            Self::Repeated => "More than one Authorization header",
            Self::OtherScheme => "Authorization scheme is not Bearer",
            Self::Malformed => "Malformed Bearer credentials",
        }
    }
}

/// Reads `Authorization: Bearer <token>`: the scheme case-insensitively, then exactly one
/// space, then a token68 (`A-Z a-z 0-9 - . _ ~ + /`, optional trailing `=`). Anything else
/// present is refused, never guessed at.
pub(crate) fn bearer_token(headers: &HeaderMap) -> BearerToken<'_> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return BearerToken::Absent;
    };
    if values.next().is_some() {
        return BearerToken::Invalid(BearerProblem::Repeated);
    }
    // Bytes, not `to_str`: a header with non-ASCII bytes is simply malformed.
    let bytes = value.as_bytes();
    const SCHEME: &[u8] = b"bearer";
    let scheme_end = bytes.iter().position(|b| *b == b' ').unwrap_or(bytes.len());
    if !bytes[..scheme_end].eq_ignore_ascii_case(SCHEME) {
        return BearerToken::Invalid(BearerProblem::OtherScheme);
    }
    let Some(token) = bytes.get(scheme_end + 1..) else {
        return BearerToken::Invalid(BearerProblem::Malformed);
    };
    // Padding is only at the end: strip it from the back, then every other byte must be a
    // token68 character. The scan runs on every request, so it has no branch per byte.
    let body_len = token
        .iter()
        .rposition(|b| *b != b'=')
        .map_or(0, |last| last + 1);
    let body = &token[..body_len];
    let is_token68 = !body.is_empty()
        && body
            .iter()
            .fold(true, |ok, b| ok & TOKEN68[usize::from(*b)]);
    match std::str::from_utf8(token) {
        Ok(token) if is_token68 => BearerToken::Present(token),
        _ => BearerToken::Invalid(BearerProblem::Malformed),
    }
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
    use http::HeaderValue;

    use super::*;

    fn read(values: &[&[u8]]) -> BearerToken<'static> {
        let mut headers = HeaderMap::new();
        for v in values {
            headers.append(AUTHORIZATION, HeaderValue::from_bytes(v).unwrap());
        }
        // Leak for a 'static borrow in a test helper.
        let headers: &'static HeaderMap = Box::leak(Box::new(headers));
        bearer_token(headers)
    }

    #[test]
    fn reads_bearer_tokens() {
        assert_eq!(read(&[]), BearerToken::Absent);
        assert_eq!(read(&[b"Bearer a.b.c"]), BearerToken::Present("a.b.c"));
        assert_eq!(read(&[b"bearer a.b.c"]), BearerToken::Present("a.b.c"));
        assert_eq!(
            read(&[b"BEARER a-_.~+/b=="]),
            BearerToken::Present("a-_.~+/b==")
        );
    }

    #[test]
    fn refuses_everything_else() {
        use BearerProblem::*;
        let cases: &[(&[u8], BearerProblem)] = &[
            (b"Basic dXNlcjpwYXNz", OtherScheme),
            (b"Bearer", Malformed),
            (b"Bearer ", Malformed),
            (b"Bearer  a.b.c", Malformed),
            (b"Bearer a.b.c ", Malformed),
            (b"Bearer a b", Malformed),
            (b"Bearer a\tb", Malformed),
            (b"Bearer =abc", Malformed),
            (b"Bearer a=b", Malformed),
            (b"Bearer a.b.\xc3\xa9", Malformed),
            (b"Bearera.b.c", OtherScheme),
            (b"Bearer:a.b.c", OtherScheme),
            (b"Token a.b.c", OtherScheme),
            (b"", OtherScheme),
        ];
        for (value, problem) in cases {
            assert_eq!(
                read(&[value]),
                BearerToken::Invalid(*problem),
                "{:?}",
                String::from_utf8_lossy(value)
            );
        }
        assert_eq!(
            read(&[b"Bearer a.b.c", b"Bearer a.b.c"]),
            BearerToken::Invalid(Repeated)
        );
    }
}
