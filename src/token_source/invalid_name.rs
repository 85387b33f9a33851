//! Why a token source could not be configured with a name.

/// A name that a [`Cookie`](super::Cookie), [`Header`](super::Header) or
/// [`QueryParameter`](super::QueryParameter) source cannot read a token from. Names are
/// configuration, so they are checked once, when the source is made, never per request.
///
/// ```
/// use axum_cognito::token_source::{Cookie, Header, InvalidSourceName, QueryParameter};
///
/// assert!(matches!(Cookie::named("id token"), Err(InvalidSourceName::Cookie(_))));
/// assert!(matches!(Header::named("x id"), Err(InvalidSourceName::Header(_))));
/// assert!(matches!(
///     Header::named("Authorization"),
///     Err(InvalidSourceName::ReservedHeader(_))
/// ));
/// assert!(matches!(
///     QueryParameter::named("access token"),
///     Err(InvalidSourceName::QueryParameter(_))
/// ));
/// ```
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidSourceName {
    /// Not a cookie name of RFC 6265: one or more token characters (letters, digits and
    /// `` !#$%&'*+-.^_`|~ ``).
    #[error("invalid cookie name {0:?}: expected one or more RFC 6265 token characters")]
    Cookie(String),
    /// Not a header field name.
    #[error("invalid header name {0:?}: expected one or more RFC 9110 token characters")]
    Header(String),
    /// A header whose value is not a bare token: `Authorization` (read it with
    /// [`AuthorizationBearer`](super::AuthorizationBearer)) or `Cookie` (with
    /// [`Cookie`](super::Cookie)).
    #[error("header {0:?} is not a bare token: use AuthorizationBearer or Cookie to read it")]
    ReservedHeader(String),
    /// Not a query parameter name that needs no percent-encoding: one or more of
    /// `A-Z a-z 0-9 - . _ ~`.
    #[error("invalid query parameter name {0:?}: expected one or more of A-Z a-z 0-9 - . _ ~")]
    QueryParameter(String),
}
