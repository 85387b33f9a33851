//! Where a request's token is read from: the token-source seam.
//!
//! The layer and the extractors never read a header themselves; they ask a [`TokenSource`],
//! which answers with a [`FoundToken`]: no token, a token, or a credential that is there but
//! malformed. The default is [`AuthorizationBearer`], the `Authorization: Bearer` header of
//! RFC 6750. A cookie, another header or a query parameter is another implementation of the
//! one method; the size cap and every check of the token itself stay in the verifier, so they
//! apply whatever the source.
//!
//! ```
//! use axum_cognito::token_source::{AuthorizationBearer, FoundToken, TokenProblem, TokenSource};
//! use http::{HeaderMap, HeaderValue, Uri, header::AUTHORIZATION};
//!
//! let mut headers = HeaderMap::new();
//! let uri = Uri::from_static("/orders");
//! assert_eq!(AuthorizationBearer.find(&headers, &uri), FoundToken::Absent);
//!
//! headers.insert(AUTHORIZATION, HeaderValue::from_static("Bearer a.b.c"));
//! assert_eq!(AuthorizationBearer.find(&headers, &uri), FoundToken::Present("a.b.c"));
//!
//! headers.insert(AUTHORIZATION, HeaderValue::from_static("Basic dXNlcjpwYXNz"));
//! assert_eq!(
//!     AuthorizationBearer.find(&headers, &uri),
//!     FoundToken::Invalid(TokenProblem::OtherScheme)
//! );
//! ```

mod authorization;

use std::fmt;

use http::{HeaderMap, Uri};

pub use authorization::AuthorizationBearer;

/// Reads the token of a request.
///
/// Implementations must not allocate per request or panic on anything a client sends; they
/// refuse what they cannot read with [`FoundToken::Invalid`] rather than guess.
pub trait TokenSource: fmt::Debug + Send + Sync + 'static {
    /// The token in this request's head, borrowed from it.
    fn find<'r>(&self, headers: &'r HeaderMap, uri: &'r Uri) -> FoundToken<'r>;
}

/// What a [`TokenSource`] found.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FoundToken<'r> {
    /// No credential at all: 401, or no claims where authentication is optional.
    Absent,
    /// A well-formed credential: the token, to be verified.
    Present(&'r str),
    /// A credential that is there but cannot be read: always 401 (`invalid_request`), also
    /// where authentication is optional.
    Invalid(TokenProblem),
}

/// Why a credential could not be read.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenProblem {
    /// The credential is given more than once: which one counts is ambiguous.
    Repeated,
    /// An `Authorization` scheme other than `Bearer`.
    OtherScheme,
    /// Not exactly the scheme, one space, and a non-empty token of token68 characters.
    Malformed,
}

impl TokenProblem {
    /// A short, fixed description, safe to send to a client.
    pub fn description(self) -> &'static str {
        match self {
            Self::Repeated => "More than one Authorization header",
            Self::OtherScheme => "Authorization scheme is not Bearer",
            Self::Malformed => "Malformed Bearer credentials",
        }
    }
}

impl fmt::Display for TokenProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.description())
    }
}
