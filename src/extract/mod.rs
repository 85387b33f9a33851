//! Axum extractors for verified claims.
//!
//! - [`CognitoClaims<Id>`](CognitoClaims) and [`CognitoClaims<Access>`](CognitoClaims): typed
//!   claims of one token use.
//! - [`VerifiedToken`](crate::VerifiedToken): a token of either use, with its subject, user
//!   name and raw claims.
//!
//! Both also extract as `Option<..>`: `None` for a request without an `Authorization` header.

mod cognito_claims;
mod verified_token;

pub use cognito_claims::CognitoClaims;
