//! The application's own revocation check: synchronous and cheap, on the request path.

use crate::verified_token::VerifiedToken;

/// A check of the application's that a valid token was revoked, consulted after the standard
/// checks on every verification and every cache hit (with
/// [`CognitoVerifierBuilder::revocation_check`](crate::CognitoVerifierBuilder::revocation_check)).
///
/// It runs on the request path, synchronously: read a local set, a bloom filter, an
/// `ArcSwap` your own task keeps current (say, from Redis pub/sub); never block on the
/// network here. True refuses the token with [`Revoked`](crate::ErrorKind::Revoked) (401).
/// Closures `Fn(&VerifiedToken) -> bool` are checks.
///
/// ```
/// use std::{collections::HashSet, sync::{Arc, RwLock}};
/// use axum_cognito::{ErrorKind, VerifiedToken, test_util::TestIssuer};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let banned: Arc<RwLock<HashSet<String>>> = Arc::default();
/// let check = {
///     let banned = Arc::clone(&banned);
///     move |token: &VerifiedToken| banned.read().unwrap().contains(token.sub())
/// };
/// let issuer = TestIssuer::start().await;
/// let verifier = issuer.verifier_builder().revocation_check(check).build().await.unwrap();
/// let token = issuer.id_token().sub("mallory").sign();
/// assert!(verifier.verify(&token).await.is_ok());
/// banned.write().unwrap().insert("mallory".into());
/// assert_eq!(verifier.verify(&token).await.unwrap_err().kind(), ErrorKind::Revoked);
/// # }
/// ```
pub trait RevocationCheck: Send + Sync + 'static {
    /// True when `token`, valid by every standard check, is revoked.
    fn is_revoked(&self, token: &VerifiedToken) -> bool;
}

impl<F> RevocationCheck for F
where
    F: Fn(&VerifiedToken) -> bool + Send + Sync + 'static,
{
    fn is_revoked(&self, token: &VerifiedToken) -> bool {
        self(token)
    }
}
