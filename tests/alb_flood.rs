//! Floods of load balancer tokens: random `kid`s cause a bounded number of key fetches (the
//! documented budget), one new `kid` asked for by many requests at once is fetched once, and
//! tokens of known keys are answered meanwhile, never behind the fetches.

mod common;

use std::time::{Duration, Instant};

use axum::{Router, routing::get};
use axum_cognito::{
    alb::{AlbAuthLayer, AlbVerifier},
    defaults::{DEFAULT_ALB_KEY_FETCH_WINDOW, DEFAULT_ALB_KEY_FETCHES_PER_WINDOW},
    test_util::{AlbKeyFault, TestAlb},
};
use common::{call, request_with};
use http::StatusCode;
use tokio::task::JoinSet;

const FLOOD: usize = 2_000;

fn app(verifier: AlbVerifier) -> Router {
    Router::new()
        .route("/", get(|| async { "ok" }))
        .layer(AlbAuthLayer::new(verifier))
}

async fn status(app: &Router, token: &str) -> StatusCode {
    call(
        app,
        request_with(http::Method::GET, "/", &[("x-amzn-oidc-data", token)]),
    )
    .await
    .status
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_kids_cause_at_most_the_budget_of_fetches() {
    let alb = TestAlb::start().await;
    // The defaults: 10 fetches per 10 s; the fetch timeout shortened for a quick test.
    let verifier = alb
        .verifier_builder()
        .fetch_timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    let app = app(verifier);
    let known = alb.token().sign();
    assert_eq!(status(&app, &known).await, StatusCode::OK);
    assert_eq!(alb.key_requests(), 1);

    // The key endpoint hangs from now on: every fetch the flood causes lasts the whole
    // timeout, so a request that waited behind one would show.
    alb.set_fault(Some(AlbKeyFault::Hang));
    let started = Instant::now();
    let mut flood = JoinSet::new();
    for _ in 0..FLOOD {
        let token = alb.token().header("kid", TestAlb::random_kid()).sign();
        let app = app.clone();
        flood.spawn(async move { status(&app, &token).await });
    }
    // Known keys are answered meanwhile, each at once.
    let mut answered = 0;
    while started.elapsed() < Duration::from_secs(2) {
        let asked = Instant::now();
        assert_eq!(status(&app, &known).await, StatusCode::OK);
        assert!(
            asked.elapsed() < Duration::from_millis(500),
            "{:?}",
            asked.elapsed()
        );
        answered += 1;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        answered >= 10,
        "only {answered} known-key requests answered"
    );
    let mut refused = 0;
    while let Some(status) = flood.join_next().await {
        let status = status.unwrap();
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "a flooded kid");
        refused += 1;
    }
    assert_eq!(refused, FLOOD);
    assert!(
        started.elapsed() < DEFAULT_ALB_KEY_FETCH_WINDOW,
        "the flood outlasted one window: {:?}",
        started.elapsed()
    );
    let fetches = alb.key_requests() - 1;
    assert!(
        fetches <= u64::from(DEFAULT_ALB_KEY_FETCHES_PER_WINDOW),
        "{fetches} fetches for {FLOOD} random kids"
    );
    assert!(fetches >= 1, "the budget allows some fetches");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_kids_the_endpoint_does_not_know_are_401_or_503() {
    let alb = TestAlb::start().await;
    let verifier = alb.verifier_builder().build().unwrap();
    let app = app(verifier);
    let mut flood = JoinSet::new();
    for _ in 0..FLOOD {
        let token = alb.token().header("kid", TestAlb::random_kid()).sign();
        let app = app.clone();
        flood.spawn(async move { status(&app, &token).await });
    }
    let (mut unknown, mut over_budget) = (0, 0);
    while let Some(status) = flood.join_next().await {
        match status.unwrap() {
            StatusCode::UNAUTHORIZED => unknown += 1,
            StatusCode::SERVICE_UNAVAILABLE => over_budget += 1,
            other => panic!("{other}"),
        }
    }
    let fetches = alb.key_requests();
    assert!(
        fetches <= u64::from(DEFAULT_ALB_KEY_FETCHES_PER_WINDOW),
        "{fetches}"
    );
    assert_eq!(
        unknown,
        usize::try_from(fetches).unwrap(),
        "each fetched kid is a 404: 401"
    );
    assert_eq!(unknown + over_budget, FLOOD);
    // A new key of the load balancer is still found once the window has room again; here,
    // the budget is spent, so it is 503 until then.
    let new = {
        alb.rotate();
        alb.token().sign()
    };
    assert_eq!(status(&app, &new).await, StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_new_kid_is_fetched_once_for_all_concurrent_requests() {
    let alb = TestAlb::start().await;
    let verifier = alb.verifier_builder().token_cache_bytes(0).build().unwrap();
    let app = app(verifier.clone());
    // A slow endpoint, so that the requests overlap the fetch.
    alb.set_fault(Some(AlbKeyFault::Hang));
    let token = alb.token().sign();
    let mut requests = JoinSet::new();
    for _ in 0..500 {
        let (app, token) = (app.clone(), token.clone());
        requests.spawn(async move { status(&app, &token).await });
    }
    // The fetch has reached the hanging endpoint (however slowly the tasks were scheduled),
    // and the requests overlap it.
    while alb.key_requests() == 0 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    alb.set_fault(None);
    while let Some(status) = requests.join_next().await {
        // The one fetch hung until its timeout: every request joined it and shares its
        // answer.
        assert_eq!(status.unwrap(), StatusCode::SERVICE_UNAVAILABLE);
    }
    assert_eq!(alb.key_requests(), 1, "one fetch for 500 requests");
    // The failure is remembered for the cooldown: no fetch, the same answer.
    assert_eq!(status(&app, &token).await, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(alb.key_requests(), 1);

    // With the endpoint healthy, a new kid: 500 concurrent requests, one fetch, all 200.
    alb.rotate();
    let token = alb.token().sign();
    let mut requests = JoinSet::new();
    for _ in 0..500 {
        let (app, token) = (app.clone(), token.clone());
        requests.spawn(async move { status(&app, &token).await });
    }
    while let Some(status) = requests.join_next().await {
        assert_eq!(status.unwrap(), StatusCode::OK);
    }
    assert_eq!(alb.key_requests(), 2);
    assert_eq!(verifier.cached_keys(), 1);
}
