//! Cache hits of one realistic access token, timed in rounds: prints the median, best and
//! worst nanoseconds per hit. Built with `--features metrics`, a Prometheus recorder is
//! installed first, as a service exposing `/metrics` would.

use std::{hint::black_box, time::Instant};

use axum_cognito::test_util::TestIssuer;

const ROUNDS: usize = 41;
const HITS_PER_ROUND: u32 = 200_000;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    #[cfg(feature = "metrics")]
    let handle = metrics_exporter_prometheus::PrometheusBuilder::new()
        .install_recorder()
        .expect("a recorder");
    let issuer = TestIssuer::start().await;
    let verifier = issuer.verifier_builder().build().await.expect("a verifier");
    let token = issuer
        .access_token()
        .username("8f1c2a6e-3b7d-4e59-a0c4-9d2e7b6f1a35")
        .groups(["us-east-1_TestPool01_Google", "admins", "billing-readers"])
        .scopes(["aws.cognito.signin.user.admin", "phone", "openid", "profile", "email"])
        .sign();
    verifier.verify_access(&token).await.expect("valid");
    let mut rounds: Vec<f64> = (0..ROUNDS)
        .map(|_| {
            let started = Instant::now();
            for _ in 0..HITS_PER_ROUND {
                black_box(verifier.verify_access_sync(black_box(&token)).expect("valid"));
            }
            started.elapsed().as_nanos() as f64 / f64::from(HITS_PER_ROUND)
        })
        .collect();
    rounds.sort_by(f64::total_cmp);
    let feature = if cfg!(feature = "metrics") { "on" } else { "off" };
    println!(
        "metrics {feature}: cache hit median {:.1} ns (best {:.1}, worst {:.1}), {ROUNDS} rounds of {HITS_PER_ROUND}",
        rounds[ROUNDS / 2],
        rounds[0],
        rounds[ROUNDS - 1]
    );
    #[cfg(feature = "metrics")]
    {
        let text = handle.render();
        assert!(text.contains("cognito_token_cache_requests_total"), "{text}");
    }
}
