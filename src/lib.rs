//! Trust Amazon Cognito user-pool tokens in an axum or tower service.
//!
//! - [`CognitoVerifier`]: every check of a Cognito ID or access token, against keys that
//!   refresh themselves ([`jwks`-backed key store](CognitoVerifierBuilder)), usable without
//!   axum, async or synchronous.
//! - [`CognitoAuthLayer`]: a tower layer that verifies the Bearer token once per request;
//!   required or optional, with per-route token use, groups and scopes; RFC 6750 answers (401,
//!   403, 503 with `Retry-After`), terse by default and pluggable ([`OnRejection`]).
//! - [`CognitoClaims<Id>`](CognitoClaims) and [`CognitoClaims<Access>`](CognitoClaims):
//!   typed claims as handler arguments ([`IdClaims`], [`AccessClaims`], or your own type);
//!   `Option<..>` for optional auth; [`VerifiedToken`] for a token of either use.
//! - `test_util` (feature `test-util`): a local Cognito issuer for your own tests.
//!
//! ```
//! use axum::{Router, body::Body, http::Request, routing::get};
//! use axum_cognito::{Access, CognitoAuthLayer, CognitoClaims, CognitoVerifier, test_util::TestIssuer};
//! use tower::ServiceExt;
//!
//! async fn orders(caller: CognitoClaims<Access>) -> String {
//!     format!("orders of {}", caller.username.as_deref().unwrap_or("a machine"))
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! // In production: .user_pool("eu-west-1_AbC123456").client_id("1example23456789")
//! let issuer = TestIssuer::start().await;
//! let verifier = CognitoVerifier::builder()
//!     .user_pool(issuer.user_pool())
//!     .any_token_use()
//!     .build()
//!     .await
//!     .unwrap();
//! let app = Router::new()
//!     .route("/orders", get(orders))
//!     .layer(CognitoAuthLayer::new(verifier));
//!
//! let token = issuer.access_token().username("alice").sign();
//! let request = Request::get("/orders")
//!     .header("authorization", format!("Bearer {token}"))
//!     .body(Body::empty())
//!     .unwrap();
//! let response = app.clone().oneshot(request).await.unwrap();
//! assert_eq!(response.status(), 200);
//!
//! let anonymous = Request::get("/orders").body(Body::empty()).unwrap();
//! assert_eq!(app.oneshot(anonymous).await.unwrap().status(), 401);
//! # }
//! ```
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod bearer;
mod claims;
mod compact_token;
mod error;
mod extract;
mod jwks;
mod middleware;
mod rejection;
#[cfg(feature = "test-util")]
#[cfg_attr(docsrs, doc(cfg(feature = "test-util")))]
pub mod test_util;
mod token_cache;
mod token_use;
mod verified_token;
mod verifier;

pub use claims::{AccessClaims, IdClaims, TokenClaims};
pub use error::{Error, ErrorKind};
pub use extract::CognitoClaims;
pub use jwks::{JwksError, KeyStoreStatus};
pub use middleware::{CognitoAuth, CognitoAuthLayer, ResponseFuture};
pub use rejection::{AuthRejection, DefaultRejection, OnRejection, RejectionKind};
pub use token_use::{Access, Id, TokenKind, TokenUse};
pub use verified_token::VerifiedToken;
pub use verifier::{
    CognitoVerifier, CognitoVerifierBuilder, ConfigError, TokenRequirements, UserPool,
    VerifierStatus,
};

/// The defaults of every verifier setting.
pub mod defaults {
    pub use crate::verifier::{
        DEFAULT_FETCH_TIMEOUT, DEFAULT_FIRST_RETRY, DEFAULT_LEEWAY, DEFAULT_MAX_JWKS_BYTES,
        DEFAULT_MAX_RETRY, DEFAULT_MAX_STALENESS, DEFAULT_MAX_TOKEN_BYTES,
        DEFAULT_MIN_REFRESH_INTERVAL, DEFAULT_REFRESH_INTERVAL, DEFAULT_TOKEN_CACHE_BYTES,
        DEFAULT_UNKNOWN_KID_COOLDOWN,
    };
}

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
