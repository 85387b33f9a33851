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
//! `error_description` to the header. Any [`OnRejection`], such as a closure
//! `Fn(AuthRejection) -> Response`, replaces the response altogether; this is the seam for
//! rendering refusals, and [`DefaultRejection`] is the one place the default responses are
//! built:
//!
//! ```
//! use axum::{Json, response::IntoResponse};
//! use axum_cognito::{AuthRejection, CognitoAuthLayer, CognitoVerifier};
//!
//! fn json_errors(verifier: CognitoVerifier) -> CognitoAuthLayer<impl axum_cognito::OnRejection + Clone> {
//!     CognitoAuthLayer::new(verifier).on_rejection(|rejection: AuthRejection| {
//!         let body = serde_json::json!({ "error": rejection.kind().code() });
//!         (rejection.status(), Json(body)).into_response()
//!     })
//! }
//! ```

mod auth_rejection;
mod kind;
mod log;
mod on_rejection;

pub use auth_rejection::AuthRejection;
pub(crate) use auth_rejection::{LayerRenderer, RefusalContext};
pub use kind::RejectionKind;
pub(crate) use log::{log_accepted, log_rejection};
pub use on_rejection::{DefaultRejection, OnRejection};
