//! Trust Amazon Cognito user-pool tokens in Rust: a verifier with a self-refreshing JWKS store.
//!
//! ```no_run
//! use axum_cognito::{CognitoVerifier, TokenUse};
//!
//! # async fn run(token: &str) -> Result<(), Box<dyn std::error::Error>> {
//! let verifier = CognitoVerifier::builder()
//!     .user_pool("eu-west-1_AbC123456")
//!     .client_id("1example23456789")
//!     .token_use(TokenUse::Access)
//!     .build()
//!     .await?;
//! let claims = verifier.verify_access(token).await?;
//! println!("{} may {:?}", claims.sub, claims.scope);
//! # Ok(()) }
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
