use std::{fmt, sync::Arc, time::Duration};

use axum::{
    body::Body,
    response::{IntoResponse, Response},
};
use http::{HeaderMap, HeaderValue, StatusCode, header};

use super::{
    kind::RejectionKind,
    on_rejection::{DefaultRejection, OnRejection},
};
use crate::{error::Error, token_source::TokenProblem};

pub(crate) const MISSING_VERIFIER: &str = "axum-cognito: no CognitoAuthLayer ran for this route and no \
    CognitoVerifier was found in the request extensions. Add \
    `.layer(CognitoAuthLayer::new(verifier))` or `.layer(Extension(verifier))` to the router.";

#[cfg(feature = "alb")]
pub(crate) const MISSING_ALB_LAYER: &str = "axum-cognito: no AlbAuthLayer ran for this route, so \
    there are no load balancer claims. Add `.layer(AlbAuthLayer::new(alb_verifier))` (or \
    `.route_layer(..)`) to the router.";

/// Why a request was refused: build the response from it, or let it answer by itself
/// (`IntoResponse`: [`DefaultRejection::terse`]).
///
/// ```
/// use axum::response::IntoResponse;
/// use axum_cognito::{CognitoClaims, Access, AuthRejection, rejection::RejectionKind};
///
/// async fn admin(claims: CognitoClaims<Access>) -> Result<&'static str, AuthRejection> {
///     claims.require_any_group(["admins"])?; // 403 when not in the group
///     Ok("welcome")
/// }
///
/// fn describe(rejection: &AuthRejection) -> String {
///     match rejection.kind() {
///         RejectionKind::KeysUnavailable => format!("try again in {:?}", rejection.retry_after()),
///         _ => format!("{}: {}", rejection.status(), rejection.reason()),
///     }
/// }
/// ```
#[derive(Clone)]
pub struct AuthRejection {
    kind: RejectionKind,
    error: Option<Error>,
    problem: Option<TokenProblem>,
    grpc: bool,
    /// The renderer of the layer the request passed through, for a refusal made after it (an
    /// extractor's, a handler guard's).
    renderer: Option<Arc<dyn OnRejection>>,
    /// For [`RejectionKind::MissingVerifier`]: what is missing and how to add it.
    /// A thin pointer, as `resource_metadata`: a refusal is returned by value.
    misconfiguration: &'static &'static str,
    /// The RFC 9728 metadata URL of the protected resource, for the challenge (a thin
    /// pointer: a refusal is returned by value).
    resource_metadata: Option<Arc<String>>,
}

/// The renderer a layer leaves in the extensions of the requests it lets through, so that what
/// is refused after it answers in the same shape.
#[derive(Clone)]
pub(crate) struct LayerRenderer(pub(crate) Arc<dyn OnRejection>);

impl LayerRenderer {
    /// The renderer a layer with `on_rejection` leaves for what is refused after it: `None`
    /// for the terse default, which refusals use anyway, so the common case carries nothing.
    pub(crate) fn of<R: OnRejection + Clone>(on_rejection: &R) -> Option<Arc<dyn OnRejection>> {
        let is_default = (on_rejection as &dyn std::any::Any)
            .downcast_ref::<DefaultRejection>()
            .is_some_and(|r| *r == DefaultRejection::terse());
        (!is_default).then(|| Arc::new(on_rejection.clone()) as Arc<dyn OnRejection>)
    }
}

/// How a refusal made after a layer answers: the gRPC way for a gRPC call, with the renderer
/// of the layer the request passed through. Taken from the request once, kept by what the
/// extractors hand out so that a handler's guard answers the same way.
#[derive(Clone, Default)]
pub(crate) struct RefusalContext {
    grpc: bool,
    renderer: Option<Arc<dyn OnRejection>>,
}

impl RefusalContext {
    pub(crate) fn of(parts: &http::request::Parts) -> Self {
        let extensions = &parts.extensions;
        Self {
            grpc: is_grpc(parts.version, &parts.headers),
            renderer: extensions.get::<LayerRenderer>().map(|r| Arc::clone(&r.0)),
        }
    }
}

impl AuthRejection {
    /// A refusal of `kind`, answered the HTTP way by the default renderer until told otherwise.
    fn of_kind(kind: RejectionKind) -> Self {
        Self {
            kind,
            error: None,
            problem: None,
            grpc: false,
            renderer: None,
            misconfiguration: &MISSING_VERIFIER,
            resource_metadata: None,
        }
    }

    /// The refusal of a request without a token (401): for testing a renderer.
    pub fn missing_token() -> Self {
        Self::of_kind(RejectionKind::MissingToken)
    }

    pub(crate) fn invalid_request(problem: TokenProblem) -> Self {
        Self {
            problem: Some(problem),
            ..Self::of_kind(RejectionKind::InvalidRequest)
        }
    }

    pub(crate) fn missing_verifier() -> Self {
        Self::of_kind(RejectionKind::MissingVerifier)
    }

    /// An ALB extractor behind no [`AlbAuthLayer`](crate::alb::AlbAuthLayer): 500.
    #[cfg(feature = "alb")]
    pub(crate) fn missing_alb_layer() -> Self {
        Self {
            misconfiguration: &MISSING_ALB_LAYER,
            ..Self::missing_verifier()
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
            error: Some(error),
            ..Self::of_kind(kind)
        }
    }

    /// Notes what the refused request was: a gRPC call (HTTP/2 or later with
    /// `content-type: application/grpc` or `application/grpc+...`) is answered the gRPC way.
    pub(crate) fn for_request<B>(mut self, request: &http::Request<B>) -> Self {
        self.grpc = is_grpc(request.version(), request.headers());
        self
    }

    /// Names the protected resource's metadata in the challenge (`resource_metadata`).
    pub(crate) fn with_resource_metadata(mut self, url: Option<&Arc<String>>) -> Self {
        self.resource_metadata = url.cloned();
        self
    }

    /// For a refusal after a layer (an extractor's, a handler guard's): answered as
    /// `context` says.
    pub(crate) fn in_context(self, context: &RefusalContext) -> Self {
        Self {
            grpc: context.grpc,
            renderer: context.renderer.clone(),
            ..self
        }
    }

    /// True when the refused request was a gRPC call: [`DefaultRejection`] then answers with
    /// HTTP 200, `content-type: application/grpc` and a `grpc-status`, so that a gRPC client
    /// sees `Unauthenticated`, `PermissionDenied` or `Unavailable`.
    pub fn is_grpc(&self) -> bool {
        self.grpc
    }

    /// A response with the status and the standard headers of this refusal
    /// (`WWW-Authenticate`, terse; `Retry-After` on 503) and a body of your own: for an error
    /// shape of your own without losing what clients and proxies read.
    ///
    /// ```
    /// use axum_cognito::{AuthRejection, CognitoAuthLayer, CognitoVerifier};
    ///
    /// fn json_errors(verifier: CognitoVerifier) -> CognitoAuthLayer<impl axum_cognito::OnRejection + Clone> {
    ///     CognitoAuthLayer::new(verifier).on_rejection(|rejection: AuthRejection| {
    ///         let body = format!(r#"{{"error":"{}"}}"#, rejection.kind().code());
    ///         rejection.response_with_body("application/json", body)
    ///     })
    /// }
    /// let response = AuthRejection::missing_token().response_with_body("application/json", "{}");
    /// assert_eq!(response.status(), 401);
    /// assert_eq!(response.headers()["www-authenticate"], "Bearer");
    /// assert_eq!(response.headers()["content-type"], "application/json");
    /// ```
    pub fn response_with_body(
        &self,
        content_type: &'static str,
        body: impl Into<Body>,
    ) -> Response {
        let mut response = Response::new(body.into());
        *response.status_mut() = self.status();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        // A refusal is about this request's credentials: never stored, never reused.
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if let Some(value) = self.www_authenticate() {
            headers.insert(header::WWW_AUTHENTICATE, value);
        }
        if self.kind == RejectionKind::KeysUnavailable {
            // In whole seconds, at least 1.
            let seconds = self.retry_after().map_or(1, |d| d.as_secs().max(1));
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
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
        match (&self.error, self.problem, self.kind) {
            (Some(error), _, _) => error.to_string(),
            (None, Some(problem), _) => problem.description().to_owned(),
            (None, None, RejectionKind::MissingVerifier) => (*self.misconfiguration).to_owned(),
            (None, None, _) => "Missing bearer token".to_owned(),
        }
    }

    /// The `WWW-Authenticate` value for 401 and 403 (RFC 6750): the scheme and the error code;
    /// for a missing scope, `scope` with the scopes of which one was wanted; behind a layer
    /// of a [protected resource](crate::resource_server), its `resource_metadata` URL
    /// (RFC 9728).
    pub fn www_authenticate(&self) -> Option<HeaderValue> {
        self.challenge(None)
    }

    /// [`www_authenticate`](Self::www_authenticate) with an `error_description` parameter that
    /// gives the [`reason`](Self::reason), escaped so that no character of it can break the
    /// header.
    pub fn www_authenticate_with_description(&self) -> Option<HeaderValue> {
        self.challenge(Some(&self.reason()))
    }

    fn challenge(&self, description: Option<&str>) -> Option<HeaderValue> {
        let mut value = String::from("Bearer");
        let mut param = |name: &str, text: &str| {
            value.push_str(if value.len() == 6 { " " } else { ", " });
            value.push_str(name);
            value.push_str("=\"");
            push_quoted(&mut value, text);
            value.push('"');
        };
        match self.kind {
            RejectionKind::MissingToken => {}
            RejectionKind::InvalidRequest
            | RejectionKind::InvalidToken
            | RejectionKind::InsufficientScope => param("error", self.kind.code()),
            RejectionKind::KeysUnavailable | RejectionKind::MissingVerifier => return None,
        }
        if let Some(scope) = self.error.as_ref().and_then(Error::required_scope) {
            param("scope", scope);
        }
        if let Some(url) = &self.resource_metadata {
            param("resource_metadata", url);
        }
        if let Some(description) = description.filter(|_| self.kind != RejectionKind::MissingToken)
        {
            param("error_description", description);
        }
        HeaderValue::from_str(&value).ok()
    }
}

/// Answers with the renderer of the layer the request passed through, else
/// [`DefaultRejection::terse`].
impl IntoResponse for AuthRejection {
    fn into_response(mut self) -> Response {
        match self.renderer.take() {
            Some(renderer) => renderer.on_rejection(self),
            None => DefaultRejection::terse().on_rejection(self),
        }
    }
}

/// A gRPC call: HTTP/2 or later (gRPC runs on nothing else), with `content-type:
/// application/grpc`, with or without a `+format` or parameters. A content type alone is a
/// client's say: on HTTP/1.1 it would turn a 401 into a 200 that caches and monitors read as
/// success.
fn is_grpc(version: http::Version, headers: &HeaderMap) -> bool {
    version >= http::Version::HTTP_2
        && headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                let essence = v.split(';').next().unwrap_or_default().trim();
                essence.eq_ignore_ascii_case("application/grpc")
                    || essence
                        .get(..17)
                        .is_some_and(|p| p.eq_ignore_ascii_case("application/grpc+"))
            })
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
            .field("grpc", &self.grpc)
            .finish_non_exhaustive()
    }
}

impl std::error::Error for AuthRejection {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.error
            .as_ref()
            .map(|e| e as &(dyn std::error::Error + 'static))
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
    use http::header;

    use super::*;
    use crate::error::ErrorKind;

    #[test]
    fn statuses_and_headers() {
        let expired = AuthRejection::from_error(Error::new(ErrorKind::Expired));
        assert_eq!(expired.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            expired.www_authenticate().unwrap(),
            "Bearer error=\"invalid_token\""
        );
        assert_eq!(
            expired.www_authenticate_with_description().unwrap(),
            "Bearer error=\"invalid_token\", error_description=\"Token is expired\""
        );
        let scope = AuthRejection::from_error(Error::new(ErrorKind::MissingScope));
        assert_eq!(scope.status(), StatusCode::FORBIDDEN);
        assert_eq!(
            scope.www_authenticate().unwrap(),
            "Bearer error=\"insufficient_scope\""
        );
        let missing = AuthRejection::missing_token();
        assert_eq!(
            missing.www_authenticate_with_description().unwrap(),
            "Bearer"
        );
        let down = AuthRejection::from_error(Error::unavailable(None, Duration::from_secs(7)));
        let response = down.into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()[header::RETRY_AFTER], "7");
        assert!(response.headers().get(header::WWW_AUTHENTICATE).is_none());
    }

    #[test]
    fn scope_and_resource_metadata_parameters() {
        let url = "https://api.example.com/.well-known/oauth-protected-resource/mcp";
        let url = Arc::new(url.to_owned());
        let scopes = ["mcp/tools".to_owned(), "a\"b".to_owned()];
        let scope = AuthRejection::from_error(Error::missing_scope(&scopes))
            .with_resource_metadata(Some(&url));
        assert_eq!(
            scope.www_authenticate().unwrap(),
            format!(
                r#"Bearer error="insufficient_scope", scope="mcp/tools a\"b", resource_metadata="{url}""#
            )
        );
        let missing = AuthRejection::missing_token().with_resource_metadata(Some(&url));
        assert_eq!(
            missing.www_authenticate_with_description().unwrap(),
            format!(r#"Bearer resource_metadata="{url}""#)
        );
    }

    #[test]
    fn hostile_descriptions_cannot_break_the_header() {
        let hostile = AuthRejection::from_error(Error::custom_of(
            ErrorKind::CustomCheck,
            "a\" , error=\"none\r\nSet-Cookie: x=1\\ \u{e9}".into(),
        ));
        let value = hostile.www_authenticate_with_description().unwrap();
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
        let rejection = AuthRejection::from_error(Error::custom_of(
            ErrorKind::CustomCheck,
            "tenant 42 is suspended".into(),
        ));
        let response = rejection.into_response();
        assert_eq!(
            response.headers()[header::WWW_AUTHENTICATE],
            "Bearer error=\"invalid_token\""
        );
    }
}
