//! Every check of `CognitoVerifier`, in the order documented in `src/verifier/mod.rs`: for each,
//! a token that passes and tokens that fail with the check's own `ErrorKind`. Keys always come
//! from a `TestIssuer`'s JWKS server on 127.0.0.1, or from its JWKS given in memory.

mod common;

use std::{collections::BTreeSet, time::Duration};

use axum_cognito::{
    AccessClaims, CognitoVerifier, ErrorKind, IdClaims, TokenClaims, TokenRequirements, TokenUse,
    UserPool,
    test_util::{SigningKey, TestIssuer},
};
use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use common::{b64, err, kind, now, payload_text, rs256, segments, verifier};
use serde::Deserialize;
use serde_json::json;

/// The header Cognito writes for `key`.
fn header_for(key: &SigningKey) -> String {
    json!({"kid": key.kid(), "alg": "RS256"}).to_string()
}

#[tokio::test]
async fn size_is_capped_before_decoding() {
    let issuer = TestIssuer::start().await;
    let token = issuer.access_token().sign();
    let cap = token.len();
    let verifier = issuer
        .verifier_builder()
        .max_token_bytes(cap)
        .build()
        .await
        .unwrap();

    assert!(verifier.verify(&token).await.is_ok(), "a token at the cap");
    let longer = issuer.access_token().claim("pad", "xx").sign();
    assert!(longer.len() > cap);
    assert_eq!(
        kind(verifier.verify(&longer).await),
        ErrorKind::TokenTooLarge
    );
    // Garbage of the same length is refused for its size, not its shape: nothing was decoded.
    let garbage = "!".repeat(cap + 1);
    assert_eq!(
        kind(verifier.verify(&garbage).await),
        ErrorKind::TokenTooLarge
    );
    assert_eq!(
        kind(verifier.verify(&garbage[1..]).await),
        ErrorKind::Malformed
    );
}

#[tokio::test]
async fn token_is_three_unpadded_base64url_segments() {
    let issuer = TestIssuer::start().await;
    let verifier = verifier(&issuer).await;
    let token = issuer.access_token().sign();
    assert!(verifier.verify(&token).await.is_ok());

    let (header, payload, signature) = segments(&token);
    // Segment counts, empty segments and padding are rows of the table in
    // tests/hostile_tokens.rs; these are the shapes it lacks.
    let malformed = [
        format!("{header}.{payload}."),
        format!("{header}.{payload}=.{signature}"),
        format!("+{}.{payload}.{signature}", &header[1..]),
        format!("{header}.{payload}./{}", &signature[1..]),
        format!("{header}.{payload}.{}+", &signature[..signature.len() - 1]),
        format!("{header}.{payload}.{signature} "),
        format!("Bearer {token}"),
    ];
    for bad in malformed {
        assert_eq!(
            kind(verifier.verify(&bad).await),
            ErrorKind::Malformed,
            "{bad}"
        );
    }
    // The standard alphabet, padding stripped: the signature bytes of a valid token re-encoded.
    let bytes = URL_SAFE_NO_PAD.decode(signature).unwrap();
    let standard = base64::engine::general_purpose::STANDARD_NO_PAD.encode(&bytes);
    if standard != signature {
        let bad = format!("{header}.{payload}.{standard}");
        assert_eq!(kind(verifier.verify(&bad).await), ErrorKind::Malformed);
    }
}

#[tokio::test]
async fn header_must_be_a_json_object() {
    let issuer = TestIssuer::start().await;
    let verifier = verifier(&issuer).await;
    let key = issuer.signing_key();
    let claims = payload_text(&issuer.access_token().sign());

    let good = rs256(&key, &header_for(&key), &claims);
    assert!(verifier.verify(&good).await.is_ok(), "a hand-made token");
    let kid = json!(key.kid()).to_string();
    for header in [
        "not json".to_owned(),
        r#"["RS256"]"#.to_owned(),
        format!(r#"{{"alg":"RS256","kid":{kid}"#),
        format!(r#"{{"alg":"RS256","alg":"RS256","kid":{kid}}}"#),
    ] {
        let token = rs256(&key, &header, &claims);
        assert_eq!(
            kind(verifier.verify(&token).await),
            ErrorKind::InvalidHeader,
            "{header}"
        );
    }
}

#[tokio::test]
async fn only_rs256_is_accepted_and_other_algorithms_fetch_nothing() {
    let issuer = TestIssuer::start().await;
    // No cooldown: any unknown kid that reached the key lookup would cause a fetch.
    let verifier = issuer
        .verifier_builder()
        .unknown_kid_cooldown(Duration::from_nanos(1))
        .build()
        .await
        .unwrap();
    assert!(verifier.verify(&issuer.access_token().sign()).await.is_ok());
    let requests = issuer.jwks_requests();

    // With the published kid, these algorithms and HMAC key confusion are rows of the table in
    // tests/hostile_tokens.rs; here they come with a kid that would need a fetch.
    let mut refused: Vec<String> = [
        "none", "HS256", "RS384", "RS512", "PS256", "ES256", "rs256", "",
    ]
    .into_iter()
    .map(|alg| {
        issuer
            .access_token()
            .header("alg", alg)
            .header("kid", "not-published")
            .sign()
    })
    .collect();
    refused.push(issuer.access_token().header("alg", "HS256").sign());
    refused.push(issuer.access_token().without_header("alg").sign());
    for token in &refused {
        let error = err(verifier.verify(token).await);
        assert_eq!(error.kind(), ErrorKind::UnsupportedAlgorithm, "{token}");
        assert_eq!(error.verified_claims_json(), None);
    }
    assert_eq!(
        issuer.jwks_requests(),
        requests,
        "no fetch for a refused alg"
    );

    // The same unknown kid with RS256 does reach the key store and fetches.
    let unknown = issuer.access_token().header("kid", "not-published").sign();
    assert_eq!(
        kind(verifier.verify(&unknown).await),
        ErrorKind::UnknownKeyId
    );
    assert_eq!(issuer.jwks_requests(), requests + 1);
}

#[tokio::test]
async fn critical_headers_are_refused() {
    let issuer = TestIssuer::start().await;
    let verifier = verifier(&issuer).await;
    // Members Cognito or emulators add, and URL members that are never followed, are fine.
    let passes = issuer
        .access_token()
        .header("typ", "JWT")
        .header("jku", "http://127.0.0.1:9/evil.json")
        .header("x5u", "http://127.0.0.1:9/evil.pem")
        .sign();
    assert!(verifier.verify(&passes).await.is_ok());
    for crit in [json!(["exp"]), json!([]), json!("b64")] {
        let token = issuer.access_token().header("crit", crit).sign();
        assert_eq!(
            kind(verifier.verify(&token).await),
            ErrorKind::CriticalHeader
        );
    }
}

#[tokio::test]
async fn key_id_must_be_present_and_published() {
    let issuer = TestIssuer::start().await;
    let verifier = verifier(&issuer).await;
    assert!(verifier.verify(&issuer.id_token().sign()).await.is_ok());

    let no_kid = issuer.id_token().without_header("kid").sign();
    assert_eq!(
        kind(verifier.verify(&no_kid).await),
        ErrorKind::MissingKeyId
    );
    for kid in ["unknown", "../../etc/passwd"] {
        let token = issuer.id_token().header("kid", kid).sign();
        assert_eq!(
            kind(verifier.verify(&token).await),
            ErrorKind::UnknownKeyId,
            "{kid:?}"
        );
    }
}

#[tokio::test]
async fn signature_must_be_made_by_the_published_key() {
    let issuer = TestIssuer::start().await;
    let verifier = verifier(&issuer).await;
    let token = issuer.access_token().username("alice").sign();
    assert!(verifier.verify(&token).await.is_ok());
    let (header, _, signature) = segments(&token);

    let changed = payload_text(&token).replacen("alice", "alicf", 1);
    let tampered = format!("{header}.{}.{signature}", b64(changed));
    let cut_short = &token[..token.len() - 4];
    let cut_by_one = &token[..token.len() - 1];
    // Another key pair under the published kid is a row of the table in tests/hostile_tokens.rs.
    for bad in [&tampered, cut_short, cut_by_one] {
        let error = err(verifier.verify(bad).await);
        assert_eq!(error.kind(), ErrorKind::InvalidSignature, "{bad}");
        assert_eq!(error.verified_claims_json(), None);
        assert_eq!(error.to_string(), "Invalid signature");
    }
}

#[tokio::test]
async fn claims_must_be_one_json_object_without_duplicate_members() {
    let issuer = TestIssuer::start().await;
    let verifier = verifier(&issuer).await;
    let key = issuer.signing_key();
    let header = header_for(&key);
    let (iss, client, exp) = (issuer.issuer(), issuer.client_id().to_owned(), now() + 600);
    let claims = |extra: &str| {
        format!(
            r#"{{"sub":"u1","iss":"{iss}","client_id":"{client}","token_use":"access","exp":{exp}{extra}}}"#
        )
    };

    let good = rs256(&key, &header, &claims(""));
    assert!(
        verifier.verify(&good).await.is_ok(),
        "the hand-made payload"
    );

    // Other duplicate members, payloads that are not an object and mistyped claims of a
    // complete payload are rows of the table in tests/hostile_tokens.rs.
    let bad_payloads = [
        claims(r#","iss":"https://evil.example.com/us-east-1_TestPool01""#),
        format!(r#"{{"sub":"u1","iss":"{iss}","token_use":"access","exp":"{exp}"}}"#),
        format!(r#"{{"sub":"u1","iss":"{iss}","token_use":"access","exp":{exp}.5}}"#),
        "not json".to_owned(),
    ];
    let refused = bad_payloads.map(|payload| rs256(&key, &header, &payload));
    for token in &refused {
        assert_eq!(
            kind(verifier.verify(token).await),
            ErrorKind::InvalidClaims,
            "{}",
            payload_text(token)
        );
    }
}

#[tokio::test]
async fn required_claims_must_be_present() {
    let issuer = TestIssuer::start().await;
    let verifier = verifier(&issuer).await;
    assert!(verifier.verify(&issuer.access_token().sign()).await.is_ok());

    let cases = [
        (issuer.access_token().without("token_use"), "token_use"),
        (issuer.access_token().without("exp"), "exp"),
        (issuer.access_token().without("iss"), "iss"),
        (issuer.access_token().without("sub"), "sub"),
        (issuer.access_token().without("client_id"), "client_id"),
        (issuer.id_token().without("aud"), "aud"),
        (issuer.id_token().without("sub"), "sub"),
    ];
    for (token, claim) in cases {
        let error = err(verifier.verify(&token.sign()).await);
        assert_eq!(error.kind(), ErrorKind::MissingClaim, "{claim}");
        assert_eq!(error.missing_claim_name(), Some(claim));
        assert_eq!(error.to_string(), format!("Missing '{claim}' claim"));
    }
}

#[tokio::test]
async fn exp_is_checked_with_the_leeway() {
    let issuer = TestIssuer::start().await;
    let lenient = issuer
        .verifier_builder()
        .leeway(Duration::from_secs(120))
        .build()
        .await
        .unwrap();
    let strict = issuer
        .verifier_builder()
        .leeway(Duration::ZERO)
        .build()
        .await
        .unwrap();

    let just_expired = issuer.access_token().expires_at(now() - 30).sign();
    assert!(lenient.verify(&just_expired).await.is_ok(), "within leeway");
    let error = err(strict.verify(&just_expired).await);
    assert_eq!(error.kind(), ErrorKind::Expired);
    assert_eq!(error.to_string(), "Token is expired");

    let long_expired = issuer.access_token().expires_at(now() - 300).sign();
    assert_eq!(
        kind(lenient.verify(&long_expired).await),
        ErrorKind::Expired
    );
    let default = verifier(&issuer).await;
    let expired = issuer.access_token().expired().sign();
    assert_eq!(kind(default.verify(&expired).await), ErrorKind::Expired);
    let fresh = issuer.access_token().expires_in(Duration::from_secs(300));
    assert!(strict.verify(&fresh.sign()).await.is_ok());
}

#[tokio::test]
async fn nbf_in_the_future_is_refused() {
    let issuer = TestIssuer::start().await;
    let verifier = issuer
        .verifier_builder()
        .leeway(Duration::from_secs(60))
        .build()
        .await
        .unwrap();
    let past = issuer.access_token().claim("nbf", now() - 600).sign();
    assert!(verifier.verify(&past).await.is_ok());
    let within_leeway = issuer.access_token().claim("nbf", now() + 20).sign();
    assert!(verifier.verify(&within_leeway).await.is_ok());

    let future = issuer
        .access_token()
        .not_before_in(Duration::from_secs(600))
        .sign();
    let error = err(verifier.verify(&future).await);
    assert_eq!(error.kind(), ErrorKind::NotYetValid);
    assert_eq!(error.to_string(), "Token is not yet valid");
}

#[tokio::test]
async fn iss_must_name_a_configured_pool() {
    let issuer = TestIssuer::start().await;
    let verifier = issuer
        .verifier_builder()
        .unknown_kid_cooldown(Duration::from_nanos(1))
        .build()
        .await
        .unwrap();
    assert!(verifier.verify(&issuer.id_token().sign()).await.is_ok());
    let requests = issuer.jwks_requests();

    let iss = issuer.issuer();
    let foreign = [
        "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_OtherPool".to_owned(),
        format!("{iss}/"),
        iss.replacen("https://", "http://", 1),
        iss.replacen("us-east-1.", "eu-west-1.", 1),
        iss.to_uppercase(),
        issuer.pool_id().to_owned(),
        String::new(),
    ];
    for other in &foreign {
        // An unknown kid too: a foreign issuer is refused before the key lookup.
        for token in [
            issuer.id_token().issuer(other).sign(),
            issuer.id_token().issuer(other).header("kid", "nope").sign(),
        ] {
            let error = err(verifier.verify(&token).await);
            assert_eq!(error.kind(), ErrorKind::InvalidIssuer, "{other}");
            assert_eq!(error.to_string(), "Invalid 'iss' claim");
        }
    }
    assert_eq!(
        issuer.jwks_requests(),
        requests,
        "a foreign iss fetches nothing"
    );
}

#[tokio::test]
async fn both_issuer_forms_are_accepted() {
    let issuer = TestIssuer::start().await;
    let verifier = verifier(&issuer).await;
    for iss in [issuer.issuer(), issuer.updated_issuer()] {
        let id = issuer.id_token().issuer(&iss).sign();
        assert_eq!(verifier.verify_id(&id).await.unwrap().iss, iss);
        let access = issuer.access_token().issuer(&iss).sign();
        assert_eq!(verifier.verify_access(&access).await.unwrap().iss, iss);
    }
}

#[tokio::test]
async fn token_use_must_be_allowed_by_the_verifier_and_the_call() {
    let issuer = TestIssuer::start().await;
    let id = issuer.id_token().sign();
    let access = issuer.access_token().sign();

    let id_only = CognitoVerifier::builder()
        .user_pool(issuer.user_pool())
        .token_use(TokenUse::Id)
        .build()
        .await
        .unwrap();
    assert!(id_only.verify(&id).await.is_ok());
    assert_eq!(
        kind(id_only.verify(&access).await),
        ErrorKind::InvalidTokenUse
    );
    assert_eq!(
        kind(id_only.verify_access(&access).await),
        ErrorKind::InvalidTokenUse
    );
    let access_only = CognitoVerifier::builder()
        .user_pool(issuer.user_pool())
        .token_use(TokenUse::Access)
        .build()
        .await
        .unwrap();
    assert!(access_only.verify(&access).await.is_ok());
    assert_eq!(
        kind(access_only.verify(&id).await),
        ErrorKind::InvalidTokenUse
    );

    let both = verifier(&issuer).await;
    assert!(both.verify_id(&id).await.is_ok());
    assert!(both.verify_access(&access).await.is_ok());
    assert_eq!(
        kind(both.verify_id(&access).await),
        ErrorKind::InvalidTokenUse
    );
    assert_eq!(
        kind(both.verify_access(&id).await),
        ErrorKind::InvalidTokenUse
    );
    let access_rule = TokenRequirements::new().token_use(TokenUse::Access);
    assert_eq!(
        kind(both.verify_as::<TokenClaims>(&id, &access_rule).await),
        ErrorKind::InvalidTokenUse
    );
    let id_everywhere = issuer
        .verifier_builder()
        .require(TokenRequirements::new().token_use(TokenUse::Id))
        .build()
        .await
        .unwrap();
    assert!(id_everywhere.verify(&id).await.is_ok());
    assert_eq!(
        kind(id_everywhere.verify(&access).await),
        ErrorKind::InvalidTokenUse
    );

    // Other values, by case and type, are rows of the table in tests/hostile_tokens.rs.
    let refresh = issuer.id_token().claim("token_use", "refresh").sign();
    assert_eq!(
        kind(both.verify(&refresh).await),
        ErrorKind::InvalidTokenUse
    );
}

#[tokio::test]
async fn aud_and_client_id_must_name_an_allowed_client() {
    let issuer = TestIssuer::start().await;
    let verifier = verifier(&issuer).await;
    assert!(verifier.verify(&issuer.id_token().sign()).await.is_ok());
    assert!(verifier.verify(&issuer.access_token().sign()).await.is_ok());

    let id = issuer.id_token().client_id("another-client").sign();
    let error = err(verifier.verify(&id).await);
    assert_eq!(error.kind(), ErrorKind::InvalidAudience);
    assert_eq!(error.to_string(), "Invalid 'aud' claim");
    let access = issuer.access_token().client_id("another-client").sign();
    let error = err(verifier.verify(&access).await);
    assert_eq!(error.kind(), ErrorKind::InvalidClientId);
    assert_eq!(error.to_string(), "Invalid 'client_id' claim");
    // The other member does not count: an ID token's client is its `aud`.
    let swapped = issuer
        .id_token()
        .client_id("another-client")
        .claim("client_id", issuer.client_id())
        .sign();
    assert_eq!(
        kind(verifier.verify(&swapped).await),
        ErrorKind::InvalidAudience
    );
    let access_with_aud = issuer
        .access_token()
        .client_id("another-client")
        .claim("aud", issuer.client_id())
        .sign();
    assert_eq!(
        kind(verifier.verify(&access_with_aud).await),
        ErrorKind::InvalidClientId
    );
}

#[tokio::test]
async fn several_client_ids_are_accepted() {
    let issuer = TestIssuer::start().await;
    let pool = || UserPool::new(issuer.pool_id()).jwks_url(issuer.jwks_url());
    let from_builder = CognitoVerifier::builder()
        .user_pool(pool())
        .client_id("app-a")
        .client_ids(["app-b", "app-c"])
        .any_token_use()
        .build()
        .await
        .unwrap();
    let from_pool = CognitoVerifier::builder()
        .user_pool(pool().client_ids(["app-a", "app-b", "app-c"]))
        .any_token_use()
        .build()
        .await
        .unwrap();
    for verifier in [&from_builder, &from_pool] {
        for client in ["app-a", "app-b", "app-c"] {
            let id = issuer.id_token().client_id(client).sign();
            assert_eq!(verifier.verify_id(&id).await.unwrap().aud, client);
            let access = issuer.access_token().client_id(client).sign();
            assert_eq!(
                verifier.verify_access(&access).await.unwrap().client_id,
                client
            );
        }
        let id = issuer.id_token().client_id("app-d").sign();
        assert_eq!(kind(verifier.verify(&id).await), ErrorKind::InvalidAudience);
        let access = issuer.access_token().client_id("app-d").sign();
        assert_eq!(
            kind(verifier.verify(&access).await),
            ErrorKind::InvalidClientId
        );
    }
    let z = issuer.access_token().client_id("app-z").sign();
    assert!(from_builder.verify(&z).await.is_err());
    assert_eq!(kind(from_pool.verify(&z).await), ErrorKind::InvalidClientId);
}

#[tokio::test]
async fn any_client_accepts_every_client() {
    let issuer = TestIssuer::start().await;
    let pool = || UserPool::new(issuer.pool_id()).jwks_url(issuer.jwks_url());
    let any = CognitoVerifier::builder()
        .user_pool(pool())
        .any_client()
        .any_token_use()
        .build()
        .await
        .unwrap();
    for client in ["app-a", "anything-at-all"] {
        assert!(
            any.verify(&issuer.id_token().client_id(client).sign())
                .await
                .is_ok()
        );
        let access = issuer.access_token().client_id(client).sign();
        assert!(any.verify(&access).await.is_ok());
    }
    let per_pool = CognitoVerifier::builder()
        .user_pool(pool().any_client())
        .any_token_use()
        .build()
        .await
        .unwrap();
    let other = issuer.access_token().client_id("other").sign();
    assert!(per_pool.verify(&other).await.is_ok());
    // The client claim is still required.
    let no_client = issuer.access_token().without("client_id").sign();
    assert_eq!(kind(any.verify(&no_client).await), ErrorKind::MissingClaim);
}

#[tokio::test]
async fn group_rules_need_any_of_their_groups() {
    let issuer = TestIssuer::start().await;
    let rule = TokenRequirements::new().any_group(["admins", "operators"]);
    let everywhere = issuer
        .verifier_builder()
        .require(rule.clone())
        .build()
        .await
        .unwrap();
    let plain = verifier(&issuer).await;

    let operator = issuer
        .access_token()
        .groups(["readers", "operators"])
        .sign();
    let reader = issuer.access_token().groups(["readers"]).sign();
    let lookalike = issuer.id_token().groups(["Admins", "admins2"]).sign();
    let no_groups = issuer.id_token().sign();
    assert!(everywhere.verify(&operator).await.is_ok());
    assert!(
        plain
            .verify_as::<TokenClaims>(&operator, &rule)
            .await
            .is_ok()
    );
    for token in [&reader, &lookalike, &no_groups] {
        let error = err(everywhere.verify(token).await);
        assert_eq!(error.kind(), ErrorKind::MissingGroup);
        assert!(error.is_forbidden());
        assert_eq!(
            kind(plain.verify_as::<TokenClaims>(token, &rule).await),
            ErrorKind::MissingGroup
        );
        assert!(plain.verify(token).await.is_ok(), "no rule, no refusal");
    }
    // Two rules must both hold.
    let both = rule.clone().any_group(["readers"]);
    assert!(
        plain
            .verify_as::<TokenClaims>(&operator, &both)
            .await
            .is_ok()
    );
    let only_operators = issuer.access_token().groups(["operators"]).sign();
    assert_eq!(
        kind(plain.verify_as::<TokenClaims>(&only_operators, &both).await),
        ErrorKind::MissingGroup
    );
    // A per-call rule adds to the verifier's.
    let extra = TokenRequirements::new().any_group(["auditors"]);
    assert_eq!(
        kind(everywhere.verify_as::<TokenClaims>(&operator, &extra).await),
        ErrorKind::MissingGroup
    );
}

#[tokio::test]
async fn scope_rules_need_any_of_their_scopes() {
    let issuer = TestIssuer::start().await;
    let rule = TokenRequirements::new().any_scope(["orders/write", "orders/admin"]);
    let everywhere = issuer
        .verifier_builder()
        .require(rule.clone())
        .build()
        .await
        .unwrap();
    let plain = verifier(&issuer).await;

    let writer = issuer
        .access_token()
        .scopes(["orders/read", "orders/write"])
        .sign();
    let reader = issuer.access_token().scopes(["orders/read"]).sign();
    let prefix = issuer.access_token().scopes(["orders/writer"]).sign();
    let no_scope = issuer.access_token().without("scope").sign();
    assert!(everywhere.verify_access(&writer).await.is_ok());
    assert!(
        plain
            .verify_as::<AccessClaims>(&writer, &rule)
            .await
            .is_ok()
    );
    for token in [&reader, &prefix, &no_scope] {
        let error = err(everywhere.verify(token).await);
        assert_eq!(error.kind(), ErrorKind::MissingScope);
        assert!(error.is_forbidden());
        assert_eq!(
            kind(plain.verify_as::<AccessClaims>(token, &rule).await),
            ErrorKind::MissingScope
        );
    }
}

#[tokio::test]
async fn custom_checks_run_on_verified_claims() {
    #[derive(Deserialize)]
    struct Tenant {
        #[serde(rename = "custom:tenant")]
        tenant: Option<String>,
    }
    let issuer = TestIssuer::start().await;
    let acme_only = TokenRequirements::new().custom_check(|c: &Tenant| match c.tenant.as_deref() {
        Some("acme") => Ok(()),
        _ => Err("tenant suspended".into()),
    });
    let everywhere = issuer
        .verifier_builder()
        .require(acme_only.clone())
        .build()
        .await
        .unwrap();
    let plain = verifier(&issuer).await;

    let acme = issuer.id_token().custom("tenant", "acme").sign();
    let globex = issuer.id_token().custom("tenant", "globex").sign();
    assert!(everywhere.verify_id(&acme).await.is_ok());
    assert!(plain.verify_as::<IdClaims>(&acme, &acme_only).await.is_ok());
    for error in [
        err(everywhere.verify_id(&globex).await),
        err(plain.verify_as::<IdClaims>(&globex, &acme_only).await),
    ] {
        assert_eq!(error.kind(), ErrorKind::CustomCheck);
        assert!(!error.is_forbidden());
        assert!(error.to_string().contains("tenant suspended"), "{error}");
    }
    // A check runs only on tokens that passed every earlier check.
    let expired = issuer
        .id_token()
        .custom("tenant", "globex")
        .expired()
        .sign();
    assert_eq!(kind(everywhere.verify(&expired).await), ErrorKind::Expired);
}

#[tokio::test]
async fn verified_claims_are_kept_only_after_the_signature() {
    let issuer = TestIssuer::start().await;
    let verifier = issuer
        .verifier_builder()
        .require(TokenRequirements::new().any_scope(["orders/read"]))
        .build()
        .await
        .unwrap();
    let sub = "3f1c9a2e-verified-sub";

    let after_signature = [
        issuer
            .access_token()
            .sub(sub)
            .scopes(["orders/read"])
            .expired(),
        issuer
            .access_token()
            .sub(sub)
            .scopes(["orders/read"])
            .without("token_use"),
        issuer
            .access_token()
            .sub(sub)
            .scopes(["orders/read"])
            .client_id("x"),
        issuer
            .access_token()
            .sub(sub)
            .scopes(["orders/read"])
            .claim("token_use", "ID"),
        issuer.access_token().sub(sub).scopes(["orders/write"]),
    ];
    for token in after_signature {
        let error = err(verifier.verify(&token.sign()).await);
        let json = error.verified_claims_json().expect("claims were verified");
        assert!(json.contains(sub), "{json}");
        assert_eq!(error.verified_claims().unwrap()["sub"], sub);
    }

    let impostor = SigningKey::generate_with_kid(issuer.signing_key().kid());
    let before_signature = [
        issuer.access_token().sub(sub).signed_with(&impostor).sign(),
        issuer.access_token().sub(sub).header("alg", "HS256").sign(),
        issuer
            .access_token()
            .sub(sub)
            .header("kid", "unknown")
            .sign(),
        issuer
            .access_token()
            .sub(sub)
            .issuer("https://evil.example.com")
            .sign(),
    ];
    for token in before_signature {
        let error = err(verifier.verify(&token).await);
        assert_eq!(error.verified_claims_json(), None, "{:?}", error.kind());
        assert_eq!(error.verified_claims(), None);
        assert!(!format!("{error:?}").contains(sub));
    }
}

#[tokio::test]
async fn id_claims_are_typed() {
    let issuer = TestIssuer::start().await;
    let verifier = verifier(&issuer).await;
    let token = issuer
        .id_token()
        .sub("sub-1")
        .username("alice")
        .groups(["admins", "readers"])
        .email("alice@example.com")
        .claim("email_verified", "true")
        .custom("tenant", "acme")
        .claim("locale", "en")
        .sign();
    let claims = verifier.verify_id(&token).await.unwrap();
    assert_eq!(claims.sub, "sub-1");
    assert_eq!(claims.username, "alice");
    assert_eq!(claims.aud, issuer.client_id());
    assert_eq!(claims.token_use, TokenUse::Id);
    let groups: BTreeSet<&str> = claims.groups.iter().map(String::as_str).collect();
    assert_eq!(groups, BTreeSet::from(["admins", "readers"]));
    assert!(claims.in_group("admins") && !claims.in_group("writers"));
    assert_eq!(claims.email.as_deref(), Some("alice@example.com"));
    assert_eq!(claims.email_verified, Some(true));
    assert_eq!(
        claims.custom.get("tenant").map(String::as_str),
        Some("acme")
    );
    assert_eq!(claims.extra["locale"], "en");

    let boolean = issuer.id_token().claim("email_verified", false).sign();
    let claims = verifier.verify_id(&boolean).await.unwrap();
    assert_eq!(claims.email_verified, Some(false));
    assert!(claims.groups.is_empty());
    // A verified ID token that does not fit `IdClaims` is refused, with its claims kept.
    let no_username = issuer.id_token().without("cognito:username").sign();
    let error = err(verifier.verify_id(&no_username).await);
    assert_eq!(error.kind(), ErrorKind::InvalidClaims);
    assert!(error.verified_claims_json().is_some());
}

#[tokio::test]
async fn access_claims_are_typed() {
    let issuer = TestIssuer::start().await;
    let verifier = verifier(&issuer).await;
    let token = issuer
        .access_token()
        .username("bob")
        .scopes(["orders/read", "orders/write", "orders/read"])
        .groups(["ops"])
        .sign();
    let claims = verifier.verify_access(&token).await.unwrap();
    assert_eq!(claims.username.as_deref(), Some("bob"));
    assert_eq!(
        claims.scope,
        BTreeSet::from(["orders/read".to_owned(), "orders/write".to_owned()])
    );
    assert!(claims.has_scope("orders/write") && !claims.has_scope("orders"));
    assert_eq!(claims.groups, ["ops"]);
    assert_eq!(claims.client_id, issuer.client_id());
    assert_eq!(claims.version, Some(2));
    assert!(!claims.is_machine_to_machine());
}

#[tokio::test]
async fn machine_to_machine_tokens_verify() {
    let issuer = TestIssuer::start().await;
    let verifier = CognitoVerifier::builder()
        .user_pool(issuer.user_pool())
        .token_use(TokenUse::Access)
        .require(TokenRequirements::new().any_scope(["default-m2m-resource-server/read"]))
        .build()
        .await
        .unwrap();
    let token = issuer.machine_token().sign();
    let claims = verifier.verify_access(&token).await.unwrap();
    assert!(claims.is_machine_to_machine());
    assert_eq!(claims.sub, issuer.client_id());
    assert_eq!(claims.username, None);
    assert!(claims.groups.is_empty());
    assert_eq!(claims.origin_jti, None);
    let any = verifier.verify(&token).await.unwrap();
    assert_eq!(any.username(), None);
    assert_eq!(any.sub(), issuer.client_id());
    // Group rules cannot be met without a user.
    let groups = TokenRequirements::new().any_group(["admins"]);
    assert_eq!(
        kind(verifier.verify_as::<AccessClaims>(&token, &groups).await),
        ErrorKind::MissingGroup
    );
}

#[tokio::test]
async fn callers_read_claims_into_their_own_type() {
    #[derive(Debug, Deserialize)]
    struct MyClaims {
        sub: String,
        #[serde(rename = "custom:tenant")]
        tenant: String,
        #[serde(rename = "cognito:groups", default)]
        groups: Vec<String>,
        exp: i64,
    }
    let issuer = TestIssuer::start().await;
    let verifier = verifier(&issuer).await;
    let token = issuer
        .id_token()
        .sub("sub-7")
        .custom("tenant", "acme")
        .groups(["admins"])
        .sign();
    let rules = TokenRequirements::new().token_use(TokenUse::Id);
    let mine: MyClaims = verifier.verify_as(&token, &rules).await.unwrap();
    assert_eq!(mine.sub, "sub-7");
    assert_eq!(mine.tenant, "acme");
    assert_eq!(mine.groups, ["admins"]);
    assert!(mine.exp > now());

    let untenanted = issuer.id_token().sign();
    let error = err(verifier.verify_as::<MyClaims>(&untenanted, &rules).await);
    assert_eq!(error.kind(), ErrorKind::InvalidClaims);
    assert!(error.verified_claims_json().is_some());
    // The type is read only after every check.
    let expired = issuer.id_token().custom("tenant", "acme").expired().sign();
    assert_eq!(
        kind(verifier.verify_as::<MyClaims>(&expired, &rules).await),
        ErrorKind::Expired
    );
}

#[tokio::test]
async fn verify_returns_either_token_claims() {
    let issuer = TestIssuer::start().await;
    let verifier = verifier(&issuer).await;
    let id = verifier
        .verify(&issuer.id_token().username("carol").sign())
        .await
        .unwrap();
    assert!(matches!(&id, TokenClaims::Id(c) if c.username == "carol"));
    assert_eq!(id.token_use(), TokenUse::Id);
    assert_eq!(id.username(), Some("carol"));
    assert_eq!(id.client_id(), issuer.client_id());
    let access = verifier
        .verify(&issuer.access_token().username("dave").groups(["g"]).sign())
        .await
        .unwrap();
    assert!(matches!(&access, TokenClaims::Access(c) if c.username.as_deref() == Some("dave")));
    assert_eq!(access.token_use(), TokenUse::Access);
    assert_eq!(access.groups(), ["g"]);
    assert!(access.exp() > now());
}

#[tokio::test]
async fn several_pools_each_verify_only_their_own_tokens() {
    let (a, b) = tokio::join!(
        TestIssuer::start_with("us-east-1_PoolA1", "client-a"),
        TestIssuer::start_with("eu-west-1_PoolB2", "client-b"),
    );
    // Pool A also publishes a key under pool B's key id, and B has a second key.
    a.publish(SigningKey::generate_with_kid(b.signing_key().kid()));
    let b_extra = b.add_key();
    let verifier = CognitoVerifier::builder()
        .user_pool(a.user_pool())
        .user_pool(b.user_pool())
        .any_token_use()
        .unknown_kid_cooldown(Duration::from_nanos(1))
        .build()
        .await
        .unwrap();

    let from_a = verifier
        .verify_access(&a.access_token().sign())
        .await
        .unwrap();
    assert_eq!(from_a.iss, a.issuer());
    let from_b = verifier.verify_id(&b.id_token().sign()).await.unwrap();
    assert_eq!(from_b.iss, b.issuer());
    assert!(
        verifier
            .verify(&b.access_token().issuer(&b.updated_issuer()).sign())
            .await
            .is_ok()
    );

    let (requests_a, requests_b) = (a.jwks_requests(), b.jwks_requests());
    // Names pool A, signed with a key only pool B publishes: unknown in A, B is not asked.
    let crossed = a.access_token().signed_with(&b_extra).sign();
    assert_eq!(
        kind(verifier.verify(&crossed).await),
        ErrorKind::UnknownKeyId
    );
    assert_eq!(a.jwks_requests(), requests_a + 1);
    assert_eq!(b.jwks_requests(), requests_b);
    // Names pool A, signed with B's key whose kid A also publishes (another key).
    let same_kid = a.access_token().signed_with(&b.signing_key()).sign();
    assert_eq!(
        kind(verifier.verify(&same_kid).await),
        ErrorKind::InvalidSignature
    );
    // Each pool keeps its own clients.
    let wrong_client = b.access_token().client_id(a.client_id()).sign();
    assert_eq!(
        kind(verifier.verify(&wrong_client).await),
        ErrorKind::InvalidClientId
    );

    let status = verifier.status();
    assert!(status.usable);
    let ids: Vec<&str> = status
        .pools
        .iter()
        .map(|p| p.user_pool_id.as_str())
        .collect();
    assert_eq!(ids, [a.pool_id(), b.pool_id()]);
    assert_eq!(status.pools[0].keys_loaded, 2);
    assert_eq!(status.pools[1].keys_loaded, 2);
}

#[tokio::test]
async fn an_in_memory_jwks_needs_no_server() {
    let issuer = TestIssuer::start().await;
    let jwks = issuer.jwks_json();
    issuer.stop().await;
    let verifier = CognitoVerifier::builder()
        .user_pool(
            UserPool::new(issuer.pool_id())
                .client_id(issuer.client_id())
                .jwks_json(jwks),
        )
        .token_use(TokenUse::Id)
        .unknown_kid_cooldown(Duration::from_nanos(1))
        .build()
        .await
        .unwrap();
    let claims = verifier.verify_id(&issuer.id_token().sign()).await.unwrap();
    assert_eq!(claims.username, "test-user");
    assert!(verifier.verify_sync(&issuer.id_token().sign()).is_ok());
    let unknown = issuer.id_token().header("kid", "unknown").sign();
    assert_eq!(
        kind(verifier.verify(&unknown).await),
        ErrorKind::UnknownKeyId
    );
    assert!(verifier.refresh().await.is_ok());
    assert_eq!(issuer.jwks_requests(), 0);
    let status = verifier.status();
    assert!(status.usable);
    assert_eq!(status.pools[0].jwks_url, None);
    assert_eq!(status.pools[0].key_ids, issuer.published_kids());
}

#[tokio::test]
async fn messages_read_like_cognitojwt() {
    let issuer = TestIssuer::start().await;
    let verifier = verifier(&issuer).await;
    let impostor = SigningKey::generate_with_kid(issuer.signing_key().kid());
    let cases = [
        (issuer.id_token().expired(), "Token is expired"),
        (
            issuer.id_token().signed_with(&impostor),
            "Invalid signature",
        ),
        (issuer.id_token().client_id("other"), "Invalid 'aud' claim"),
        (
            issuer.id_token().issuer("https://example.com"),
            "Invalid 'iss' claim",
        ),
        (issuer.id_token().without("sub"), "Missing 'sub' claim"),
    ];
    for (token, message) in cases {
        let error = err(verifier.verify(&token.sign()).await);
        assert_eq!(error.to_string(), message);
        assert_eq!(error.kind().to_string(), error.kind().description());
    }
}
