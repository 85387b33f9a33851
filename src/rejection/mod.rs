//! What the HTTP layer and the extractors answer when a request is not let through, and how to
//! answer differently.
//!
//! | case | status | header |
//! |---|---|---|
//! | no token (no `Authorization` header, by default) | 401 | `WWW-Authenticate: Bearer` |
//! | no token, behind an optional layer or for an `Option<..>` extractor | passes, no claims | |
//! | a credential that is not one well-formed token: another scheme (`Basic`), an empty token, two spaces, whitespace or non-ASCII in the token, several `Authorization` headers | 401 | `WWW-Authenticate: Bearer error="invalid_request"` |
//! | a token that fails a check: malformed, expired, not yet valid, a bad signature, an unknown key, another pool or app client, the other token use, revoked | 401 | `WWW-Authenticate: Bearer error="invalid_token"` |
//! | a valid token without a required group or scope, or refused by a custom check that forbids | 403 | `WWW-Authenticate: Bearer error="insufficient_scope"` |
//! | keys unusable (never loaded, older than the maximum staleness, a failed refetch), the pool resolver failed or its rate spent, or Cognito's `GetUser` could not be asked under the fail-closed policy | 503 | `Retry-After: <seconds>` |
//! | an extractor with no layer and no verifier | 500, the body names the fix | none |
//!
//! Which check gives which error is in [the checks' table](crate::verifier#the-checks-in-order).
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
//!
//! # One error shape
//!
//! A layer's renderer also answers for what the extractors and handler guards behind it
//! refuse, so an API has one error shape. To change only the body,
//! [`AuthRejection::response_with_body`] keeps the status and the standard headers
//! (`WWW-Authenticate`, `Retry-After`); [`DefaultRejection::problem_json`] answers RFC 9457
//! `application/problem+json`:
//!
//! ```
//! use axum_cognito::{AuthRejection, CognitoAuthLayer, CognitoVerifier, DefaultRejection};
//!
//! fn layers(verifier: CognitoVerifier) {
//!     let _json = CognitoAuthLayer::new(verifier.clone()).on_rejection(|rejection: AuthRejection| {
//!         let body = serde_json::json!({ "error": rejection.kind().code() }).to_string();
//!         rejection.response_with_body("application/json", body)
//!     });
//!     let _problem = CognitoAuthLayer::new(verifier).on_rejection(DefaultRejection::terse().problem_json());
//! }
//! ```
//!
//! # gRPC
//!
//! A gRPC call, an HTTP/2 request with `content-type: application/grpc` (or
//! `application/grpc+..`), is refused the gRPC way with no configuration: HTTP 200, `content-type: application/grpc`, a `grpc-status`
//! (16 for 401, 7 for 403, 14 for 503, 13 for 500: see [`RejectionKind::grpc_status`]) and a
//! `grpc-message`, so that a tonic client sees `Unauthenticated`, `PermissionDenied` or
//! `Unavailable`. [`AuthRejection::is_grpc`] tells a renderer of your own. The layer wraps a
//! tonic server like any tower service, or one service of it with tonic's `named_layer`:
//!
//! ```no_run
//! use axum_cognito::CognitoAuthLayer;
//! use tonic::{service::LayerExt as _, transport::Server};
//!
//! # async fn serve(verifier: axum_cognito::CognitoVerifier) -> Result<(), Box<dyn std::error::Error>> {
//! let (_reporter, health) = tonic_health::server::health_reporter();
//! Server::builder()
//!     .add_service(CognitoAuthLayer::new(verifier).named_layer(health)) // this one needs a token
//!     .serve("127.0.0.1:50051".parse()?)
//!     .await?;
//! # Ok(()) }
//! ```
//!
//! gRPC-Web requests (`application/grpc-web`), and an HTTP/1.1 request that only says
//! `application/grpc` (gRPC needs HTTP/2; the header alone would let a client turn a 401 into a
//! 200 that caches and monitors read as success), are refused as HTTP: put the layer behind the
//! gRPC-Web translation. Every refusal, either way, says `Cache-Control: no-store`.

mod auth_rejection;
mod kind;
mod log;
mod on_rejection;

pub use auth_rejection::AuthRejection;
pub(crate) use auth_rejection::{LayerRenderer, RefusalContext};
pub use kind::RejectionKind;
pub(crate) use log::{log_accepted, log_rejection};
pub use on_rejection::{DefaultRejection, OnRejection};
