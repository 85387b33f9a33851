//! The tower middleware: [`CognitoAuthLayer`], the service it makes ([`CognitoAuth`]) and that
//! service's future ([`ResponseFuture`]).
//!
//! The layer reads the token through its [token source](crate::token_source) (the
//! `Authorization: Bearer` header by default), verifies it with its
//! [`CognitoVerifier`](crate::CognitoVerifier), and either calls the inner service with a
//! [`VerifiedToken`](crate::VerifiedToken) in the request extensions or answers the refusal
//! through its [renderer](crate::rejection::OnRejection).
//!
//! ```
//! use axum::{Router, routing::get};
//! use axum_cognito::{Access, CognitoAuthLayer, CognitoClaims, TokenUse, test_util::TestIssuer};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! # let issuer = TestIssuer::start().await;
//! # let verifier = issuer.verifier_builder().build().await.unwrap();
//! async fn orders(claims: CognitoClaims<Access>) -> String {
//!     format!("orders of {}", claims.sub)
//! }
//! async fn admin(claims: CognitoClaims<Access>) -> &'static str {
//!     "admin"
//! }
//!
//! let admins_only = CognitoAuthLayer::new(verifier.clone())
//!     .token_use(TokenUse::Access)
//!     .any_group(["admins"]);
//! let app: Router = Router::new()
//!     // Per handler: only access tokens of the admins group.
//!     .route("/admin", get(admin).route_layer(admins_only))
//!     .route("/orders", get(orders))
//!     // Router-wide: every route needs a valid token.
//!     .layer(CognitoAuthLayer::new(verifier));
//! # }
//! ```

mod auth_layer;
mod authenticator;
mod future;
mod layer;
mod service;

pub use auth_layer::AuthLayer;
#[cfg(feature = "alb")]
pub(crate) use authenticator::{Authenticator, Decision};
pub use future::ResponseFuture;
pub use layer::CognitoAuthLayer;
pub(crate) use layer::PassedWithoutToken;
pub use service::{AuthService, CognitoAuth};
