//! `CognitoVerifier::builder()` configuration mistakes: each is refused by `build()` or
//! `build_lazy()` with its own `ConfigError`, before any key is fetched. Failures of the first
//! fetch are in `tests/key_store.rs` and `tests/failing_jwks.rs`.

use std::time::Duration;

use axum_cognito::{CognitoVerifier, ConfigError, UserPool, test_util::TestIssuer};

#[tokio::test]
async fn client_ids_and_token_use_must_be_chosen() {
    let issuer = TestIssuer::start().await;
    let pool = || UserPool::new(issuer.pool_id()).jwks_url(issuer.jwks_url());
    let requests = issuer.jwks_requests();
    let unset = CognitoVerifier::builder()
        .user_pool(pool())
        .any_token_use()
        .build()
        .await;
    assert!(
        matches!(&unset, Err(ConfigError::ClientIdsNotSet(id)) if id == issuer.pool_id()),
        "{unset:?}"
    );
    let empty = CognitoVerifier::builder()
        .user_pool(pool().client_id(""))
        .any_token_use()
        .build()
        .await;
    assert!(matches!(empty, Err(ConfigError::ClientIdsNotSet(_))));
    let no_use = CognitoVerifier::builder()
        .user_pool(issuer.user_pool())
        .build()
        .await;
    assert!(matches!(no_use, Err(ConfigError::TokenUseNotSet)));
    assert_eq!(issuer.jwks_requests(), requests, "refused before any fetch");
}

#[test]
fn build_lazy_needs_a_runtime() {
    let result = CognitoVerifier::builder()
        .user_pool(UserPool::new("us-east-1_TestPool01").client_id("c"))
        .any_token_use()
        .build_lazy();
    assert!(matches!(result, Err(ConfigError::NoRuntime)));
}

#[tokio::test]
async fn an_unusable_in_memory_jwks_fails_the_build() {
    for bad in ["{", r#"{"keys":[]}"#] {
        let built = CognitoVerifier::builder()
            .user_pool(
                UserPool::new("us-east-1_TestPool01")
                    .client_id("c")
                    .jwks_json(bad),
            )
            .any_token_use()
            .build()
            .await;
        assert!(
            matches!(built, Err(ConfigError::InvalidJwks { .. })),
            "{bad}"
        );
    }
}

#[tokio::test]
async fn pools_must_be_given_valid_and_once() {
    let issuer = TestIssuer::start().await;
    let requests = issuer.jwks_requests();
    let none = CognitoVerifier::builder()
        .any_client()
        .any_token_use()
        .build()
        .await;
    assert!(matches!(none, Err(ConfigError::NoUserPool)), "{none:?}");
    for bad in ["", "eu-west-1", "EU_abc", "eu-west-1_a/b", "eu-west-1_../x"] {
        let result = CognitoVerifier::builder()
            .user_pool(UserPool::new(bad).jwks_url(issuer.jwks_url()))
            .any_client()
            .any_token_use()
            .build()
            .await;
        assert!(
            matches!(&result, Err(ConfigError::InvalidUserPoolId(id)) if id == bad),
            "{bad:?}: {result:?}"
        );
    }
    let twice = CognitoVerifier::builder()
        .user_pool(issuer.user_pool())
        .user_pool(issuer.user_pool())
        .any_token_use()
        .build()
        .await;
    assert!(
        matches!(&twice, Err(ConfigError::DuplicateUserPool(id)) if id == issuer.pool_id()),
        "{twice:?}"
    );
    assert_eq!(issuer.jwks_requests(), requests, "refused before any fetch");
}

#[tokio::test]
async fn a_jwks_url_must_be_absolute_http() {
    for url in [
        "",
        "not a url",
        "ftp://127.0.0.1/jwks.json",
        "file:///etc/passwd",
        "/jwks.json",
    ] {
        let result = CognitoVerifier::builder()
            .user_pool(UserPool::new("us-east-1_TestPool01").jwks_url(url))
            .any_client()
            .any_token_use()
            .build()
            .await;
        assert!(
            matches!(&result, Err(ConfigError::InvalidJwksUrl { url: u, .. }) if u == url),
            "{url:?}: {result:?}"
        );
    }
}

#[tokio::test]
async fn settings_out_of_range_are_refused() {
    let issuer = TestIssuer::start().await;
    let requests = issuer.jwks_requests();
    let zero = std::time::Duration::ZERO;
    let builders = [
        (
            "fetch_timeout",
            issuer.verifier_builder().fetch_timeout(zero),
        ),
        (
            "refresh_interval",
            issuer.verifier_builder().refresh_interval(zero),
        ),
        (
            "first retry",
            issuer
                .verifier_builder()
                .retry_backoff(zero, std::time::Duration::from_secs(1)),
        ),
        (
            "max_token_bytes",
            issuer.verifier_builder().max_token_bytes(0),
        ),
        (
            "max_jwks_bytes",
            issuer.verifier_builder().max_jwks_bytes(0),
        ),
    ];
    for (setting, builder) in builders {
        let result = builder.build().await;
        assert!(
            matches!(result, Err(ConfigError::InvalidSetting(_))),
            "{setting}: {result:?}"
        );
    }
    assert_eq!(issuer.jwks_requests(), requests, "refused before any fetch");
}

#[tokio::test]
async fn settings_that_would_silently_misbehave_are_refused() {
    let issuer = TestIssuer::start().await;
    let requests = issuer.jwks_requests();
    // Keys would go stale between two refreshes: 503 for most of every interval.
    for staleness in [
        Duration::ZERO,
        Duration::from_secs(599),
        Duration::from_secs(600),
    ] {
        let result = issuer
            .verifier_builder()
            .max_staleness(Some(staleness))
            .build()
            .await;
        assert!(
            matches!(result, Err(ConfigError::InvalidSetting(_))),
            "{staleness:?}: {result:?}"
        );
    }
    let longer = issuer
        .verifier_builder()
        .max_staleness(Some(Duration::from_secs(601)))
        .build()
        .await;
    assert!(longer.is_ok(), "{longer:?}");
    // A pool's own clients replace the builder's: naming both is refused.
    let both = CognitoVerifier::builder()
        .user_pool(issuer.user_pool())
        .client_id("another-app")
        .any_token_use()
        .build()
        .await;
    assert!(
        matches!(&both, Err(ConfigError::ClientIdsIgnored(id)) if id == issuer.pool_id()),
        "{both:?}"
    );
    assert_eq!(
        issuer.jwks_requests(),
        requests + 1,
        "only the valid one fetched"
    );
}
