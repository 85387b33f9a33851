//! Several token sources at once: asked in a stated order, and required to agree.

use http::{HeaderMap, Uri};

use super::{FoundToken, TokenProblem, TokenSource};

/// Reads the token from any of several sources, such as the `Authorization` header for API
/// clients and a cookie for the browser app.
///
/// The sources are asked in the order given (`new`, then each `or`), and the answer is:
///
/// 1. the first [`Invalid`](FoundToken::Invalid) answer, if any source has one: a malformed
///    credential is refused even when another source holds a good token, never stepped around;
/// 2. else, if two sources hold different tokens,
///    [`Invalid(Conflicting)`](TokenProblem::Conflicting): which one the client meant is
///    ambiguous, so neither is chosen;
/// 3. else the token, if any source holds it (the same token in two places is fine);
/// 4. else [`Absent`](FoundToken::Absent).
///
/// So the order decides which problem a refusal names, never which of two tokens is
/// verified. Every source is asked on every request, so a request pays for each.
///
/// # Example
///
/// ```
/// use axum_cognito::token_source::{
///     AuthorizationBearer, Cookie, FoundToken, Sources, TokenProblem, TokenSource,
/// };
/// use http::{HeaderMap, HeaderValue, Uri, header::{AUTHORIZATION, COOKIE}};
///
/// let source = Sources::new(AuthorizationBearer).or(Cookie::named("id_token").unwrap());
/// let uri = Uri::from_static("/");
/// let mut headers = HeaderMap::new();
/// headers.insert(COOKIE, HeaderValue::from_static("id_token=a.b.c"));
/// assert_eq!(source.find(&headers, &uri), FoundToken::Present("a.b.c"));
///
/// headers.insert(AUTHORIZATION, HeaderValue::from_static("Bearer a.b.c"));
/// assert_eq!(source.find(&headers, &uri), FoundToken::Present("a.b.c"));
///
/// headers.insert(AUTHORIZATION, HeaderValue::from_static("Bearer d.e.f"));
/// assert_eq!(source.find(&headers, &uri), FoundToken::Invalid(TokenProblem::Conflicting));
/// ```
#[derive(Debug)]
#[must_use]
pub struct Sources {
    sources: Vec<Box<dyn TokenSource>>,
}

impl Sources {
    /// Starts with `first`, the source asked first.
    pub fn new(first: impl TokenSource) -> Self {
        Self {
            sources: vec![Box::new(first)],
        }
    }

    /// Also reads `next`, asked after the sources before it.
    pub fn or(mut self, next: impl TokenSource) -> Self {
        self.sources.push(Box::new(next));
        self
    }
}

impl TokenSource for Sources {
    fn find<'r>(&self, headers: &'r HeaderMap, uri: &'r Uri) -> FoundToken<'r> {
        let mut found = FoundToken::Absent;
        for source in &self.sources {
            match source.find(headers, uri) {
                FoundToken::Absent => {}
                FoundToken::Invalid(problem) => return FoundToken::Invalid(problem),
                FoundToken::Present(token) => match found {
                    FoundToken::Present(earlier) if earlier != token => {
                        return FoundToken::Invalid(TokenProblem::Conflicting);
                    }
                    _ => found = FoundToken::Present(token),
                },
            }
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use http::{
        HeaderValue,
        header::{AUTHORIZATION, COOKIE},
    };

    use super::*;
    use crate::token_source::{
        authorization::AuthorizationBearer, cookie::Cookie, query::QueryParameter,
    };

    #[test]
    fn agreeing_sources_give_the_token() {
        use FoundToken::{Absent, Invalid, Present};
        use TokenProblem::{Conflicting, Malformed, OtherScheme, Repeated};
        let bearer_first = Sources::new(AuthorizationBearer).or(Cookie::named("id").unwrap());
        let cookie_first = Sources::new(Cookie::named("id").unwrap()).or(AuthorizationBearer);
        let uri = Uri::from_static("/");
        // (Authorization values, Cookie values, bearer first, cookie first)
        type Case<'a> = (&'a [&'a str], &'a [&'a str], FoundToken<'a>, FoundToken<'a>);
        let cases: &[Case<'_>] = &[
            (&[], &[], Absent, Absent),
            (&[], &["other=a.b.c"], Absent, Absent),
            (&["Bearer a.b.c"], &[], Present("a.b.c"), Present("a.b.c")),
            (&[], &["id=a.b.c"], Present("a.b.c"), Present("a.b.c")),
            (
                &["Bearer a.b.c"],
                &["id=a.b.c"],
                Present("a.b.c"),
                Present("a.b.c"),
            ),
            (
                &["Bearer a.b.c"],
                &["id=d.e.f"],
                Invalid(Conflicting),
                Invalid(Conflicting),
            ),
            (
                &["Bearer a.b.c"],
                &["id="],
                Invalid(Malformed),
                Invalid(Malformed),
            ),
            (
                &["Basic eA=="],
                &["id=a.b.c"],
                Invalid(OtherScheme),
                Invalid(OtherScheme),
            ),
            // Two problems: the order names the one reported.
            (
                &["Basic eA=="],
                &["id=a.b.c; id=a.b.c"],
                Invalid(OtherScheme),
                Invalid(Repeated),
            ),
        ];
        for (authorization, cookies, expected_bearer_first, expected_cookie_first) in cases {
            let mut headers = HeaderMap::new();
            for value in *authorization {
                headers.append(AUTHORIZATION, HeaderValue::from_str(value).unwrap());
            }
            for value in *cookies {
                headers.append(COOKIE, HeaderValue::from_str(value).unwrap());
            }
            let case = format!("{authorization:?} {cookies:?}");
            assert_eq!(
                bearer_first.find(&headers, &uri),
                *expected_bearer_first,
                "{case}"
            );
            assert_eq!(
                cookie_first.find(&headers, &uri),
                *expected_cookie_first,
                "{case}"
            );
        }
    }

    #[test]
    fn three_sources_must_all_agree() {
        let source = Sources::new(AuthorizationBearer)
            .or(Cookie::named("id").unwrap())
            .or(QueryParameter::named("access_token").unwrap());
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, HeaderValue::from_static("Bearer a.b.c"));
        let agreeing = Uri::from_static("/?access_token=a.b.c");
        let conflicting = Uri::from_static("/?access_token=d.e.f");
        assert_eq!(
            source.find(&headers, &agreeing),
            FoundToken::Present("a.b.c")
        );
        assert_eq!(
            source.find(&headers, &conflicting),
            FoundToken::Invalid(TokenProblem::Conflicting)
        );
    }
}
