//! A token in a named cookie, for browser apps (RFC 6265).

use http::{HeaderMap, Uri, header::COOKIE};

use super::{
    FoundToken, TokenProblem, TokenSource, invalid_name::InvalidSourceName, token68::found_token68,
};

/// Reads the token from the cookie of this name, in every `Cookie` header of the request
/// (HTTP/2 clients may send one header per cookie).
///
/// - Pairs are split on `;`; spaces and tabs around a pair, its name and its value are
///   ignored. The name is compared exactly: cookie names are case-sensitive, and `xid_token` or
///   `id_token2` are other cookies.
/// - One pair of double quotes around the value is removed: RFC 6265 allows a quoted
///   cookie-value, and no token68 character needs quoting, so `"a.b.c"` is the token `a.b.c`.
/// - The value must then be a token68, like a Bearer token: an empty value (`id_token=`), a
///   lone quote, a space inside or any other character is refused as
///   [`Malformed`](TokenProblem::Malformed). To log a user out, expire the cookie
///   (`Max-Age=0`) rather than setting it empty.
/// - The cookie twice is refused as [`Repeated`](TokenProblem::Repeated), never guessed at.
///   A browser sends two cookies of one name when they were set for different paths or
///   domains (`example.com` and `app.example.com`); set the token cookie in one place only,
///   ideally with the `__Host-` prefix, which pins it to one host and path `/`.
///
/// A browser sends cookies on cross-site requests too: read
/// [the CSRF section](super#cookies-and-csrf) before using this source.
///
/// # Example
///
/// ```
/// use axum_cognito::token_source::{Cookie, FoundToken, TokenProblem, TokenSource};
/// use http::{HeaderMap, HeaderValue, Uri, header::COOKIE};
///
/// let source = Cookie::named("__Host-id_token").unwrap();
/// let uri = Uri::from_static("/");
/// let mut headers = HeaderMap::new();
/// headers.insert(COOKIE, HeaderValue::from_static("theme=dark; __Host-id_token=a.b.c"));
/// assert_eq!(source.find(&headers, &uri), FoundToken::Present("a.b.c"));
///
/// headers.append(COOKIE, HeaderValue::from_static("__Host-id_token=d.e.f"));
/// assert_eq!(source.find(&headers, &uri), FoundToken::Invalid(TokenProblem::Repeated));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct Cookie {
    name: Box<str>,
}

impl Cookie {
    /// The cookie named `name`.
    ///
    /// # Errors
    ///
    /// [`InvalidSourceName::Cookie`] when `name` is not an RFC 6265 cookie name: one or more
    /// letters, digits and `` !#$%&'*+-.^_`|~ ``.
    pub fn named(name: &str) -> Result<Self, InvalidSourceName> {
        if name.is_empty() || !name.bytes().all(is_tchar) {
            return Err(InvalidSourceName::Cookie(name.to_owned()));
        }
        Ok(Self { name: name.into() })
    }
}

impl TokenSource for Cookie {
    fn find<'r>(&self, headers: &'r HeaderMap, _uri: &'r Uri) -> FoundToken<'r> {
        let mut found = None;
        let pairs = headers
            .get_all(COOKIE)
            .iter()
            .flat_map(|header| header.as_bytes().split(|b| *b == b';'));
        for pair in pairs {
            // A pair without `=` is a cookie with an empty name, as browsers send it.
            let Some(eq) = pair.iter().position(|b| *b == b'=') else {
                continue;
            };
            // Of the ASCII whitespace, a header value holds spaces and tabs only.
            if pair[..eq].trim_ascii() != self.name.as_bytes() {
                continue;
            }
            if found.is_some() {
                return FoundToken::Invalid(TokenProblem::Repeated);
            }
            found = Some(unquote(pair[eq + 1..].trim_ascii()));
        }
        found.map_or(FoundToken::Absent, |value| found_token68(Some(value)))
    }
}

/// Without one pair of surrounding double quotes, if it has them.
fn unquote(value: &[u8]) -> &[u8] {
    match value {
        [b'"', inner @ .., b'"'] => inner,
        _ => value,
    }
}

/// A token character of RFC 9110 section 5.6.2, which RFC 6265 cookie names are made of.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    fn find<'r>(name: &str, headers: &'r HeaderMap) -> FoundToken<'r> {
        let uri: &'static Uri = Box::leak(Box::new(Uri::from_static("/")));
        Cookie::named(name).unwrap().find(headers, uri)
    }

    fn headers(values: &[&[u8]]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(COOKIE, HeaderValue::from_bytes(value).unwrap());
        }
        headers
    }

    #[test]
    fn reads_the_named_cookie() {
        use FoundToken::{Absent, Invalid, Present};
        use TokenProblem::{Malformed, Repeated};
        let cases: &[(&[&[u8]], FoundToken<'_>)] = &[
            (&[], Absent),
            (&[b""], Absent),
            (&[b"theme=dark"], Absent),
            (&[b"xid=a.b.c"], Absent),
            (&[b"idx=a.b.c"], Absent),
            (&[b"ID=a.b.c"], Absent),
            (&[b"id"], Absent),
            (&[b"a.b.c"], Absent),
            (&[b"id=a.b.c"], Present("a.b.c")),
            (&[b"theme=dark; id=a.b.c"], Present("a.b.c")),
            (&[b"id=a.b.c; theme=dark"], Present("a.b.c")),
            (&[b"theme=dark;id=a.b.c;lang=en"], Present("a.b.c")),
            (&[b"xid=x.y.z; id=a.b.c; idx=u.v.w"], Present("a.b.c")),
            (&[b"theme=dark", b"id=a.b.c"], Present("a.b.c")),
            (&[b"  id = a.b.c  ;"], Present("a.b.c")),
            (&[b"\tid=a.b.c"], Present("a.b.c")),
            (&[b"id=\"a.b.c\""], Present("a.b.c")),
            (&[b"id=a-_.~+/b=="], Present("a-_.~+/b==")),
            (&[b"id=a.b.c; id=a.b.c"], Invalid(Repeated)),
            (&[b"id=a.b.c", b"id=d.e.f"], Invalid(Repeated)),
            (&[b"id=; id=a.b.c"], Invalid(Repeated)),
            (&[b"id="], Invalid(Malformed)),
            (&[b"id=\"\""], Invalid(Malformed)),
            (&[b"id=\""], Invalid(Malformed)),
            (&[b"id=\"a.b.c"], Invalid(Malformed)),
            (&[b"id=\"\"a.b.c\"\""], Invalid(Malformed)),
            (&[b"id=a b"], Invalid(Malformed)),
            (&[b"id= \" a.b.c\""], Invalid(Malformed)),
            (&[b"id=a,b"], Invalid(Malformed)),
            (&[b"id=a%2Eb"], Invalid(Malformed)),
            (&[b"id==abc"], Invalid(Malformed)),
            (&[b"id=a=b"], Invalid(Malformed)),
            (&[b"id=a.b.\xc3\xa9"], Invalid(Malformed)),
        ];
        for (values, expected) in cases {
            let headers = headers(values);
            let lossy: Vec<_> = values.iter().map(|v| String::from_utf8_lossy(v)).collect();
            assert_eq!(find("id", &headers), *expected, "{lossy:?}");
        }
    }

    #[test]
    fn names_are_rfc_6265_tokens() {
        for name in ["id_token", "__Host-id_token", "a", "x!#$%&'*+-.^_`|~9"] {
            assert!(Cookie::named(name).is_ok(), "{name:?}");
        }
        for name in [
            "", "id token", "id=token", "id;token", "id,token", "\"id\"", "id\t", "é",
        ] {
            assert_eq!(
                Cookie::named(name),
                Err(InvalidSourceName::Cookie(name.to_owned())),
                "{name:?}"
            );
        }
    }

    #[test]
    fn names_with_special_characters_match_exactly() {
        let headers = headers(&[b"a$b=x.y.z; a.b=u.v.w"]);
        assert_eq!(find("a$b", &headers), FoundToken::Present("x.y.z"));
        assert_eq!(find("a.b", &headers), FoundToken::Present("u.v.w"));
        assert_eq!(find("a", &headers), FoundToken::Absent);
    }
}
