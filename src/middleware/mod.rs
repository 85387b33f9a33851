//! The tower middleware: [`CognitoAuthLayer`] and its service.
//!
//! ```
//! use axum::{Router, routing::get};
//! use axum_cognito::{Access, CognitoAuthLayer, CognitoClaims, TokenUse, test_util::TestIssuer};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! # let issuer = TestIssuer::start().await;
//! # let verifier = axum_cognito::CognitoVerifier::builder()
//! #     .user_pool(issuer.user_pool()).any_token_use().build().await.unwrap();
//! async fn orders(claims: CognitoClaims<Access>) -> String {
//!     format!("orders of {}", claims.sub)
//! }
//! async fn admin(claims: CognitoClaims<Access>) -> &'static str {
//!     "admin"
//! }
//!
//! let app: Router = Router::new()
//!     .route("/admin", get(admin))
//!     // Per route: only access tokens of the admins group.
//!     .route_layer(CognitoAuthLayer::new(verifier.clone()).token_use(TokenUse::Access).any_group(["admins"]))
//!     .route("/orders", get(orders))
//!     // Router-wide: every route needs a valid token.
//!     .layer(CognitoAuthLayer::new(verifier));
//! # }
//! ```

mod future;
mod layer;
mod service;

pub use future::ResponseFuture;
pub use layer::CognitoAuthLayer;
pub use service::CognitoAuth;

use crate::{AuthRejection, rejection::RejectionKind};

/// One event per refused request, at a level that fits whose fault it was. Never the token.
pub(crate) fn log_rejection(rejection: &AuthRejection) {
    let reason = rejection.reason();
    match rejection.kind() {
        RejectionKind::KeysUnavailable => {
            tracing::warn!(reason = %reason, "cognito: keys unavailable, answering 503")
        }
        RejectionKind::MissingVerifier => {
            tracing::error!(reason = %reason, "cognito: misconfigured route")
        }
        RejectionKind::InsufficientScope => {
            tracing::info!(reason = %reason, "cognito: token lacks a required group or scope")
        }
        _ => {
            tracing::debug!(reason = %reason, kind = ?rejection.kind(), "cognito: request refused")
        }
    }
}

/// One event per accepted token.
pub(crate) fn log_accepted(token: &crate::VerifiedToken) {
    tracing::debug!(
        sub = token.sub(),
        username = token.username().unwrap_or_default(),
        token_use = %token.token_use(),
        "cognito: token accepted"
    );
}
