//! The verified-token cache is exact: expiry, key removal and replacement, staleness and every
//! rule still apply on a hit, and only verified tokens are stored.

mod common;

use std::time::Duration;

use axum_cognito::{
    AccessClaims, CognitoVerifier, ErrorKind, TokenRequirements,
    test_util::{SigningKey, TestIssuer},
};
use common::verifier;

fn cached(verifier: &CognitoVerifier) -> usize {
    verifier.status().cached_tokens
}

#[tokio::test]
async fn valid_tokens_are_cached_and_hits_give_the_same_claims() {
    let issuer = TestIssuer::start().await;
    let verifier = verifier(&issuer).await;
    let token = issuer.access_token().username("alice").sign();
    let first = verifier.verify_access(&token).await.unwrap();
    assert_eq!(cached(&verifier), 1);
    let second = verifier.verify_access(&token).await.unwrap();
    assert_eq!(first, second);
    assert_eq!(cached(&verifier), 1);
    assert_eq!(second.username.as_deref(), Some("alice"));
}

#[tokio::test]
async fn rejected_tokens_are_never_cached() {
    let issuer = TestIssuer::start().await;
    let verifier = verifier(&issuer).await;
    let stranger = SigningKey::generate_with_kid(issuer.signing_key().kid());
    let rejected = [
        issuer.access_token().expired().sign(),
        issuer.access_token().client_id("someone-else").sign(),
        issuer.access_token().signed_with(&stranger).sign(),
        issuer
            .access_token()
            .issuer("https://example.com/pool")
            .sign(),
        "a.b.c".to_owned(),
    ];
    for token in &rejected {
        assert!(verifier.verify(token).await.is_err());
        assert!(
            verifier.verify(token).await.is_err(),
            "still rejected the second time"
        );
    }
    assert_eq!(cached(&verifier), 0);
}

#[tokio::test]
async fn a_hit_needs_the_whole_token_to_match() {
    let issuer = TestIssuer::start().await;
    let verifier = verifier(&issuer).await;
    let token = issuer.access_token().sub("same-claims").sign();
    verifier.verify_access(&token).await.unwrap();
    // The same header and payload with another signature: not the cached token.
    let (signed, _) = token.rsplit_once('.').unwrap();
    let stranger = SigningKey::generate_with_kid(issuer.signing_key().kid());
    let forged = format!("{signed}.{}", stranger.sign_b64(signed.as_bytes()));
    assert_ne!(forged, token);
    let err = verifier.verify_access(&forged).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidSignature);
    // A prefix or an extension of the cached token is not it either.
    let longer = format!("{token}A");
    assert_eq!(
        verifier.verify_access(&longer).await.unwrap_err().kind(),
        ErrorKind::InvalidSignature
    );
    let shorter = &token[..token.len() - 1];
    assert_eq!(
        verifier.verify_access(shorter).await.unwrap_err().kind(),
        ErrorKind::InvalidSignature
    );
    assert_eq!(cached(&verifier), 1);
}

#[tokio::test]
async fn an_entry_expires_with_its_token() {
    let issuer = TestIssuer::start().await;
    let verifier = issuer
        .verifier_builder()
        .leeway(Duration::ZERO)
        .build()
        .await
        .unwrap();
    let token = issuer
        .access_token()
        .expires_in(Duration::from_secs(1))
        .sign();
    verifier.verify_access(&token).await.unwrap();
    assert_eq!(cached(&verifier), 1);
    // `exp` has whole seconds: past `exp` means two seconds at most.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let err = verifier.verify_access(&token).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Expired);
    assert!(
        err.verified_claims_json().is_some(),
        "the claims were verified"
    );
    assert_eq!(cached(&verifier), 0, "the expired entry is dropped");
}

#[tokio::test]
async fn the_leeway_applies_to_hits_as_to_verification() {
    let issuer = TestIssuer::start().await;
    let verifier = issuer
        .verifier_builder()
        .leeway(Duration::from_secs(30))
        .build()
        .await
        .unwrap();
    let token = issuer
        .access_token()
        .expires_in(Duration::from_secs(1))
        .sign();
    verifier.verify_access(&token).await.unwrap();
    tokio::time::sleep(Duration::from_millis(2100)).await;
    // Past `exp`, within the leeway: still good, from the cache.
    verifier.verify_access(&token).await.unwrap();
    assert_eq!(cached(&verifier), 1);
}

#[tokio::test]
async fn entries_of_a_removed_key_are_dropped_when_the_refresh_sees_it_go() {
    let issuer = TestIssuer::start().await;
    let verifier = issuer
        .verifier_builder()
        .unknown_kid_cooldown(Duration::from_secs(60))
        .build()
        .await
        .unwrap();
    let old_kid = issuer.signing_key().kid().to_owned();
    let old_token = issuer.access_token().sign();
    verifier.verify_access(&old_token).await.unwrap();
    issuer.rotate();
    let new_token = issuer.access_token().sign();
    verifier.verify_access(&new_token).await.unwrap();
    assert_eq!(cached(&verifier), 2);

    assert!(issuer.remove_key(&old_kid));
    verifier.refresh().await.unwrap();
    assert_eq!(cached(&verifier), 1, "the removed key's entry is gone");
    let err = verifier.verify_access(&old_token).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownKeyId);
    verifier.verify_access(&new_token).await.unwrap();
}

#[tokio::test]
async fn a_key_replaced_under_the_same_kid_does_not_vouch_for_old_entries() {
    let issuer = TestIssuer::start().await;
    let verifier = verifier(&issuer).await;
    let kid = issuer.signing_key().kid().to_owned();
    let token = issuer.access_token().sign();
    verifier.verify_access(&token).await.unwrap();

    issuer.remove_key(&kid);
    issuer.publish(SigningKey::generate_with_kid(kid));
    verifier.refresh().await.unwrap();
    let err = verifier.verify_access(&token).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidSignature);
}

#[tokio::test]
async fn every_rule_runs_again_on_a_hit() {
    let issuer = TestIssuer::start().await;
    let verifier = verifier(&issuer).await;
    let token = issuer
        .access_token()
        .groups(["readers"])
        .scopes(["orders/read"])
        .sign();
    verifier.verify_access(&token).await.unwrap();
    assert_eq!(cached(&verifier), 1);

    let id_only = verifier.verify_id(&token).await.unwrap_err();
    assert_eq!(id_only.kind(), ErrorKind::InvalidTokenUse);
    let admins = TokenRequirements::new().any_group(["admins"]);
    let err = verifier
        .verify_as::<AccessClaims>(&token, &admins)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::MissingGroup);
    let writers = TokenRequirements::new().any_scope(["orders/write"]);
    let err = verifier
        .verify_as::<AccessClaims>(&token, &writers)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::MissingScope);
    let refuse = TokenRequirements::new().custom_check(|_: &AccessClaims| Err("no".to_owned()));
    let err = verifier
        .verify_as::<AccessClaims>(&token, &refuse)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::CustomCheck);
    let readers = TokenRequirements::new()
        .any_group(["readers"])
        .any_scope(["orders/read"]);
    verifier
        .verify_as::<AccessClaims>(&token, &readers)
        .await
        .unwrap();
    assert_eq!(
        cached(&verifier),
        1,
        "a valid token refused by a rule stays cached"
    );
}

#[tokio::test]
async fn stale_keys_make_hits_unavailable_too() {
    let issuer = TestIssuer::start().await;
    let verifier = issuer
        .verifier_builder()
        .max_staleness(Some(Duration::from_millis(500)))
        .refresh_interval(Duration::from_millis(200))
        .build()
        .await
        .unwrap();
    let token = issuer.access_token().sign();
    verifier.verify_access(&token).await.unwrap();
    // The refreshes fail from now on, so the keys go stale.
    issuer.stop().await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    let err = verifier.verify_access(&token).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::KeysUnavailable);
    issuer.restart().await;
    verifier.refresh().await.unwrap();
    verifier.verify_access(&token).await.unwrap();
}

#[tokio::test]
async fn the_cache_can_be_turned_off() {
    let issuer = TestIssuer::start().await;
    let verifier = issuer
        .verifier_builder()
        .token_cache_bytes(0)
        .build()
        .await
        .unwrap();
    let token = issuer.access_token().sign();
    verifier.verify_access(&token).await.unwrap();
    verifier.verify_access(&token).await.unwrap();
    assert_eq!(cached(&verifier), 0);
}

#[tokio::test]
async fn the_cache_is_bounded_by_its_capacity() {
    let issuer = TestIssuer::start().await;
    // Room for a handful of ~3 KiB entries.
    let verifier = issuer
        .verifier_builder()
        .token_cache_bytes(16 * 1024)
        .build()
        .await
        .unwrap();
    for i in 0..200 {
        let token = issuer.access_token().sub(&format!("user-{i}")).sign();
        verifier.verify_access(&token).await.unwrap();
    }
    let held = cached(&verifier);
    assert!((1..=16).contains(&held), "held {held} entries in 16 KiB");
}
