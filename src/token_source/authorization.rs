//! The default token source: `Authorization: Bearer <token>` (RFC 6750 section 2.1, RFC 7235).

use http::{HeaderMap, Uri, header::AUTHORIZATION};

use super::{FoundToken, TokenProblem, TokenSource, token68::found_token68};

/// Reads the token from `Authorization: Bearer <token>`: the scheme case-insensitively, then
/// exactly one space, then a token68 (`A-Z a-z 0-9 - . _ ~ + /`, optional trailing `=`). Two
/// `Authorization` headers, another scheme, or anything else in the value is refused, never
/// guessed at. The default source of the layer and the extractors.
///
/// ```
/// use axum_cognito::token_source::{AuthorizationBearer, FoundToken, TokenProblem, TokenSource};
/// use http::{HeaderMap, HeaderValue, Uri, header::AUTHORIZATION};
///
/// let mut headers = HeaderMap::new();
/// headers.insert(AUTHORIZATION, HeaderValue::from_static("bearer  a.b.c"));
/// let uri = Uri::from_static("/");
/// let found = AuthorizationBearer.find(&headers, &uri);
/// assert_eq!(found, FoundToken::Invalid(TokenProblem::Malformed));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AuthorizationBearer;

impl TokenSource for AuthorizationBearer {
    fn find<'r>(&self, headers: &'r HeaderMap, _uri: &'r Uri) -> FoundToken<'r> {
        let mut values = headers.get_all(AUTHORIZATION).iter();
        let Some(value) = values.next() else {
            return FoundToken::Absent;
        };
        if values.next().is_some() {
            return FoundToken::Invalid(TokenProblem::Repeated);
        }
        // Bytes, not `to_str`: a header with non-ASCII bytes is simply malformed.
        let bytes = value.as_bytes();
        let scheme_end = bytes.iter().position(|b| *b == b' ').unwrap_or(bytes.len());
        if !bytes[..scheme_end].eq_ignore_ascii_case(b"bearer") {
            return FoundToken::Invalid(TokenProblem::OtherScheme);
        }
        found_token68(bytes.get(scheme_end + 1..))
    }
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    fn read(values: &[&[u8]]) -> FoundToken<'static> {
        let mut headers = HeaderMap::new();
        for v in values {
            headers.append(AUTHORIZATION, HeaderValue::from_bytes(v).unwrap());
        }
        // Leak for a 'static borrow in a test helper.
        let headers: &'static HeaderMap = Box::leak(Box::new(headers));
        AuthorizationBearer.find(headers, Box::leak(Box::new(Uri::from_static("/"))))
    }

    #[test]
    fn reads_bearer_tokens() {
        assert_eq!(read(&[]), FoundToken::Absent);
        assert_eq!(read(&[b"Bearer a.b.c"]), FoundToken::Present("a.b.c"));
        assert_eq!(read(&[b"bearer a.b.c"]), FoundToken::Present("a.b.c"));
        assert_eq!(
            read(&[b"BEARER a-_.~+/b=="]),
            FoundToken::Present("a-_.~+/b==")
        );
    }

    #[test]
    fn refuses_everything_else() {
        use TokenProblem::*;
        let cases: &[(&[u8], TokenProblem)] = &[
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
                FoundToken::Invalid(*problem),
                "{:?}",
                String::from_utf8_lossy(value)
            );
        }
        assert_eq!(
            read(&[b"Bearer a.b.c", b"Bearer a.b.c"]),
            FoundToken::Invalid(Repeated)
        );
    }
}
