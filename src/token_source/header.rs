//! A bare token in a header of its own, such as `X-Id-Token: <token>`.

use http::{
    HeaderMap, HeaderName, Uri,
    header::{AUTHORIZATION, COOKIE},
};

use super::{
    FoundToken, TokenProblem, TokenSource, invalid_name::InvalidSourceName, token68::found_token68,
};

/// Reads the token from a header of this name whose whole value is the token, with no scheme:
/// `X-Id-Token: eyJ...`. Exactly one such header, and a token68 value; two headers are
/// [`Repeated`](TokenProblem::Repeated), an empty value, spaces or any other character
/// [`Malformed`](TokenProblem::Malformed).
///
/// # Example
///
/// ```
/// use axum_cognito::token_source::{FoundToken, Header, TokenProblem, TokenSource};
/// use http::{HeaderMap, HeaderValue, Uri};
///
/// let source = Header::named("X-Id-Token").unwrap();
/// let uri = Uri::from_static("/");
/// let mut headers = HeaderMap::new();
/// headers.insert("x-id-token", HeaderValue::from_static("a.b.c"));
/// assert_eq!(source.find(&headers, &uri), FoundToken::Present("a.b.c"));
///
/// headers.insert("x-id-token", HeaderValue::from_static("Bearer a.b.c"));
/// assert_eq!(source.find(&headers, &uri), FoundToken::Invalid(TokenProblem::Malformed));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct Header {
    name: HeaderName,
}

impl Header {
    /// The header named `name`, in any case (header names are case-insensitive).
    ///
    /// # Errors
    ///
    /// - [`InvalidSourceName::Header`] when `name` is not a header name.
    /// - [`InvalidSourceName::ReservedHeader`] for `Authorization` and `Cookie`, whose values
    ///   are not bare tokens: [`AuthorizationBearer`](super::AuthorizationBearer) and
    ///   [`Cookie`](super::Cookie) read them.
    pub fn named(name: &str) -> Result<Self, InvalidSourceName> {
        let header = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| InvalidSourceName::Header(name.to_owned()))?;
        if header == AUTHORIZATION || header == COOKIE {
            return Err(InvalidSourceName::ReservedHeader(name.to_owned()));
        }
        Ok(Self { name: header })
    }
}

impl TokenSource for Header {
    fn find<'r>(&self, headers: &'r HeaderMap, _uri: &'r Uri) -> FoundToken<'r> {
        let mut values = headers.get_all(&self.name).iter();
        let Some(value) = values.next() else {
            return FoundToken::Absent;
        };
        if values.next().is_some() {
            return FoundToken::Invalid(TokenProblem::Repeated);
        }
        found_token68(Some(value.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    #[test]
    fn reads_the_named_header() {
        use FoundToken::{Absent, Invalid, Present};
        use TokenProblem::{Malformed, Repeated};
        let source = Header::named("x-id-token").unwrap();
        let uri = Uri::from_static("/");
        // (headers in order, what the source finds)
        type Case<'a> = (&'a [(&'a str, &'a [u8])], FoundToken<'a>);
        let cases: &[Case<'_>] = &[
            (&[], Absent),
            (&[("x-id", b"a.b.c")], Absent),
            (&[("x-id-tokens", b"a.b.c")], Absent),
            (&[("authorization", b"Bearer a.b.c")], Absent),
            (&[("x-id-token", b"a.b.c")], Present("a.b.c")),
            (&[("X-ID-TOKEN", b"a.b.c")], Present("a.b.c")),
            (&[("x-id-token", b"a-_.~+/b==")], Present("a-_.~+/b==")),
            (
                &[("x-id-token", b"a.b.c"), ("x-id-token", b"a.b.c")],
                Invalid(Repeated),
            ),
            (
                &[("x-id-token", b"a.b.c"), ("x-id-token", b"")],
                Invalid(Repeated),
            ),
            (&[("x-id-token", b"")], Invalid(Malformed)),
            (&[("x-id-token", b" a.b.c")], Invalid(Malformed)),
            (&[("x-id-token", b"a.b.c ")], Invalid(Malformed)),
            (&[("x-id-token", b"Bearer a.b.c")], Invalid(Malformed)),
            (&[("x-id-token", b"\"a.b.c\"")], Invalid(Malformed)),
            (&[("x-id-token", b"a.b.c, d.e.f")], Invalid(Malformed)),
            (&[("x-id-token", b"a\tb")], Invalid(Malformed)),
            (&[("x-id-token", b"=abc")], Invalid(Malformed)),
            (&[("x-id-token", b"a.b.\xc3\xa9")], Invalid(Malformed)),
        ];
        for (pairs, expected) in cases {
            let mut headers = HeaderMap::new();
            for (name, value) in *pairs {
                let name = HeaderName::from_bytes(name.as_bytes()).unwrap();
                headers.append(name, HeaderValue::from_bytes(value).unwrap());
            }
            assert_eq!(source.find(&headers, &uri), *expected, "{headers:?}");
        }
    }

    #[test]
    fn names_are_header_names_other_than_authorization_and_cookie() {
        for name in ["x-id-token", "X-Id-Token", "id_token", "x"] {
            assert!(Header::named(name).is_ok(), "{name:?}");
        }
        for name in ["", "x id", "x:id", "x\nid", "é"] {
            assert_eq!(
                Header::named(name),
                Err(InvalidSourceName::Header(name.to_owned())),
                "{name:?}"
            );
        }
        for name in ["authorization", "Authorization", "cookie", "COOKIE"] {
            assert_eq!(
                Header::named(name),
                Err(InvalidSourceName::ReservedHeader(name.to_owned())),
                "{name:?}"
            );
        }
    }
}
