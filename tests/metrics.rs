//! Metrics (the `metrics` feature): each counter moves on the request that should move it, and
//! on no other. A debugging recorder local to each test's thread records them; each step
//! compares every metric that moved with the ones it should have moved.

mod common;

use std::{collections::BTreeMap, time::Duration};

use axum_cognito::{
    CognitoVerifier, ErrorKind,
    test_util::{SigningKey, TestIssuer},
};
use common::kind;
use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};

/// The recorder of one test, on its thread.
struct Recorded {
    snapshotter: Snapshotter,
    gauges: BTreeMap<String, f64>,
}

/// `name{label=value,...}`, labels sorted.
fn key_of(key: &metrics::Key) -> String {
    let mut labels: Vec<String> = key
        .labels()
        .map(|l| format!("{}={}", l.key(), l.value()))
        .collect();
    labels.sort();
    format!("{}{{{}}}", key.name(), labels.join(","))
}

impl Recorded {
    fn start() -> (Self, metrics::LocalRecorderGuard<'static>) {
        let recorder: &'static DebuggingRecorder = Box::leak(Box::new(DebuggingRecorder::new()));
        let guard = metrics::set_default_local_recorder(recorder);
        let recorded = Self {
            snapshotter: recorder.snapshotter(),
            gauges: BTreeMap::new(),
        };
        (recorded, guard)
    }

    /// The counters and histograms that moved since the last call (a histogram by how many
    /// values it recorded); the gauges set since then are kept for [`gauge`](Self::gauge)
    /// (the debugging recorder reads gauges as it reads counters: it resets them).
    fn moved(&mut self) -> BTreeMap<String, u64> {
        let mut moved = BTreeMap::new();
        self.gauges.clear();
        for (key, _, _, value) in self.snapshotter.snapshot().into_vec() {
            let name = key_of(key.key());
            match value {
                DebugValue::Counter(0) => {}
                DebugValue::Counter(n) => {
                    moved.insert(name, n);
                }
                DebugValue::Histogram(values) if values.is_empty() => {}
                DebugValue::Histogram(values) => {
                    moved.insert(name, values.len() as u64);
                }
                DebugValue::Gauge(value) => {
                    self.gauges.insert(name, value.into_inner());
                }
            }
        }
        moved
    }

    /// A gauge as the last [`moved`](Self::moved) read it.
    fn gauge(&self, name: &str, pool: &str) -> Option<f64> {
        self.gauges.get(&format!("{name}{{pool={pool}}}")).copied()
    }
}

fn expect(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect()
}

fn fetch(pool: &str, result: &str) -> [(String, u64); 2] {
    [
        (
            format!("cognito_jwks_fetches_total{{pool={pool},result={result}}}"),
            1,
        ),
        (
            format!("cognito_jwks_fetch_duration_seconds{{pool={pool}}}"),
            1,
        ),
    ]
}

const ACCEPTED_ACCESS: &str =
    "cognito_verifications_total{kind=none,outcome=accepted,token_use=access}";
const HIT: &str = "cognito_token_cache_requests_total{result=hit}";
const MISS: &str = "cognito_token_cache_requests_total{result=miss}";

async fn verifier(issuer: &TestIssuer) -> CognitoVerifier {
    issuer.verifier_builder().build().await.unwrap()
}

#[tokio::test]
async fn a_valid_token_counts_once_and_its_second_use_is_a_cache_hit() {
    let (mut recorded, _guard) = Recorded::start();
    let issuer = TestIssuer::start().await;
    let verifier = verifier(&issuer).await;
    let pool = issuer.pool_id().to_owned();
    assert_eq!(recorded.moved(), fetch(&pool, "ok").into_iter().collect());

    let token = issuer.access_token().sign();
    verifier.verify(&token).await.unwrap();
    assert_eq!(recorded.moved(), expect(&[(ACCEPTED_ACCESS, 1), (MISS, 1)]));
    verifier.verify(&token).await.unwrap();
    verifier.verify_sync(&token).unwrap();
    assert_eq!(recorded.moved(), expect(&[(ACCEPTED_ACCESS, 2), (HIT, 2)]));
    verifier.verify(&issuer.id_token().sign()).await.unwrap();
    assert_eq!(
        recorded.moved(),
        expect(&[
            (
                "cognito_verifications_total{kind=none,outcome=accepted,token_use=id}",
                1
            ),
            (MISS, 1)
        ])
    );
}

#[tokio::test]
async fn refusals_count_by_kind() {
    let (mut recorded, _guard) = Recorded::start();
    let issuer = TestIssuer::start().await;
    let verifier = verifier(&issuer).await;
    recorded.moved();

    let expired = issuer.access_token().expired().sign();
    assert_eq!(kind(verifier.verify(&expired).await), ErrorKind::Expired);
    assert_eq!(
        recorded.moved(),
        expect(&[
            (
                "cognito_verifications_total{kind=expired,outcome=invalid,token_use=unknown}",
                1
            ),
            (MISS, 1)
        ])
    );

    let token = issuer.access_token().sign();
    let (head, _) = token.rsplit_once('.').unwrap();
    let forged = issuer
        .access_token()
        .signed_with(&SigningKey::generate())
        .sign();
    let bad_signature = format!("{head}.{}", forged.rsplit_once('.').unwrap().1);
    assert_eq!(
        kind(verifier.verify(&bad_signature).await),
        ErrorKind::InvalidSignature
    );
    assert_eq!(
        recorded.moved(),
        expect(&[
            (
                "cognito_verifications_total{kind=invalid_signature,outcome=invalid,token_use=unknown}",
                1
            ),
            (MISS, 1)
        ])
    );

    // A rule refuses a valid token: its use is known, the refusal is a 403.
    let rules = axum_cognito::TokenRequirements::new().any_group(["admins"]);
    assert_eq!(
        kind(
            verifier
                .verify_as::<serde_json::Value>(&token, &rules)
                .await
        ),
        ErrorKind::MissingGroup
    );
    assert_eq!(
        recorded.moved(),
        expect(&[
            (
                "cognito_verifications_total{kind=missing_group,outcome=forbidden,token_use=access}",
                1
            ),
            (MISS, 1)
        ])
    );
    assert_eq!(
        kind(verifier.verify_sync("not a token")),
        ErrorKind::Malformed
    );
    assert_eq!(
        recorded.moved(),
        expect(&[
            (
                "cognito_verifications_total{kind=malformed,outcome=invalid,token_use=unknown}",
                1
            ),
            (MISS, 1)
        ])
    );
}

#[tokio::test]
async fn unknown_kids_count_the_refetch_and_the_cooldown() {
    let (mut recorded, _guard) = Recorded::start();
    let issuer = TestIssuer::start().await;
    let verifier = issuer
        .verifier_builder()
        .unknown_kid_cooldown(Duration::from_secs(60))
        .build()
        .await
        .unwrap();
    let pool = issuer.pool_id().to_owned();
    recorded.moved();
    let unknown =
        "cognito_verifications_total{kind=unknown_key_id,outcome=invalid,token_use=unknown}";

    let stranger = || {
        issuer
            .access_token()
            .signed_with(&SigningKey::generate())
            .sign()
    };
    assert_eq!(
        kind(verifier.verify(&stranger()).await),
        ErrorKind::UnknownKeyId
    );
    let started = format!("cognito_jwks_unknown_kid_refetches_total{{pool={pool},result=started}}");
    // The set is unchanged: a 304 to the conditional fetch.
    let mut want: BTreeMap<String, u64> = fetch(&pool, "not_modified").into_iter().collect();
    want.extend([(started, 1), (unknown.to_owned(), 1), (MISS.to_owned(), 2)]);
    assert_eq!(
        recorded.moved(),
        want,
        "a first pass, a refetch, a second pass"
    );

    assert_eq!(
        kind(verifier.verify(&stranger()).await),
        ErrorKind::UnknownKeyId
    );
    let cooldown =
        format!("cognito_jwks_unknown_kid_refetches_total{{pool={pool},result=cooldown}}");
    assert_eq!(
        recorded.moved(),
        expect(&[(&cooldown, 1), (unknown, 1), (MISS, 2)]),
        "no fetch during the cooldown"
    );

    // The synchronous path never refetches.
    assert_eq!(
        kind(verifier.verify_sync(&stranger())),
        ErrorKind::UnknownKeyId
    );
    assert_eq!(recorded.moved(), expect(&[(unknown, 1), (MISS, 1)]));
}

#[tokio::test]
async fn fetches_count_by_result_and_the_gauges_follow_the_keys() {
    let (mut recorded, _guard) = Recorded::start();
    let issuer = TestIssuer::start().await;
    let verifier = issuer
        .verifier_builder()
        .refresh_interval(Duration::from_secs(1))
        .min_refresh_interval(Duration::from_secs(1))
        .max_staleness(Some(Duration::from_secs(2)))
        .build()
        .await
        .unwrap();
    let pool = issuer.pool_id().to_owned();
    recorded.moved();
    assert_eq!(recorded.gauge("cognito_jwks_keys_usable", &pool), Some(1.0));
    let loaded_at = recorded
        .gauge("cognito_jwks_last_success_timestamp_seconds", &pool)
        .unwrap();
    assert!(
        (loaded_at - common::now() as f64).abs() < 5.0,
        "{loaded_at}"
    );

    // A 304 to the conditional refresh.
    verifier.refresh().await.unwrap();
    assert_eq!(issuer.not_modified_responses(), 1);
    assert_eq!(
        recorded.moved(),
        fetch(&pool, "not_modified").into_iter().collect()
    );

    // The endpoint goes away: a request error, the keys still usable until the staleness.
    issuer.stop().await;
    verifier.refresh().await.unwrap_err();
    assert_eq!(
        recorded.moved(),
        fetch(&pool, "request").into_iter().collect()
    );
    assert_eq!(recorded.gauge("cognito_jwks_keys_usable", &pool), Some(1.0));
    // Past the staleness (the background retries fetch too): unusable.
    tokio::time::sleep(Duration::from_millis(2200)).await;
    verifier.refresh().await.unwrap_err();
    recorded.moved();
    assert_eq!(recorded.gauge("cognito_jwks_keys_usable", &pool), Some(0.0));
    assert!(
        recorded
            .gauge("cognito_jwks_key_set_age_seconds", &pool)
            .is_some_and(|age| age >= 2.0)
    );
    // The last good key set is the one of the 304, over two seconds ago.
    let last = recorded
        .gauge("cognito_jwks_last_success_timestamp_seconds", &pool)
        .unwrap();
    assert!(
        last >= loaded_at && last <= common::now() as f64 - 1.0,
        "{last}"
    );
}

#[tokio::test]
async fn a_revoked_token_counts_as_revoked_with_its_use() {
    let (mut recorded, _guard) = Recorded::start();
    let issuer = TestIssuer::start().await;
    let list = axum_cognito::revocation::RevocationList::default();
    let verifier = issuer
        .verifier_builder()
        .revocation_list(list.clone())
        .build()
        .await
        .unwrap();
    let token = issuer.id_token().claim("jti", "gone").sign();
    verifier.verify(&token).await.unwrap();
    recorded.moved();
    list.revoke_jti(
        "gone",
        std::time::SystemTime::now() + Duration::from_secs(600),
    );
    assert_eq!(kind(verifier.verify(&token).await), ErrorKind::Revoked);
    assert_eq!(
        recorded.moved(),
        expect(&[
            (
                "cognito_verifications_total{kind=revoked,outcome=invalid,token_use=id}",
                1
            ),
            (HIT, 1)
        ])
    );
}

/// Issue 22, finding 2: a refresh that answers the same keys keeps the cached tokens valid (a
/// hit, not a new signature check); a key that left the set takes its tokens with it.
#[tokio::test]
async fn a_refresh_with_the_same_keys_keeps_cached_tokens() {
    let (mut recorded, _guard) = Recorded::start();
    let issuer = TestIssuer::start().await;
    let verifier = verifier(&issuer).await;
    let token = issuer.access_token().sign();
    verifier.verify(&token).await.unwrap();
    verifier.verify(&token).await.unwrap();
    let moved = recorded.moved();
    assert_eq!((moved.get(MISS), moved.get(HIT)), (Some(&1), Some(&1)));

    // A new key is published: the refresh answers 200 with the set, its old key unchanged.
    issuer.add_key();
    let full_answers = issuer.jwks_requests() - issuer.not_modified_responses();
    verifier.refresh().await.unwrap();
    assert_eq!(
        issuer.jwks_requests() - issuer.not_modified_responses(),
        full_answers + 1
    );
    recorded.moved();
    verifier.verify(&token).await.unwrap();
    let moved = recorded.moved();
    assert_eq!(
        (moved.get(MISS), moved.get(HIT)),
        (None, Some(&1)),
        "the unchanged key still vouches for its cached token: {moved:?}"
    );

    // The key leaves the set: its token is no longer served from the cache.
    let old = issuer.published_kids()[0].clone();
    issuer.rotate();
    assert!(issuer.remove_key(&old));
    verifier.refresh().await.unwrap();
    recorded.moved();
    assert_eq!(kind(verifier.verify_sync(&token)), ErrorKind::UnknownKeyId);
    assert_eq!(recorded.moved().get(HIT), None);
}
