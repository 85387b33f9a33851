//! The crate's own claims types are read once per verified token and reused on cache hits;
//! every API gives the same claims as a fresh parse.

mod common;

use std::sync::Arc;

use axum_cognito::{
    AccessClaims, CognitoClaims, ErrorKind, Id, IdClaims, TokenClaims, TokenRequirements,
    test_util::TestIssuer,
};
use common::verifier;
use serde::Deserialize;

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

/// A cache hit hands out the claims the first verification read: the same allocation, not a
/// copy. With the cache off, each verification reads its own.
#[tokio::test]
async fn a_cache_hit_shares_the_claims_of_the_first_verification() {
    let issuer = TestIssuer::start().await;
    let verifier = verifier(&issuer).await;
    let access = issuer.access_token().groups(["admins"]).sign();
    let id = issuer.id_token().sign();
    let first = verifier.verify_access(&access).await.unwrap();
    assert!(Arc::ptr_eq(
        &first,
        &verifier.verify_access(&access).await.unwrap()
    ));
    assert!(Arc::ptr_eq(
        &first,
        &verifier.verify_access_sync(&access).unwrap()
    ));
    match verifier.verify_sync(&access).unwrap() {
        TokenClaims::Access(claims) => assert!(Arc::ptr_eq(&first, &claims)),
        TokenClaims::Id(_) => panic!("an access token"),
    }
    let first_id = verifier.verify_id(&id).await.unwrap();
    assert!(Arc::ptr_eq(
        &first_id,
        &verifier.verify_id_sync(&id).unwrap()
    ));

    let uncached = issuer
        .verifier_builder()
        .token_cache_bytes(0)
        .build()
        .await
        .unwrap();
    let a = uncached.verify_access(&access).await.unwrap();
    let b = uncached.verify_access(&access).await.unwrap();
    assert_eq!(a, b);
    assert!(
        !Arc::ptr_eq(&a, &b),
        "no cache: each verification reads its claims"
    );
}

#[derive(Debug, Deserialize, PartialEq)]
struct Tenant {
    sub: String,
    #[serde(rename = "custom:tenant")]
    tenant: String,
}

/// The extractor's claims are the verified token's: shared for the crate's types, and for a
/// caller's own type read once and then shared.
#[tokio::test]
async fn extractor_claims_are_shared_with_the_verified_token() {
    let issuer = TestIssuer::start().await;
    let token = issuer
        .verified_token(&issuer.id_token().custom("tenant", "acme").sign())
        .await;
    let a = CognitoClaims::<Id>::from_verified(token.clone()).unwrap();
    let b = CognitoClaims::<Id>::from_verified(token.clone()).unwrap();
    assert!(Arc::ptr_eq(&a.into_inner(), &b.clone().into_inner()));
    assert_eq!(b.into_owned().custom["tenant"], "acme");

    let a = CognitoClaims::<Id, Tenant>::from_verified(token.clone()).unwrap();
    let b = CognitoClaims::<Id, Tenant>::from_verified(token.clone()).unwrap();
    assert_eq!(a.tenant, "acme");
    assert!(Arc::ptr_eq(&a.into_inner(), &b.into_inner()));
    // Another type of the caller's is read too (anew each time), and still right.
    let value = CognitoClaims::<Id, serde_json::Value>::from_verified(token).unwrap();
    assert_eq!(value["custom:tenant"], "acme");
}

/// A token that passes every check but does not fit the crate's claims type (an ID token
/// without `cognito:username`) is verified for a caller's own type and the `VerifiedToken`,
/// and refused with `InvalidClaims` where `IdClaims` are asked for, on a cache hit as on the
/// first verification.
#[tokio::test]
async fn claims_that_do_not_fit_the_crate_types_are_refused_only_where_those_are_asked_for() {
    let issuer = TestIssuer::start().await;
    let verifier = verifier(&issuer).await;
    let token = issuer.id_token().without("cognito:username").sign();
    let misfit = issuer.id_token().claim("email_verified", "yes").sign();
    for _ in 0..2 {
        for token in [&token, &misfit] {
            assert_eq!(
                verifier.verify_id(token).await.unwrap_err().kind(),
                ErrorKind::InvalidClaims
            );
            assert_eq!(
                verifier.verify_sync(token).unwrap_err().kind(),
                ErrorKind::InvalidClaims
            );
            let own: serde_json::Value = verifier
                .verify_as(token, &TokenRequirements::new())
                .await
                .unwrap();
            assert_eq!(own["token_use"], "id");
        }
    }
    let verified = issuer.verified_token(&token).await;
    assert_eq!(verified.username(), None);
    assert!(issuer.verified_token(&misfit).await.username().is_some());
    assert!(CognitoClaims::<Id>::from_verified(verified).is_err());
}

/// `VerifiedToken::scopes` are an access token's, sorted without repeats; an ID token has none,
/// even with a `scope` member, and a scope rule never matches it.
#[tokio::test]
async fn scopes_are_sorted_and_an_id_tokens_scope_member_grants_nothing() {
    let issuer = TestIssuer::start().await;
    let access = issuer
        .verified_token(&issuer.access_token().claim("scope", "b a b").sign())
        .await;
    assert_eq!(access.scopes().collect::<Vec<_>>(), ["a", "b"]);
    let id_token = issuer.id_token().claim("scope", "orders/read").sign();
    let id = issuer.verified_token(&id_token).await;
    assert_eq!(id.scopes().len(), 0);
    assert!(!id.has_scope("orders/read"));
    let verifier = verifier(&issuer).await;
    let err = verifier
        .verify_as::<serde_json::Value>(
            &id_token,
            &TokenRequirements::new().any_scope(["orders/read"]),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::MissingScope);
    // The member itself stays in the ID claims' `extra`.
    let claims = verifier.verify_id(&id_token).await.unwrap();
    assert_eq!(claims.extra["scope"], "orders/read");
}
