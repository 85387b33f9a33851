//! Axum extractors for verified claims.
//!
//! - [`CognitoClaims<Id>`](CognitoClaims) and [`CognitoClaims<Access>`](CognitoClaims): typed
//!   claims of one token use.
//! - [`EitherClaims`]: typed claims of a token of either use, to branch on.
//! - [`VerifiedToken`](crate::VerifiedToken): a token of either use, with its subject, user
//!   name, groups, scopes and raw claims.
//!
//! Both also extract as `Option<..>`: `None` for a request without an `Authorization` header.
//!
//! Where a [`CognitoAuthLayer`](crate::CognitoAuthLayer) ran, they read what it verified;
//! elsewhere they verify the token themselves with the verifier `.layer(Extension(verifier))`
//! put in the request extensions: the one way they find a verifier. The router state is
//! yours; the extractors work with any. What they refuse is an [`AuthRejection`](crate::AuthRejection).
//!
//! ```
//! use axum::{Router, body::Body, http::Request, routing::get};
//! use axum_cognito::{CognitoClaims, Id, test_util::TestIssuer};
//! use tower::ServiceExt;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let issuer = TestIssuer::start().await;
//! let verifier = issuer.verifier_builder().build().await.unwrap();
//! async fn me(user: CognitoClaims<Id>) -> String {
//!     user.username.clone()
//! }
//! let app = Router::new()
//!     .route("/me", get(me))
//!     .layer(axum::Extension(verifier));
//!
//! let token = issuer.id_token().username("alice").sign();
//! let request = Request::get("/me")
//!     .header("authorization", format!("Bearer {token}"))
//!     .body(Body::empty())
//!     .unwrap();
//! assert_eq!(app.oneshot(request).await.unwrap().status(), 200);
//! # }
//! ```

mod cognito_claims;
mod either_claims;
mod request_token;
mod verified_token;

pub use cognito_claims::CognitoClaims;
pub use either_claims::EitherClaims;
