//! What the HTTP layer and the extractors answer when a request is not let through, and how to
//! answer differently.
//!
//! | case | status | header |
//! |---|---|---|
//! | no `Authorization` header | 401 | `WWW-Authenticate: Bearer` |
//! | a header that is not one well-formed Bearer credential | 401 | `WWW-Authenticate: Bearer error="invalid_request"` |
//! | a token that fails a check | 401 | `WWW-Authenticate: Bearer error="invalid_token"` |
//! | a valid token without a required group or scope | 403 | `WWW-Authenticate: Bearer error="insufficient_scope"` |
//! | keys unusable (JWKS unreachable, too stale) | 503 | `Retry-After: <seconds>` |
//! | an extractor with no layer and no verifier | 500 | none |
//!
//! Bodies are terse by default ("Unauthorized", "Forbidden", "Service Unavailable"); nothing
//! internal leaks. [`DefaultRejection::verbose`] adds the reason to the body and an
//! `error_description` to the header. Any `Fn(AuthRejection) -> Response` replaces the
//! response altogether:
//!
//! ```
//! use axum::{Json, response::IntoResponse};
//! use axum_cognito::{AuthRejection, CognitoAuthLayer, CognitoVerifier};
//!
//! fn json_errors(verifier: CognitoVerifier) -> CognitoAuthLayer<impl axum_cognito::OnRejection> {
//!     CognitoAuthLayer::new(verifier).on_rejection(|rejection: AuthRejection| {
//!         let body = serde_json::json!({ "error": rejection.kind().code() });
//!         (rejection.status(), Json(body)).into_response()
//!     })
//! }
//! ```

use std::{fmt, time::Duration};

use axum::{
    body::Body,
    response::{IntoResponse, Response},
};
use http::{HeaderValue, StatusCode, header};

use crate::{Error, bearer::BearerProblem};

/// The kind of refusal, which decides the status.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RejectionKind {
    /// No `Authorization` header: 401.
    MissingToken,
    /// An `Authorization` header that is not one well-formed Bearer credential: 401.
    InvalidRequest,
    /// A token that failed a check: 401.
    InvalidToken,
    /// A valid token without a required group or scope: 403.
    InsufficientScope,
    /// The signing keys are unusable: 503.
    KeysUnavailable,
    /// An extractor found neither a layer's result nor a verifier: 500.
    MissingVerifier,
}

impl RejectionKind {
    /// The HTTP status.
    pub fn status(self) -> StatusCode {
        match self {
            Self::MissingToken | Self::InvalidRequest | Self::InvalidToken => {
                StatusCode::UNAUTHORIZED
            }
            Self::InsufficientScope => StatusCode::FORBIDDEN,
            Self::KeysUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::MissingVerifier => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A short code: the RFC 6750 error code where there is one.
    pub fn code(self) -> &'static str {
        match self {
            Self::MissingToken => "missing_token",
            Self::InvalidRequest => "invalid_request",
            Self::InvalidToken => "invalid_token",
            Self::InsufficientScope => "insufficient_scope",
            Self::KeysUnavailable => "temporarily_unavailable",
            Self::MissingVerifier => "server_misconfigured",
        }
    }
}

const MISSING_VERIFIER: &str = "axum-cognito: no CognitoAuthLayer ran for this route and no \
    CognitoVerifier was found. Add `.layer(CognitoAuthLayer::new(verifier))`, \
    `.layer(Extension(verifier))`, or `.with_state(verifier)` to the router.";

/// Why a request was refused: build the response from it, or let it answer by itself
/// (`IntoResponse`, terse).
#[derive(Clone)]
pub struct AuthRejection {
    kind: RejectionKind,
    error: Option<Error>,
    bearer: Option<BearerProblem>,
}

impl AuthRejection {
    pub(crate) fn missing_token() -> Self {
        Self {
            kind: RejectionKind::MissingToken,
            error: None,
            bearer: None,
        }
    }

    pub(crate) fn bearer(problem: BearerProblem) -> Self {
        Self {
            kind: RejectionKind::InvalidRequest,
            error: None,
            bearer: Some(problem),
        }
    }

    pub(crate) fn missing_verifier() -> Self {
        Self {
            kind: RejectionKind::MissingVerifier,
            error: None,
            bearer: None,
        }
    }

    pub(crate) fn from_error(error: Error) -> Self {
        let kind = if error.is_unavailable() {
            RejectionKind::KeysUnavailable
        } else if error.is_forbidden() {
            RejectionKind::InsufficientScope
        } else {
            RejectionKind::InvalidToken
        };
        Self {
            kind,
            error: Some(error),
            bearer: None,
        }
    }

    /// The kind of refusal.
    pub fn kind(&self) -> RejectionKind {
        self.kind
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.kind.status()
    }

    /// The verifier's error, when a token was checked.
    pub fn error(&self) -> Option<&Error> {
        self.error.as_ref()
    }

    /// For 503, how long to wait before trying again.
    pub fn retry_after(&self) -> Option<Duration> {
        self.error.as_ref().and_then(Error::retry_after)
    }

    /// The reason in a sentence: the verifier's error ("Token is expired"), the header
    /// problem, or "Missing bearer token". Meant for logs and verbose responses.
    pub fn reason(&self) -> String {
        match (&self.error, self.bearer, self.kind) {
            (Some(error), _, _) => error.to_string(),
            (None, Some(problem), _) => problem.description().to_owned(),
            (None, None, RejectionKind::MissingVerifier) => MISSING_VERIFIER.to_owned(),
            (None, None, _) => "Missing bearer token".to_owned(),
        }
    }

    /// The `WWW-Authenticate` value for 401 and 403; with `description`, an
    /// `error_description` parameter too, escaped so that no character of it can break the
    /// header.
    pub fn www_authenticate(&self, description: bool) -> Option<HeaderValue> {
        let value = match self.kind {
            RejectionKind::MissingToken => "Bearer".to_owned(),
            RejectionKind::InvalidRequest
            | RejectionKind::InvalidToken
            | RejectionKind::InsufficientScope => {
                let mut value = format!("Bearer error=\"{}\"", self.kind.code());
                if description {
                    value.push_str(", error_description=\"");
                    push_quoted(&mut value, &self.reason());
                    value.push('"');
                }
                value
            }
            RejectionKind::KeysUnavailable | RejectionKind::MissingVerifier => return None,
        };
        HeaderValue::from_str(&value).ok()
    }

    /// The response [`DefaultRejection`] builds.
    pub fn default_response(&self, verbose: bool) -> Response {
        let status = self.status();
        let body = match self.kind {
            RejectionKind::MissingVerifier => MISSING_VERIFIER.to_owned(),
            _ if verbose => self.reason(),
            _ => status.canonical_reason().unwrap_or_default().to_owned(),
        };
        let mut response = Response::new(Body::from(body));
        *response.status_mut() = status;
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        if let Some(value) = self.www_authenticate(verbose) {
            headers.insert(header::WWW_AUTHENTICATE, value);
        }
        if self.kind == RejectionKind::KeysUnavailable {
            let seconds = self.retry_after().map_or(1, |d| d.as_secs().max(1));
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

impl IntoResponse for AuthRejection {
    fn into_response(self) -> Response {
        self.default_response(false)
    }
}

impl fmt::Display for AuthRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason())
    }
}

impl fmt::Debug for AuthRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthRejection")
            .field("kind", &self.kind)
            .field("reason", &self.reason())
            .finish()
    }
}

impl std::error::Error for AuthRejection {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.error
            .as_ref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// Builds the response for a refused request. Implemented by [`DefaultRejection`] and by every
/// `Fn(AuthRejection) -> Response + Clone + Send + Sync + 'static`.
pub trait OnRejection: Clone + Send + Sync + 'static {
    /// The response to send instead of calling the service.
    fn on_rejection(&self, rejection: AuthRejection) -> Response;
}

impl<F> OnRejection for F
where
    F: Fn(AuthRejection) -> Response + Clone + Send + Sync + 'static,
{
    fn on_rejection(&self, rejection: AuthRejection) -> Response {
        self(rejection)
    }
}

/// The default responses of the [table above](self): terse, or verbose on request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DefaultRejection {
    verbose: bool,
}

impl DefaultRejection {
    /// Terse bodies: the status's reason phrase only.
    pub fn terse() -> Self {
        Self { verbose: false }
    }

    /// Bodies and `error_description` that say which check failed ("Token is expired"). The
    /// text of a custom check's error is included, so keep secrets out of it.
    pub fn verbose() -> Self {
        Self { verbose: true }
    }
}

impl OnRejection for DefaultRejection {
    fn on_rejection(&self, rejection: AuthRejection) -> Response {
        rejection.default_response(self.verbose)
    }
}

/// Appends `text` as the inside of an RFC 7230 quoted-string: `"` and `\` escaped, anything
/// but visible ASCII and space replaced.
fn push_quoted(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            ' '..='~' => out.push(c),
            _ => out.push('?'),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn statuses_and_headers() {
        let expired = AuthRejection::from_error(Error::new(ErrorKind::Expired));
        assert_eq!(expired.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            expired.www_authenticate(false).unwrap(),
            "Bearer error=\"invalid_token\""
        );
        assert_eq!(
            expired.www_authenticate(true).unwrap(),
            "Bearer error=\"invalid_token\", error_description=\"Token is expired\""
        );
        let scope = AuthRejection::from_error(Error::new(ErrorKind::MissingScope));
        assert_eq!(scope.status(), StatusCode::FORBIDDEN);
        assert_eq!(
            scope.www_authenticate(false).unwrap(),
            "Bearer error=\"insufficient_scope\""
        );
        let missing = AuthRejection::missing_token();
        assert_eq!(missing.www_authenticate(true).unwrap(), "Bearer");
        let down = AuthRejection::from_error(Error::unavailable(None, Duration::from_secs(7)));
        let response = down.default_response(false);
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()[header::RETRY_AFTER], "7");
        assert!(response.headers().get(header::WWW_AUTHENTICATE).is_none());
    }

    #[test]
    fn hostile_descriptions_cannot_break_the_header() {
        let hostile = AuthRejection::from_error(Error::custom(
            "a\" , error=\"none\r\nSet-Cookie: x=1\\ \u{e9}".into(),
        ));
        let value = hostile.www_authenticate(true).unwrap();
        let text = value.to_str().unwrap();
        assert!(!text.contains('\r') && !text.contains('\n'));
        assert!(text.ends_with('"'));
        assert!(
            text.contains(r#"a\" , error=\"none??Set-Cookie: x=1\\ ?"#),
            "{text}"
        );
    }

    #[test]
    fn terse_bodies_leak_nothing() {
        let rejection = AuthRejection::from_error(Error::custom("tenant 42 is suspended".into()));
        let response = rejection.default_response(false);
        assert_eq!(
            response.headers()[header::WWW_AUTHENTICATE],
            "Bearer error=\"invalid_token\""
        );
    }
}
