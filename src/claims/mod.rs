//! Typed claims for Cognito ID and access tokens.
//!
//! - [`IdClaims`]: `sub`, `cognito:username`, `cognito:groups`, `email`, `custom:*` attributes
//!   and the rest of an ID token.
//! - [`AccessClaims`]: `sub`, `client_id`, `username`, `scope`, `cognito:groups` and the rest of
//!   an access token, including machine-to-machine tokens (no `username`, no groups).
//! - [`TokenClaims`]: either of them, for a verifier that accepts both token uses.
//!
//! Every claim the types do not name is kept in their `extra` map. Callers with their own
//! claims type use any `serde::Deserialize` type instead, through
//! [`CognitoVerifier::verify_as`](crate::CognitoVerifier::verify_as) or
//! `CognitoClaims<Access, MyClaims>`.
//!
//! ```
//! use axum_cognito::{claims::TokenClaims, test_util::TestIssuer};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let issuer = TestIssuer::start().await;
//! let verifier = issuer.verifier_builder().build().await.unwrap();
//! let token = issuer.id_token().username("alice").email("alice@example.com").sign();
//! match verifier.verify(&token).await.unwrap() {
//!     TokenClaims::Id(id) => assert_eq!(id.email.as_deref(), Some("alice@example.com")),
//!     TokenClaims::Access(_) => unreachable!("an ID token"),
//! }
//! # }
//! ```

mod access;
mod id;
mod lenient;
mod members;
mod payload;
mod standard;
mod token;

pub use access::AccessClaims;
pub use id::IdClaims;
pub(crate) use payload::{Fit, TokenPayload};
pub(crate) use standard::StandardClaims;
pub use token::TokenClaims;
pub(crate) use token::either;

// The claims types deserialize as a verification reads them: in one pass over the payload.
payload::deserialize_by_payload!(IdClaims);
payload::deserialize_by_payload!(AccessClaims);
payload::deserialize_by_payload!(TokenClaims);
