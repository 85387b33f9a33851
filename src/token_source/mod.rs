//! Where a request's token is read from: the token-source seam.
//!
//! The layer never reads a header itself; it asks its [`TokenSource`], which answers with a
//! [`FoundToken`]: no token, a token, or a credential that is there but malformed. Set it
//! with [`CognitoAuthLayer::token_source`](crate::middleware::CognitoAuthLayer::token_source):
//!
//! | Source | Reads | For |
//! |---|---|---|
//! | [`AuthorizationBearer`] (the default) | `Authorization: Bearer <token>` (RFC 6750) | API clients |
//! | [`Cookie`] | one named cookie | browser apps: read [cookies and CSRF](#cookies-and-csrf) |
//! | [`Header`] | a bare token in another header, `X-Id-Token: <token>` | clients that send it so |
//! | [`QueryParameter`] | `?access_token=<token>` | WebSocket upgrades only: URLs are logged |
//! | [`Sources`] | several of these, in a stated order, which must agree | mixed clients |
//!
//! Every source refuses what it cannot read exactly, rather than guess: a credential given
//! twice is [`Repeated`](TokenProblem::Repeated), anything but a token68 (RFC 7235:
//! `A-Z a-z 0-9 - . _ ~ + /`, optional trailing `=`) is [`Malformed`](TokenProblem::Malformed),
//! and the request gets a 401 `invalid_request`, also where authentication is optional. The
//! size cap and every check of the token itself stay in the verifier, so they apply whatever
//! the source.
//!
//! The extractors take the token the layer verified. Behind an optional layer that let a
//! request through without a token, they find none either: they do not look where the layer
//! was not told to. Without any layer, they read `Authorization: Bearer` themselves.
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
//!
//! # Cookies and CSRF
//!
//! A browser attaches cookies to every request to their site, also to one that another site
//! triggers with a form, an image or a script: with a [`Cookie`] source, such a cross-site
//! request arrives authenticated. That is cross-site request forgery, and this crate does not
//! protect against it; a header token does not have the problem, since another site's page
//! cannot set it. With a cookie:
//!
//! - set the cookie `SameSite=Strict` (or `Lax`, which still sends it on top-level `GET`
//!   navigations), `Secure` and `HttpOnly`, ideally with the `__Host-` prefix;
//! - keep `GET` and `HEAD` free of side effects;
//! - for state-changing requests, check `Origin` (or `Sec-Fetch-Site`) against your own
//!   origin, or require a custom header such as `X-Requested-With`, which a cross-site form
//!   cannot send and a cross-site script can send only after a CORS preflight you refuse.
//!
//! A [`Sources`] with a cookie among them is exposed just as the cookie alone is.
//!
//! ```
//! use axum::{Router, body::Body, http::Request, routing::get};
//! use axum_cognito::{
//!     CognitoAuthLayer,
//!     token_source::{AuthorizationBearer, Cookie, Sources},
//!     test_util::TestIssuer,
//! };
//! use tower::ServiceExt;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let issuer = TestIssuer::start().await;
//! let verifier = issuer.verifier_builder().build().await.unwrap();
//! // API clients send the header, the browser app the `__Host-id_token` cookie.
//! let source = Sources::new(AuthorizationBearer).or(Cookie::named("__Host-id_token").unwrap());
//! let app = Router::new()
//!     .route("/me", get(|| async { "me" }))
//!     .layer(CognitoAuthLayer::new(verifier).token_source(source));
//!
//! let token = issuer.id_token().sign();
//! let request = Request::get("/me")
//!     .header("cookie", format!("theme=dark; __Host-id_token={token}"))
//!     .body(Body::empty())
//!     .unwrap();
//! assert_eq!(app.oneshot(request).await.unwrap().status(), 200);
//! # }
//! ```

mod authorization;
mod cookie;
mod header;
mod invalid_name;
mod query;
mod sources;
mod token68;

use std::fmt;

use http::{HeaderMap, Uri};

pub use authorization::AuthorizationBearer;
pub use cookie::Cookie;
pub use header::Header;
pub use invalid_name::InvalidSourceName;
pub use query::QueryParameter;
pub use sources::Sources;

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
    /// The credential is given more than once in one source (two `Authorization` headers, the
    /// cookie twice, the parameter twice): which one counts is ambiguous.
    Repeated,
    /// An `Authorization` scheme other than `Bearer`.
    OtherScheme,
    /// Not a non-empty token68 where the source expects one (for `Authorization`: not exactly
    /// the scheme, one space, and the token).
    Malformed,
    /// Two of the [`Sources`] hold different tokens: which one counts is ambiguous.
    Conflicting,
}

impl TokenProblem {
    /// A short, fixed description, safe to send to a client.
    ///
    /// ```
    /// use axum_cognito::token_source::TokenProblem;
    ///
    /// assert_eq!(TokenProblem::Conflicting.to_string(), TokenProblem::Conflicting.description());
    /// ```
    pub fn description(self) -> &'static str {
        match self {
            Self::Repeated => "Credentials given more than once",
            Self::OtherScheme => "Authorization scheme is not Bearer",
            Self::Malformed => "Malformed Bearer credentials",
            Self::Conflicting => "Different tokens in two places",
        }
    }
}

impl fmt::Display for TokenProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.description())
    }
}
