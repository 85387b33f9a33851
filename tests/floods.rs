//! Floods of random key ids through a real `Router` with `CognitoAuthLayer`: at most one JWKS
//! fetch per unknown-kid cooldown window, counted at the issuer, while valid requests
//! interleaved with the flood keep getting 200. The one-minute soak is `scripts/soak.sh`.

mod common;

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use axum::{Router, routing::get};
use axum_cognito::{CognitoAuthLayer, CognitoVerifier, ErrorKind, TokenUse, test_util::TestIssuer};
use common::{b64, call, with_token};
use http::StatusCode;
use serde_json::json;
use tokio::task::JoinSet;

/// Tokens with random kids, made by swapping the header of one signed token: the kid is
/// looked up before the signature is checked, so no signing is needed per token.
struct RandomKids {
    payload_and_signature: String,
    random: SystemRandom,
}

impl RandomKids {
    fn new(issuer: &TestIssuer) -> Self {
        let token = issuer.access_token().sign();
        let (_, rest) = token.split_once('.').unwrap();
        Self {
            payload_and_signature: rest.to_owned(),
            random: SystemRandom::new(),
        }
    }

    fn next(&self) -> String {
        let mut raw = [0u8; 32];
        self.random.fill(&mut raw).unwrap();
        let header = json!({"kid": b64(raw), "alg": "RS256"}).to_string();
        format!("{}.{}", b64(header), self.payload_and_signature)
    }
}

fn app(verifier: CognitoVerifier) -> Router {
    Router::new()
        .route("/", get(|| async { "ok" }))
        .layer(CognitoAuthLayer::new(verifier))
}

/// The status of one request, tagged with whether its token was valid.
async fn status(app: Router, token: Arc<str>, valid: bool) -> (bool, StatusCode) {
    (valid, call(&app, with_token("/", &token)).await.status)
}

/// Statuses of a batch, split into the flood's and the valid requests'.
#[derive(Debug, Default)]
struct Tally {
    flood_401: usize,
    flood_other: Vec<StatusCode>,
    valid_200: usize,
    valid_other: Vec<StatusCode>,
}

impl Tally {
    async fn collect(tasks: &mut JoinSet<(bool, StatusCode)>) -> Self {
        let mut tally = Self::default();
        while let Some(joined) = tasks.join_next().await {
            match joined.expect("a request task panicked") {
                (false, StatusCode::UNAUTHORIZED) => tally.flood_401 += 1,
                (false, other) => tally.flood_other.push(other),
                (true, StatusCode::OK) => tally.valid_200 += 1,
                (true, other) => tally.valid_other.push(other),
            }
        }
        tally
    }
}

/// Spawns `flood` random-kid requests, and after every tenth a valid one.
fn spawn_batch(
    tasks: &mut JoinSet<(bool, StatusCode)>,
    app: &Router,
    kids: &RandomKids,
    valid: &[Arc<str>],
    flood: usize,
) {
    for i in 0..flood {
        let token: Arc<str> = kids.next().into();
        tasks.spawn(status(app.clone(), token, false));
        if i % 10 == 0 {
            let token = valid[i / 10 % valid.len()].clone();
            tasks.spawn(status(app.clone(), token, true));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_concurrent_random_kids_cause_one_fetch() {
    let issuer = TestIssuer::start().await;
    // The default cooldown, 10 s. A generous fetch timeout: the one fetch shares two cores
    // with the flood's ten thousand tasks.
    let verifier = CognitoVerifier::builder()
        .user_pool(issuer.user_pool())
        .token_use(TokenUse::Access)
        .fetch_timeout(Duration::from_secs(10))
        .build()
        .await
        .unwrap();
    let kids = RandomKids::new(&issuer);
    // They are unknown kids, not malformed tokens.
    assert_eq!(
        verifier.verify_sync(&kids.next()).unwrap_err().kind(),
        ErrorKind::UnknownKeyId
    );
    let valid: Vec<Arc<str>> = (0..20)
        .map(|i| {
            issuer
                .access_token()
                .sub(&format!("user-{i}"))
                .sign()
                .into()
        })
        .collect();
    let app = app(verifier.clone());
    let before = issuer.jwks_requests();

    let started = Instant::now();
    let mut tasks = JoinSet::new();
    spawn_batch(&mut tasks, &app, &kids, &valid, 10_000);
    let tally = Tally::collect(&mut tasks).await;
    let elapsed = started.elapsed();

    assert_eq!(tally.flood_401, 10_000, "{tally:?}");
    assert_eq!(tally.valid_200, 1_000, "{tally:?}");
    let fetches = issuer.jwks_requests() - before;
    // One, unless a loaded machine stretched the flood past the 10 s cooldown.
    let windows = 1 + elapsed.as_secs() / 10;
    assert!(
        (1..=windows).contains(&fetches),
        "{fetches} fetches in {elapsed:?}"
    );
    assert!(verifier.is_usable());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sustained_flood_fetches_at_most_once_per_cooldown_window() {
    let issuer = TestIssuer::start().await;
    let cooldown = Duration::from_millis(400);
    let verifier = CognitoVerifier::builder()
        .user_pool(issuer.user_pool())
        .token_use(TokenUse::Access)
        .unknown_kid_cooldown(cooldown)
        .fetch_timeout(Duration::from_secs(10))
        .build()
        .await
        .unwrap();
    let kids = RandomKids::new(&issuer);
    let valid: Vec<Arc<str>> = (0..10)
        .map(|i| {
            issuer
                .access_token()
                .sub(&format!("user-{i}"))
                .sign()
                .into()
        })
        .collect();
    let app = app(verifier);
    let before = issuer.jwks_requests();

    // Waves of 400 concurrent random kids (and 40 valid requests) every 50 ms, for 2.5 s.
    let started = Instant::now();
    let mut total = Tally::default();
    let mut tasks = JoinSet::new();
    while started.elapsed() < Duration::from_millis(2500) {
        spawn_batch(&mut tasks, &app, &kids, &valid, 400);
        let wave = Tally::collect(&mut tasks).await;
        total.flood_401 += wave.flood_401;
        total.valid_200 += wave.valid_200;
        total.flood_other.extend(wave.flood_other);
        total.valid_other.extend(wave.valid_other);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let elapsed = started.elapsed();

    assert!(total.flood_other.is_empty(), "{:?}", total.flood_other);
    assert!(total.valid_other.is_empty(), "{:?}", total.valid_other);
    assert!(total.flood_401 >= 400 * 5, "{total:?}");
    let fetches = issuer.jwks_requests() - before;
    // Each refetch starts a cooldown when it ends, so refetches are at least a cooldown apart.
    let windows = elapsed.as_millis() / cooldown.as_millis() + 1;
    assert!(
        u128::from(fetches) <= windows,
        "{fetches} fetches in {elapsed:?}, {windows} windows"
    );
    // And the cooldown does end: the flood is looked up again, window after window.
    assert!(fetches >= 2, "{fetches} fetches in {elapsed:?}");
}
