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
//! [`CognitoVerifier::verify_as`](crate::CognitoVerifier::verify_as).

mod access;
mod id;
mod lenient;
mod registered;
mod token;

pub use access::AccessClaims;
pub use id::IdClaims;
pub(crate) use registered::RegisteredClaims;
pub use token::TokenClaims;
