//! The crate's own claims types are read once per verified token and reused on cache hits;
//! every API gives the same claims as a fresh parse.

mod common;

use axum_cognito::{
    AccessClaims, ErrorKind, IdClaims, TokenClaims, TokenRequirements, test_util::TestIssuer,
};
use common::verifier;

#[tokio::test]
async fn cached_typed_claims_equal_a_fresh_parse() {
    let issuer = TestIssuer::start().await;
    let verifier = verifier(&issuer).await;
    let access = issuer
        .access_token()
        .username("alice")
        .groups(["admins"])
        .scopes(["orders/read", "orders/write"])
        .claim("tenant", "acme")
        .sign();
    let id = issuer
        .id_token()
        .username("bob")
        .custom("tenant", "acme")
        .sign();

    let fresh: AccessClaims = verifier
        .verify_as(&access, &TokenRequirements::new())
        .await
        .unwrap();
    for _ in 0..2 {
        assert_eq!(*verifier.verify_access(&access).await.unwrap(), fresh);
        assert_eq!(
            verifier.verify_sync(&access).unwrap(),
            TokenClaims::from(fresh.clone())
        );
        assert_eq!(
            verifier.verify(&access).await.unwrap(),
            TokenClaims::from(fresh.clone())
        );
    }
    assert_eq!(fresh.extra["tenant"], "acme");

    let fresh: IdClaims = verifier
        .verify_as(&id, &TokenRequirements::new())
        .await
        .unwrap();
    for _ in 0..2 {
        assert_eq!(*verifier.verify_id(&id).await.unwrap(), fresh);
        assert_eq!(
            verifier.verify_sync(&id).unwrap(),
            TokenClaims::from(fresh.clone())
        );
    }
    assert_eq!(fresh.custom["tenant"], "acme");

    // The other use's type is still refused, cached or not.
    for _ in 0..2 {
        let err = verifier.verify_id(&access).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidTokenUse);
        let err = verifier.verify_access(&id).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidTokenUse);
    }
    assert_eq!(verifier.status().cached_tokens, 2);
}
