//! A token in a query parameter, for WebSocket upgrades only.

use http::{HeaderMap, Uri};

use super::{
    FoundToken, TokenProblem, TokenSource, invalid_name::InvalidSourceName, token68::found_token68,
};

/// Reads the token from a query parameter: `/ws?access_token=<token>`.
///
/// **For WebSocket upgrades only.** A browser cannot set headers on a WebSocket handshake, so
/// the token has to travel in the URL there; anywhere else, use a header or a cookie. URLs are
/// written to the access logs of servers, proxies and load balancers, kept in browser history
/// and sent on in `Referer`, so a token in a query leaks where a header does not: put this
/// source on the upgrade route alone (`route_layer`), and prefer short-lived tokens.
///
/// - Parameters are split on `&` and their names compared exactly.
/// - Exactly one parameter of the name: two are [`Repeated`](TokenProblem::Repeated).
/// - The value is taken raw, not percent-decoded, and must be a token68: Cognito's tokens are
///   base64url JWTs, whose characters need no encoding in a query. A percent-encoded value
///   (`a%2Eb`), an empty one, or a parameter without `=` is
///   [`Malformed`](TokenProblem::Malformed). A `+` or `/` is taken literally, as RFC 3986 reads
///   it (a form decoder would read `+` as a space; a Cognito token holds neither).
/// - A name spelled with percent-escapes (`access%5Ftoken`) is refused as
///   [`Malformed`](TokenProblem::Malformed) too, rather than read as another parameter, so
///   that a decoding proxy or framework behind the layer cannot see a token that this source
///   did not check.
///
/// # Example
///
/// ```
/// use axum_cognito::token_source::{FoundToken, QueryParameter, TokenProblem, TokenSource};
/// use http::{HeaderMap, Uri};
///
/// let source = QueryParameter::named("access_token").unwrap();
/// let headers = HeaderMap::new();
/// let uri = Uri::from_static("/ws?room=1&access_token=a.b.c");
/// assert_eq!(source.find(&headers, &uri), FoundToken::Present("a.b.c"));
///
/// let uri = Uri::from_static("/ws?room=1");
/// assert_eq!(source.find(&headers, &uri), FoundToken::Absent);
///
/// let uri = Uri::from_static("/ws?access_token=a%2Eb");
/// assert_eq!(source.find(&headers, &uri), FoundToken::Invalid(TokenProblem::Malformed));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct QueryParameter {
    name: Box<str>,
}

impl QueryParameter {
    /// The query parameter named `name`.
    ///
    /// # Errors
    ///
    /// [`InvalidSourceName::QueryParameter`] unless `name` is one or more of
    /// `A-Z a-z 0-9 - . _ ~`, the characters that a query carries without encoding.
    pub fn named(name: &str) -> Result<Self, InvalidSourceName> {
        let unreserved =
            |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~');
        if name.is_empty() || !name.bytes().all(unreserved) {
            return Err(InvalidSourceName::QueryParameter(name.to_owned()));
        }
        Ok(Self { name: name.into() })
    }
}

impl TokenSource for QueryParameter {
    fn find<'r>(&self, _headers: &'r HeaderMap, uri: &'r Uri) -> FoundToken<'r> {
        let Some(query) = uri.query() else {
            return FoundToken::Absent;
        };
        let name = self.name.as_bytes();
        // `Some(None)`: the parameter without `=`.
        let mut found: Option<Option<&[u8]>> = None;
        for pair in query.as_bytes().split(|b| *b == b'&') {
            let (key, value) = match pair.iter().position(|b| *b == b'=') {
                Some(eq) => (&pair[..eq], Some(&pair[eq + 1..])),
                None => (pair, None),
            };
            if key == name {
                if found.is_some() {
                    return FoundToken::Invalid(TokenProblem::Repeated);
                }
                found = Some(value);
            } else if decodes_to(key, name) {
                return FoundToken::Invalid(TokenProblem::Malformed);
            }
        }
        found.map_or(FoundToken::Absent, found_token68)
    }
}

/// Whether `encoded`, percent-decoded, is `name`. No allocation: decoded byte by byte.
fn decodes_to(encoded: &[u8], name: &[u8]) -> bool {
    let mut rest = encoded;
    let mut expected = name.iter();
    loop {
        let (byte, tail) = match rest {
            [] => return expected.next().is_none(),
            [b'%', high, low, tail @ ..] => match (hex(*high), hex(*low)) {
                (Some(high), Some(low)) => (high << 4 | low, tail),
                _ => return false,
            },
            [byte, tail @ ..] => (*byte, tail),
        };
        if expected.next() != Some(&byte) {
            return false;
        }
        rest = tail;
    }
}

fn hex(digit: u8) -> Option<u8> {
    char::from(digit)
        .to_digit(16)
        .and_then(|value| u8::try_from(value).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_named_parameter() {
        use FoundToken::{Absent, Invalid, Present};
        use TokenProblem::{Malformed, Repeated};
        let source = QueryParameter::named("access_token").unwrap();
        let headers = HeaderMap::new();
        let cases: &[(&str, FoundToken<'_>)] = &[
            ("/ws", Absent),
            ("/ws?", Absent),
            ("/ws?room=1", Absent),
            ("/ws?xaccess_token=a.b.c", Absent),
            ("/ws?access_tokens=a.b.c", Absent),
            ("/ws?ACCESS_TOKEN=a.b.c", Absent),
            ("/ws?access_token%=a.b.c", Absent),
            ("/ws?id_token=a.b.c", Absent),
            ("/ws?access_token=a.b.c", Present("a.b.c")),
            ("/ws?room=1&access_token=a.b.c", Present("a.b.c")),
            ("/ws?access_token=a.b.c&room=1", Present("a.b.c")),
            ("/ws?&&access_token=a.b.c&&", Present("a.b.c")),
            ("/ws?access_token=a-_.~+/b==", Present("a-_.~+/b==")),
            (
                "/ws?access_token=a.b.c&access_token=a.b.c",
                Invalid(Repeated),
            ),
            ("/ws?access_token=&access_token=a.b.c", Invalid(Repeated)),
            ("/ws?access_token", Invalid(Malformed)),
            ("/ws?access_token=", Invalid(Malformed)),
            ("/ws?access_token==abc", Invalid(Malformed)),
            ("/ws?access_token=a=b", Invalid(Malformed)),
            ("/ws?access_token=a%2Eb", Invalid(Malformed)),
            ("/ws?access_token=%20a.b.c", Invalid(Malformed)),
            ("/ws?access_token=%22a.b.c%22", Invalid(Malformed)),
            ("/ws?access_token=a,b", Invalid(Malformed)),
            ("/ws?access_token=a;b", Invalid(Malformed)),
            ("/ws?access%5Ftoken=a.b.c", Invalid(Malformed)),
            ("/ws?access%5ftoken=a.b.c", Invalid(Malformed)),
            ("/ws?%61ccess_token=a.b.c", Invalid(Malformed)),
            (
                "/ws?access_token=a.b.c&access%5Ftoken=d.e.f",
                Invalid(Malformed),
            ),
        ];
        for (uri, expected) in cases {
            let uri: Uri = uri.parse().unwrap();
            assert_eq!(source.find(&headers, &uri), *expected, "{uri}");
        }
    }

    #[test]
    fn the_query_is_not_the_path() {
        let source = QueryParameter::named("access_token").unwrap();
        let uri = Uri::from_static("/access_token=a.b.c");
        assert_eq!(source.find(&HeaderMap::new(), &uri), FoundToken::Absent);
    }

    #[test]
    fn percent_decoding_compares_byte_by_byte() {
        assert!(decodes_to(b"a%5Fb", b"a_b"));
        assert!(decodes_to(b"%61%5f%62", b"a_b"));
        assert!(decodes_to(b"a_b", b"a_b"));
        assert!(!decodes_to(b"a%5Fb", b"a_bc"));
        assert!(!decodes_to(b"a%5Fbc", b"a_b"));
        assert!(!decodes_to(b"a%5", b"a_"));
        assert!(!decodes_to(b"a%G0", b"a_"));
        assert!(!decodes_to(b"", b"a"));
    }

    #[test]
    fn names_need_no_encoding() {
        for name in ["access_token", "t", "A-Z.a~z_09"] {
            assert!(QueryParameter::named(name).is_ok(), "{name:?}");
        }
        for name in ["", "access token", "a&b", "a=b", "a%5Fb", "a+b", "a/b", "é"] {
            assert_eq!(
                QueryParameter::named(name),
                Err(InvalidSourceName::QueryParameter(name.to_owned())),
                "{name:?}"
            );
        }
    }
}
