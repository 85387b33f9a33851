//! Starting without waiting on the network: a key set bundled with the program, refreshed
//! from the pool's URL afterwards; `build_lazy`'s first requests waiting for the first set; a
//! key client handed in.

use std::time::{Duration, Instant};

use axum_cognito::{
    CognitoVerifier, CognitoVerifierBuilder, ErrorKind,
    test_util::{JwksFault, TestIssuer},
};

/// A builder for `issuer`'s pool, starting with `bundle`.
fn bundled(issuer: &TestIssuer, bundle: String) -> CognitoVerifierBuilder {
    let pool = issuer.user_pool().initial_jwks(bundle);
    CognitoVerifier::builder().user_pool(pool).any_token_use()
}

/// The bundled keys serve at once (no fetch at build), a `kid` they lack refetches, and the
/// background refresh reads the URL after the refresh interval.
#[tokio::test]
async fn bundled_keys_serve_at_once_and_are_refreshed_from_the_url() {
    let issuer = TestIssuer::start().await;
    let bundle = issuer.jwks_json();
    let verifier = bundled(&issuer, bundle)
        .refresh_interval(Duration::from_millis(300))
        .min_refresh_interval(Duration::from_millis(100))
        .build()
        .await
        .unwrap();
    assert!(verifier.verify(&issuer.id_token().sign()).await.is_ok());
    assert_eq!(
        issuer.jwks_requests(),
        0,
        "nothing fetched before the first request"
    );

    // Keys rotated since the bundle: the unknown `kid` refetches.
    issuer.rotate();
    assert!(verifier.verify(&issuer.id_token().sign()).await.is_ok());
    let after_refetch = issuer.jwks_requests();
    assert_eq!(after_refetch, 1);

    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(
        issuer.jwks_requests() > after_refetch,
        "refreshed in the background"
    );
}

/// A failing refresh keeps the bundled keys until `max_staleness`, then they are unavailable.
#[tokio::test]
async fn a_failing_refresh_keeps_the_bundled_keys_until_max_staleness() {
    let issuer = TestIssuer::start().await;
    issuer.set_fault(Some(JwksFault::Status(500)));
    let verifier = bundled(&issuer, issuer.jwks_json())
        .refresh_interval(Duration::from_millis(200))
        .min_refresh_interval(Duration::from_millis(100))
        .retry_backoff(Duration::from_millis(100), Duration::from_millis(200))
        .max_staleness(Some(Duration::from_millis(1500)))
        .build()
        .await
        .unwrap();
    let token = issuer.id_token().sign();
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(issuer.jwks_requests() >= 1, "refreshes were tried");
    assert!(
        verifier.verify(&token).await.is_ok(),
        "kept while fresh enough"
    );
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let error = verifier.verify(&token).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::KeysUnavailable);
}

/// A bundled document that is not a key set is a configuration error.
#[tokio::test]
async fn a_bundled_document_that_is_no_key_set_is_refused() {
    let issuer = TestIssuer::start().await;
    let built = bundled(&issuer, "{\"keys\": 1}".into()).build().await;
    assert!(matches!(
        built,
        Err(axum_cognito::ConfigError::InvalidJwks { .. })
    ));
    let missing = issuer
        .user_pool()
        .initial_jwks_file("/nonexistent/jwks.json");
    assert!(missing.is_err());
}

/// `build_lazy`: a request before the first key set waits for it instead of a 503; when the
/// key endpoint does not answer, it waits at most the fetch timeout.
#[tokio::test]
async fn build_lazy_waits_for_the_first_key_set_within_the_fetch_timeout() {
    let issuer = TestIssuer::start().await;
    let verifier = issuer.verifier_builder().build_lazy().unwrap();
    // Before the background task has run at all (a single-threaded test runtime).
    assert!(verifier.verify(&issuer.id_token().sign()).await.is_ok());

    let silent = TestIssuer::start().await;
    silent.set_fault(Some(JwksFault::Hang));
    let verifier = silent
        .verifier_builder()
        .fetch_timeout(Duration::from_millis(300))
        .build_lazy()
        .unwrap();
    let started = Instant::now();
    let error = verifier
        .verify(&silent.id_token().sign())
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::KeysUnavailable);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    // The synchronous twin never waits: unavailable, not an unknown key.
    let error = verifier.verify_sync(&silent.id_token().sign()).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::KeysUnavailable);
}

/// A client handed in fetches the keys: here the only one that can resolve the URL's host.
#[tokio::test]
async fn a_handed_in_http_client_fetches_the_keys() {
    let issuer = TestIssuer::start().await;
    let url = issuer.jwks_url().replace("127.0.0.1", "keys.test");
    let client = reqwest::Client::builder()
        .resolve("keys.test", issuer.addr())
        .no_proxy()
        .build()
        .unwrap();
    let pool = || issuer.user_pool().jwks_url(url.clone());
    let build = |client: Option<reqwest::Client>| {
        let builder = CognitoVerifier::builder()
            .user_pool(pool())
            .any_token_use()
            .allow_plain_http_jwks()
            .fetch_timeout(Duration::from_secs(2));
        match client {
            Some(client) => builder.http_client(client).build(),
            None => builder.build(),
        }
    };
    let verifier = build(Some(client)).await.unwrap();
    assert!(verifier.verify(&issuer.id_token().sign()).await.is_ok());
    assert!(
        build(None).await.is_err(),
        "the crate's own client cannot resolve keys.test"
    );
}
