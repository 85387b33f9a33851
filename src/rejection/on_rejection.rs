//! How a refusal becomes a response: the rendering seam, and the one place the default
//! responses are built.

use axum::{body::Body, response::Response};
use http::{HeaderValue, header};

use super::auth_rejection::AuthRejection;

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

/// The default responses of the [table in the module docs](super): terse or verbose, plain
/// text or `application/problem+json` (RFC 9457), and the gRPC shape for gRPC calls.
///
/// | | body | `WWW-Authenticate` |
/// |---|---|---|
/// | terse (default) | the status's reason phrase (`Unauthorized`) | scheme and error code |
/// | verbose | the reason (`Token is expired`) | and an `error_description` |
///
/// Every form sets `Cache-Control: no-store`, and `Retry-After` on 503.
/// [`problem_json`](Self::problem_json) answers
/// `{"type":"about:blank","title":"Unauthorized","status":401,"code":"invalid_token"}` (and a
/// `detail` when verbose) as `application/problem+json`. A gRPC call
/// ([`AuthRejection::is_grpc`]: HTTP/2 and a gRPC content type) is answered HTTP 200 with
/// `content-type: application/grpc`, `grpc-status` ([`RejectionKind::grpc_status`](super::RejectionKind::grpc_status)) and a
/// percent-encoded `grpc-message`, so that tonic and other clients see `Unauthenticated`,
/// `PermissionDenied` or `Unavailable` instead of a protocol error.
///
/// ```
/// use axum_cognito::{AuthRejection, DefaultRejection, OnRejection};
///
/// let response = DefaultRejection::verbose().on_rejection(AuthRejection::missing_token());
/// assert_eq!(response.status(), 401);
/// assert_eq!(response.headers()["www-authenticate"], "Bearer");
///
/// let problem = DefaultRejection::terse().problem_json();
/// let response = problem.on_rejection(AuthRejection::missing_token());
/// assert_eq!(response.headers()["content-type"], "application/problem+json");
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DefaultRejection {
    /// Says which check failed; terse (the default) says only the status.
    verbose: bool,
    /// `application/problem+json` bodies; plain text (the default) otherwise.
    problem_json: bool,
}

impl DefaultRejection {
    /// Terse bodies: the status's reason phrase only. Nothing internal leaks.
    pub fn terse() -> Self {
        Self::default()
    }

    /// Bodies and `error_description` that say which check failed ("Token is expired"). The
    /// text of a custom check's error is included, so keep secrets out of it.
    pub fn verbose() -> Self {
        Self {
            verbose: true,
            ..Self::default()
        }
    }

    /// `application/problem+json` bodies (RFC 9457) instead of plain text; the headers stay.
    pub fn problem_json(self) -> Self {
        Self {
            problem_json: true,
            ..self
        }
    }
}

impl OnRejection for DefaultRejection {
    fn on_rejection(&self, rejection: AuthRejection) -> Response {
        let status = rejection.status();
        let verbose = self.verbose;
        let phrase = status.canonical_reason().unwrap_or_default();
        // Terse: the reason phrase, even for a misconfigured route (its hint goes to the logs).
        let text = if verbose {
            rejection.reason()
        } else {
            phrase.to_owned()
        };
        if rejection.is_grpc() {
            let mut response = Response::new(Body::empty());
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/grpc"),
            );
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            headers.insert(
                "grpc-status",
                HeaderValue::from(rejection.kind().grpc_status()),
            );
            if let Ok(message) = HeaderValue::from_str(&percent_encoded(&text)) {
                headers.insert("grpc-message", message);
            }
            return response;
        }
        let (content_type, body) = if self.problem_json {
            let mut problem = serde_json::json!({
                "type": "about:blank",
                "title": phrase,
                "status": status.as_u16(),
                "code": rejection.kind().code(),
            });
            if verbose {
                problem["detail"] = text.into();
            }
            ("application/problem+json", problem.to_string())
        } else {
            ("text/plain; charset=utf-8", text)
        };
        let mut response = rejection.response_with_body(content_type, body);
        if verbose && let Some(value) = rejection.www_authenticate_with_description() {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, value);
        }
        response
    }
}

/// The gRPC spec's percent-encoding of `grpc-message`: every byte outside printable ASCII, and
/// `%` itself.
fn percent_encoded(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b' '..=b'~' if byte != b'%' => out.push(char::from(byte)),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
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

    #[test]
    fn grpc_calls_get_grpc_statuses() {
        let grpc = http::Request::post("/svc/Method")
            .version(http::Version::HTTP_2)
            .header(header::CONTENT_TYPE, "application/grpc+proto")
            .body(())
            .unwrap();
        for (error, code) in [
            (Error::new(ErrorKind::Expired), "16"),
            (Error::new(ErrorKind::MissingGroup), "7"),
            (
                Error::unavailable(None, std::time::Duration::from_secs(3)),
                "14",
            ),
        ] {
            let rejection = AuthRejection::from_error(error).for_request(&grpc);
            let response = DefaultRejection::verbose().on_rejection(rejection);
            assert_eq!(response.status(), StatusCode::OK);
            assert_eq!(response.headers()[header::CONTENT_TYPE], "application/grpc");
            assert_eq!(response.headers()["grpc-status"], code);
            assert_eq!(response.headers()[header::CACHE_CONTROL], "no-store");
            assert!(!response.headers()["grpc-message"].is_empty());
        }
        assert_eq!(percent_encoded("50% \u{e9}\n"), "50%25 %C3%A9%0A");
    }

    #[test]
    fn problem_json_keeps_the_headers() {
        let rejection = AuthRejection::from_error(Error::new(ErrorKind::MissingScope));
        let response = DefaultRejection::verbose()
            .problem_json()
            .on_rejection(rejection);
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            "application/problem+json"
        );
        assert!(
            response.headers()[header::WWW_AUTHENTICATE]
                .to_str()
                .unwrap()
                .starts_with("Bearer error=\"insufficient_scope\"")
        );
    }
}
