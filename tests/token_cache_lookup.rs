//! The token cache hashes a token by the end of its signature only; a hit still needs the whole
//! token to match.

mod common;

use axum_cognito::{ErrorKind, test_util::TestIssuer};
use common::verifier;

#[tokio::test]
async fn a_token_with_a_cached_tokens_signature_is_not_a_hit() {
    let issuer = TestIssuer::start().await;
    let verifier = verifier(&issuer).await;
    let token = issuer.access_token().username("alice").sign();
    verifier.verify_access(&token).await.unwrap();
    assert_eq!(verifier.status().cached_tokens, 1);

    // Another user's claims under the cached token's signature: same hash, not the same token.
    let (header, rest) = token.split_once('.').unwrap();
    let (_, signature) = rest.rsplit_once('.').unwrap();
    let other = issuer.access_token().username("mallory").sign();
    let (_, other_rest) = other.split_once('.').unwrap();
    let (other_payload, _) = other_rest.rsplit_once('.').unwrap();
    let spliced = format!("{header}.{other_payload}.{signature}");
    for _ in 0..2 {
        let err = verifier.verify_access(&spliced).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidSignature);
    }
    assert_eq!(
        verifier
            .verify_access(&token)
            .await
            .unwrap()
            .username
            .as_deref(),
        Some("alice")
    );
    assert_eq!(verifier.status().cached_tokens, 1);
}
