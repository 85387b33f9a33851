//! Revocation: refusing a token that is still cryptographically valid, before its `exp`.
//!
//! A Cognito token stays valid until `exp` after `RevokeToken`, `GlobalSignOut`,
//! `AdminUserGlobalSignOut`, or its user being disabled or deleted. The verifier consults a
//! revocation step after the standard checks, on every full verification **and every cache
//! hit** (step 11 of [the checks](crate::verifier#the-checks-in-order)); a revoked token fails with
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
//! What each one sees, and what it does not:
//!
//! - The list knows only what this process was told. A client that can make the application
//!   add entries (a logout route) can fill it: revoke a session by its family
//!   ([`RevocationList::revoke_family`]) and a user by
//!   [`RevocationList::revoke_user_before`] (pair it with Cognito's `AdminUserGlobalSignOut`,
//!   which also revokes the refresh tokens), one entry each, rather than token by token.
//! - A check of your own is synchronous: keep the set it reads current from a task of your
//!   own, and never block on the network in it.
//! - `GetUser` is asked only about access tokens with the `aws.cognito.signin.user.admin`
//!   scope: Cognito refuses any other access token with the same error as a revoked one, so
//!   machine-to-machine tokens and tokens with custom scopes only pass this step. ID tokens are
//!   not asked about (a global sign-out does not invalidate them). When a call fails, the
//!   [`FailurePolicy`] answers; failures log at WARN at most once per 10 s.
//! - At most 256 `GetUser` calls are in flight at once, for distinct tokens, and at most 64
//!   of them for one user pool: one tenant's burst leaves the others three quarters of the
//!   calls (four pools at their share can still fill them). A request whose call finds no
//!   slot waits for one, first come first served, at most the check's timeout; then it gets
//!   [`RevocationUnavailable`](crate::ErrorKind::RevocationUnavailable) (503 with
//!   `Retry-After`) whatever the policy: a full budget is not Cognito failing, and under
//!   [`FailurePolicy::FailOpen`] it would let revoked tokens through.
//!
//! Several instances of a service each have their own list, unless it is shared through Redis
//! or Valkey with `RedisSync` (feature `redis`): every instance's revocations reach every
//! instance within milliseconds, an instance that starts catches up before it serves, and
//! Redis is never on the request path (`redis_sync` module docs).
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

mod call_slots;
mod check;
mod get_user;
mod get_user_client;
mod list;
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub mod redis_sync;
mod step;

pub use check::RevocationCheck;
pub use get_user::{FailurePolicy, GetUserCheck};
pub use list::{RevocationList, Revoked};
#[cfg(feature = "redis")]
pub use redis_sync::{RedisSync, RedisSyncStatus};
pub(crate) use step::{RevocationSettings, RevocationStep, Verdict};
