//! Revocation: refusing a token that is still cryptographically valid, before its `exp`.
//!
//! A Cognito token stays valid until `exp` after `RevokeToken`, `GlobalSignOut`,
//! `AdminUserGlobalSignOut`, or its user being disabled or deleted. The verifier consults a
//! revocation step after the standard checks, on every full verification **and every cache
//! hit** (step 11 of the [pipeline](crate::verifier::pipeline)); a revoked token fails with
//! [`Revoked`](crate::ErrorKind::Revoked), HTTP 401 `invalid_token`. Three layers, each
//! optional, asked in this order:
//!
//! - [`RevocationList`]: the built-in in-memory list, by `jti`, by refresh-token family
//!   (`origin_jti`) and by user ("tokens of this `sub` issued up to T"); entries expire by
//!   themselves, memory is bounded.
//! - [`RevocationCheck`]: a synchronous check of the application's (a closure over the
//!   [`VerifiedToken`](crate::VerifiedToken)).
//! - [`GetUserCheck`]: asks Cognito itself, for access tokens, with answers cached for a
//!   ttl, concurrent calls shared, a timeout and a [`FailurePolicy`].
//!
//! Several instances of a service each have their own list: spread revocations with a store
//! you already run (Redis pub/sub, say: publish `{"jti": ..., "exp": ...}` where you revoke,
//! and have every instance's subscriber call [`RevocationList::revoke_jti`]). The crate does
//! not build a cluster.
//!
//! ```
//! use std::time::{Duration, SystemTime};
//! use axum_cognito::{ErrorKind, revocation::RevocationList, test_util::TestIssuer};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let issuer = TestIssuer::start().await;
//! let list = RevocationList::default();
//! let verifier = issuer.verifier_builder().revocation_list(list.clone()).build().await.unwrap();
//!
//! let token = issuer.access_token().sign();
//! let verified = issuer.verified_token(&token).await;
//! assert!(verifier.verify(&token).await.is_ok()); // now in the verified-token cache
//!
//! list.revoke_token(&verified); // by its jti, until its exp
//! assert_eq!(verifier.verify(&token).await.unwrap_err().kind(), ErrorKind::Revoked);
//! # }
//! ```

mod check;
mod get_user;
mod get_user_client;
mod list;
mod step;

pub use check::RevocationCheck;
pub use get_user::{FailurePolicy, GetUserCheck};
pub use list::{RevocationList, Revoked};
pub(crate) use step::{RevocationSettings, RevocationStep, Verdict};
