//! How a refusal becomes a response: the rendering seam, and the one place the default
//! responses are built.

use axum::{body::Body, response::Response};
use http::{HeaderValue, header};

use super::{auth_rejection::AuthRejection, auth_rejection::MISSING_VERIFIER, kind::RejectionKind};

/// Builds the response for a refused request. Implemented by [`DefaultRejection`] and by every
/// `Fn(AuthRejection) -> Response + Send + Sync + 'static`.
///
/// The layer renders what it refuses with the one it was given
/// ([`CognitoAuthLayer::on_rejection`](crate::CognitoAuthLayer::on_rejection)); an
/// [`AuthRejection`] returned by an extractor or a handler renders itself with
/// [`DefaultRejection::terse`]. The trait is object safe, so a renderer can also travel as an
/// `Arc<dyn OnRejection>`.
///
/// ```
/// use axum::{Json, response::{IntoResponse, Response}};
/// use axum_cognito::{AuthRejection, OnRejection};
///
/// #[derive(Clone)]
/// struct JsonErrors;
///
/// impl OnRejection for JsonErrors {
///     fn on_rejection(&self, rejection: AuthRejection) -> Response {
///         let body = serde_json::json!({ "error": rejection.kind().code() });
///         (rejection.status(), Json(body)).into_response()
///     }
/// }
///
/// let response = JsonErrors.on_rejection(AuthRejection::missing_token());
/// assert_eq!(response.status(), 401);
/// ```
pub trait OnRejection: Send + Sync + 'static {
    /// The response to send instead of calling the service.
    fn on_rejection(&self, rejection: AuthRejection) -> Response;
}

impl<F> OnRejection for F
where
    F: Fn(AuthRejection) -> Response + Send + Sync + 'static,
{
    fn on_rejection(&self, rejection: AuthRejection) -> Response {
        self(rejection)
    }
}

/// The default responses of the [table in the module docs](super): terse, or verbose on
/// request.
///
/// | | body | `WWW-Authenticate` |
/// |---|---|---|
/// | terse (default) | the status's reason phrase (`Unauthorized`) | scheme and error code |
/// | verbose | the reason (`Token is expired`) | and an `error_description` |
///
/// Both set `Retry-After` on 503 and `content-type: text/plain; charset=utf-8`.
///
/// ```
/// use axum_cognito::{AuthRejection, DefaultRejection, OnRejection};
///
/// let response = DefaultRejection::verbose().on_rejection(AuthRejection::missing_token());
/// assert_eq!(response.status(), 401);
/// assert_eq!(response.headers()["www-authenticate"], "Bearer");
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DefaultRejection {
    detail: Detail,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum Detail {
    #[default]
    Terse,
    Verbose,
}

impl DefaultRejection {
    /// Terse bodies: the status's reason phrase only. Nothing internal leaks.
    pub fn terse() -> Self {
        Self {
            detail: Detail::Terse,
        }
    }

    /// Bodies and `error_description` that say which check failed ("Token is expired"). The
    /// text of a custom check's error is included, so keep secrets out of it.
    pub fn verbose() -> Self {
        Self {
            detail: Detail::Verbose,
        }
    }
}

impl OnRejection for DefaultRejection {
    fn on_rejection(&self, rejection: AuthRejection) -> Response {
        let status = rejection.status();
        let verbose = self.detail == Detail::Verbose;
        let body = match rejection.kind() {
            RejectionKind::MissingVerifier => MISSING_VERIFIER.to_owned(),
            _ if verbose => rejection.reason(),
            _ => status.canonical_reason().unwrap_or_default().to_owned(),
        };
        let mut response = Response::new(Body::from(body));
        *response.status_mut() = status;
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        let challenge = if verbose {
            rejection.www_authenticate_with_description()
        } else {
            rejection.www_authenticate()
        };
        if let Some(value) = challenge {
            headers.insert(header::WWW_AUTHENTICATE, value);
        }
        if rejection.kind() == RejectionKind::KeysUnavailable {
            let seconds = rejection.retry_after().map_or(1, |d| d.as_secs().max(1));
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use http::StatusCode;

    use super::*;
    use crate::error::{Error, ErrorKind};

    #[test]
    fn verbose_says_why_terse_does_not() {
        let expired = || AuthRejection::from_error(Error::new(ErrorKind::Expired));
        let terse = DefaultRejection::terse().on_rejection(expired());
        let verbose = DefaultRejection::verbose().on_rejection(expired());
        assert_eq!(terse.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            terse.headers()[header::WWW_AUTHENTICATE],
            "Bearer error=\"invalid_token\""
        );
        assert_eq!(
            verbose.headers()[header::WWW_AUTHENTICATE],
            "Bearer error=\"invalid_token\", error_description=\"Token is expired\""
        );
    }
}
