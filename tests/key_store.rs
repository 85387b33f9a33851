//! The self-refreshing JWKS key store behind `CognitoVerifier`, over real HTTP on 127.0.0.1: the
//! first fetch, lazy start, rotation, removal, outages, malformed answers, staleness,
//! single-flight refetch, the unknown-kid cooldown, fetch timeouts, `Cache-Control`, retry
//! backoff, the network-free `verify_sync`, the background task's end, and the status snapshot.

mod common;

use std::{
    sync::Arc,
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use axum_cognito::{
    AccessClaims, CognitoVerifierBuilder, ConfigError, Error, ErrorKind, JwksError,
    TokenRequirements, TokenUse,
    test_util::{JwksFault, SigningKey, TestIssuer},
};
use common::{err, eventually, kind, pool_status};
use tokio::task::JoinSet;

fn builder(issuer: &TestIssuer) -> CognitoVerifierBuilder {
    issuer.verifier_builder().token_use(TokenUse::Access)
}

/// The fetch error behind a `KeysUnavailable` error.
fn jwks_source(error: &Error) -> &JwksError {
    std::error::Error::source(error)
        .and_then(|source| source.downcast_ref::<JwksError>())
        .expect("a JWKS error as the source")
}

/// A count read the same five times in a row, 20 ms apart (within 3 s).
async fn settled(count: impl Fn() -> usize) -> usize {
    let deadline = Instant::now() + Duration::from_secs(3);
    let (mut last, mut same) = (count(), 0);
    while same < 5 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
        let now = count();
        same = if now == last { same + 1 } else { 0 };
        last = now;
    }
    last
}

#[tokio::test]
async fn build_fails_when_the_first_fetch_fails() {
    let issuer = TestIssuer::start().await;
    issuer.stop().await;
    match builder(&issuer).build().await {
        Err(ConfigError::InitialFetch { pool, source }) => {
            assert_eq!(pool, issuer.pool_id());
            assert!(matches!(source, JwksError::Request(_)), "{source}");
        }
        other => panic!("expected InitialFetch, got {other:?}"),
    }

    issuer.restart().await;
    issuer.set_fault(Some(JwksFault::Status(503)));
    let built = builder(&issuer).build().await;
    assert!(
        matches!(
            &built,
            Err(ConfigError::InitialFetch {
                source: JwksError::Status(503),
                ..
            })
        ),
        "{built:?}"
    );
    issuer.set_fault(Some(JwksFault::Hang));
    let started = Instant::now();
    let built = builder(&issuer)
        .fetch_timeout(Duration::from_millis(300))
        .build()
        .await;
    assert!(
        matches!(
            &built,
            Err(ConfigError::InitialFetch {
                source: JwksError::Timeout(_),
                ..
            })
        ),
        "{built:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(2));

    issuer.set_fault(None);
    let verifier = builder(&issuer).build().await.unwrap();
    assert!(verifier.verify(&issuer.access_token().sign()).await.is_ok());
}

#[tokio::test]
async fn a_lazy_verifier_is_unavailable_until_its_keys_load() {
    let issuer = TestIssuer::start().await;
    issuer.stop().await;
    let verifier = builder(&issuer)
        .retry_backoff(Duration::from_millis(50), Duration::from_millis(200))
        .build_lazy()
        .expect("a lazy build needs no keys");
    let token = issuer.access_token().sign();

    let error = err(verifier.verify(&token).await);
    assert_eq!(error.kind(), ErrorKind::KeysUnavailable);
    assert!(error.is_unavailable());
    let retry_after = error.retry_after().expect("a retry hint");
    assert!(retry_after >= Duration::from_secs(1) && retry_after <= Duration::from_secs(60));
    // Never loaded: the network-free path has nothing to verify with either.
    let error = err(verifier.verify_sync(&token));
    assert!(error.is_unavailable());
    assert!(error.retry_after().is_some());
    assert!(!verifier.is_usable());
    assert_eq!(pool_status(&verifier).keys_loaded, 0);
    // The background task keeps trying while the endpoint is down.
    assert!(
        eventually(Duration::from_secs(3), async || pool_status(&verifier)
            .consecutive_failures
            >= 2)
        .await
    );
    assert!(err(verifier.verify(&token).await).is_unavailable());

    issuer.restart().await;
    assert!(
        eventually(Duration::from_secs(3), async || verifier
            .verify(&token)
            .await
            .is_ok())
        .await,
        "keys load once the endpoint is back: {:?}",
        verifier.status()
    );
    assert!(verifier.is_usable());
    assert!(verifier.verify_sync(&token).is_ok());
    assert_eq!(pool_status(&verifier).consecutive_failures, 0);
}

#[tokio::test]
async fn a_rotated_key_is_found_by_one_refetch() {
    let issuer = TestIssuer::start().await;
    let verifier = builder(&issuer)
        .unknown_kid_cooldown(Duration::from_nanos(1))
        .build()
        .await
        .unwrap();
    let old = issuer.access_token().sign();
    assert!(verifier.verify(&old).await.is_ok());
    let requests = issuer.jwks_requests();

    let new_kid = issuer.rotate();
    let new = issuer.access_token().sign();
    let claims = verifier.verify_access(&new).await.unwrap();
    assert_eq!(claims.client_id, issuer.client_id());
    assert_eq!(issuer.jwks_requests(), requests + 1, "exactly one refetch");
    assert!(verifier.verify(&new).await.is_ok());
    assert!(verifier.verify(&old).await.is_ok());
    assert_eq!(
        issuer.jwks_requests(),
        requests + 1,
        "known kids fetch nothing"
    );
    assert!(pool_status(&verifier).key_ids.contains(&new_kid));
}

#[tokio::test]
async fn a_removed_key_fails_after_a_forced_refresh() {
    let issuer = TestIssuer::start().await;
    let old_kid = issuer.signing_key().kid().to_owned();
    let old = issuer.access_token().sign();
    let new_kid = issuer.rotate();
    let new = issuer.access_token().sign();
    let verifier = builder(&issuer).build().await.unwrap();
    assert!(verifier.verify(&old).await.is_ok());
    assert!(verifier.verify(&new).await.is_ok());

    assert!(issuer.remove_key(&old_kid));
    assert!(verifier.verify(&old).await.is_ok(), "not refreshed yet");
    verifier.refresh().await.unwrap();
    assert_eq!(kind(verifier.verify(&old).await), ErrorKind::UnknownKeyId);
    assert_eq!(kind(verifier.verify_sync(&old)), ErrorKind::UnknownKeyId);
    assert!(verifier.verify(&new).await.is_ok());
    assert_eq!(pool_status(&verifier).key_ids, [new_kid]);
}

#[tokio::test]
async fn a_removed_key_fails_after_a_background_refresh() {
    let issuer = TestIssuer::start().await;
    let old_kid = issuer.signing_key().kid().to_owned();
    let old = issuer.access_token().sign();
    let new_kid = issuer.rotate();
    let new = issuer.access_token().sign();
    // Only the refresh interval is set: it bounds how long a removed key stays trusted.
    let verifier = builder(&issuer)
        .refresh_interval(Duration::from_millis(300))
        .build()
        .await
        .unwrap();
    assert!(verifier.verify(&old).await.is_ok());

    assert!(issuer.remove_key(&old_kid));
    let removed = Instant::now();
    assert!(
        eventually(Duration::from_secs(5), async || pool_status(&verifier)
            .key_ids
            == [new_kid.clone()])
        .await,
        "the background refresh drops the removed key: {:?}",
        verifier.status()
    );
    assert!(removed.elapsed() < Duration::from_secs(2));
    assert_eq!(kind(verifier.verify(&old).await), ErrorKind::UnknownKeyId);
    assert!(verifier.verify(&new).await.is_ok());
}

#[tokio::test]
async fn an_outage_keeps_the_last_good_keys() {
    let issuer = TestIssuer::start().await;
    let verifier = builder(&issuer).build().await.unwrap();
    let token = issuer.access_token().sign();
    assert!(verifier.verify(&token).await.is_ok());

    issuer.stop().await;
    let error = verifier.refresh().await.expect_err("the endpoint is down");
    assert_eq!(error.kind(), ErrorKind::KeysUnavailable);
    assert!(error.is_unavailable());
    assert!(error.retry_after().is_some());
    assert!(matches!(jwks_source(&error), JwksError::Request(_)));

    assert!(verifier.verify(&token).await.is_ok(), "last good keys kept");
    assert!(verifier.verify_sync(&token).is_ok());
    let status = pool_status(&verifier);
    assert!(status.usable);
    assert_eq!(status.keys_loaded, 1);
    assert!(status.consecutive_failures >= 1);
    assert!(
        status
            .last_error
            .as_deref()
            .unwrap()
            .contains("request failed")
    );
    assert!(status.last_error_at.is_some());
    assert!(verifier.status().usable);
    // An unknown kid cannot be checked while the refetch fails: the server's fault.
    let unknown = issuer.access_token().header("kid", "unknown").sign();
    assert!(err(verifier.verify(&unknown).await).is_unavailable());

    issuer.restart().await;
    verifier.refresh().await.unwrap();
    let status = pool_status(&verifier);
    assert_eq!(status.consecutive_failures, 0);
    assert!(status.last_error.is_some(), "the last error stays visible");
    assert!(verifier.verify(&token).await.is_ok());
}

#[tokio::test]
async fn a_malformed_refresh_keeps_the_last_good_keys() {
    let issuer = TestIssuer::start().await;
    let verifier = builder(&issuer).max_jwks_bytes(4096).build().await.unwrap();
    let token = issuer.access_token().sign();
    let kids = issuer.published_kids();
    let ec_only = r#"{"keys":[{"kid":"ec","kty":"EC","crv":"P-256","x":"AA","y":"AA"}]}"#;
    let faults = [
        (JwksFault::Body("{".into()), "JWKS is not valid"),
        (
            JwksFault::Body("<html>oops</html>".into()),
            "JWKS is not valid",
        ),
        (JwksFault::Status(500), "HTTP 500"),
        (JwksFault::Status(404), "HTTP 404"),
        (
            JwksFault::Body(r#"{"keys":[]}"#.into()),
            "no usable RS256 key",
        ),
        (
            JwksFault::Body(ec_only.into()),
            "no usable RS256 key (1 skipped)",
        ),
        (JwksFault::Body(" ".repeat(5000)), "exceeds 4096 bytes"),
    ];
    for (fault, message) in faults {
        issuer.set_fault(Some(fault.clone()));
        let error = verifier.refresh().await.expect_err("a bad answer");
        assert!(error.is_unavailable(), "{fault:?}");
        assert!(
            jwks_source(&error).to_string().contains(message),
            "{fault:?}: {error:?}"
        );
        assert!(verifier.verify(&token).await.is_ok(), "{fault:?}");
        let status = pool_status(&verifier);
        assert!(status.usable);
        assert_eq!(status.key_ids, kids);
        let last_error = status.last_error.unwrap();
        assert!(last_error.contains(message), "{fault:?}: {last_error}");
    }
    assert_eq!(pool_status(&verifier).consecutive_failures, 7);

    issuer.set_fault(None);
    verifier.refresh().await.unwrap();
    assert_eq!(pool_status(&verifier).consecutive_failures, 0);
}

#[tokio::test]
async fn stale_keys_are_not_trusted() {
    let issuer = TestIssuer::start().await;
    let staleness = Duration::from_millis(1500);
    let started = Instant::now();
    let verifier = builder(&issuer)
        .max_staleness(Some(staleness))
        .refresh_interval(Duration::from_secs(1))
        .build()
        .await
        .unwrap();
    let token = issuer.access_token().sign();
    assert!(verifier.verify(&token).await.is_ok());
    issuer.stop().await;

    assert!(
        eventually(Duration::from_secs(5), async || verifier
            .verify(&token)
            .await
            .is_err())
        .await
    );
    assert!(started.elapsed() >= staleness, "stale too early");
    let error = err(verifier.verify(&token).await);
    assert_eq!(error.kind(), ErrorKind::KeysUnavailable);
    assert!(error.retry_after().is_some());
    assert!(err(verifier.verify_sync(&token)).is_unavailable());
    let status = pool_status(&verifier);
    assert!(!status.usable);
    assert_eq!(status.keys_loaded, 1, "kept, but not trusted");
    assert!(!verifier.is_usable());

    assert!(verifier.refresh().await.is_err(), "still down");
    assert!(!verifier.is_usable());
    issuer.restart().await;
    verifier.refresh().await.unwrap();
    assert!(verifier.is_usable());
    assert!(verifier.verify(&token).await.is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_verifications_of_a_new_key_share_one_fetch() {
    let issuer = TestIssuer::start().await;
    let cooldown = Duration::from_millis(300);
    let verifier = builder(&issuer)
        .unknown_kid_cooldown(cooldown)
        .build()
        .await
        .unwrap();
    let new_kid = issuer.rotate();
    let token: Arc<str> = issuer.access_token().sign().into();
    // The build's fetch starts a cooldown; the new key must be looked up after it.
    tokio::time::sleep(cooldown + Duration::from_millis(50)).await;
    let requests = issuer.jwks_requests();

    let mut tasks = JoinSet::new();
    for _ in 0..10_000 {
        let (verifier, token) = (verifier.clone(), token.clone());
        tasks.spawn(async move { verifier.verify(&token).await.map(|_| ()) });
    }
    let mut failures = Vec::new();
    while let Some(result) = tasks.join_next().await {
        if let Err(error) = result.unwrap() {
            failures.push(error.kind());
        }
    }
    assert!(
        failures.is_empty(),
        "{} failed: {:?}",
        failures.len(),
        &failures[..failures.len().min(5)]
    );
    assert_eq!(issuer.jwks_requests(), requests + 1);
    assert_eq!(pool_status(&verifier).fetches, 2);
    assert!(pool_status(&verifier).key_ids.contains(&new_kid));
}

#[tokio::test]
async fn unknown_kids_fetch_at_most_once_per_cooldown() {
    let issuer = TestIssuer::start().await;
    let cooldown = Duration::from_secs(1);
    let later = SigningKey::generate();
    let verifier = builder(&issuer)
        .unknown_kid_cooldown(cooldown)
        .build()
        .await
        .unwrap();
    // The build's own fetch starts no cooldown: the first unknown kid is looked for.
    let first = issuer.access_token().header("kid", "random").sign();
    assert_eq!(kind(verifier.verify(&first).await), ErrorKind::UnknownKeyId);
    assert_eq!(
        issuer.jwks_requests(),
        2,
        "one refetch for the first unknown kid"
    );
    let fetched = Instant::now();

    let flood: Vec<String> = (0..50)
        .map(|i| {
            issuer
                .access_token()
                .header("kid", format!("random-{i}"))
                .sign()
        })
        .collect();
    let next = issuer.access_token().signed_with(&later).sign();
    issuer.publish(later.clone());
    for token in &flood {
        assert_eq!(kind(verifier.verify(token).await), ErrorKind::UnknownKeyId);
    }
    // Even a key just published waits for the cooldown to end.
    assert_eq!(kind(verifier.verify(&next).await), ErrorKind::UnknownKeyId);
    assert!(
        fetched.elapsed() < cooldown,
        "the flood ran within the cooldown"
    );
    assert_eq!(issuer.jwks_requests(), 2, "no fetch during the cooldown");

    tokio::time::sleep_until((fetched + cooldown).into()).await;
    assert!(verifier.verify(&next).await.is_ok());
    assert_eq!(issuer.jwks_requests(), 3, "exactly one more fetch");
    assert_eq!(
        kind(verifier.verify(&flood[2]).await),
        ErrorKind::UnknownKeyId
    );
    assert_eq!(issuer.jwks_requests(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_endpoint_is_cut_off_by_the_fetch_timeout() {
    let issuer = TestIssuer::start().await;
    let timeout = Duration::from_millis(300);
    let verifier = builder(&issuer)
        .fetch_timeout(timeout)
        .unknown_kid_cooldown(Duration::from_nanos(1))
        .build()
        .await
        .unwrap();
    let old = issuer.access_token().sign();
    issuer.rotate();
    let new = issuer.access_token().sign();
    issuer.set_fault(Some(JwksFault::Hang));
    let requests = issuer.jwks_requests();

    let waiting = {
        let verifier = verifier.clone();
        tokio::spawn(async move {
            let started = Instant::now();
            let result = verifier.verify(&new).await.map(|_| ());
            (result, started.elapsed(), new)
        })
    };
    assert!(
        eventually(Duration::from_secs(2), async || issuer.jwks_requests()
            > requests)
        .await
    );
    // The endpoint hangs; a known key is verified without waiting for it.
    let started = Instant::now();
    assert!(verifier.verify(&old).await.is_ok());
    assert!(started.elapsed() < Duration::from_millis(250));

    let (result, waited, new) = waiting.await.unwrap();
    let error = err(result);
    assert_eq!(error.kind(), ErrorKind::KeysUnavailable);
    assert!(
        matches!(jwks_source(&error), JwksError::Timeout(_)),
        "{error:?}"
    );
    assert!(
        waited >= timeout && waited < Duration::from_secs(2),
        "{waited:?}"
    );
    assert!(
        pool_status(&verifier)
            .last_error
            .unwrap()
            .contains("timed out")
    );

    issuer.set_fault(None);
    // Past the (shortest) unknown-kid cooldown the failed refetch started.
    tokio::time::sleep(Duration::from_millis(5)).await;
    assert!(verifier.verify(&new).await.is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cache_control_max_age_is_honoured_within_bounds() {
    const HOUR: Duration = Duration::from_secs(3600);
    let second = Duration::from_secs(1);
    // (max-age, refresh interval, floor, expected interval)
    let cases = [
        (
            Some("max-age=1"),
            HOUR,
            Duration::from_millis(500),
            Some(second),
        ),
        (Some("public, max-age=0"), HOUR, second, Some(second)),
        (
            Some("max-age=3600"),
            Duration::from_millis(400),
            Duration::from_millis(100),
            Some(Duration::from_millis(400)),
        ),
        (None, HOUR, Duration::from_millis(100), None),
    ];
    let mut running = Vec::new();
    for (max_age, interval, floor, expected) in cases {
        let issuer = TestIssuer::start().await;
        issuer.set_cache_control(max_age);
        let built = Instant::now();
        let verifier = builder(&issuer)
            .refresh_interval(interval)
            .min_refresh_interval(floor)
            .build()
            .await
            .unwrap();
        running.push((issuer, verifier, built, expected));
    }

    let enough = async || {
        running
            .iter()
            .all(|(issuer, _, _, expected)| match expected {
                Some(_) => issuer.jwks_requests() >= 3,
                None => true,
            })
    };
    assert!(eventually(Duration::from_secs(6), enough).await);
    for (issuer, _, built, expected) in &running {
        let requests = issuer.jwks_requests();
        match expected {
            // Up to a tenth of jitter comes off each interval, never more.
            Some(interval) => {
                let allowed =
                    1 + (built.elapsed().as_secs_f64() / (interval.as_secs_f64() * 0.9)) as u64;
                assert!(
                    requests <= allowed,
                    "{requests} requests, at most {allowed} allowed"
                );
            }
            None => assert_eq!(requests, 1, "no header, an hour's interval"),
        }
    }
}

#[tokio::test]
async fn failed_fetches_are_retried_with_backoff() {
    let issuer = TestIssuer::start().await;
    issuer.set_fault(Some(JwksFault::Status(500)));
    let started = Instant::now();
    let verifier = builder(&issuer)
        .retry_backoff(Duration::from_millis(100), Duration::from_millis(400))
        .build_lazy()
        .unwrap();
    // Attempts at 0, 0.1, 0.3, 0.7, 1.1, 1.5 and 1.9 s: doubling, then capped at 400 ms.
    assert!(
        eventually(Duration::from_secs(5), async || pool_status(&verifier)
            .consecutive_failures
            >= 7)
        .await
    );
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(1900),
        "retried too fast: {elapsed:?}"
    );
    assert!(
        elapsed < Duration::from_secs(4),
        "the delay was not capped: {elapsed:?}"
    );
    // Every failure was one request that reached the endpoint (one more may be in flight).
    let status = pool_status(&verifier);
    let (failures, requests) = (
        u64::from(status.consecutive_failures),
        issuer.jwks_requests(),
    );
    assert!(
        requests == failures || requests == failures + 1,
        "{requests} requests, {failures} failures"
    );
    assert!(!status.usable);

    issuer.set_fault(None);
    let token = issuer.access_token().sign();
    assert!(
        eventually(Duration::from_secs(2), async || verifier
            .verify(&token)
            .await
            .is_ok())
        .await
    );
    assert_eq!(pool_status(&verifier).consecutive_failures, 0);
}

#[tokio::test]
async fn verify_sync_never_touches_the_network() {
    let issuer = TestIssuer::start().await;
    let verifier = builder(&issuer)
        .unknown_kid_cooldown(Duration::from_nanos(1))
        .build()
        .await
        .unwrap();
    let old = issuer.access_token().sign();
    assert_eq!(
        verifier.verify_sync(&old).unwrap().token_use(),
        TokenUse::Access
    );
    let rules = TokenRequirements::new().any_scope(["aws.cognito.signin.user.admin"]);
    let claims: AccessClaims = verifier.verify_as_sync(&old, &rules).unwrap();
    assert_eq!(claims.username.as_deref(), Some("test-user"));
    let expired = issuer.access_token().expired().sign();
    assert_eq!(kind(verifier.verify_sync(&expired)), ErrorKind::Expired);
    let requests = issuer.jwks_requests();

    issuer.rotate();
    let new = issuer.access_token().sign();
    let random = issuer.access_token().header("kid", "random").sign();
    assert_eq!(kind(verifier.verify_sync(&new)), ErrorKind::UnknownKeyId);
    assert_eq!(kind(verifier.verify_sync(&random)), ErrorKind::UnknownKeyId);
    assert_eq!(
        issuer.jwks_requests(),
        requests,
        "no fetch from verify_sync"
    );

    // The async path does fetch the new key; then the sync path knows it.
    assert!(verifier.verify(&new).await.is_ok());
    assert_eq!(issuer.jwks_requests(), requests + 1);
    assert!(verifier.verify_sync(&new).is_ok());
}

#[tokio::test]
async fn the_background_task_ends_with_the_last_verifier() {
    let issuer = TestIssuer::start().await;
    let tasks = || {
        tokio::runtime::Handle::current()
            .metrics()
            .num_alive_tasks()
    };
    // The JWKS server starts tasks of its own on its first connection; count once they settle.
    drop(builder(&issuer).build().await.unwrap());
    let baseline = settled(tasks).await;
    let verifier = builder(&issuer)
        .refresh_interval(Duration::from_millis(100))
        .min_refresh_interval(Duration::from_millis(100))
        .build()
        .await
        .unwrap();
    let clone = verifier.clone();
    drop(verifier);
    let requests = issuer.jwks_requests();
    assert!(
        eventually(Duration::from_secs(3), async || issuer.jwks_requests()
            >= requests + 2)
        .await,
        "a clone keeps the background refresh running"
    );
    assert!(tasks() > baseline);

    drop(clone);
    assert!(
        eventually(Duration::from_secs(3), async || tasks() == baseline).await,
        "{} tasks alive, {baseline} before the verifier",
        tasks()
    );
    let requests = issuer.jwks_requests();
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        issuer.jwks_requests(),
        requests,
        "no refresh after the drop"
    );
}

#[tokio::test]
async fn the_status_snapshot_serializes_for_health_endpoints() {
    let issuer = TestIssuer::start().await;
    let unix = |t: SystemTime| t.duration_since(UNIX_EPOCH).unwrap().as_secs();
    let before = unix(SystemTime::now());
    let verifier = builder(&issuer).build().await.unwrap();

    let status = pool_status(&verifier);
    assert_eq!(status.user_pool_id, issuer.pool_id());
    assert_eq!(status.jwks_url.as_deref(), Some(issuer.jwks_url().as_str()));
    assert!(status.usable);
    assert_eq!(status.keys_loaded, 1);
    assert_eq!(status.key_ids, issuer.published_kids());
    let last_refresh = unix(status.last_refresh.expect("a successful fetch"));
    assert!(last_refresh >= before && last_refresh <= unix(SystemTime::now()));
    assert_eq!(status.last_error, None);
    assert_eq!(status.last_error_at, None);
    assert_eq!(status.consecutive_failures, 0);
    assert_eq!(status.fetches, 1);

    issuer.rotate();
    // Concurrent refreshes share one fetch.
    let (a, b, c) = tokio::join!(verifier.refresh(), verifier.refresh(), verifier.refresh());
    assert!(a.is_ok() && b.is_ok() && c.is_ok());
    assert_eq!(issuer.jwks_requests(), 2);
    let status = pool_status(&verifier);
    assert_eq!(status.fetches, 2);
    assert_eq!(status.keys_loaded, 2);
    let mut kids = issuer.published_kids();
    kids.sort();
    assert_eq!(status.key_ids, kids);

    let json = serde_json::to_value(verifier.status()).unwrap();
    assert_eq!(json["usable"], true);
    let pool = &json["pools"][0];
    assert_eq!(pool["user_pool_id"], issuer.pool_id());
    assert_eq!(pool["keys_loaded"], 2);
    assert_eq!(pool["key_ids"].as_array().unwrap().len(), 2);
    assert_eq!(pool["fetches"], 2);
    assert!(pool["last_error"].is_null() && pool["last_error_at"].is_null());
    let at = pool["last_refresh"].as_u64().expect("Unix seconds");
    assert!(at >= before && at <= unix(SystemTime::now()));

    issuer.stop().await;
    assert!(verifier.refresh().await.is_err());
    let json = serde_json::to_value(pool_status(&verifier)).unwrap();
    assert!(json["last_error_at"].as_u64().unwrap() >= before);
    assert!(
        json["last_error"]
            .as_str()
            .unwrap()
            .contains("request failed")
    );
    assert_eq!(json["consecutive_failures"], 1);
    assert_eq!(json["usable"], true);
}

#[tokio::test]
async fn an_unchanged_key_set_is_revalidated_with_its_etag() {
    let issuer = TestIssuer::start().await;
    let verifier = builder(&issuer).build().await.unwrap();
    let token = issuer.access_token().sign();
    assert_eq!(issuer.not_modified_responses(), 0);
    let before = pool_status(&verifier);

    verifier.refresh().await.unwrap();
    assert_eq!(
        issuer.not_modified_responses(),
        1,
        "the second fetch is conditional"
    );
    let after = pool_status(&verifier);
    assert!(after.usable);
    assert_eq!(after.key_ids, before.key_ids, "a 304 keeps the keys");
    assert_eq!(after.fetches, before.fetches + 1);
    assert!(after.last_refresh >= before.last_refresh);
    assert!(verifier.verify_sync(&token).is_ok());

    // A changed set is fetched in full.
    issuer.rotate();
    verifier.refresh().await.unwrap();
    assert_eq!(issuer.not_modified_responses(), 1);
    assert_eq!(pool_status(&verifier).keys_loaded, 2);
    assert!(verifier.verify_sync(&issuer.access_token().sign()).is_ok());
}
